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
Readers use their own connections in autocommit mode: each statement sees the
newest committed data, and WAL lets them run beside the writer. Every result is
fetched whole before the connection is handed back, so no statement stays open
and holds an old snapshot between awaits.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import bindparam, event
from sqlalchemy.engine import CursorResult, Dialect, RowMapping, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql import ColumnElement, CompoundSelect, Executable, Select
from sqlalchemy.sql.elements import BindParameter

from fedchirp.store.models import Page

T = TypeVar("T")

SQLITE_READERS = 4
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
        self._write_lock = asyncio.Lock()
        self._writer: AsyncConnection | None = None
        self._readers: asyncio.Queue[AsyncConnection] = asyncio.Queue()

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
                self._engine = create_async_engine(self.url, pool_size=10, max_overflow=20)
                self._read_engine = self._engine.execution_options(isolation_level="AUTOCOMMIT")
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
        for _ in range(SQLITE_READERS):
            self._readers.put_nowait(await engine.connect())

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
            async with self._write_lock:
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
        if any(not params[name] for name in prepared.lists):
            return []
        sql, args = prepared.sql_and_args(self.engine.dialect, params)
        async with self.reading() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            if self.dialect == "sqlite":
                rows = await driver.execute_fetchall(sql, args)
            else:
                rows = await driver.fetch(sql, *args)
        keys = prepared.columns
        return [dict(zip(keys, row, strict=True)) for row in rows]

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

    async def write_returning(self, statement: Executable) -> Sequence[RowMapping]:
        async with self.atomic() as connection:
            result = await connection.execute(statement)
            return result.mappings().all()


class _NoRows:
    rowcount = 0


_NO_ROWS: Any = _NoRows()


# -- records ----------------------------------------------------------------------

_BOOL_FIELDS: dict[type, tuple[str, ...]] = {}


def record(cls: type[T], row: RowMapping | dict[str, Any] | None) -> T | None:
    """A row as its frozen dataclass; 0/1 flags become bools."""
    if row is None:
        return None
    flags = _BOOL_FIELDS.get(cls)
    if flags is None:
        flags = _BOOL_FIELDS[cls] = tuple(
            f.name
            for f in dataclasses.fields(cls)  # type: ignore[arg-type]
            if f.type in ("bool", bool)
        )
    values = dict(row)
    for name in flags:
        values[name] = bool(values[name])
    return cls(**values)


def records(cls: type[T], rows: Iterable[RowMapping]) -> list[T]:
    return [record(cls, row) for row in rows]  # type: ignore[misc]


# -- prepared statements -------------------------------------------------------------


class Prepared:
    """A read that every page makes, compiled once per dialect and run on the driver.

    The statement is ordinary SQLAlchemy Core, the same for both databases; only its
    execution skips SQLAlchemy's per-call machinery (building the execution context
    and result objects costs three times what the indexed read itself does). Lists
    bound for IN (ids_param) must be integers: they are written into the SQL.
    """

    def __init__(self, statement: Select[Any] | CompoundSelect) -> None:
        self.statement = statement
        self.columns = tuple(statement.selected_columns.keys())
        expanding = [b for b in statement.compile().binds.values() if b.expanding]
        if any(b.value is not None for b in expanding):
            raise ValueError("a prepared read takes no literal IN list: compare with OR")
        self.lists = tuple(b.key for b in expanding)
        self._compiled: dict[str, tuple[str, tuple[str, ...], dict[str, Any]]] = {}

    def compiled(self, dialect: Dialect) -> tuple[str, tuple[str, ...], dict[str, Any]]:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            names = tuple(n for n in compiled.positiontup or () if n not in self.lists)
            found = self._compiled[dialect.name] = (compiled.string, names, compiled.params)
        return found

    def sql_and_args(self, dialect: Dialect, params: dict[str, Any]) -> tuple[str, list[Any]]:
        sql, names, defaults = self.compiled(dialect)
        for name in self.lists:
            numbers = ", ".join(str(int(value)) for value in params[name])
            sql = sql.replace(f"__[POSTCOMPILE_{name}]", numbers)
        return sql, [params[n] if n in params else defaults[n] for n in names]


BuildT = TypeVar("BuildT", bound=Callable[..., Any])


def prepared(build: BuildT) -> BuildT:
    """Build a statement once per shape (the builder's arguments), with bind parameters
    for its values. Reads that every page makes use these: building a statement and its
    cache key costs more than running it on an index, and a prepared one reuses both."""
    return functools.lru_cache(maxsize=64)(build)  # type: ignore[return-value]


def ids_param(name: str = "ids") -> BindParameter[Any]:
    """A list of values for IN, bound at execution."""
    return bindparam(name, expanding=True)


def page_shape(page: Page) -> tuple[bool, bool, bool]:
    """Which paging bounds a page has: the shape of its prepared statement."""
    return page.max_id is not None, page.since_id is not None, page.min_id is not None


def paged_by_params(
    statement: Select[Any], column: ColumnElement[Any], shape: tuple[bool, bool, bool]
) -> Select[Any]:
    """paged() with bind parameters (max_id, since_id, min_id, limit): see page_params."""
    has_max, has_since, has_min = shape
    if has_max:
        statement = statement.where(column < bindparam("max_id"))
    if has_since:
        statement = statement.where(column > bindparam("since_id"))
    if has_min:
        statement = statement.where(column > bindparam("min_id"))
    order = column.asc() if has_min else column.desc()
    return statement.order_by(order).limit(bindparam("limit"))


def page_params(page: Page) -> dict[str, Any]:
    values = {"max_id": page.max_id, "since_id": page.since_id, "min_id": page.min_id}
    return {"limit": page.limit, **{k: v for k, v in values.items() if v is not None}}


# -- paging -------------------------------------------------------------------------


def paged(statement: Select[Any], column: ColumnElement[Any], page: Page) -> Select[Any]:
    """Mastodon paging on an id column: max_id/since_id/min_id bounds, order and limit."""
    if page.max_id is not None:
        statement = statement.where(column < page.max_id)
    if page.since_id is not None:
        statement = statement.where(column > page.since_id)
    if page.min_id is not None:
        statement = statement.where(column > page.min_id)
    order = column.asc() if page.min_id is not None else column.desc()
    return statement.order_by(order).limit(page.limit)


def newest_first(items: list[T], page: Page) -> list[T]:
    """min_id pages are read oldest first (to start right after min_id); show them newest first."""
    return list(reversed(items)) if page.min_id is not None else items


class Queries:
    """Base of the store's per-table-family modules: they all run on one Database."""

    db: Database
