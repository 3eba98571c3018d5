"""Likes, and who interacted with a post: favourites and boosts as a viewer sees them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select, union

from fedchirp.clock import now_iso
from fedchirp.store import dialect
from fedchirp.store.db import Queries, record
from fedchirp.store.models import Favourite
from fedchirp.store.schema import accounts, favourites, statuses


class InteractionQueries(Queries):
    """Favourites, and the per-viewer flags of statuses."""

    async def insert_favourite(self, account_id: int, status_id: int, uri: str) -> bool:
        """Record a like; False if this account already liked the status."""
        statement = (
            dialect.insert_ignore(self.db.dialect, favourites)
            .values(account_id=account_id, status_id=status_id, uri=uri, created_at=now_iso())
            .returning(favourites.c.id)
        )
        return bool(await self.db.write_returning(statement))

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
        await self.db.write(delete(favourites).where(favourites.c.id == favourite_id))

    async def viewer_flags(self, account_id: int, status_ids: Sequence[int]) -> dict[int, set[str]]:
        """Which of the statuses this account has 'favourited' / 'reblogged'."""
        flags: dict[int, set[str]] = {sid: set() for sid in status_ids}
        if not status_ids:
            return flags
        ids = list(status_ids)
        for flag, statement in (
            (
                "favourited",
                select(favourites.c.status_id).where(
                    favourites.c.account_id == account_id, favourites.c.status_id.in_(ids)
                ),
            ),
            (
                "reblogged",
                select(statuses.c.reblog_of_id).where(
                    statuses.c.account_id == account_id, statuses.c.reblog_of_id.in_(ids)
                ),
            ),
        ):
            for status_id in await self.db.scalars(statement):
                flags[status_id].add(flag)
        return flags

    async def remote_interactor_inboxes(self, status_id: int) -> set[str]:
        """Delivery inboxes of remote accounts that boosted or liked a status."""
        interactors = union(
            select(statuses.c.account_id).where(statuses.c.reblog_of_id == status_id),
            select(favourites.c.account_id).where(favourites.c.status_id == status_id),
        )
        statement = (
            select(func.coalesce(accounts.c.shared_inbox_url, accounts.c.inbox_url).label("inbox"))
            .distinct()
            .where(accounts.c.domain != "", accounts.c.id.in_(interactors))
        )
        return set(await self.db.scalars(statement))
