"""Posts scheduled for later: their create_status arguments, kept until due."""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update

from fedchirp.clock import now_iso
from fedchirp.store.db import Queries
from fedchirp.store.models import ScheduledStatus
from fedchirp.store.query import record, records
from fedchirp.store.schema import scheduled_statuses

_in_order = (scheduled_statuses.c.scheduled_at, scheduled_statuses.c.id)


class ScheduledQueries(Queries):
    async def insert_scheduled(
        self, account_id: int, scheduled_at: str, params: str, idempotency_key: str
    ) -> int:
        """Schedule a post; return the new row's id."""
        statement = (
            insert(scheduled_statuses)
            .values(
                account_id=account_id,
                scheduled_at=scheduled_at,
                params=params,
                created_at=now_iso(),
                idempotency_key=idempotency_key,
            )
            .returning(scheduled_statuses.c.id)
        )
        rows = await self.db.write_returning(statement)
        return rows[0]["id"]

    async def get_scheduled(self, scheduled_id: int) -> ScheduledStatus | None:
        row = await self.db.one(
            select(scheduled_statuses).where(scheduled_statuses.c.id == scheduled_id)
        )
        return record(ScheduledStatus, row)

    async def scheduled_of(self, account_id: int) -> list[ScheduledStatus]:
        """An account's scheduled posts, soonest first."""
        rows = await self.db.all(
            select(scheduled_statuses)
            .where(scheduled_statuses.c.account_id == account_id)
            .order_by(*_in_order)
        )
        return records(ScheduledStatus, rows)

    async def reschedule(self, scheduled_id: int, scheduled_at: str) -> None:
        await self.db.write(
            update(scheduled_statuses)
            .where(scheduled_statuses.c.id == scheduled_id)
            .values(scheduled_at=scheduled_at)
        )

    async def delete_scheduled(self, scheduled_id: int) -> None:
        await self.db.write(
            delete(scheduled_statuses).where(scheduled_statuses.c.id == scheduled_id)
        )

    async def take_scheduled(self, scheduled_id: int, scheduled_at: str) -> bool:
        """Remove the entry if it is still due at scheduled_at; whether it was. Its
        publisher does this in the post's unit: a second run, or one racing a cancel or
        a new time, finds nothing to take and writes no post."""
        result = await self.db.write(
            delete(scheduled_statuses).where(
                scheduled_statuses.c.id == scheduled_id,
                scheduled_statuses.c.scheduled_at == scheduled_at,
            )
        )
        return result.rowcount == 1
