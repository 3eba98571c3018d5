"""Grouped notifications (Mastodon 4.3's /api/v2/notifications): a page holds one
notification per group, and each group says how many it has and who sent the latest.

A notification's group is its group_key when its type is one the client lets be
grouped, else `ungrouped-<id>` (Mastodon's rule, so clients may parse neither).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, delete, func, select
from sqlalchemy.sql import ColumnElement

from fedchirp.store.db import Queries
from fedchirp.store.models import Notification, Page
from fedchirp.store.notifications import NotificationFilter, notifications_shown_to
from fedchirp.store.query import newest_first, paged, record, records
from fedchirp.store.schema import notifications

GROUPABLE_TYPES = ("favourite", "reblog", "follow")
SAMPLE_ACCOUNTS = 8  # Mastodon's NotificationGroup::SAMPLE_ACCOUNTS_SIZE
UNGROUPED = "ungrouped-"


@dataclass(frozen=True)
class GroupData:
    """What a group holds up to the page's newest id."""

    most_recent_id: int
    count: int
    sample_account_ids: list[int]
    page_min_id: int  # the group's oldest notification within the page's id range
    latest_at: str


def group_key_of(item: Notification, grouped_types: Sequence[str] = GROUPABLE_TYPES) -> str:
    if item.group_key and item.type in grouped_types:
        return item.group_key
    return f"{UNGROUPED}{item.id}"


def _in_group(key: str) -> ColumnElement[bool]:
    """Mastodon's by_group_key: `ungrouped-<id>` is that one notification."""
    if key.startswith(UNGROUPED):
        number = key.removeprefix(UNGROUPED)
        return notifications.c.id == (int(number) if number.isdigit() else -1)
    return notifications.c.group_key == key


class NotificationGroupQueries(Queries):
    async def notification_group_key_among(
        self, account_id: int, keys: Sequence[str]
    ) -> str | None:
        """The key of this account's newest notification whose key is one of keys."""
        return await self.db.scalar(
            select(notifications.c.group_key)
            .where(notifications.c.account_id == account_id, notifications.c.group_key.in_(keys))
            .order_by(notifications.c.id.desc())
            .limit(1)
        )

    async def notification_groups_page(
        self,
        account_id: int,
        page: Page,
        wanted: NotificationFilter,
        grouped_types: Sequence[str] = GROUPABLE_TYPES,
    ) -> list[Notification]:
        """The newest notification of each group, up to page.limit groups (Mastodon's
        paginate_groups), read in batches; after min_id, the oldest of each, shown
        newest first."""
        base = select(notifications).where(*notifications_shown_to(account_id, wanted))
        seen: set[str] = set()
        found: list[Notification] = []
        batch = dataclasses.replace(page, limit=max(2 * page.limit, 40))
        while len(found) < page.limit:
            rows = records(Notification, await self.db.all(paged(base, notifications.c.id, batch)))
            for item in rows:
                key = group_key_of(item, grouped_types)
                if key not in seen and len(found) < page.limit:
                    seen.add(key)
                    found.append(item)
            if len(rows) < batch.limit:
                break
            edge = {"min_id" if page.min_id is not None else "max_id": rows[-1].id}
            batch = dataclasses.replace(batch, **edge)
        return newest_first(found, page)

    async def notification_groups_data(
        self, account_id: int, keys: Sequence[str], begin: int | None, end: int | None
    ) -> dict[str, GroupData]:
        """For each grouped key: its count, newest id and sample senders up to end, and
        its oldest id from begin (one read, ranked per group)."""
        keys = [k for k in keys if not k.startswith(UNGROUPED)]
        if not keys:
            return {}
        n = notifications.c
        window = {"partition_by": n.group_key}
        in_page = n.id >= begin if begin is not None else n.id.is_not(None)
        conditions = [*notifications_shown_to(account_id), n.group_key.in_(keys)]
        if end is not None:
            conditions.append(n.id <= end)
        ranked = (
            select(
                n.group_key,
                n.id,
                n.from_account_id,
                n.created_at,
                func.row_number().over(order_by=n.id.desc(), **window).label("rank"),
                func.count().over(**window).label("total"),
                func.min(case((in_page, n.id))).over(**window).label("page_min"),
            )
            .where(*conditions)
            .subquery()
        )
        rows = await self.db.all(
            select(ranked)
            .where(ranked.c.rank <= SAMPLE_ACCOUNTS)
            .order_by(ranked.c.group_key, ranked.c.rank)
        )
        found: dict[str, GroupData] = {}
        for row in rows:
            key = row["group_key"]
            if key not in found:
                found[key] = GroupData(
                    most_recent_id=row["id"],
                    count=row["total"],
                    sample_account_ids=[],
                    page_min_id=row["page_min"] or row["id"],
                    latest_at=row["created_at"],
                )
            found[key].sample_account_ids.append(row["from_account_id"])
        return found

    async def notification_group_newest(self, account_id: int, key: str) -> Notification | None:
        """The newest notification of a group (filtered ones too, as Mastodon's show)."""
        wanted = NotificationFilter(include_filtered=True)
        row = await self.db.one(
            select(notifications)
            .where(*notifications_shown_to(account_id, wanted), _in_group(key))
            .order_by(notifications.c.id.desc())
            .limit(1)
        )
        return record(Notification, row)

    async def notification_group_members(
        self, account_id: int, key: str, page: Page
    ) -> list[Notification]:
        """A page of a group's notifications, newest first."""
        statement = select(notifications).where(
            *notifications_shown_to(account_id), _in_group(key)
        )
        rows = await self.db.all(paged(statement, notifications.c.id, page))
        return newest_first(records(Notification, rows), page)

    async def notification_group_dismiss(self, account_id: int, key: str) -> None:
        await self.db.write(
            delete(notifications).where(notifications.c.account_id == account_id, _in_group(key))
        )

    async def notification_dismiss(self, account_id: int, notification_id: int) -> bool:
        """Delete one of an account's notifications; False if it has none with that id."""
        result = await self.db.write(
            delete(notifications).where(
                notifications.c.account_id == account_id, notifications.c.id == notification_id
            )
        )
        return result.rowcount > 0

    async def notifications_clear(self, account_id: int) -> None:
        await self.db.write(delete(notifications).where(notifications.c.account_id == account_id))

    async def notification_of(self, account_id: int, notification_id: int) -> Notification | None:
        """One of the account's notifications, if the list would show it."""
        row = await self.db.one(
            select(notifications).where(
                *notifications_shown_to(account_id, NotificationFilter(include_filtered=True)),
                notifications.c.id == notification_id,
            )
        )
        return record(Notification, row)
