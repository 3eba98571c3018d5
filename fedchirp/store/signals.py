"""Signals between processes sharing one PostgreSQL database: NOTIFY and LISTEN.

A signal sent inside a unit of work is delivered when the unit commits, and not at all
if it rolls back, so listeners never hear of work that did not happen. SQLite has no
such thing; one process serves a SQLite database, and callers signal within it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
from sqlalchemy import func, select

from fedchirp.store.db import Queries

Closer = Callable[[], Awaitable[None]]


class SignalQueries(Queries):
    @property
    def signals_between_processes(self) -> bool:
        return self.db.dialect == "postgresql"

    async def send_signal(self, channel: str, payload: str) -> None:
        """NOTIFY channel (PostgreSQL only): in the current unit, or at once."""
        assert self.signals_between_processes, "signals need PostgreSQL"
        await self.db.write(select(func.pg_notify(channel, payload)))

    async def listen(self, channel: str, heard: Callable[[str], None]) -> Closer:
        """Call heard(payload) for each signal on channel, on a connection of its own
        (a pooled one would be handed to others); the result stops listening."""
        dsn = self.db.url.set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(dsn)

        def on_notify(_connection: object, _pid: int, _channel: str, payload: str) -> None:
            heard(payload)

        await connection.add_listener(channel, on_notify)

        async def close() -> None:
            await connection.close()

        return close
