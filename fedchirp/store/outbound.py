"""Outbound activities and their deliveries, which are jobs of the "deliver" queue.

An activity is stored once (store/outbound_tables.py); each inbox gets a job in the
inbox's lane (a later activity never overtakes an earlier one to the same inbox),
keyed "<activity id>:<inbox>", whose payload names the activity. Claiming, leases,
retries, dead jobs and giving work back are the jobs' own (store/jobs.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import bindparam, select, update

from fedchirp.clock import now_iso
from fedchirp.store.db import Database, Queries
from fedchirp.store.dialect import insert_ignore
from fedchirp.store.jobs import insert_jobs
from fedchirp.store.models import Job, OutboundActivity, OutboundDelivery
from fedchirp.store.query import records
from fedchirp.store.schema import jobs, outbound_activities

DELIVER = "deliver"  # the job queue of deliveries

_oa = outbound_activities


def delivery_key(activity_id: int, inbox: str) -> str:
    return f"{activity_id}:{inbox}"


def delivery_activity_id(payload: str) -> int:
    """The outbound activity a delivery job's payload names."""
    return int(json.loads(payload)["activity"])


def _inbox_list(inboxes: str) -> list[str]:
    return inboxes.split("\n") if inboxes else []


_COUNT_OUTCOMES = (
    update(_oa)
    .where(_oa.c.id == bindparam("activity_id"))
    .values(
        delivered=_oa.c.delivered + bindparam("more_delivered"),
        failed=_oa.c.failed + bindparam("more_failed"),
    )
)


async def add_outcomes(db: Database, counts: Mapping[int, tuple[int, int]]) -> None:
    """Add (delivered, failed) to each activity's counts: finished jobs are deleted,
    these stay for the author's analytics."""
    await db.write(
        _COUNT_OUTCOMES,
        [
            {"activity_id": activity_id, "more_delivered": delivered, "more_failed": failed}
            for activity_id, (delivered, failed) in sorted(counts.items())
        ],
    )


async def _add_inboxes(
    db: Database, activity_uri: str, inboxes: list[str]
) -> tuple[int, list[str]]:
    """Add inboxes to a stored activity's; its id and those it did not have yet. The row
    is locked (PostgreSQL) so two units adding to one activity take turns."""
    found = await db.one(
        select(_oa.c.id, _oa.c.inboxes).where(_oa.c.activity_uri == activity_uri).with_for_update()
    )
    assert found is not None, "a stored activity is never deleted but with its signer"
    known = set(_inbox_list(found["inboxes"]))
    new = sorted(set(inboxes) - known)
    if new:
        every = sorted(known | set(new))
        await db.write(
            update(_oa)
            .where(_oa.c.id == found["id"])
            .values(inboxes="\n".join(every), recipients=len(every))
        )
    return found["id"], new


class OutboundQueries(Queries):
    """Storing outbound activities, queueing their deliveries, reading their outcomes."""

    async def outbound_enqueue(
        self,
        activity: Mapping[str, str],
        body: str,
        signer_id: int,
        inboxes: Iterable[str],
        now: float,
        status_id: int | None = None,
    ) -> int:
        """Store the activity (id, type) once and queue a delivery job for each inbox it
        was never queued for (a repeat is dropped); return how many were queued. Joins
        the caller's unit of work: the post and its deliveries commit together."""
        new = sorted(set(inboxes))
        if not new:
            return 0
        async with self.db.atomic():
            inserted = await self.db.write_returning(
                insert_ignore(self.db.dialect, _oa, ["activity_uri"])
                .values(
                    activity_uri=activity["id"],
                    activity_type=activity["type"],
                    body=body,
                    signer_id=signer_id,
                    status_id=status_id,
                    inboxes="\n".join(new),
                    recipients=len(new),
                    created_at=now_iso(),
                )
                .returning(_oa.c.id)
            )
            if inserted:
                activity_id = inserted[0]["id"]
            else:  # queued before: only the inboxes it never went to
                activity_id, new = await _add_inboxes(self.db, activity["id"], new)
                if not new:
                    return 0
            payload = json.dumps({"activity": activity_id})
            rows = [
                {"queue": DELIVER, "key": delivery_key(activity_id, inbox), "lane": inbox,
                 "payload": payload, "run_at": now}
                for inbox in new
            ]  # fmt: skip
            await insert_jobs(self.db, rows, now)
        return len(new)

    async def outbound_activities_by_id(self, ids: Iterable[int]) -> dict[int, OutboundActivity]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        rows = await self.db.all(select(_oa).where(_oa.c.id.in_(wanted)))
        return {found.id: found for found in records(OutboundActivity, rows)}

    async def outbound_count_outcomes(self, counts: Mapping[int, tuple[int, int]]) -> None:
        """Add (delivered, failed) to each activity's counts (see add_outcomes)."""
        await add_outcomes(self.db, counts)

    async def outbound_inboxes(self, activity_uri: str) -> set[str]:
        """Every inbox the activity was ever queued for."""
        found = await self.db.scalar(
            select(_oa.c.inboxes).where(_oa.c.activity_uri == activity_uri)
        )
        return set(_inbox_list(found or ""))

    async def outbound_deliveries(self, activity_uri: str) -> list[OutboundDelivery]:
        """Each inbox of the activity with what became of it, by inbox (tests, admins)."""
        found = await self.db.one(select(_oa).where(_oa.c.activity_uri == activity_uri))
        if found is None:
            return []
        activity = OutboundActivity(**found)
        low, high = f"{activity.id}:", f"{activity.id};"  # ";" sorts right after ":"
        rows = await self.db.all(
            select(jobs).where(jobs.c.queue == DELIVER, jobs.c.key >= low, jobs.c.key < high)
        )
        by_inbox = {job.lane: job for job in records(Job, rows)}
        return [
            _delivery(activity, inbox, by_inbox.get(inbox))
            for inbox in _inbox_list(activity.inboxes)
        ]


def _delivery(activity: OutboundActivity, inbox: str, job: Job | None) -> OutboundDelivery:
    common: dict[str, Any] = {"activity_type": activity.activity_type, "body": activity.body}
    if job is None:
        return OutboundDelivery(inbox, "delivered", **common)
    return OutboundDelivery(
        inbox,
        "failed" if job.state == "dead" else "queued",
        job_id=job.id,
        attempts=job.attempts,
        run_at=job.run_at,
        lease_until=job.lease_until,
        last_error=job.last_error,
        **common,
    )
