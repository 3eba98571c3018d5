"""Instance settings: small key/value pairs kept in the database."""

from __future__ import annotations

from sqlalchemy import select

from fedchirp.store import dialect
from fedchirp.store.db import Queries
from fedchirp.store.schema import settings


class SettingQueries(Queries):
    async def get_setting(self, key: str) -> str | None:
        return await self.db.scalar(select(settings.c.value).where(settings.c.key == key))

    async def set_setting_if_absent(self, key: str, value: str) -> str:
        """Store value unless the key exists; return whichever value is stored."""
        insert = dialect.insert_ignore(self.db.dialect, settings).values(key=key, value=value)
        async with self.db.atomic() as conn:
            await conn.execute(insert)
            result = await conn.execute(select(settings.c.value).where(settings.c.key == key))
            stored = result.scalar_one_or_none()
        assert stored is not None
        return stored
