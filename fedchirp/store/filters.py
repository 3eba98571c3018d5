"""Content filters: each user's filters, their keywords and the posts they name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from fedchirp.clock import now_iso
from fedchirp.store.db import Queries
from fedchirp.store.query import Prepared, record, records
from fedchirp.store.schema import filter_keywords, filter_statuses, filters


@dataclass(frozen=True)
class Filter:
    id: int
    account_id: int
    title: str
    context: str  # JSON list: home, notifications, public, thread, account
    filter_action: str  # warn, hide or blur
    expires_at: str | None
    created_at: str


@dataclass(frozen=True)
class FilterKeyword:
    id: int
    filter_id: int
    keyword: str
    whole_word: bool
    created_at: str


@dataclass(frozen=True)
class FilterStatus:
    id: int
    filter_id: int
    status_id: int
    created_at: str


_FILTERS_OF = Prepared(
    select(filters).where(filters.c.account_id == bindparam("account")).order_by(filters.c.id)
)

class FilterQueries(Queries):
    async def insert_filter(self, account_id: int, values: dict[str, Any]) -> Filter:
        """Create a filter from its columns (title, context, filter_action, expires_at)."""
        rows = await self.db.write_returning(
            insert(filters)
            .values(account_id=account_id, created_at=now_iso(), **values)
            .returning(filters)
        )
        found = record(Filter, rows[0])
        assert found is not None
        return found

    async def get_filter(self, filter_id: int) -> Filter | None:
        return record(Filter, await self.db.one(select(filters).where(filters.c.id == filter_id)))

    async def filters_of(self, account_id: int) -> list[Filter]:
        """A user's filters (prepared: every page a signed-in user reads asks for them)."""
        return records(Filter, await self.db.fetch(_FILTERS_OF, {"account": account_id}))

    async def update_filter(self, filter_id: int, values: dict[str, Any]) -> None:
        if values:
            await self.db.write(update(filters).where(filters.c.id == filter_id).values(**values))

    async def delete_filter(self, filter_id: int) -> None:
        """Delete a filter with its keywords and posts (deleted first: SQLite files may
        not enforce the cascade)."""
        async with self.db.atomic() as conn:
            for table in (filter_keywords, filter_statuses):
                await conn.execute(delete(table).where(table.c.filter_id == filter_id))
            await conn.execute(delete(filters).where(filters.c.id == filter_id))

    # -- keywords ------------------------------------------------------------------

    async def insert_filter_keyword(
        self, filter_id: int, keyword: str, whole_word: bool
    ) -> FilterKeyword:
        rows = await self.db.write_returning(
            insert(filter_keywords)
            .values(
                filter_id=filter_id,
                keyword=keyword,
                whole_word=int(whole_word),
                created_at=now_iso(),
            )
            .returning(filter_keywords)
        )
        found = record(FilterKeyword, rows[0])
        assert found is not None
        return found

    async def get_filter_keyword(self, keyword_id: int) -> FilterKeyword | None:
        row = await self.db.one(select(filter_keywords).where(filter_keywords.c.id == keyword_id))
        return record(FilterKeyword, row)

    async def keywords_of(self, filter_ids: Sequence[int]) -> dict[int, list[FilterKeyword]]:
        """Each filter's keywords, in the order they were added."""
        rows = await self.db.all(
            select(filter_keywords)
            .where(filter_keywords.c.filter_id.in_(list(filter_ids)))
            .order_by(filter_keywords.c.id)
        )
        found: dict[int, list[FilterKeyword]] = {i: [] for i in filter_ids}
        for keyword in records(FilterKeyword, rows):
            found.setdefault(keyword.filter_id, []).append(keyword)
        return found

    async def update_filter_keyword(self, keyword_id: int, keyword: str, whole_word: bool) -> None:
        await self.db.write(
            update(filter_keywords)
            .where(filter_keywords.c.id == keyword_id)
            .values(keyword=keyword, whole_word=int(whole_word))
        )

    async def delete_filter_keyword(self, keyword_id: int) -> None:
        await self.db.write(delete(filter_keywords).where(filter_keywords.c.id == keyword_id))

    # -- posts ---------------------------------------------------------------------

    async def insert_filter_status(self, filter_id: int, status_id: int) -> FilterStatus:
        rows = await self.db.write_returning(
            insert(filter_statuses)
            .values(filter_id=filter_id, status_id=status_id, created_at=now_iso())
            .returning(filter_statuses)
        )
        found = record(FilterStatus, rows[0])
        assert found is not None
        return found

    async def get_filter_status(self, filter_status_id: int) -> FilterStatus | None:
        row = await self.db.one(
            select(filter_statuses).where(filter_statuses.c.id == filter_status_id)
        )
        return record(FilterStatus, row)

    async def filter_statuses_of(self, filter_ids: Sequence[int]) -> dict[int, list[FilterStatus]]:
        rows = await self.db.all(
            select(filter_statuses)
            .where(filter_statuses.c.filter_id.in_(list(filter_ids)))
            .order_by(filter_statuses.c.id)
        )
        found: dict[int, list[FilterStatus]] = {i: [] for i in filter_ids}
        for item in records(FilterStatus, rows):
            found.setdefault(item.filter_id, []).append(item)
        return found

    async def delete_filter_status(self, filter_status_id: int) -> None:
        await self.db.write(delete(filter_statuses).where(filter_statuses.c.id == filter_status_id))
