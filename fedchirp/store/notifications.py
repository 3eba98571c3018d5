"""Notifications: what happened to an account (likes, boosts, follows, mentions)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import insert, select

from fedchirp.clock import now_iso
from fedchirp.store.db import Queries
from fedchirp.store.models import Notification, Page
from fedchirp.store.moderation import notification_shown
from fedchirp.store.query import newest_first, paged, records
from fedchirp.store.schema import notifications
from fedchirp.store.visibility import hidden_account, muted


class NotificationQueries(Queries):
    """Writing and paging an account's notifications."""

    async def insert_notification(
        self, account_id: int, type_: str, from_account_id: int, status_id: int | None = None
    ) -> None:
        await self.db.write(
            insert(notifications).values(
                account_id=account_id,
                type=type_,
                from_account_id=from_account_id,
                status_id=status_id,
                created_at=now_iso(),
            )
        )

    async def insert_notifications(self, rows: Sequence[tuple[int, str, int, int | None]]) -> None:
        """Insert many (account_id, type, from_account_id, status_id) notifications at once."""
        if not rows:
            return
        created = now_iso()
        await self.db.write(
            insert(notifications),
            [
                {
                    "account_id": account_id,
                    "type": type_,
                    "from_account_id": from_account_id,
                    "status_id": status_id,
                    "created_at": created,
                }
                for account_id, type_, from_account_id, status_id in rows
            ],
        )

    async def notifications(
        self,
        account_id: int,
        page: Page,
        types: Sequence[str] = (),
        exclude_types: Sequence[str] = (),
    ) -> list[Notification]:
        """A page of an account's notifications, newest first, of the types asked for;
        none from accounts it blocks (or that block it), whose domain it blocks, or whose
        notifications it mutes."""
        sender = notifications.c.from_account_id
        statement = select(notifications).where(
            notifications.c.account_id == account_id,
            notification_shown(),
            ~hidden_account(account_id, sender),
            ~muted(account_id, sender, time.time(), notifications=True),
        )
        if types:
            statement = statement.where(notifications.c.type.in_(list(types)))
        if exclude_types:
            statement = statement.where(notifications.c.type.not_in(list(exclude_types)))
        rows = await self.db.all(paged(statement, notifications.c.id, page))
        return newest_first(records(Notification, rows), page)

