"""Prepared reads run on the drivers themselves, several in one trip.

A page of statuses needs half a dozen small indexed reads; going through
SQLAlchemy's execution machinery and one thread hop each cost far more than
the reads. Here a batch of compiled reads (store/query.py Prepared) runs:
- on SQLite, in one hop to a reading thread with its own sqlite3 connection in
  autocommit (each statement sees the newest commit, WAL lets it run beside the
  writer), one statement after another (each takes tens of microseconds);
- on PostgreSQL, one after another on one connection of an asyncpg pool. Side by side
  on several connections, or as one UNION ALL of JSON rows, measured no faster: what
  remains is asyncpg's cost per statement, not the round trips.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg

Batch = Sequence[tuple[str, Sequence[Any]]]


class SqliteReaders:
    def __init__(self, path: Path, threads: int, pragmas: Sequence[str]) -> None:
        self.path = path
        self.pragmas = pragmas
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="fedchirp-read")
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    async def run(self, batch: Batch) -> list[list[tuple[Any, ...]]]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._run, batch)

    def _run(self, batch: Batch) -> list[list[tuple[Any, ...]]]:
        connection = self._connection()
        return [connection.execute(sql, args).fetchall() for sql, args in batch]

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            for pragma in (*self.pragmas, "PRAGMA query_only=ON"):
                connection.execute(pragma)
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    async def close(self) -> None:
        self._executor.shutdown(wait=True)
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()


class PostgresReaders:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, dsn: str, size: int) -> PostgresReaders:
        # These connections only ever read: nothing in their session to reset, so
        # handing one back skips asyncpg's reset statement (a round trip each time).
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=size, reset=_nothing_to_reset)
        return cls(pool)

    async def run(self, batch: Batch) -> list[list[Any]]:
        async with self._pool.acquire() as connection:
            return [await connection.fetch(sql, *args) for sql, args in batch]

    async def write_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement for each row, as one transaction in one round trip (asyncpg's
        executemany is atomic): the inbox's group commit. The connection is left idle,
        so handing it back without a reset is still safe."""
        async with self._pool.acquire() as connection:
            await connection.executemany(sql, rows)

    async def close(self) -> None:
        await self._pool.close()


async def _nothing_to_reset(_connection: asyncpg.Connection) -> None:
    return None
