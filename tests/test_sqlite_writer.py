"""The SQLite writers: small batches, and the statements of a unit of work, run on the
event loop; big ones on a thread; and never a loop stalled by another process holding
the database's write lock."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from fedchirp.store.db import SQLITE_PRAGMAS, Database
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


async def _waits_off_the_loop(path: Path, write: Callable[[], Awaitable[None]]) -> None:
    """Run write while another connection (another process, say the CLI) holds the write
    lock for 0.3 s: it must wait for the lock, and the event loop must go on meanwhile."""
    other = sqlite3.connect(path, isolation_level=None)
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    async def release_later() -> None:
        await asyncio.sleep(0.3)
        other.execute("COMMIT")

    other.execute("BEGIN IMMEDIATE")
    ticking = asyncio.create_task(ticker())
    try:
        started = time.monotonic()
        await asyncio.gather(write(), release_later())
        assert time.monotonic() - started >= 0.3  # it waited for the lock
        gaps = [b - a for a, b in itertools.pairwise(ticks)]
        assert len(ticks) >= 20 and max(gaps) < 0.2  # and the loop went on meanwhile
    finally:
        ticking.cancel()
        other.close()


async def test_a_lock_held_elsewhere_is_waited_for_off_the_loop(tmp_path: Path):
    path = tmp_path / "db.sqlite"
    _database(path)
    writer = SqliteBatchWriter(path, SQLITE_PRAGMAS)
    try:
        # Twice: after waiting on the thread, a batch on the loop must not wait there.
        for _ in range(2):
            await _waits_off_the_loop(path, lambda: writer.run(INSERT, [(1,)]))
    finally:
        await writer.close()
    assert _count(path) == 2


class _CountedQueue:
    """Stands in for an aiosqlite connection's queue to its thread, counting the trips."""

    def __init__(self, queue: Any) -> None:
        self.queue, self.trips = queue, 0

    def put_nowait(self, item: Any) -> None:
        self.trips += 1
        self.queue.put_nowait(item)


async def _opened(path: Path) -> tuple[Database, _CountedQueue]:
    database = Database(path)
    await database.open()
    driver = (await database._writer.get_raw_connection()).driver_connection
    counted = driver._tx = _CountedQueue(driver._tx)  # its thread holds the real queue
    async with database.atomic() as connection:
        await connection.execute(text("CREATE TABLE t (n INTEGER NOT NULL)"))
    return database, counted


async def _trips(counted: _CountedQueue, unit: Any) -> int:
    before = counted.trips
    await unit()
    return counted.trips - before


async def test_a_unit_runs_its_statements_on_the_loop_and_big_ones_on_the_thread(tmp_path):
    database, counted = await _opened(tmp_path / "db.sqlite")
    insert = text("INSERT INTO t (n) VALUES (:n)")

    async def ten_inserts_and_a_read() -> None:
        async with database.atomic() as connection:
            for n in range(10):
                await connection.execute(insert, {"n": n})
            await connection.execute(text("SELECT count(*) FROM t"))

    async def marked_on_thread() -> None:
        with database.on_thread():
            await ten_inserts_and_a_read()

    async def many_rows() -> None:
        async with database.atomic() as connection:
            await connection.execute(insert, [{"n": n} for n in range(INLINE_ROWS + 1)])

    try:
        # BEGIN and COMMIT go to the thread (they may wait, or checkpoint), nothing else.
        assert await _trips(counted, ten_inserts_and_a_read) <= 3
        assert await _trips(counted, marked_on_thread) >= 11
        assert await _trips(counted, many_rows) >= 3
        assert await database.scalar(text("SELECT count(*) FROM t")) == 20 + INLINE_ROWS + 1
    finally:
        await database.close()


async def test_a_unit_waits_for_a_lock_held_elsewhere_off_the_loop(tmp_path):
    path = tmp_path / "db.sqlite"
    database, _ = await _opened(path)

    async def unit() -> None:
        async with database.atomic() as connection:
            await connection.execute(text("INSERT INTO t (n) VALUES (1)"))

    try:
        await _waits_off_the_loop(path, unit)
    finally:
        await database.close()
    assert _count(path) == 1
