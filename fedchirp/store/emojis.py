"""Custom emoji: ours (added by admins) and those other servers' posts and profiles use."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, delete, or_, select, update

from fedchirp.clock import now_iso
from fedchirp.store import dialect
from fedchirp.store.db import Queries
from fedchirp.store.models import CustomEmoji
from fedchirp.store.query import record, records
from fedchirp.store.schema import custom_emojis


class EmojiQueries(Queries):
    async def get_emoji(self, shortcode: str, domain: str = "") -> CustomEmoji | None:
        row = await self.db.one(
            select(custom_emojis).where(
                custom_emojis.c.shortcode == shortcode, custom_emojis.c.domain == domain
            )
        )
        return record(CustomEmoji, row)

    async def insert_emoji(self, values: dict[str, Any]) -> CustomEmoji:
        rows = await self.db.write_returning(
            custom_emojis.insert().values(**values).returning(custom_emojis)
        )
        found = record(CustomEmoji, rows[0])
        assert found is not None
        return found

    async def save_remote_emoji(self, domain: str, shortcode: str, url: str, uri: str) -> None:
        """Keep another server's emoji, or its new image: the newest tag naming it wins."""
        values = {"image_url": url, "static_url": url, "uri": uri, "updated_at": now_iso()}
        key = and_(custom_emojis.c.shortcode == shortcode, custom_emojis.c.domain == domain)
        async with self.db.atomic() as db:
            inserted = await db.execute(
                dialect.insert_ignore(self.db.dialect, custom_emojis).values(
                    shortcode=shortcode, domain=domain, visible_in_picker=0, **values
                )
            )
            if inserted.rowcount == 0:
                await db.execute(update(custom_emojis).where(key).values(**values))

    async def delete_emoji(self, emoji_id: int) -> None:
        await self.db.write(delete(custom_emojis).where(custom_emojis.c.id == emoji_id))

    async def local_emojis(self, picker_only: bool = False) -> list[CustomEmoji]:
        statement = select(custom_emojis).where(custom_emojis.c.domain == "")
        if picker_only:
            statement = statement.where(custom_emojis.c.visible_in_picker == 1)
        rows = await self.db.all(statement.order_by(custom_emojis.c.shortcode))
        return records(CustomEmoji, rows)

    async def emojis_named(self, wanted: Iterable[tuple[str, str]]) -> list[CustomEmoji]:
        """The emoji with these (shortcode, domain) pairs that we know."""
        pairs = list(set(wanted))
        if not pairs:
            return []
        rows = await self.db.all(
            select(custom_emojis).where(
                or_(
                    *(
                        and_(custom_emojis.c.shortcode == code, custom_emojis.c.domain == domain)
                        for code, domain in pairs
                    )
                )
            )
        )
        return records(CustomEmoji, rows)
