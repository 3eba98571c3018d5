"""Stopping workers: a cancelled worker loop must end, however the cancellation falls.

On Python 3.11, asyncio.wait_for loses a cancellation that arrives just as the awaited
thing completes; a worker waiting for its wake-up that way went on looping, and the
instance's shutdown hung (seen in CI as a test that never finished its teardown)."""

from __future__ import annotations

import asyncio

import pytest

from fedchirp.clock import wait_at_most
from fedchirp.services.jobs import Jobs


async def test_wait_at_most_gives_the_result_or_none():
    assert await wait_at_most(1, asyncio.sleep(0, result="done")) == "done"
    assert await wait_at_most(0.01, asyncio.Event().wait()) is None


async def test_a_cancellation_as_the_wait_ends_is_kept():
    event = asyncio.Event()

    async def worker_loop() -> None:
        while True:
            await wait_at_most(10, event.wait())
            event.clear()

    task = asyncio.create_task(worker_loop())
    await asyncio.sleep(0.01)  # it waits for its wake-up
    event.set()
    task.cancel()  # in the same instant: the wait ends as the cancellation comes
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 2)


async def test_the_job_runner_stops_when_cancelled_as_it_is_woken(make_store):
    store = await make_store()
    jobs = Jobs(store, poll_seconds=10)
    runner = asyncio.create_task(jobs.run_forever())
    await asyncio.sleep(0.2)  # idle: nothing queued, it waits to be woken
    jobs._wake.set()  # as a commit that queued a job does
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(runner, 5)
