"""The SQLite batch writer: small batches written on the event loop, and never a loop
stalled by another process holding the database's write lock."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import time
from pathlib import Path

import pytest

from fedchirp.store.db import SQLITE_PRAGMAS
from fedchirp.store.writers import INLINE_ROWS, SqliteBatchWriter

INSERT = "INSERT INTO t (n) VALUES (?)"


def _database(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE t (n INTEGER NOT NULL)")


def _count(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT count(*) FROM t").fetchone()[0]


async def test_small_and_large_batches_are_written(tmp_path: Path):
    path = tmp_path / "db.sqlite"
    _database(path)
    writer = SqliteBatchWriter(path, SQLITE_PRAGMAS)
    try:
        await writer.run(INSERT, [(n,) for n in range(3)])  # on the loop
        await writer.run(INSERT, [(n,) for n in range(INLINE_ROWS + 1)])  # on its thread
    finally:
        await writer.close()
    assert _count(path) == 3 + INLINE_ROWS + 1


async def test_a_failed_batch_writes_nothing_and_the_next_one_goes_in(tmp_path: Path):
    path = tmp_path / "db.sqlite"
    _database(path)
    writer = SqliteBatchWriter(path, SQLITE_PRAGMAS)
    try:
        for rows in ([(1,), (None,)], [(n,) for n in range(INLINE_ROWS)] + [(None,)]):
            with pytest.raises(sqlite3.IntegrityError):
                await writer.run(INSERT, rows)
        await writer.run(INSERT, [(2,)])  # no transaction was left open
    finally:
        await writer.close()
    assert _count(path) == 1


async def test_a_lock_held_elsewhere_is_waited_for_off_the_loop(tmp_path: Path):
    path = tmp_path / "db.sqlite"
    _database(path)
    other = sqlite3.connect(path, isolation_level=None)  # another process, say the CLI
    writer = SqliteBatchWriter(path, SQLITE_PRAGMAS)
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    async def release_later() -> None:
        await asyncio.sleep(0.3)
        other.execute("COMMIT")

    ticking = asyncio.create_task(ticker())
    try:
        # Twice: after waiting on the thread, a batch on the loop must not wait there.
        for _ in range(2):
            other.execute("BEGIN IMMEDIATE")
            ticks.clear()
            started = time.monotonic()
            await asyncio.gather(writer.run(INSERT, [(1,)]), release_later())
            assert time.monotonic() - started >= 0.3  # it waited for the lock
            gaps = [b - a for a, b in itertools.pairwise(ticks)]
            assert len(ticks) >= 20 and max(gaps) < 0.2  # and the loop went on meanwhile
    finally:
        ticking.cancel()
        await writer.close()
        other.close()
    assert _count(path) == 2
