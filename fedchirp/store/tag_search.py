"""Hashtags found by search: the names in use that start with what was typed."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, literal, select

from fedchirp.store.db import Queries
from fedchirp.store.schema import followed_tags, status_tags


class TagSearchQueries(Queries):
    async def tag_search_names(self, prefix: str, limit: int) -> list[str]:
        """Up to limit hashtags in use (lowercase, no '#') starting with prefix, in order.

        A loose index scan (one recursive statement): each name is one seek on
        status_tags_tag for the least name past the last, so the cost follows the
        names returned, not the posts that carry them."""
        tag = status_tags.c.tag
        first = select(func.min(tag).label("name"), literal(1).label("n")).where(tag >= prefix)
        names = first.cte("names", recursive=True)
        after = select(func.min(tag)).where(tag > names.c.name).scalar_subquery()
        names = names.union_all(
            select(after, names.c.n + 1).where(
                names.c.name.startswith(prefix, autoescape=True), names.c.n < limit
            )
        )
        rows = await self.db.scalars(
            select(names.c.name).where(names.c.name.startswith(prefix, autoescape=True))
        )
        return list(rows)

    async def tag_search_followed(self, account_id: int, names: Iterable[str]) -> set[str]:
        """Which of these hashtags the account follows."""
        wanted = list(set(names))
        if not wanted:
            return set()
        rows = await self.db.scalars(
            select(followed_tags.c.tag).where(
                followed_tags.c.account_id == account_id, followed_tags.c.tag.in_(wanted)
            )
        )
        return set(rows)
