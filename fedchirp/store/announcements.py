"""Announcements: what admins publish, who dismissed them, and reactions to them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import case, delete, func, or_, select, update

from fedchirp.clock import now_iso
from fedchirp.store import dialect
from fedchirp.store.announcement_models import Announcement, Reaction
from fedchirp.store.db import Queries
from fedchirp.store.query import record, records
from fedchirp.store.schema import announcement_dismissals, announcement_reactions, announcements

# Mastodon's order: by when the event starts, else when it was published.
_CHRONOLOGICAL = func.coalesce(
    announcements.c.starts_at, announcements.c.published_at, announcements.c.created_at
)


class AnnouncementQueries(Queries):
    async def announcement_insert(self, values: dict[str, Any]) -> Announcement:
        rows = await self.db.write_returning(
            announcements.insert().values(**values).returning(announcements)
        )
        found = record(Announcement, rows[0])
        assert found is not None
        return found

    async def announcement_update(
        self, announcement_id: int, values: dict[str, Any]
    ) -> Announcement | None:
        rows = await self.db.write_returning(
            update(announcements)
            .where(announcements.c.id == announcement_id)
            .values(**values)
            .returning(announcements)
        )
        return record(Announcement, rows[0]) if rows else None

    async def announcement_delete(self, announcement_id: int) -> bool:
        result = await self.db.write(
            delete(announcements).where(announcements.c.id == announcement_id)
        )
        return result.rowcount > 0

    async def announcement_get(self, announcement_id: int) -> Announcement | None:
        row = await self.db.one(select(announcements).where(announcements.c.id == announcement_id))
        return record(Announcement, row)

    async def announcements_all(self) -> list[Announcement]:
        """Every announcement, published or not, newest first (for admins)."""
        rows = await self.db.all(select(announcements).order_by(announcements.c.id.desc()))
        return records(Announcement, rows)

    async def announcements_active(
        self, account_id: int, now: str, with_dismissed: bool
    ) -> list[Announcement]:
        """Published announcements whose event has not ended, in Mastodon's order; those
        the account dismissed only if asked for."""
        statement = select(announcements).where(
            announcements.c.published == 1,
            or_(announcements.c.ends_at.is_(None), announcements.c.ends_at > now),
        )
        if not with_dismissed:
            dismissed = select(announcement_dismissals.c.announcement_id).where(
                announcement_dismissals.c.account_id == account_id
            )
            statement = statement.where(announcements.c.id.not_in(dismissed))
        rows = await self.db.all(statement.order_by(_CHRONOLOGICAL, announcements.c.id))
        return records(Announcement, rows)

    async def announcement_dismissed_ids(self, account_id: int, ids: Iterable[int]) -> set[int]:
        wanted = list(ids)
        if not wanted:
            return set()
        found = await self.db.scalars(
            select(announcement_dismissals.c.announcement_id).where(
                announcement_dismissals.c.account_id == account_id,
                announcement_dismissals.c.announcement_id.in_(wanted),
            )
        )
        return set(found)

    async def announcement_dismiss(self, account_id: int, announcement_id: int) -> None:
        await self.db.write(
            dialect.insert_ignore(self.db.dialect, announcement_dismissals).values(
                account_id=account_id, announcement_id=announcement_id
            )
        )

    async def announcement_react(self, announcement_id: int, account_id: int, name: str) -> bool:
        """Add the account's reaction; False if it had it already."""
        result = await self.db.write(
            dialect.insert_ignore(self.db.dialect, announcement_reactions).values(
                announcement_id=announcement_id,
                account_id=account_id,
                name=name,
                created_at=now_iso(),
            )
        )
        return result.rowcount > 0

    async def announcement_unreact(self, announcement_id: int, account_id: int, name: str) -> bool:
        result = await self.db.write(
            delete(announcement_reactions).where(
                announcement_reactions.c.announcement_id == announcement_id,
                announcement_reactions.c.account_id == account_id,
                announcement_reactions.c.name == name,
            )
        )
        return result.rowcount > 0

    async def announcement_reaction_names(self, announcement_id: int) -> set[str]:
        found = await self.db.scalars(
            select(announcement_reactions.c.name)
            .where(announcement_reactions.c.announcement_id == announcement_id)
            .distinct()
        )
        return set(found)

    async def announcement_reactions(
        self, ids: Iterable[int], viewer_id: int | None
    ) -> list[Reaction]:
        """Reactions to these announcements, one per emoji, first given first; `me` says
        whether the viewer gave it."""
        wanted = list(ids)
        if not wanted:
            return []
        table = announcement_reactions
        mine = func.max(case((table.c.account_id == (viewer_id or 0), 1), else_=0))
        rows = await self.db.all(
            select(
                table.c.announcement_id,
                table.c.name,
                func.count().label("count"),
                mine.label("me"),
            )
            .where(table.c.announcement_id.in_(wanted))
            .group_by(table.c.announcement_id, table.c.name)
            .order_by(table.c.announcement_id, func.min(table.c.created_at))
        )
        return records(Reaction, rows)
