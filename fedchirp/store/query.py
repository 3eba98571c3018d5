"""Statements and records: prepared reads, paging, and rows as frozen dataclasses.

The helpers every store module uses to build its statements and read its rows;
store/db.py runs them.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from sqlalchemy import bindparam
from sqlalchemy.engine import Dialect, RowMapping
from sqlalchemy.sql import ColumnElement, CompoundSelect, Select
from sqlalchemy.sql.elements import BindParameter

from fedchirp.store.models import Page

T = TypeVar("T")
R = TypeVar("R")


# -- records ----------------------------------------------------------------------

_FIELDS: dict[type, tuple[frozenset[str], tuple[str, ...]]] = {}


def record(cls: type[T], row: RowMapping | dict[str, Any] | None) -> T | None:
    """A row as its frozen dataclass; 0/1 flags become bools.

    A row that has exactly the record's fields fills the instance directly: the frozen
    dataclass __init__ sets each field through object.__setattr__, which made building
    records the largest cost of rendering a page."""
    if row is None:
        return None
    known = _FIELDS.get(cls)
    if known is None:
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        flags = tuple(f.name for f in fields if f.type in ("bool", bool))
        known = _FIELDS[cls] = (frozenset(f.name for f in fields), flags)
    names, flags = known
    values = dict(row)
    for name in flags:
        values[name] = bool(values[name])
    if values.keys() != names:
        return cls(**values)
    instance = object.__new__(cls)
    instance.__dict__.update(values)
    return instance


def records(cls: type[T], rows: Iterable[RowMapping]) -> list[T]:
    return [record(cls, row) for row in rows]  # type: ignore[misc]


# -- prepared statements -------------------------------------------------------------


class Prepared:
    """A read that every page makes, compiled once per dialect and run on the driver.

    The statement is ordinary SQLAlchemy Core, the same for both databases; only its
    execution skips SQLAlchemy's per-call machinery (building the execution context
    and result objects costs three times what the indexed read itself does). Lists
    bound for IN (ids_param) must be integers: SQLite gets them written into the SQL,
    PostgreSQL as one array parameter.
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
        """(SQL, names of its positional parameters in order, default values)."""
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            sql = compiled.string
            names = [n for n in compiled.positiontup or () if n not in self.lists]
            if dialect.name == "postgresql":
                # A list travels as one array parameter, so the SQL text stays the same
                # and asyncpg reuses the statement it prepared (a new text costs a
                # round trip to prepare it).
                for name in self.lists:
                    names.append(name)
                    sql = sql.replace(f"IN (__[POSTCOMPILE_{name}])", f"= ANY(${len(names)})")
            found = (sql, tuple(names), compiled.params)
            self._compiled[dialect.name] = found
        return found

    def sql_and_args(self, dialect: Dialect, params: dict[str, Any]) -> tuple[str, list[Any]]:
        sql, names, defaults = self.compiled(dialect)
        if dialect.name != "postgresql":
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


@dataclasses.dataclass(frozen=True)
class Read(Generic[R]):
    """A prepared read with its values, and what its rows become: reads of different
    tables can then travel together (Database.read_many)."""

    prepared: Prepared
    params: dict[str, Any]
    shape: Callable[[list[dict[str, Any]]], R]
