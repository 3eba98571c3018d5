"""Jobs.drain (tests and the demo) returns only when nothing due is left: also when the
worker loop of the same process has a claim under way (leased, not yet running)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fedchirp.services.jobs import Jobs

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
