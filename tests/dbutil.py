"""Reading tables directly in tests, on whichever database a store runs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from fedchirp.store import Store
from fedchirp.store.schema import metadata


async def count_rows(store: Store, table: str) -> int:
    return await store.db.scalar(select(func.count()).select_from(metadata.tables[table]))


async def all_rows(store: Store, table: str) -> list[dict[str, Any]]:
    return [dict(row) for row in await store.db.all(select(metadata.tables[table]))]
