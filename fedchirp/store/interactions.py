"""Likes, and who interacted with a post: favourites and boosts as a viewer sees them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, delete, exists, func, literal, select, union, union_all

from fedchirp.clock import now_iso
from fedchirp.store import dialect
from fedchirp.store.counters import bump_status
from fedchirp.store.db import Queries
from fedchirp.store.models import Favourite
from fedchirp.store.query import Prepared, Read, ids_param, record
from fedchirp.store.schema import accounts, bookmarks, favourites, statuses
from fedchirp.store.visibility import hidden_account

# Read for every page of statuses a signed-in viewer sees: prepared once.
_VIEWER_FLAGS = Prepared(
    union_all(
        select(literal("favourited").label("flag"), favourites.c.status_id.label("sid")).where(
            favourites.c.account_id == bindparam("viewer"), favourites.c.status_id.in_(ids_param())
        ),
        select(literal("reblogged"), statuses.c.reblog_of_id).where(
            statuses.c.account_id == bindparam("viewer"), statuses.c.reblog_of_id.in_(ids_param())
        ),
        select(literal("bookmarked"), bookmarks.c.status_id).where(
            bookmarks.c.account_id == bindparam("viewer"), bookmarks.c.status_id.in_(ids_param())
        ),
    )
)


def viewer_flags_read(account_id: int, status_ids: Sequence[int]) -> Read[dict[int, set[str]]]:
    """Which of the statuses this account has 'favourited' / 'reblogged' / 'bookmarked'."""
    ids = list(status_ids)

    def shape(rows: list[dict[str, Any]]) -> dict[int, set[str]]:
        flags: dict[int, set[str]] = {sid: set() for sid in ids}
        for row in rows:
            flags[row["sid"]].add(row["flag"])
        return flags

    return Read(_VIEWER_FLAGS, {"viewer": account_id, "ids": ids}, shape)


class InteractionQueries(Queries):
    """Favourites, and the per-viewer flags of statuses."""

    async def insert_favourite(self, account_id: int, status_id: int, uri: str) -> bool:
        """Record a like; False if this account already liked the status."""
        statement = (
            dialect.insert_ignore(self.db.dialect, favourites)
            .values(account_id=account_id, status_id=status_id, uri=uri, created_at=now_iso())
            .returning(favourites.c.id)
        )
        async with self.db.atomic() as db:
            if (await db.execute(statement)).first() is None:
                return False
            await bump_status(db, status_id, favourites_count=1)
        return True

    async def get_favourite(self, account_id: int, status_id: int) -> Favourite | None:
        row = await self.db.one(
            select(favourites).where(
                favourites.c.account_id == account_id, favourites.c.status_id == status_id
            )
        )
        return record(Favourite, row)

    async def get_favourite_by_uri(self, uri: str) -> Favourite | None:
        row = await self.db.one(select(favourites).where(favourites.c.uri == uri))
        return record(Favourite, row)

    async def delete_favourite(self, favourite_id: int) -> None:
        async with self.db.atomic() as db:
            status_id = (
                await db.execute(
                    delete(favourites)
                    .where(favourites.c.id == favourite_id)
                    .returning(favourites.c.status_id)
                )
            ).scalar()
            if status_id is not None:
                await bump_status(db, status_id, favourites_count=-1)

    async def viewer_flags(self, account_id: int, status_ids: Sequence[int]) -> dict[int, set[str]]:
        """Which of the statuses this account has 'favourited' / 'reblogged' / 'bookmarked'."""
        return await self.db.read(viewer_flags_read(account_id, status_ids))

    async def remote_interactor_inboxes(self, status_id: int) -> set[str]:
        """Delivery inboxes of remote accounts that boosted or liked a status, except those
        a block keeps from its author."""
        post = statuses.alias("interacted_post")
        interactors = union(
            select(statuses.c.account_id).where(statuses.c.reblog_of_id == status_id),
            select(favourites.c.account_id).where(favourites.c.status_id == status_id),
        )
        statement = (
            select(func.coalesce(accounts.c.shared_inbox_url, accounts.c.inbox_url).label("inbox"))
            .distinct()
            .where(
                accounts.c.domain != "",
                accounts.c.id.in_(interactors),
                accounts.c.suspended_at.is_(None),  # nothing goes to suspended accounts
            )
            .where(
                ~exists().where(
                    post.c.id == status_id, hidden_account(post.c.account_id, accounts.c.id)
                )
            )
        )
        return set(await self.db.scalars(statement))
