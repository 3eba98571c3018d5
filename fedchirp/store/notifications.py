"""Notifications: what happened to an account (likes, boosts, follows, mentions)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.sql import ColumnElement

from fedchirp.clock import now_iso
from fedchirp.store.db import Queries
from fedchirp.store.models import Notification, Page
from fedchirp.store.moderation import notification_shown
from fedchirp.store.query import newest_first, paged, records
from fedchirp.store.schema import notifications
from fedchirp.store.visibility import hidden_account, muted

# (account_id, type, from_account_id, status_id), optionally with (group_key, filtered).
NotificationRow = (
    tuple[int, str, int, int | None] | tuple[int, str, int, int | None, str | None, bool]
)


@dataclass(frozen=True)
class NotificationFilter:
    """Which of an account's notifications a list shows (Mastodon's browserable)."""

    types: Sequence[str] = ()
    exclude_types: Sequence[str] = ()
    from_account_id: int | None = None
    include_filtered: bool = False


def notifications_shown_to(
    account_id: int, wanted: NotificationFilter | None = None
) -> list[ColumnElement[bool]]:
    """The conditions on notifications rows for what this account may list: none from
    accounts it blocks (or that block it), whose domain it blocks, or whose notifications
    it mutes; none its policy filtered unless asked (or asked for that sender's)."""
    wanted = wanted or NotificationFilter()
    sender = notifications.c.from_account_id
    conditions = [
        notifications.c.account_id == account_id,
        notification_shown(),
        ~hidden_account(account_id, sender),
        ~muted(account_id, sender, time.time(), notifications=True),
    ]
    if wanted.from_account_id is not None:
        conditions.append(sender == wanted.from_account_id)
    elif not wanted.include_filtered:
        conditions.append(notifications.c.filtered == 0)
    if wanted.types:
        conditions.append(notifications.c.type.in_(list(wanted.types)))
    if wanted.exclude_types:
        conditions.append(notifications.c.type.not_in(list(wanted.exclude_types)))
    return conditions


class NotificationQueries(Queries):
    """Writing and paging an account's notifications."""

    async def insert_notification(
        self, account_id: int, type_: str, from_account_id: int, status_id: int | None = None
    ) -> None:
        await self.insert_notifications([(account_id, type_, from_account_id, status_id)])

    async def insert_notifications(self, rows: Sequence[NotificationRow]) -> None:
        """Insert many notifications at once."""
        if not rows:
            return
        created = now_iso()
        values = []
        for row in rows:
            account_id, type_, from_account_id, status_id = row[:4]
            group_key, filtered = (row[4], row[5]) if len(row) == 6 else (None, False)
            values.append(
                {
                    "account_id": account_id,
                    "type": type_,
                    "from_account_id": from_account_id,
                    "status_id": status_id,
                    "created_at": created,
                    "group_key": group_key,
                    "filtered": int(filtered),
                }
            )
        await self.db.write(insert(notifications), values)

    async def notifications(
        self,
        account_id: int,
        page: Page,
        types: Sequence[str] = (),
        exclude_types: Sequence[str] = (),
        wanted: NotificationFilter | None = None,
    ) -> list[Notification]:
        """A page of an account's notifications, newest first, of the types asked for
        (or as `wanted` narrows them), as notifications_shown_to allows."""
        wanted = wanted or NotificationFilter(types, exclude_types)
        statement = select(notifications).where(*notifications_shown_to(account_id, wanted))
        rows = await self.db.all(paged(statement, notifications.c.id, page))
        return newest_first(records(Notification, rows), page)
