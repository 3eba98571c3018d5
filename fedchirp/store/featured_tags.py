"""Hashtags users feature on their profiles, and how often their posts use hashtags."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, select

from fedchirp.clock import now_iso
from fedchirp.store import dialect
from fedchirp.store.announcement_models import FeaturedTag, TagUse
from fedchirp.store.db import Queries
from fedchirp.store.query import record, records
from fedchirp.store.schema import featured_tags, status_tags, statuses

# The posts a featured tag counts, as Mastodon's: the account's public and unlisted ones.
_COUNTED = ("public", "unlisted")
SUGGESTIONS_FROM = 200  # the account's newest posts whose hashtags are suggested


class FeaturedTagQueries(Queries):
    async def featured_tags_of(self, account_id: int) -> list[FeaturedTag]:
        rows = await self.db.all(
            select(featured_tags)
            .where(featured_tags.c.account_id == account_id)
            .order_by(featured_tags.c.id)
        )
        return records(FeaturedTag, rows)

    async def featured_tag_add(self, account_id: int, tag: str) -> FeaturedTag | None:
        """Feature a hashtag; None if the account features it already."""
        rows = await self.db.write_returning(
            dialect.insert_ignore(self.db.dialect, featured_tags)
            .values(account_id=account_id, tag=tag, created_at=now_iso())
            .returning(featured_tags)
        )
        return record(FeaturedTag, rows[0]) if rows else None

    async def featured_tag_remove(self, account_id: int, featured_id: int) -> bool:
        result = await self.db.write(
            delete(featured_tags).where(
                featured_tags.c.id == featured_id, featured_tags.c.account_id == account_id
            )
        )
        return result.rowcount > 0

    async def featured_tags_replace(self, account_id: int, tags: list[str]) -> None:
        """Make the account's featured tags these (a remote account's, as its server
        lists them); the ones it keeps keep their ids."""
        async with self.db.atomic():
            await self.db.write(
                delete(featured_tags).where(
                    featured_tags.c.account_id == account_id, featured_tags.c.tag.not_in(tags)
                )
            )
            now = now_iso()
            rows = [{"account_id": account_id, "tag": tag, "created_at": now} for tag in tags]
            await self.db.write(dialect.insert_ignore(self.db.dialect, featured_tags), rows)

    async def featured_tag_uses(self, account_id: int, tags: Iterable[str]) -> dict[str, TagUse]:
        """For each tag the account's counted posts carry: how many, and the newest's time."""
        wanted = list(tags)
        if not wanted:
            return {}
        rows = await self.db.all(
            select(status_tags.c.tag, func.count(), func.max(statuses.c.created_at))
            .join(statuses, statuses.c.id == status_tags.c.status_id)
            .where(
                statuses.c.account_id == account_id,
                statuses.c.visibility.in_(_COUNTED),
                status_tags.c.tag.in_(wanted),
            )
            .group_by(status_tags.c.tag)
        )
        return {row["tag"]: TagUse(*list(row.values())[1:]) for row in rows}

    async def featured_tag_suggestions(self, account_id: int, limit: int) -> list[str]:
        """The hashtags the account's newest posts use most, not featured yet."""
        newest = (
            select(statuses.c.id)
            .where(statuses.c.account_id == account_id)
            .order_by(statuses.c.id.desc())
            .limit(SUGGESTIONS_FROM)
            .subquery()
        )
        featured = select(featured_tags.c.tag).where(featured_tags.c.account_id == account_id)
        uses = func.count().label("uses")
        return await self.db.scalars(
            select(status_tags.c.tag, uses)
            .where(status_tags.c.status_id.in_(select(newest.c.id)))
            .where(status_tags.c.tag.not_in(featured))
            .group_by(status_tags.c.tag)
            .order_by(uses.desc(), status_tags.c.tag)
            .limit(limit)
        )
