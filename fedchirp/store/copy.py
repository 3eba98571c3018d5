"""Moving an instance to another database: every row of every table, then a count check.

The target is made at the head revision by opening it, and must be empty. Rows
go table by table in dependency order, in batches. Two things need care:
- a status may name (reply to, boost) a status with a larger id, which is not
  there yet: it is written without that reference, which is set once all
  statuses are in;
- triggers fire on the copied rows (follower_events for accepted follows), so
  the history they write is replaced by the source's own afterwards.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from fedchirp.store import Store
from fedchirp.store.dialect import reset_sequences
from fedchirp.store.schema import follower_events, metadata, statuses

BATCH_ROWS = 2000
FORWARD_REFERENCES = ("in_reply_to_id", "reblog_of_id")
BOOKKEEPING = {"alembic_version"}


class CopyError(Exception):
    """The copy cannot start, or its result does not match the source."""


async def copy_database(source: Store, target: Store) -> dict[str, int]:
    """Copy every row of source into the empty target; return the rows per table."""
    tables = [t for t in metadata.sorted_tables if t.name not in BOOKKEEPING]
    if any([await _count(target, t) for t in tables]):
        raise CopyError("the target database is not empty")
    async with source.db.reading() as reader, target.atomic() as writer:
        for table in tables:
            if table is follower_events:
                continue  # last: copying follows writes rows into it
            await _copy_table(reader, writer, table)
        # Rows the triggers wrote while follows were copied give way to the source's.
        await writer.execute(delete(follower_events))
        await _copy_table(reader, writer, follower_events)
        await reset_sequences(writer, tables)
    counts = {t.name: await _count(source, t) for t in tables}
    copied = {t.name: await _count(target, t) for t in tables}
    differ = [name for name in counts if counts[name] != copied[name]]
    if differ:
        raise CopyError(f"row counts differ after the copy in: {', '.join(differ)}")
    return counts


async def _copy_table(reader: AsyncConnection, writer: AsyncConnection, table: Table) -> int:
    later: list[dict[str, Any]] = []
    copied = 0
    result = await reader.stream(select(table).order_by(*table.primary_key.columns))
    async for partition in result.mappings().partitions(BATCH_ROWS):
        rows = [dict(row) for row in partition]
        if table is statuses:
            rows = [_without_forward_references(row, later) for row in rows]
        await writer.execute(table.insert(), rows)
        copied += len(rows)
    for row in later:
        await writer.execute(
            update(statuses)
            .where(statuses.c.id == row["id"])
            .values({name: row[name] for name in FORWARD_REFERENCES})
        )
    return copied


def _without_forward_references(row: dict[str, Any], later: list[dict[str, Any]]) -> dict[str, Any]:
    """The row as it can be written now: references to larger ids wait in `later`."""
    if any((row[name] or 0) > row["id"] for name in FORWARD_REFERENCES):
        later.append(row)
        return {**row, **{name: None for name in FORWARD_REFERENCES}}
    return row


async def _count(store: Store, table: Table) -> int:
    return await store.db.scalar(select(func.count()).select_from(table)) or 0
