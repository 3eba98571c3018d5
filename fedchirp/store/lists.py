"""Lists and their members, and the list timeline.

A list's timeline is read from its owner's home feed (written at fan-out time), keeping
the statuses whose author is a member: one index range on the owner's feed, whatever
the size of the statuses table, filtered by the one visibility rule, live mutes and the
list's replies policy.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

from sqlalchemy import (
    Text,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.sql import ColumnElement

from fedchirp.clock import now_iso
from fedchirp.store import dialect
from fedchirp.store.db import Queries
from fedchirp.store.models import Account, Page, Status, UserList
from fedchirp.store.query import (
    Prepared,
    newest_first,
    page_params,
    page_shape,
    paged,
    paged_by_params,
    prepared,
    record,
    records,
)
from fedchirp.store.schema import accounts, follows, home_feed, list_accounts, lists, statuses
from fedchirp.store.visibility import Viewer, not_muted, visible_to

# Made once (see store/visibility.py): the home feed's rule uses them on every read.
_EXCLUSIVE_MEMBER = list_accounts.alias("exclusive_member")
_EXCLUSIVE_LIST = lists.alias("exclusive_list")


def _member(list_id: Viewer, account_id: ColumnElement[int]) -> ColumnElement[bool]:
    """The account is in the list (an alias: never correlated to an outer list_accounts)."""
    member = list_accounts.alias("reply_target_member")
    return exists().where(member.c.list_id == list_id, member.c.account_id == account_id)


def replies_shown(policy: str, owner: Viewer, list_id: Viewer) -> ColumnElement[bool]:
    """Which statuses rows a list with this replies policy shows, as Mastodon's
    FeedManager#filter_from_list has it: posts that reply to nobody, threads of one's own
    posts and replies to the owner always; then replies to accounts the owner follows
    ("followed"), to list members ("list"), or nothing more ("none")."""
    target = statuses.c.in_reply_to_account_id
    shown = [
        statuses.c.in_reply_to_id.is_(None) & statuses.c.in_reply_to_uri.is_(None),
        target == statuses.c.account_id,
        target == owner,
    ]
    if policy in ("followed", "list"):
        shown.append(_member(list_id, target))
    if policy == "followed":
        shown.append(
            exists().where(
                follows.c.follower_id == owner,
                follows.c.followee_id == target,
                follows.c.state == "accepted",
            )
        )
    return or_(*shown)


@prepared
def _list_page(policy: str, shape: tuple[bool, bool, bool]) -> Prepared:
    owner, list_id = bindparam("viewer"), bindparam("list")
    statement = (
        select(statuses)
        .join(home_feed, home_feed.c.status_id == statuses.c.id)
        .where(
            home_feed.c.account_id == owner,
            # First: the cheap membership lookup rules out most of the feed before the
            # visibility rule's lookups run.
            exists().where(
                list_accounts.c.list_id == list_id,
                list_accounts.c.account_id == statuses.c.account_id,
            ),
            visible_to(owner),
            not_muted(owner, bindparam("now")),
            replies_shown(policy, owner, list_id),
        )
    )
    return Prepared(paged_by_params(statement, home_feed.c.status_id, shape))


def not_in_exclusive_list(owner: Viewer) -> ColumnElement[bool]:
    """True for statuses rows whose author is in none of the owner's exclusive lists
    (Mastodon 4.2): for each row, a key lookup in each of the owner's (few) lists."""
    member, exclusive = _EXCLUSIVE_MEMBER, _EXCLUSIVE_LIST
    return ~exists().where(
        member.c.account_id == statuses.c.account_id,
        exclusive.c.id == member.c.list_id,
        exclusive.c.account_id == owner,
        exclusive.c.exclusive == 1,
    ).correlate_except(member, exclusive)


