"""Incoming activities already handled, so a repeat delivery changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from fedchirp.clock import now_iso
from fedchirp.store import dialect
from fedchirp.store.db import Queries
from fedchirp.store.schema import inbox_seen


class InboxQueries(Queries):
    """The inbox's record of activity ids seen."""

    async def activity_seen(self, activity_uri: str) -> bool:
        """Whether an activity with this id was received before."""
        statement = select(inbox_seen.c.activity_uri).where(
            inbox_seen.c.activity_uri == activity_uri
        )
        return await self.db.one(statement) is not None

    async def mark_activity_seen(self, activity_uri: str, type_: str, actor_uri: str) -> None:
        """Remember an incoming activity id, so a repeat delivery changes nothing."""
        await self.db.write(
            dialect.insert_ignore(self.db.dialect, inbox_seen, ["activity_uri"]).values(
                activity_uri=activity_uri, type=type_, actor_uri=actor_uri, received_at=now_iso()
            )
        )
