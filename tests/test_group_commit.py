"""The group commit of queued jobs (services/jobs.py Jobs.enqueue): every enqueue returns
once its job is committed, whether it comes alone, right after another, or with many."""

from __future__ import annotations

import asyncio

import pytest

from fedchirp.services.jobs import PARALLEL_COMMITS, Jobs

# Run on SQLite and on PostgreSQL (see tests/conftest.py).
pytestmark = pytest.mark.backends


async def test_a_job_queued_as_soon_as_the_last_commit_returned_is_committed(make_store) -> None:
    # The caller wakes before the finished flusher's done callback has run: a flusher
    # still counted then, but done, must not keep the next job from being written.
    store = await make_store()
    jobs = Jobs(store)
    for number in range(5):
        async with asyncio.timeout(10):
            await jobs.enqueue("test", f"k{number}", {"n": number})
    assert await store.count_jobs() == 5


async def test_many_jobs_queued_at_once_are_each_committed_once(make_store) -> None:
    store = await make_store()
    jobs = Jobs(store)
    queued = [
        asyncio.create_task(jobs.enqueue("test", f"k{n % 150}", {"n": n}))  # 50 repeat a key
        for n in range(200)
    ]
    await asyncio.sleep(0)  # each has queued its row and started a flusher if one was free
    expected = 1 if store.db.dialect == "sqlite" else PARALLEL_COMMITS
    assert len(jobs._flushers) == expected
    async with asyncio.timeout(30):
        await asyncio.gather(*queued)
    assert await store.count_jobs() == 150
    assert not jobs._flushers