class ListQueries(Queries):
    async def insert_list(
        self, account_id: int, title: str, replies_policy: str, exclusive: bool
    ) -> UserList:
        rows = await self.db.write_returning(
            insert(lists)
            .values(
                account_id=account_id,
                title=title,
                replies_policy=replies_policy,
                exclusive=int(exclusive),
                created_at=now_iso(),
            )
            .returning(lists)
        )
        found = record(UserList, rows[0])
        assert found is not None
        return found

    async def get_list(self, list_id: int) -> UserList | None:
        return record(UserList, await self.db.one(select(lists).where(lists.c.id == list_id)))

    async def lists_of(self, account_id: int) -> list[UserList]:
        """An account's lists, oldest first."""
        rows = await self.db.all(
            select(lists).where(lists.c.account_id == account_id).order_by(lists.c.id)
        )
        return records(UserList, rows)

    async def lists_containing(self, owner_id: int, account_id: int) -> list[UserList]:
        """The owner's lists that have this account as a member."""
        rows = await self.db.all(
            select(lists)
            .join(list_accounts, list_accounts.c.list_id == lists.c.id)
            .where(lists.c.account_id == owner_id, list_accounts.c.account_id == account_id)
            .order_by(lists.c.id)
        )
        return records(UserList, rows)

    async def update_list(
        self, list_id: int, title: str, replies_policy: str, exclusive: bool
    ) -> None:
        await self.db.write(
            update(lists)
            .where(lists.c.id == list_id)
            .values(title=title, replies_policy=replies_policy, exclusive=int(exclusive))
        )

    async def delete_list(self, list_id: int) -> None:
        """Delete a list; its members go with it (cascade)."""
        async with self.db.atomic() as db:
            await db.execute(delete(list_accounts).where(list_accounts.c.list_id == list_id))
            await db.execute(delete(lists).where(lists.c.id == list_id))

    async def list_members(self, list_id: int, page: Page | None) -> list[tuple[int, Account]]:
        """(membership id, account) of a list's members, newest added first, paged by
        membership id; every member when page is None."""
        statement = (
            select(list_accounts.c.id.label("member_id"), accounts)
            .join(accounts, accounts.c.id == list_accounts.c.account_id)
            .where(list_accounts.c.list_id == list_id)
        )
        if page is None:
            statement = statement.order_by(list_accounts.c.id.desc())
        else:
            statement = paged(statement, list_accounts.c.id, page)
        pairs = []
        for row in await self.db.all(statement):
            values = dict(row)
            member_id = values.pop("member_id")
            pairs.append((member_id, record(Account, values)))
        return newest_first(pairs, page) if page is not None else pairs  # type: ignore[arg-type]

    async def count_list_members(self, list_id: int) -> int:
        count = await self.db.scalar(
            select(func.count())
            .select_from(list_accounts)
            .where(list_accounts.c.list_id == list_id)
        )
        return count or 0

    async def not_followed_by(self, owner_id: int, account_ids: Sequence[int]) -> list[int]:
        """Which of these accounts the owner neither follows nor has asked to follow."""
        followed = set(
            await self.db.scalars(
                select(follows.c.followee_id).where(
                    follows.c.follower_id == owner_id,
                    follows.c.followee_id.in_(list(account_ids)),
                )
            )
        )
        return [account_id for account_id in account_ids if account_id not in followed]

    async def add_list_accounts(
        self, list_id: int, owner_id: int, account_ids: Sequence[int]
    ) -> int:
        """Add accounts the list's owner follows (or asked to follow); others are skipped,
        as are members already in. Return how many were added."""
        if not account_ids:
            return 0
        followed = select(literal(list_id), follows.c.followee_id, literal(now_iso(), Text)).where(
            follows.c.follower_id == owner_id, follows.c.followee_id.in_(list(account_ids))
        )
        statement = (
            dialect.insert_ignore(self.db.dialect, list_accounts)
            .from_select(["list_id", "account_id", "created_at"], followed)
            .returning(list_accounts.c.account_id)
        )
        return len(await self.db.write_returning(statement))

    async def remove_list_accounts(self, list_id: int, account_ids: Sequence[int]) -> None:
        if not account_ids:
            return
        await self.db.write(
            delete(list_accounts).where(
                list_accounts.c.list_id == list_id,
                list_accounts.c.account_id.in_(list(account_ids)),
            )
        )

    async def list_timeline(self, found: UserList, page: Page) -> list[Status]:
        """Posts and boosts by the list's members in its owner's home feed that the owner
        may see, newest first, without the replies its policy leaves out."""
        params = {
            "viewer": found.account_id,
            "list": found.id,
            "now": time.time(),
            **page_params(page),
        }
        rows = await self.db.fetch(_list_page(found.replies_policy, page_shape(page)), params)
        return newest_first(records(Status, rows), page)

    async def lists_showing(self, status_id: int, list_ids: Iterable[int]) -> set[int]:
        """Which of these lists show the status: its author is a member, it is in the
        owner's home feed, and the list's replies policy lets it through."""
        ids = list(set(list_ids))
        if not ids:
            return set()
        shown = set()
        rows = await self.db.all(select(lists).where(lists.c.id.in_(ids)))
        for policy in {row["replies_policy"] for row in rows}:
            found = await self.db.scalars(
                select(lists.c.id)
                .join(home_feed, home_feed.c.account_id == lists.c.account_id)
                .join(statuses, statuses.c.id == home_feed.c.status_id)
                .where(
                    lists.c.id.in_(ids),
                    lists.c.replies_policy == policy,
                    home_feed.c.status_id == status_id,
                    _member(lists.c.id, statuses.c.account_id),
                    not_muted(lists.c.account_id, time.time()),
                    replies_shown(policy, lists.c.account_id, lists.c.id),
                )
            )
            shown.update(found)
        return shown

    async def exclusive_list_owners(self, author_id: int, owner_ids: Iterable[int]) -> set[int]:
        """Which of these accounts have the author in one of their exclusive lists."""
        ids = list(set(owner_ids))
        if not ids:
            return set()
        rows = await self.db.scalars(
            select(lists.c.account_id)
            .join(list_accounts, list_accounts.c.list_id == lists.c.id)
            .where(
                list_accounts.c.account_id == author_id,
                lists.c.account_id.in_(ids),
                lists.c.exclusive == 1,
            )
        )
        return set(rows)
