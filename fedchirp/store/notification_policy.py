"""Notification policies, and the requests that filtered notifications wait in.

A request's count and last post are read from its sender's filtered notifications,
so they are never out of step with them; one with none left is not listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update

from fedchirp.clock import now_iso
from fedchirp.store import dialect
from fedchirp.store.db import Queries
from fedchirp.store.models import Page
from fedchirp.store.notifications import NotificationFilter, notifications_shown_to
from fedchirp.store.query import newest_first, paged, record, records
from fedchirp.store.schema import (
    follows,
    notification_permissions,
    notification_policies,
    notification_requests,
    notifications,
)

POLICY_FIELDS = (
    "for_not_following",
    "for_not_followers",
    "for_new_accounts",
    "for_private_mentions",
    "for_limited_accounts",
)


@dataclass(frozen=True)
class NotificationPolicy:
    """Each for_* is accept, filter or drop; these defaults are Mastodon 4.3's."""

    account_id: int
    for_not_following: str = "accept"
    for_not_followers: str = "accept"
    for_new_accounts: str = "accept"
    for_private_mentions: str = "filter"
    for_limited_accounts: str = "filter"
    updated_at: str = ""


@dataclass(frozen=True)
class NotificationRequest:
    id: int
    account_id: int
    from_account_id: int
    created_at: str
    updated_at: str
    notifications_count: int
    last_status_id: int | None


@dataclass(frozen=True)
class SenderStanding:
    """What a recipient's policy asks about one sender."""

    policy: NotificationPolicy
    following: bool = False  # the recipient follows the sender
    followed_since: str | None = None  # when the sender's follow of the recipient began
    permitted: bool = False  # the recipient accepted a request from the sender


def _filtered_from_sender(account_id: int) -> list:
    r = notification_requests.c
    wanted = NotificationFilter(include_filtered=True)
    return [
        *notifications_shown_to(account_id, wanted),
        notifications.c.from_account_id == r.from_account_id,
        notifications.c.filtered == 1,
    ]


class NotificationPolicyQueries(Queries):
    async def notification_policy_of(self, account_id: int) -> NotificationPolicy:
        row = await self.db.one(
            select(notification_policies).where(notification_policies.c.account_id == account_id)
        )
        return record(NotificationPolicy, row) or NotificationPolicy(account_id)

    async def notification_policy_save(
        self, account_id: int, changes: dict[str, str]
    ) -> NotificationPolicy:
        """Change some of the account's for_* settings (the others keep their values)."""
        current = await self.notification_policy_of(account_id)
        values = {name: changes.get(name, getattr(current, name)) for name in POLICY_FIELDS}
        values.update(account_id=account_id, updated_at=now_iso())
        await self.db.write(
            dialect.upsert(self.db.dialect, notification_policies, values, ["account_id"], [])
        )
        return NotificationPolicy(**values)

    async def notification_policies_of(
        self, account_ids: Iterable[int]
    ) -> dict[int, NotificationPolicy]:
        """Each account's policy (the defaults for one that never changed it)."""
        ids = list(account_ids)
        rows = await self.db.all(
            select(notification_policies).where(notification_policies.c.account_id.in_(ids))
        )
        found = {row["account_id"]: record(NotificationPolicy, row) for row in rows}
        return {i: found.get(i) or NotificationPolicy(i) for i in ids}

    async def notification_policy_standings(
        self, sender_id: int, policies: dict[int, NotificationPolicy]
    ) -> dict[int, SenderStanding]:
        """Each recipient's standing with the sender, for its policy to judge."""
        ids = list(policies)
        f, perm = follows.c, notification_permissions.c
        accepted = f.state == "accepted"
        following = set(
            await self.db.scalars(
                select(f.follower_id).where(
                    f.follower_id.in_(ids), f.followee_id == sender_id, accepted
                )
            )
        )
        followed = {
            row["followee_id"]: row["created_at"]
            for row in await self.db.all(
                select(f.followee_id, f.created_at).where(
                    f.follower_id == sender_id, f.followee_id.in_(ids), accepted
                )
            )
        }
        permitted = set(
            await self.db.scalars(
                select(perm.account_id).where(
                    perm.account_id.in_(ids), perm.from_account_id == sender_id
                )
            )
        )
        return {
            i: SenderStanding(
                policy=policies[i],
                following=i in following,
                followed_since=followed.get(i),
                permitted=i in permitted,
            )
            for i in ids
        }

    async def notification_requests_open(self, sender_id: int, account_ids: Sequence[int]) -> None:
        """Make sure each account has a request from the sender (filtered notifications
        just arrived), and mark it updated."""
        if not account_ids:
            return
        now = now_iso()
        r = notification_requests.c
        async with self.db.atomic() as db:
            await db.execute(
                dialect.insert_ignore(self.db.dialect, notification_requests),
                [
                    {"account_id": a, "from_account_id": sender_id, "created_at": now,
                     "updated_at": now}
                    for a in account_ids
                ],
            )
            await db.execute(
                update(notification_requests)
                .where(r.account_id.in_(list(account_ids)), r.from_account_id == sender_id)
                .values(updated_at=now)
            )

    async def notification_requests_page(
        self, account_id: int, page: Page, request_id: int | None = None
    ) -> list[NotificationRequest]:
        """The account's requests that still hold filtered notifications, newest first."""
        r = notification_requests.c
        n = notifications.c
        counted = select(func.count()).where(*_filtered_from_sender(account_id))
        last_status = (
            select(n.status_id)
            .where(*_filtered_from_sender(account_id), n.status_id.is_not(None))
            .order_by(n.id.desc())
            .limit(1)
        )
        statement = select(
            notification_requests,
            counted.scalar_subquery().label("notifications_count"),
            last_status.scalar_subquery().label("last_status_id"),
        ).where(r.account_id == account_id, counted.scalar_subquery() > 0)
        if request_id is not None:
            statement = statement.where(r.id == request_id)
        rows = await self.db.all(paged(statement, r.id, page))
        return newest_first(records(NotificationRequest, rows), page)

    async def notification_requests_settle(
        self, account_id: int, request_ids: Sequence[int], accept: bool
    ) -> None:
        """Accept (the senders' filtered notifications join the list, and later ones are
        never filtered) or dismiss (they are deleted) these requests of the account."""
        r = notification_requests.c
        mine = (r.account_id == account_id) & r.id.in_(list(request_ids))
        async with self.db.atomic() as db:
            senders = list((await db.execute(select(r.from_account_id).where(mine))).scalars())
            if not senders:
                return
            theirs = (
                (notifications.c.account_id == account_id)
                & notifications.c.from_account_id.in_(senders)
                & (notifications.c.filtered == 1)
            )
            if accept:
                now = now_iso()
                await db.execute(
                    dialect.insert_ignore(self.db.dialect, notification_permissions),
                    [{"account_id": account_id, "from_account_id": s, "created_at": now}
                     for s in senders],
                )
                await db.execute(update(notifications).where(theirs).values(filtered=0))
            else:
                await db.execute(delete(notifications).where(theirs))
            await db.execute(delete(notification_requests).where(mine))
