"""Writing on SQLite: one writer at a time, urgent ones first, and batches in one trip.

SQLite allows one writer. In a process, writers take turns on WriteLock, whose
urgent waiters (a request waiting for its commit) go before the others.

A batch that is a transaction of its own (the inbox's group commit of queued jobs)
goes to SqliteBatchWriter: BEGIN IMMEDIATE, the INSERTs and COMMIT run on a connection
of its own, on the event loop itself when the batch is small and the database is free,
otherwise in one hop to its thread. Through SQLAlchemy and aiosqlite that was
three hops, and each hop waits for the GIL while the event loop is busy: the
commit a request waits for took milliseconds for microseconds of work. It holds
WriteLock like any other writer, so the two connections never contend in SQLite.
For the same reason the writer connection's units of work run their statements on the
event loop between BEGIN and COMMIT (run_transactions_inline).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any


class WriteLock:
    """A lock whose urgent waiters are served before the others, each kind in order."""

    def __init__(self) -> None:
        self._held = False
        self._waiters: tuple[deque[asyncio.Future[None]], deque[asyncio.Future[None]]] = (
            deque(),
            deque(),
        )

    @asynccontextmanager
    async def held(self, urgent: bool = False) -> AsyncIterator[None]:
        if self._held or any(self._waiters):
            waiter = asyncio.get_running_loop().create_future()
            queue = self._waiters[0 if urgent else 1]
            queue.append(waiter)
            try:
                await waiter  # the releaser handed the lock over to us
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._release()  # handed over just as we were cancelled: pass it on
                with suppress(ValueError):
                    queue.remove(waiter)
                raise
        else:
            self._held = True
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        for queue in self._waiters:
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # still held: ownership passes to the waiter
                    return
        self._held = False


# A batch this small is written on the event loop: BEGIN, the INSERTs and COMMIT take
# tens of microseconds in WAL mode, less than handing them to a thread and back.
INLINE_ROWS = 64
BUSY_TIMEOUT_MS = 10000  # as the other connections (db.SQLITE_PRAGMAS)


class SqliteBatchWriter:
    def __init__(self, path: Path, pragmas: Sequence[str]) -> None:
        self.path = path
        self.pragmas = pragmas
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="fedchirp-batch")
        self._connection: sqlite3.Connection | None = None
        self._busy_timeout: int | None = None  # as last set on the connection

    async def run(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Write rows with one statement in a transaction of their own (hold WriteLock)."""
        if len(rows) <= INLINE_ROWS:
            try:
                self._run(sql, rows, wait=False)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc):
                    raise
                # Another process (the CLI, say) is writing: wait for it on the thread.
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._run, sql, rows)

    def _run(self, sql: str, rows: Sequence[Sequence[Any]], wait: bool = True) -> None:
        connection = self._connect()
        busy_timeout = BUSY_TIMEOUT_MS if wait else 0
        if busy_timeout != self._busy_timeout:  # only on a change: an eighth of a batch
            connection.execute(f"PRAGMA busy_timeout={busy_timeout}")
            self._busy_timeout = busy_timeout
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany(sql, rows)
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:  # a COMMIT that failed leaves it open too
                connection.execute("ROLLBACK")
            raise

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            for pragma in self.pragmas:
                connection.execute(pragma)
            # Its commits never checkpoint (the other connections' do): one made on the
            # event loop must not copy the log into the database there.
            connection.execute("PRAGMA wal_autocheckpoint=0")
            self._connection = connection
        return self._connection

    async def close(self) -> None:
        self._executor.shutdown(wait=True)
        if self._connection is not None:
            self._connection.close()
            self._connection = None
            self._busy_timeout = None


def run_transactions_inline(connection: Any, on_thread: Callable[[], bool]) -> None:
    """Make an aiosqlite connection run its calls on the event loop while a transaction
    is open. To its thread still go BEGIN (it may wait for another process's writer),
    COMMIT (it may copy the log into the database), executemany of many rows, and
    whatever runs while on_thread() is true: statements that touch many rows, which
    the thread runs beside the loop (sqlite3 lets go of the GIL).

    Between BEGIN IMMEDIATE and COMMIT the connection holds SQLite's write lock, so a
    statement never waits, and a small one takes microseconds. Each hop to the thread
    and back waited for the busy event loop: a unit of a dozen statements held the
    write lock, and the requests waiting for their commit behind it, a dozen turns."""
    database = connection._conn  # the sqlite3 connection (opened with check_same_thread=False)
    via_thread = connection._execute

    def small(fn: Any, args: tuple[Any, ...]) -> bool:
        return getattr(fn, "__name__", "") != "executemany" or len(args[1]) <= INLINE_ROWS

    async def execute(fn: Any, *args: Any, **kwargs: Any) -> Any:
        inline = database.in_transaction and fn != database.commit and not on_thread()
        if inline and small(fn, args):
            return fn(*args, **kwargs)
        return await via_thread(fn, *args, **kwargs)

    connection._execute = execute
