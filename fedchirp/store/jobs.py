"""Durable jobs: queued, claimed under a lease, finished (deleted), retried or dead.

A claim takes due jobs and those whose lease ran out (their worker died), and
marks them running under a new lease, in one statement. On PostgreSQL the jobs
are chosen FOR UPDATE SKIP LOCKED, so workers in any number of processes claim
different jobs without waiting on each other; on SQLite the single writer makes
claims take turns anyway (SQLAlchemy leaves the clause out there).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, exists, func, or_, select, update

from fedchirp.clock import now_iso
from fedchirp.store.db import Database, Queries
from fedchirp.store.dialect import insert_ignore
from fedchirp.store.models import Job
from fedchirp.store.query import record, records
from fedchirp.store.schema import jobs


@functools.cache
def _enqueue_statement(dialect: str) -> Any:
    """Built once: the edge queues a batch per group commit, and building the statement
    (and its cache key) each time cost more than running it."""
    return insert_ignore(dialect, jobs, ["queue", "key"]).inline()  # no RETURNING id


def _due(run_at: float | None, now: float) -> float:
    return now if run_at is None else run_at


async def insert_jobs(db: Database, rows: Sequence[dict[str, Any]], now: float) -> None:
    """Queue jobs (queue, key, lane, payload, and run_at: due now when left out or
    None); one whose (queue, key) is queued already is dropped."""
    created = now_iso()
    # Every row carries the same keys: the cached statement runs as one executemany.
    values = [
        {"lane": None, **row, "run_at": _due(row.get("run_at"), now), "created_at": created}
        for row in rows
    ]
    await db.write_batch(_enqueue_statement(db.dialect), values)


def _first_in_lane() -> Any:
    """No job before it in its lane but dead ones (an index probe on jobs_lane)."""
    earlier = jobs.alias("earlier")
    first_in_lane = ~exists().where(
        earlier.c.lane == jobs.c.lane, earlier.c.id < jobs.c.id, earlier.c.state != "dead"
    )
    return or_(jobs.c.lane.is_(None), first_in_lane)


def _claimable() -> Any:
    """Due (or its worker's lease ran out), and first in its lane: the activities of one
    sender are applied in the order they came, so an Undo never overtakes its Follow,
    and a later delivery to an inbox never overtakes an earlier one waiting to retry."""
    now = bindparam("now")
    due = or_(
        and_(jobs.c.state == "queued", jobs.c.run_at <= now),
        and_(jobs.c.state == "running", jobs.c.lease_until <= now),
    )
    return and_(due, _first_in_lane())


@dataclass(frozen=True)
class JobOutcome:
    """What became of one claimed job, settled with others in one transaction: "done"
    (deleted), "retry" (queued again at run_at, the attempt counted), "postponed" (queued
    again at run_at, the attempt not counted), "dead" (kept for an admin to see) or
    "dropped" (dead without being tried: the attempt not counted)."""

    job_id: int
    kind: str
    run_at: float = 0.0
    error: str | None = None

    def params(self) -> dict[str, Any]:
        values: dict[str, Any] = {"job_id": self.job_id}
        if self.kind in ("retry", "postponed"):
            values["new_run_at"] = self.run_at
        if self.kind in ("retry", "dead", "dropped"):
            values["new_error"] = self.error
        if self.kind in ("dead", "dropped"):
            values["new_finished_at"] = now_iso()
        return values


def _settle_statements() -> dict[str, Any]:
    """Built once, each run as an executemany. (A bind parameter in an UPDATE may not
    share a column's name.)"""
    one = jobs.c.id == bindparam("job_id")
    queued_again = {"state": "queued", "run_at": bindparam("new_run_at"), "lease_until": 0}
    dead = {
        "state": "dead",
        "lease_until": 0,
        "last_error": bindparam("new_error"),
        "finished_at": bindparam("new_finished_at"),
    }
    return {
        "done": delete(jobs).where(one),
        "retry": update(jobs).where(one).values(last_error=bindparam("new_error"), **queued_again),
        "postponed": update(jobs).where(one).values(attempts=jobs.c.attempts - 1, **queued_again),
        "dead": update(jobs).where(one).values(**dead),
        "dropped": update(jobs).where(one).values(attempts=jobs.c.attempts - 1, **dead),
    }


_SETTLE = _settle_statements()
_FINISH = delete(jobs).where(jobs.c.id == bindparam("job_id"))


@functools.lru_cache(maxsize=16)
def _claim_statement(queues: tuple[str, ...]) -> Any:
    """Built once per set of queues, with parameters now, lease_until and limit: a
    worker claims all the time, and building this statement cost more than running it."""
    # Chosen once, in a CTE PostgreSQL must materialise: as a plain IN (subquery) the
    # planner may run the subquery again for each row, and with SKIP LOCKED each run
    # picks other rows, so one claim took more jobs than its limit.
    chosen = (
        select(jobs.c.id)
        .where(jobs.c.queue.in_(queues), _claimable())
        .order_by(jobs.c.id)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True)
        .cte("chosen")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    return (
        update(jobs)
        .where(jobs.c.id.in_(select(chosen.c.id)), _claimable())
        .values(
            state="running", lease_until=bindparam("lease_until"), attempts=jobs.c.attempts + 1
        )
        .returning(jobs)
    )


@functools.cache
def _lane_followers_statement() -> Any:
    """The jobs right behind one a worker holds in its lane, in order, up to the first
    that may not run yet (one waiting for a retry): the worker runs them one after
    another, so a sender's burst costs a claim per batch instead of one per activity.
    No other worker can hold them: none of them is first in its lane. Only the next
    `limit` of the lane are looked at: the blocker among the whole rest of a long
    backlog made each batch's claim as slow as the backlog was long."""
    # (A bind parameter in an UPDATE may not share a column's name: "in_lane".)
    now, lane, after = bindparam("now"), bindparam("in_lane"), bindparam("after")
    following = (
        select(jobs.c.id, jobs.c.state, jobs.c.run_at)
        .where(jobs.c.lane == lane, jobs.c.id > after, jobs.c.state != "dead")
        .order_by(jobs.c.id)
        .limit(bindparam("limit"))
        .cte("next_in_lane")
    )
    runnable = and_(following.c.state == "queued", following.c.run_at <= now)
    first_blocked = select(func.min(following.c.id)).where(~runnable).scalar_subquery()
    chosen = select(following.c.id).where(following.c.id < func.coalesce(first_blocked, 2**62))
    return (
        update(jobs)
        .where(jobs.c.id.in_(chosen), jobs.c.state == "queued")
        .values(
            state="running", lease_until=bindparam("lease_until"), attempts=jobs.c.attempts + 1
        )
        .returning(jobs)
    )


@functools.lru_cache(maxsize=16)
def _next_due_statement(queues: tuple[str, ...]) -> Any:
    """Over the first job of each lane only: one behind a job waiting for its retry is
    not due, however early its own run_at."""
    due = func.min(case((jobs.c.state == "running", jobs.c.lease_until), else_=jobs.c.run_at))
    return select(due).where(jobs.c.queue.in_(queues), jobs.c.state != "dead", _first_in_lane())


class JobQueries(Queries):
    async def enqueue_jobs(self, rows: Sequence[dict[str, Any]], now: float) -> None:
        """Queue jobs (see insert_jobs)."""
        await insert_jobs(self.db, rows, now)

    async def delete_job(self, queue: str, key: str) -> None:
        """Take a queued or dead job out. One being run is left to its worker: SQLite
        gives a deleted newest row's id to the next insert, and the worker's finish
        (by id) would then delete that other job."""
        await self.db.write(
            delete(jobs).where(jobs.c.queue == queue, jobs.c.key == key, jobs.c.state != "running")
        )

    async def claim_jobs(
        self, queues: Sequence[str], now: float, lease_seconds: float, limit: int
    ) -> list[Job]:
        """Lease up to `limit` due jobs of these queues (oldest first) to this worker."""
        params = {"now": now, "lease_until": now + lease_seconds, "limit": limit}
        with self.db.on_thread():  # it looks at every due job's lane
            rows = await self.db.write_returning(_claim_statement(tuple(queues)), params)
        return sorted(records(Job, rows), key=lambda job: job.id)

    async def claim_lane_followers(
        self, lane: str, after_id: int, now: float, lease_seconds: float, limit: int
    ) -> list[Job]:
        """Lease the next `limit` jobs of a lane behind the one held (after_id), in order."""
        params = {
            "in_lane": lane,
            "after": after_id,
            "now": now,
            "lease_until": now + lease_seconds,
            "limit": limit,
        }
        with self.db.on_thread():
            rows = await self.db.write_returning(_lane_followers_statement(), params)
        return sorted(records(Job, rows), key=lambda job: job.id)

    async def finish_job(self, job_id: int) -> None:
        await self.db.write(_FINISH, [{"job_id": job_id}])

    async def retry_job(self, job_id: int, run_at: float, error: str) -> None:
        await self.db.write(
            update(jobs)
            .where(jobs.c.id == job_id)
            .values(state="queued", run_at=run_at, lease_until=0, last_error=error)
        )

    async def bury_job(self, job_id: int, error: str) -> None:
        """The job's last attempt failed: keep it, dead, for an admin to see."""
        await self.db.write(
            update(jobs)
            .where(jobs.c.id == job_id)
            .values(state="dead", lease_until=0, last_error=error, finished_at=now_iso())
        )

    async def settle_jobs(self, outcomes: Sequence[JobOutcome]) -> None:
        """Write what became of several jobs in one transaction, one executemany per kind:
        a worker running many short jobs (deliveries) settles them in groups."""
        if not outcomes:
            return
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for outcome in outcomes:
            by_kind.setdefault(outcome.kind, []).append(outcome.params())
        async with self.db.atomic():
            for kind, rows in by_kind.items():
                await self.db.write(_SETTLE[kind], rows)

    async def release_jobs(self, job_ids: Sequence[int]) -> None:
        """Give claimed jobs back (a worker stopping): queued again, due now, the attempt
        not counted."""
        if job_ids:
            await self.db.write(
                update(jobs)
                .where(jobs.c.id.in_(list(job_ids)), jobs.c.state == "running")
                .values(state="queued", lease_until=0, attempts=jobs.c.attempts - 1)
            )

    async def next_job_due(self, queues: Sequence[str]) -> float | None:
        """When the next job of these queues may be claimed."""
        return await self.db.scalar(_next_due_statement(tuple(queues)))

    async def find_job(self, queue: str, key: str) -> Job | None:
        row = await self.db.one(select(jobs).where(jobs.c.queue == queue, jobs.c.key == key))
        return record(Job, row)

    async def dead_jobs(self, limit: int = 100) -> list[Job]:
        rows = await self.db.all(
            select(jobs).where(jobs.c.state == "dead").order_by(jobs.c.id.desc()).limit(limit)
        )
        return records(Job, rows)

    async def count_jobs(self, state: str | None = None) -> int:
        statement = select(func.count()).select_from(jobs)
        if state is not None:
            statement = statement.where(jobs.c.state == state)
        return await self.db.scalar(statement) or 0
