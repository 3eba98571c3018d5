"""The few statements that differ between SQLite and PostgreSQL, in one place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, case, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement, Insert


def insert_ignore(dialect: str, table: Table, conflict: Sequence[str] | None = None) -> Insert:
    """INSERT that skips rows clashing with a unique key (all keys, or the one named)."""
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing(index_elements=conflict)


def upsert(
    dialect: str, table: Table, values: dict[str, Any], key: Sequence[str], keep: Sequence[str]
) -> Insert:
    """INSERT values, or update the row with the same key (except the columns in keep)."""
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table).values(values)
    updates = {c: statement.excluded[c] for c in values if c not in (*key, *keep)}
    return statement.on_conflict_do_update(index_elements=key, set_=updates)


def greater(a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
    """The larger of two values (SQLite's two-argument max, PostgreSQL's GREATEST)."""
    return case((a > b, a), else_=b)


async def reset_sequences(connection: AsyncConnection, tables: Sequence[Table]) -> None:
    """After rows were written with their ids (a copy), PostgreSQL's id sequences must
    start past them; SQLite takes the next rowid from the table itself."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        column = table.c.get("id")
        if column is None or not column.primary_key or column.autoincrement is False:
            continue
        await connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'),"
                f" COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
            )
        )
