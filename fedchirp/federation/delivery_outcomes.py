"""What a delivery attempt is and what became of it (federation/delivery.py runs them)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from fedchirp.store import Store
from fedchirp.store.jobs import JobOutcome
from fedchirp.store.models import Job, OutboundActivity
from fedchirp.store.outbound import delivery_activity_id

RETRYABLE_CLIENT_ERRORS = frozenset({401, 408, 429})
ACTIVITY_CACHE = 256  # outbound activities kept in memory (their bodies never change)


def is_final_failure(status: int) -> bool:
    """4xx but 401/408/429 will not get better by retrying; nor will 501 (Mastodon agrees)."""
    return status == 501 or (400 <= status < 500 and status not in RETRYABLE_CLIENT_ERRORS)


@dataclass(frozen=True)
class Delivery:
    """A claimed delivery job with its activity. job.attempts counts this attempt."""

    job: Job
    activity: OutboundActivity
    body: bytes

    @property
    def inbox_url(self) -> str:
        assert self.job.lane is not None
        return self.job.lane

    @property
    def activity_type(self) -> str:
        return self.activity.activity_type


@dataclass(frozen=True)
class Settled:
    """What became of one attempt: "delivered" or "failed" (final), "retry" (an attempt
    counted, tried again at run_at), "postponed" (not tried: its host is resting; nothing
    counted) or "dropped" (not tried and failed for good: its host is unavailable)."""

    delivery: Delivery
    kind: str
    error: str | None = None
    run_at: float = 0.0

    def outcome(self) -> JobOutcome:
        kind = {"delivered": "done", "failed": "dead"}.get(self.kind, self.kind)
        return JobOutcome(self.delivery.job.id, kind, self.run_at, self.error)


def finished_by_activity(batch: Sequence[Settled]) -> dict[int, tuple[int, int]]:
    """(delivered, failed) of the final outcomes, by activity."""
    delivered = Counter(o.delivery.activity.id for o in batch if o.kind == "delivered")
    failed = Counter(o.delivery.activity.id for o in batch if o.kind in ("failed", "dropped"))
    return {key: (delivered[key], failed[key]) for key in delivered.keys() | failed.keys()}


class ActivityCache:
    """Outbound activities by id, read once per process for the jobs that name them
    (a fan-out's thousands of jobs name one), the oldest dropped first."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._found: dict[int, tuple[OutboundActivity, bytes]] = {}

    async def pair(self, jobs: list[Job]) -> tuple[list[Delivery], list[JobOutcome]]:
        """The claimed jobs with their activities, and the outcomes of those whose
        activity is gone (deleted with its signer's account: nothing left to send)."""
        ids = {job.id: delivery_activity_id(job.payload) for job in jobs}
        missing = set(ids.values()) - self._found.keys()
        for found in (await self.store.outbound_activities_by_id(missing)).values():
            self._found[found.id] = (found, found.body.encode("utf-8"))
            while len(self._found) > ACTIVITY_CACHE:
                del self._found[next(iter(self._found))]
        deliveries, orphans = [], []
        for job in jobs:
            cached = self._found.get(ids[job.id])
            if cached is None:
                orphans.append(JobOutcome(job.id, "dropped", error="activity deleted"))
            else:
                deliveries.append(Delivery(job, *cached))
        return deliveries, orphans
