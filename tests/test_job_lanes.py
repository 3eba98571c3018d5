"""Lanes: the jobs of one lane run one at a time, in order, leased a batch at a time."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from fedchirp.services.jobs import LANE_BATCH, LANE_EXTENSIONS, Jobs, Retry

# Run on SQLite and on PostgreSQL (see tests/conftest.py).
pytestmark = pytest.mark.backends

QUICK_RETRY = Retry(base_seconds=0.0, max_seconds=0.0, attempts=3)


class Recorder:
    """A handler that records the order it ran jobs in, failing the first run of some."""

    def __init__(self, fail_once: set[int] = frozenset()) -> None:  # type: ignore[assignment]
        self.ran: list[int] = []
        self.fail_once = set(fail_once)
        self.running = 0
        self.most_at_once = 0

    async def __call__(self, payload: dict[str, Any]) -> None:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await asyncio.sleep(0)  # let anything else that could run, run
            number = payload["n"]
            if number in self.fail_once:
                self.fail_once.discard(number)
                raise RuntimeError(f"job {number} fails once")
            self.ran.append(number)
        finally:
            self.running -= 1


async def _queue(jobs: Jobs, lane: str | None, numbers: range) -> None:
    for number in numbers:
        await jobs.enqueue("test", f"{lane}-{number}", {"n": number}, lane=lane)


async def test_a_lane_runs_in_order_behind_a_job_being_retried(make_store) -> None:
    store = await make_store()
    jobs = Jobs(store, concurrency=8)
    recorder = Recorder(fail_once={3})
    jobs.register("test", recorder, QUICK_RETRY)
    await _queue(jobs, "sender", range(8))
    await jobs.drain()
    assert recorder.ran == [0, 1, 2, 3, 4, 5, 6, 7]  # 4.. waited for 3's retry
    assert recorder.most_at_once == 1
    assert await store.count_jobs() == 0


async def test_one_claim_leases_a_batch_of_a_lane(make_store) -> None:
    store = await make_store()
    jobs = Jobs(store, concurrency=1)
    jobs.register("test", Recorder(), QUICK_RETRY)
    await _queue(jobs, "sender", range(LANE_BATCH + 4))
    [head] = await store.claim_jobs(["test"], time.time(), 60, 1)
    followers = await store.claim_lane_followers("sender", head.id, time.time(), 60, 100)
    # Everything behind the head, in order; nothing else of the lane may be claimed now.
    assert [job.id for job in followers] == sorted(job.id for job in followers)
    assert len(followers) == LANE_BATCH + 3
    assert await store.claim_jobs(["test"], time.time(), 60, 10) == []


async def test_followers_stop_at_a_job_not_due_yet(make_store) -> None:
    store = await make_store()
    jobs = Jobs(store)
    jobs.register("test", Recorder(), QUICK_RETRY)
    await _queue(jobs, "sender", range(2))
    await jobs.enqueue("test", "later", {"n": 2}, lane="sender", run_at=time.time() + 3600)
    await _queue(jobs, "sender", range(3, 5))
    [head] = await store.claim_jobs(["test"], time.time(), 60, 1)
    followers = await store.claim_lane_followers("sender", head.id, time.time(), 60, 100)
    assert len(followers) == 1  # job 1; job 2 is not due, so 3 and 4 wait behind it


async def test_lanes_of_different_senders_run_side_by_side(make_store) -> None:
    store = await make_store()
    jobs = Jobs(store, concurrency=8)
    recorder = Recorder()
    jobs.register("test", recorder, QUICK_RETRY)
    for lane in ("a", "b", "c"):
        await _queue(jobs, lane, range(4))
    await jobs.run_due()
    assert len(jobs._running) == 3  # one batch per lane
    await jobs.drain()
    assert sorted(recorder.ran) == sorted([0, 1, 2, 3] * 3)


async def test_a_stopped_worker_gives_back_the_batch_it_held(make_store) -> None:
    store = await make_store()
    jobs = Jobs(store, concurrency=1)
    started = asyncio.Event()

    async def hang(_payload: dict[str, Any]) -> None:
        started.set()
        await asyncio.Event().wait()

    jobs.register("test", hang, QUICK_RETRY)
    await _queue(jobs, "sender", range(5))
    worker = asyncio.create_task(jobs.run_forever())
    await asyncio.wait_for(started.wait(), 10)
    assert await store.count_jobs("running") == 5
    worker.cancel()
    await asyncio.gather(worker, return_exceptions=True)
    assert await store.count_jobs("queued") == 5


async def test_the_worker_loop_runs_a_lanes_burst_with_one_claim(make_store) -> None:
    # A full batch takes the lane's next jobs before its last one is settled, so a burst
    # of up to LANE_BATCH * (1 + LANE_EXTENSIONS) jobs needs one general claim; and the
    # loop never sleeps a poll between batches.
    store = await make_store()
    jobs = Jobs(store, poll_seconds=60)
    recorder = Recorder(fail_once={LANE_BATCH + 5})  # fails in the first extension
    jobs.register("test", recorder, QUICK_RETRY)
    count = LANE_BATCH * (1 + LANE_EXTENSIONS)
    await _queue(jobs, "sender", range(count))
    claim_jobs, claims = store.claim_jobs, []

    async def counted_claim(*args: Any) -> Any:
        claimed = await claim_jobs(*args)
        claims.extend([len(claimed)] if claimed else [])
        return claimed

    store.claim_jobs = counted_claim  # type: ignore[method-assign]
    worker = asyncio.create_task(jobs.run_forever())
    try:
        async with asyncio.timeout(20):
            # Until settled too: stopped between the last handler and its finish, the
            # worker would give that job back (queued again).
            while len(recorder.ran) < count or await store.count_jobs():
                await asyncio.sleep(0.01)
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
    assert recorder.ran == list(range(count))
    assert claims == [1, 1]  # the first, and the job that failed once, after its retry
    assert await store.count_jobs() == 0
