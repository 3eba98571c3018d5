"""Signals between processes sharing one PostgreSQL database: NOTIFY and LISTEN.

A signal sent inside a unit of work is delivered when the unit commits, and not at all
if it rolls back, so listeners never hear of work that did not happen. SQLite has no
such thing; one process serves a SQLite database, and callers signal within it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import asyncpg
from sqlalchemy import func, select

from fedchirp.store.db import Queries

log = logging.getLogger(__name__)

Closer = Callable[[], Awaitable[None]]

# Worker processes listen here for "work was queued" (jobs or deliveries).
WORK_CHANNEL = "fedchirp_work"


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


class WorkSignal:
    """Tells the worker processes sharing a PostgreSQL database that work was queued, so
    they start it at once instead of at their next poll. Each process NOTIFYs at most
    once per interval (a burst of inbox POSTs costs one signal, not one per group
    commit); one queued meanwhile is signalled at the end of it. Call queued() after the
    work has committed. Does nothing on SQLite, where one process does all the work."""

    def __init__(self, store: SignalQueries, interval: float = 0.02) -> None:
        self.store = store
        self.interval = interval
        self._again = False
        self._sender: asyncio.Task[None] | None = None

    def queued(self) -> None:
        if not self.store.signals_between_processes:
            return
        self._again = True
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send())

    async def _send(self) -> None:
        while self._again:
            self._again = False
            try:
                await self.store.send_signal(WORK_CHANNEL, "")
            except Exception as exc:  # the workers' poll still finds the work
                log.warning("could not signal queued work: %s", exc)
            await asyncio.sleep(self.interval)

    async def close(self) -> None:
        if self._sender is not None:
            self._sender.cancel()
            await asyncio.gather(self._sender, return_exceptions=True)
