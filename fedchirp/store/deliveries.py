"""The outbound delivery queue: one row per (activity, remote inbox), leased while sent."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Subquery, bindparam, func, select, update

from fedchirp.clock import now_iso
from fedchirp.store import dialect
from fedchirp.store.db import Queries
from fedchirp.store.models import Delivery
from fedchirp.store.query import record, records
from fedchirp.store.schema import deliveries

# Rows per INSERT when queueing: 8 parameters each stays far below the bound-parameter
# limits of SQLite (32766) and PostgreSQL (32767), however many inboxes there are.
ENQUEUE_BATCH = 1000
# An activity is queued once per inbox.
QUEUE_KEY = ("activity_uri", "inbox_url")


def _queue_heads() -> Subquery:
    """The oldest queued delivery of each inbox: only these may be sent."""
    return (
        select(func.min(deliveries.c.id).label("head"))
        .where(deliveries.c.state == "queued")
        .group_by(deliveries.c.inbox_url)
        .subquery("h")
    )


@dataclass(frozen=True)
class Settled:
    """What became of one attempt. kind: "delivered" or "failed" (final), "retry" (an
    attempt counted, tried again at next_attempt_at), "postponed" (not tried: its host
    is resting; nothing counted) or "dropped" (not tried and failed for good: its host
    is unavailable; nothing counted)."""

    delivery_id: int
    kind: str
    status: int | None = None
    error: str | None = None
    next_attempt_at: float = 0.0

    def values(self) -> dict[str, Any]:
        """The parameters of its kind's statement (_SETTLE)."""
        values: dict[str, Any] = {"delivery_id": self.delivery_id}
        if self.kind != "postponed":
            values |= {"new_last_status": self.status, "new_last_error": self.error}
        if self.kind in ("delivered", "failed", "dropped"):
            state = "failed" if self.kind == "dropped" else self.kind
            values |= {"new_state": state, "new_finished_at": now_iso()}
        else:
            values["new_next_attempt_at"] = self.next_attempt_at
        return values


def _settle_statement(counted: bool, **values: Any) -> Any:
    statement = update(deliveries).where(deliveries.c.id == bindparam("delivery_id"))
    if counted:
        statement = statement.values(attempts=deliveries.c.attempts + 1)
    # A bind parameter may not share its column's name in an UPDATE's SET clause.
    return statement.values(lease_until=0, **{name: bindparam(f"new_{name}") for name in values})


# Built once: a worker settles deliveries all the time, with executemany.
_SETTLE = {
    "delivered": _settle_statement(True, state=0, last_status=0, last_error=0, finished_at=0),
    "failed": _settle_statement(True, state=0, last_status=0, last_error=0, finished_at=0),
    "retry": _settle_statement(True, next_attempt_at=0, last_status=0, last_error=0),
    "postponed": _settle_statement(False, next_attempt_at=0),
    "dropped": _settle_statement(False, state=0, last_status=0, last_error=0, finished_at=0),
}


class DeliveryQueries(Queries):
    """Queueing, leasing and settling deliveries."""

    async def enqueue_deliveries(
        self,
        activity_uri: str,
        activity_type: str,
        body: str,
        signer_id: int,
        inboxes: Iterable[str],
        now: float,
        status_id: int | None = None,
    ) -> int:
        """Queue one delivery per inbox; an activity already queued for an inbox is kept once.

        Returns how many deliveries were really queued."""
        created = now_iso()
        rows = [
            {
                "activity_uri": activity_uri,
                "activity_type": activity_type,
                "inbox_url": inbox,
                "body": body,
                "signer_id": signer_id,
                "status_id": status_id,
                "next_attempt_at": now,
                "created_at": created,
            }
            for inbox in sorted(set(inboxes))
        ]
        inserted = 0
        async with self.db.atomic():
            for start in range(0, len(rows), ENQUEUE_BATCH):
                statement = (
                    dialect.insert_ignore(self.db.dialect, deliveries, QUEUE_KEY)
                    .values(rows[start : start + ENQUEUE_BATCH])
                    .returning(deliveries.c.id)
                )
                inserted += len(await self.db.write_returning(statement))
        return inserted

    async def claim_due_deliveries(
        self, now: float, lease_seconds: float, limit: int
    ) -> list[Delivery]:
        """Lease up to `limit` due deliveries so no other worker sends them meanwhile.

        Only the oldest queued delivery of each inbox may go, and only when it is due
        and not in flight: a later activity never overtakes an earlier one that is
        waiting to be retried, so a Follow and its Undo (or a Create and its Update)
        reach a server in the order they were made.
        """
        heads = _queue_heads()
        d = deliveries.alias("d")
        chosen = (
            select(d.c.id)
            .join(heads, d.c.id == heads.c.head)
            .where(d.c.next_attempt_at <= now, d.c.lease_until <= now)
            .order_by(d.c.id)
            .limit(limit)
        )
        # The due/lease conditions are repeated on the updated row itself: PostgreSQL
        # rechecks them after locking it, so two concurrent claimers never both win.
        statement = (
            update(deliveries)
            .where(
                deliveries.c.id.in_(chosen),
                deliveries.c.state == "queued",
                deliveries.c.next_attempt_at <= now,
                deliveries.c.lease_until <= now,
            )
            .values(lease_until=now + lease_seconds)
            .returning(*deliveries.c)
        )
        rows = await self.db.write_returning(statement)
        return sorted(records(Delivery, rows), key=lambda delivery: delivery.id)

    async def settle_deliveries(self, outcomes: Sequence[Settled]) -> None:
        """Write what became of several attempts, in one transaction: a worker settles
        its deliveries in groups (one commit each would serialise them on SQLite)."""
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for outcome in outcomes:
            by_kind.setdefault(outcome.kind, []).append(outcome.values())
        async with self.db.atomic():
            for kind, rows in by_kind.items():
                await self.db.write(_SETTLE[kind], rows)

    async def release_deliveries(self, delivery_ids: list[int]) -> None:
        """Give leased deliveries back (a worker stopping): due again at once."""
        if delivery_ids:
            await self.db.write(
                update(deliveries)
                .where(deliveries.c.id.in_(delivery_ids), deliveries.c.state == "queued")
                .values(lease_until=0)
            )

    async def get_delivery(self, delivery_id: int) -> Delivery | None:
        row = await self.db.one(select(deliveries).where(deliveries.c.id == delivery_id))
        return record(Delivery, row)

    async def deliveries_for(self, activity_uri: str) -> list[Delivery]:
        """The deliveries of one activity, by inbox."""
        rows = await self.db.all(
            select(deliveries)
            .where(deliveries.c.activity_uri == activity_uri)
            .order_by(deliveries.c.inbox_url)
        )
        return records(Delivery, rows)

    async def next_delivery_due(self) -> float | None:
        """When the next delivery may be claimed: the earliest time any inbox's oldest
        queued delivery is due and out of its lease (later ones wait behind it)."""
        heads = _queue_heads()
        d = deliveries.alias("d")
        statement = select(
            func.min(dialect.greater(d.c.next_attempt_at, d.c.lease_until)).label("t")
        ).select_from(d.join(heads, d.c.id == heads.c.head))
        return await self.db.scalar(statement)
