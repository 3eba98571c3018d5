"""The jobs loop's waiting: Jobs.drain (tests and the demo) returns only when nothing due
is left, also while the worker loop has a claim under way (leased, not yet running) or
made one while drain looked; and a signal from another process (Jobs.wake) wakes an idle
loop at once, a busy one within BUSY_WAKE_SECONDS."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fedchirp.services.jobs import BUSY_WAKE_SECONDS, Jobs

# Run on SQLite and on PostgreSQL (see tests/conftest.py).
pytestmark = pytest.mark.backends


async def test_drain_waits_for_a_claim_the_worker_loop_has_under_way(make_store) -> None:
    store = await make_store()
    jobs = Jobs(store)
    ran: list[int] = []

    async def handler(payload: dict[str, Any]) -> None:
        ran.append(payload["n"])

    jobs.register("test", handler)
    claim_jobs, holding, release = store.claim_jobs, asyncio.Event(), asyncio.Event()

    async def held_claim(*args: Any) -> Any:
        claimed = await claim_jobs(*args)
        if claimed:  # the worker loop's: leased, and held before it starts them
            holding.set()
            await release.wait()
        return claimed

    store.claim_jobs = held_claim  # type: ignore[method-assign]
    await jobs.enqueue("test", "k", {"n": 1})
    worker = asyncio.create_task(jobs.run_forever())
    try:
        async with asyncio.timeout(10):
            await holding.wait()
            draining = asyncio.create_task(jobs.drain())
            await asyncio.sleep(0.1)
            assert not draining.done()  # the job is leased, not done
            release.set()
            await draining
        assert ran == [1]
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)


async def test_drain_waits_for_jobs_the_worker_loop_started_while_it_looked(make_store) -> None:
    """The worker loop's claim can begin and end while drain asks when work is next due:
    drain must see the jobs now running, not only the queue's (leased) next due time."""
    store = await make_store()
    now = [1_000_000.0]
    jobs = Jobs(store, clock=lambda: now[0])
    finish, ran = asyncio.Event(), []

    async def handler(payload: dict[str, Any]) -> None:
        await finish.wait()
        ran.append(payload["n"])

    jobs.register("test", handler)
    await jobs.enqueue("test", "k", {"n": 1}, run_at=now[0] + 1)  # not due at drain's claim
    next_job_due = store.next_job_due

    async def worker_claims_meanwhile(queues: Any) -> Any:
        now[0] += 2  # due now: the worker loop claims and starts it
        assert await jobs.run_due() == 1
        return await next_job_due(queues)  # the leased job's: after its lease

    store.next_job_due = worker_claims_meanwhile  # type: ignore[method-assign]
    draining = asyncio.create_task(jobs.drain())
    await asyncio.sleep(0.2)
    assert not draining.done()  # the job is running
    store.next_job_due = next_job_due  # type: ignore[method-assign]
    finish.set()
    async with asyncio.timeout(10):
        await draining
    assert ran == [1]


async def test_a_signal_wakes_an_idle_loop_at_once_and_a_busy_one_soon(make_store) -> None:
    jobs = Jobs(await make_store())
    jobs.wake()
    assert jobs._wake.is_set()
    jobs._wake.clear()
    running = asyncio.create_task(asyncio.sleep(10))
    jobs._running[1] = running  # busy: each claim looks at every lane, so not per signal
    try:
        for _ in range(10):
            jobs.wake()
        assert not jobs._wake.is_set()
        await asyncio.sleep(BUSY_WAKE_SECONDS + 0.1)
        assert jobs._wake.is_set()
    finally:
        running.cancel()
