"""Web sessions of the browser interface."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, func, insert, select

from fedchirp.store.db import Queries
from fedchirp.store.models import WebSession
from fedchirp.store.query import record
from fedchirp.store.schema import local_users, web_sessions


class SessionQueries(Queries):
    async def insert_session(self, values: dict[str, Any]) -> None:
        await self.db.write(insert(web_sessions).values(values))

    async def get_session(self, token_hash: str, now: float) -> WebSession | None:
        """A session by its token hash, unless it has expired."""
        admin = and_(local_users.c.is_admin == 1, local_users.c.disabled == 0)
        row = await self.db.one(
            select(web_sessions, func.coalesce(admin, False).label("is_admin"))
            .outerjoin(local_users, local_users.c.account_id == web_sessions.c.account_id)
            .where(web_sessions.c.token_hash == token_hash, web_sessions.c.expires_at > now)
        )
        return record(WebSession, row)

    async def delete_session(self, token_hash: str) -> None:
        await self.db.write(delete(web_sessions).where(web_sessions.c.token_hash == token_hash))
