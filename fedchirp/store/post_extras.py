"""Earlier versions of edited posts, and pinned posts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, insert, select

from fedchirp.clock import now_iso
from fedchirp.store import dialect
from fedchirp.store.db import Queries
from fedchirp.store.models import Status, StatusEdit
from fedchirp.store.query import records
from fedchirp.store.schema import status_edits, status_pins, statuses
from fedchirp.store.visibility import visible_to


class PostExtraQueries(Queries):
    # -- edits ---------------------------------------------------------------

    async def status_edits_of(self, status_id: int) -> list[StatusEdit]:
        rows = await self.db.all(
            select(status_edits)
            .where(status_edits.c.status_id == status_id)
            .order_by(status_edits.c.id)
        )
        return records(StatusEdit, rows)

    async def insert_status_edits(self, status_id: int, versions: Sequence[dict]) -> None:
        """Append versions ({content, spoiler_text, sensitive, created_at}), in order."""
        for version in versions:  # one by one: their ids keep the order
            await self.db.write(insert(status_edits).values(status_id=status_id, **version))

    # -- pins ----------------------------------------------------------------

    async def insert_pin(self, account_id: int, status_id: int) -> None:
        """Pin a post; pinning it again changes nothing."""
        await self.db.write(
            dialect.insert_ignore(self.db.dialect, status_pins).values(
                account_id=account_id, status_id=status_id, created_at=now_iso()
            )
        )

    async def delete_pin(self, account_id: int, status_id: int) -> bool:
        result = await self.db.write(
            delete(status_pins).where(
                status_pins.c.account_id == account_id, status_pins.c.status_id == status_id
            )
        )
        return bool(result.rowcount)

    async def pin_count(self, account_id: int) -> int:
        return int(
            await self.db.scalar(
                select(func.count()).where(status_pins.c.account_id == account_id)
            )
            or 0
        )

    async def pinned_among(self, account_id: int, status_ids: Sequence[int]) -> set[int]:
        """Which of these posts the account pinned."""
        if not status_ids:
            return set()
        found = await self.db.scalars(
            select(status_pins.c.status_id).where(
                status_pins.c.account_id == account_id,
                status_pins.c.status_id.in_(list(status_ids)),
            )
        )
        return set(found)

    async def pinned_statuses(self, account_id: int, viewer_id: int | None) -> list[Status]:
        """The account's pinned posts this viewer may see, most recently pinned first."""
        rows = await self.db.all(
            select(statuses)
            .join(status_pins, status_pins.c.status_id == statuses.c.id)
            .where(
                status_pins.c.account_id == account_id,
                statuses.c.account_id == account_id,
                visible_to(viewer_id),
            )
            .order_by(status_pins.c.id.desc())
        )
        return records(Status, rows)
