"""The query layer under every store module: connections, units of work, records.

One `Database` speaks to SQLite (aiosqlite) or PostgreSQL (asyncpg) through
SQLAlchemy Core; the store modules build statements once and run them here.

Units of work. `atomic()` opens one transaction and makes it the current one
for the task that opened it (a context variable): every store call made inside
the block, reads included, runs on that transaction, so a service can write a
post, its recipients and its delivery jobs as one commit without passing a
connection around. A nested `atomic()` joins the outer one. Outside any unit,
a write runs in a transaction of its own and a read on a reading connection.

SQLite allows one writer at a time. Writers queue on an asyncio lock and open
their transaction with BEGIN IMMEDIATE, so two writers never both hold a read
snapshot and then fail to upgrade it (SQLITE_BUSY, which no timeout retries).
A unit opened inside `urgent()` goes ahead of the queue: a request waiting for its
commit (an inbox POST's job) is not kept behind background work that is waiting too.
Readers use their own connections in autocommit mode: each statement sees the
newest committed data, and WAL lets them run beside the writer. Every result is
fetched whole before the connection is handed back, so no statement stays open
and holds an old snapshot between awaits.

The reads every page makes are prepared (store/query.py) and run straight on the
driver, several in one trip (store/readers.py): fetch_many and read_many.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import CursorResult, RowMapping, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql import Executable

from fedchirp.store.query import Prepared, Read
from fedchirp.store.readers import PostgresReaders, SqliteReaders
from fedchirp.store.writers import SqliteBatchWriter, WriteLock, run_transactions_inline

R = TypeVar("R")

SQLITE_READERS = 4  # reading connections for SQLAlchemy statements
PREPARED_READERS = 4  # reading threads or connections for prepared reads (store/readers.py)
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA synchronous=NORMAL",
)


def database_url(location: str | Path) -> str:
    """A SQLAlchemy URL for a configured url, or for the path of a SQLite file."""
    if isinstance(location, Path):
        return f"sqlite+aiosqlite:///{location}"
    return location


class Database:
    """Engines and units of work for one database."""

    def __init__(self, location: str | Path) -> None:
        self.url = make_url(database_url(location))
        self.dialect = self.url.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {self.dialect!r}: use sqlite or postgresql")
        self._engine: AsyncEngine | None = None
        self._read_engine: AsyncEngine | None = None
        self._current: ContextVar[AsyncConnection | None] = ContextVar(
            f"fedchirp-unit-{id(self)}", default=None
        )
        self._after_commit: ContextVar[list[Callable[[], None]] | None] = ContextVar(
            f"fedchirp-after-commit-{id(self)}", default=None
        )
        self._write_lock = WriteLock()
        self._urgent: ContextVar[bool] = ContextVar(f"fedchirp-urgent-{id(self)}", default=False)
        self._on_thread: ContextVar[bool] = ContextVar(
            f"fedchirp-on-thread-{id(self)}", default=False
        )
        self._writer: AsyncConnection | None = None
        self._readers: asyncio.Queue[AsyncConnection] = asyncio.Queue()
        self._prepared_readers: SqliteReaders | PostgresReaders | None = None
        self._batch_writer: SqliteBatchWriter | None = None
        # write_batch's compiled SQL, by statement (kept alive here, so never mistaken
        # for another) and the keys of its rows.
        self._batch_sql: dict[tuple[Executable, tuple[str, ...]], tuple[str, tuple[str, ...]]] = {}

    @property
    def sqlite_path(self) -> Path | None:
        return Path(self.url.database) if self.dialect == "sqlite" and self.url.database else None

    @property
    def engine(self) -> AsyncEngine:
        assert self._engine is not None, "database is not open"
        return self._engine

    # -- lifecycle ---------------------------------------------------------------

    async def open(self) -> None:
        """Connect; on any failure nothing is left open (an open aiosqlite connection
        owns a thread that would keep the process alive)."""
        try:
            if self.dialect == "sqlite":
                await self._open_sqlite()
            else:
                # Sized for a worker's writers in flight at once: connections past pool_size are
                # closed when handed back, and opening them again cost more than the work.
                self._engine = create_async_engine(self.url, pool_size=24, max_overflow=16)
                self._read_engine = self._engine.execution_options(isolation_level="AUTOCOMMIT")
                dsn = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
                self._prepared_readers = await PostgresReaders.open(dsn, PREPARED_READERS)
        except BaseException:
            await self.close()
            raise

    async def _open_sqlite(self) -> None:
        if self.sqlite_path is not None:
            self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(self.url, pool_size=SQLITE_READERS + 1, max_overflow=0)
        self._engine = engine

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Take over transaction control from the driver (see the module docstring).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            for pragma in SQLITE_PRAGMAS:
                cursor.execute(pragma)
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: Any) -> None:
            if connection.get_execution_options().get("fedchirp_writer"):
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        writer = await engine.connect()
        self._writer = await writer.execution_options(fedchirp_writer=True)
        driver = (await writer.get_raw_connection()).driver_connection
        run_transactions_inline(driver, self._on_thread.get)
        for _ in range(SQLITE_READERS):
            self._readers.put_nowait(await engine.connect())
        assert self.sqlite_path is not None, "SQLite needs a database file"
        self._prepared_readers = SqliteReaders(self.sqlite_path, PREPARED_READERS, SQLITE_PRAGMAS)
        self._batch_writer = SqliteBatchWriter(self.sqlite_path, SQLITE_PRAGMAS)

    async def close(self) -> None:
        connections = [self._writer] if self._writer is not None else []
        while not self._readers.empty():
            connections.append(self._readers.get_nowait())
        for connection in connections:
            await connection.close()
        self._writer = None
        if self._engine is not None:
            await self._engine.dispose()
        self._engine = self._read_engine = None
        if self._prepared_readers is not None:
            await self._prepared_readers.close()
            self._prepared_readers = None
        if self._batch_writer is not None:
            await self._batch_writer.close()
            self._batch_writer = None

    # -- units of work -------------------------------------------------------------

    @asynccontextmanager
    async def atomic(self) -> AsyncIterator[AsyncConnection]:
        """One transaction for everything done inside; joins an enclosing unit."""
        current = self._current.get()
        if current is not None:
            yield current
            return
        callbacks: list[Callable[[], None]] = []
        async with self._write_connection() as connection:
            token = self._current.set(connection)
            callbacks_token = self._after_commit.set(callbacks)
            try:
                async with connection.begin():
                    yield connection
            finally:
                self._current.reset(token)
                self._after_commit.reset(callbacks_token)
        for callback in callbacks:
            callback()

    def urgent(self) -> AbstractContextManager[None]:
        """Units opened inside go ahead of others waiting for the SQLite writer."""
        return _set_within(self._urgent)

    def on_thread(self) -> AbstractContextManager[None]:
        """On SQLite, what the writer runs inside goes to its thread, not the event loop
        (store/writers.py run_transactions_inline): for statements that may touch many
        rows (a claim, a fan-out), which the thread runs beside the loop."""
        return _set_within(self._on_thread)

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Call back once the current unit has committed (at once outside a unit): a
        worker woken before the commit would find nothing new to do."""
        pending = self._after_commit.get()
        if pending is None:
            callback()
        else:
            pending.append(callback)

    @asynccontextmanager
    async def _write_connection(self) -> AsyncIterator[AsyncConnection]:
        if self.dialect == "sqlite":
            assert self._writer is not None, "database is not open"
            async with self._write_lock.held(self._urgent.get()):
                yield self._writer
        else:
            async with self.engine.connect() as connection:
                yield connection

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        """The current unit's connection, or a reading connection in autocommit."""
        current = self._current.get()
        if current is not None:
            yield current
        elif self.dialect == "sqlite":
            connection = await self._readers.get()
            try:
                yield connection
            finally:
                self._readers.put_nowait(connection)
        else:
            assert self._read_engine is not None, "database is not open"
            async with self._read_engine.connect() as connection:
                yield connection

    def in_unit(self) -> bool:
        return self._current.get() is not None

    # -- running statements -----------------------------------------------------------

    async def all(
        self, statement: Executable, params: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Rows as plain dicts (made from tuples: much cheaper than RowMapping per key)."""
        async with self.reading() as connection:
            result = await connection.execute(statement, params)
            keys = tuple(result.keys())
            return [dict(zip(keys, row, strict=True)) for row in result.all()]

    async def one(
        self, statement: Executable, params: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        rows = await self.all(statement, params)
        return rows[0] if rows else None

    async def scalar(self, statement: Executable, params: dict[str, Any] | None = None) -> Any:
        row = await self.one(statement, params)
        return next(iter(row.values())) if row is not None else None

    async def scalars(
        self, statement: Executable, params: dict[str, Any] | None = None
    ) -> list[Any]:
        return [next(iter(row.values())) for row in await self.all(statement, params)]

    async def fetch(self, prepared: Prepared, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Run a prepared read; rows as dicts. An empty IN list matches nothing."""
        return (await self.fetch_many([(prepared, params)]))[0]

    async def fetch_many(
        self, reads: Sequence[tuple[Prepared, dict[str, Any]]]
    ) -> list[list[dict[str, Any]]]:
        """Run several prepared reads in one trip (see store/readers.py); rows as dicts.
        Inside a unit of work they run on its connection, and see what it wrote."""
        wanted = [i for i, (p, params) in enumerate(reads) if all(params[n] for n in p.lists)]
        dialect = self.engine.dialect
        batch = [reads[i][0].sql_and_args(dialect, reads[i][1]) for i in wanted]
        unit = self._current.get()
        found: list[list[Any]] = []
        if unit is not None:
            driver = (await unit.get_raw_connection()).driver_connection
            found = [await _driver_fetch(driver, self.dialect, sql, args) for sql, args in batch]
        elif batch:
            assert self._prepared_readers is not None, "database is not open"
            found = await self._prepared_readers.run(batch)
        results: list[list[dict[str, Any]]] = [[] for _ in reads]
        for i, rows in zip(wanted, found, strict=True):
            keys = reads[i][0].columns
            results[i] = [dict(zip(keys, row, strict=True)) for row in rows]
        return results

    async def read(self, read: Read[R]) -> R:
        return (await self.read_many([read]))[0]

    async def read_many(self, reads: Sequence[Read[Any]]) -> list[Any]:
        """Several prepared reads in one trip, each shaped as it asks."""
        rows = await self.fetch_many([(r.prepared, r.params) for r in reads])
        return [read.shape(found) for read, found in zip(reads, rows, strict=True)]

    async def write(
        self, statement: Executable, params: Sequence[dict[str, Any]] | None = None
    ) -> CursorResult[Any]:
        """Run a write (with executemany params, if given) in the current unit or its own."""
        async with self.atomic() as connection:
            if params is not None:
                if not params:
                    return _NO_ROWS
                return await connection.execute(statement, list(params))
            return await connection.execute(statement)

    async def write_batch(self, statement: Executable, rows: Sequence[dict[str, Any]]) -> None:
        """Run statement (one built once: it is compiled once) for each row, every row
        with the same keys, as a transaction of its own; inside a unit, as part of it.
        One trip: on SQLite to a writing thread (store/writers.py, ahead of other
        writers inside urgent()), on PostgreSQL an executemany on a pooled connection."""
        if not rows:
            return
        if self.in_unit():
            await self.write(statement, rows)
            return
        keys = tuple(rows[0])
        found = self._batch_sql.get((statement, keys))
        if found is None:
            compiled = statement.compile(dialect=self.engine.dialect, column_keys=list(keys))
            names = tuple(compiled.positiontup or ())
            assert set(names) == set(keys), "one parameter per key"
            found = self._batch_sql[(statement, keys)] = (compiled.string, names)
        sql, names = found
        args = [tuple(row[n] for n in names) for row in rows]
        if isinstance(self._prepared_readers, PostgresReaders):
            await self._prepared_readers.write_many(sql, args)
            return
        assert self._batch_writer is not None, "database is not open"
        async with self._write_lock.held(self._urgent.get()):
            await self._batch_writer.run(sql, args)

    async def write_returning(
        self, statement: Executable, params: dict[str, Any] | None = None
    ) -> Sequence[RowMapping]:
        async with self.atomic() as connection:
            result = await connection.execute(statement, params)
            return result.mappings().all()


@contextmanager
def _set_within(flag: ContextVar[bool]) -> Iterator[None]:
    token = flag.set(True)
    try:
        yield
    finally:
        flag.reset(token)


async def _driver_fetch(driver: Any, dialect: str, sql: str, args: Sequence[Any]) -> list[Any]:
    if dialect == "sqlite":
        return list(await driver.execute_fetchall(sql, args))
    return await driver.fetch(sql, *args)


class _NoRows:
    rowcount = 0


_NO_ROWS: Any = _NoRows()


class Queries:
    """Base of the store's per-table-family modules: they all run on one Database."""

    db: Database
