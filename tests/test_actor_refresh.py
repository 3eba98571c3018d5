"""A stale cached actor is served at once and refreshed by a job (services/refreshes.py).

The remote actor lives on a stub server on 127.0.0.1, fetched over real HTTP with real
signatures. Instances run without background workers, so the test runs the job
runner itself (Jobs.drain) and sees the cache before and after the refresh.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import update

from fedchirp.localnet import LocalInstance
from fedchirp.services import refreshes
from fedchirp.store.models import Account
from fedchirp.store.schema import accounts

pytestmark = pytest.mark.backends

REFRESH = refreshes.ACTOR_REFRESH_QUEUE


async def _known_then_stale(start, remote) -> tuple[LocalInstance, str]:
    """An instance that fetched zed (named "Zed") once, whose record has since gone stale,
    while zed renamed themselves "Zed Renamed" on their server."""
    a = await start("a", run_workers=False)
    zed = remote.add_actor("zed")
    remote.actors["zed"]["name"] = "Zed"
    assert (await a.ctx.resolver.actor(zed)).display_name == "Zed"  # unknown: fetched now
    await a.ctx.store.db.write(update(accounts).where(accounts.c.uri == zed).values(fetched_at=0))
    remote.actors["zed"]["name"] = "Zed Renamed"
    return a, zed


def _fetches(remote) -> int:
    return sum(1 for f in remote.fetches if f.path_qs == "/users/zed")


async def _cached(instance: LocalInstance, uri: str) -> Account:
    account = await instance.ctx.store.get_account_by_uri(uri)
    assert account is not None
    return account


async def test_a_stale_actor_is_served_from_cache_and_refreshed_by_a_job(start, remote):
    a, zed = await _known_then_stale(start, remote)
    fetched = _fetches(remote)

    for _ in range(2):  # read twice: one refresh job
        served = await a.ctx.resolver.actor(zed)
        assert served.display_name == "Zed"
    assert _fetches(remote) == fetched  # nothing fetched while the reader waited
    await refreshes.queue_actor_refresh(a.ctx, zed)  # asked again (another process, say)
    job = await a.ctx.store.find_job(REFRESH, zed)
    assert job is not None and job.state == "queued"
    assert await a.ctx.store.count_jobs() == 1

    await a.ctx.jobs.drain()
    assert _fetches(remote) == fetched + 1
    refreshed = await _cached(a, zed)
    assert refreshed.display_name == "Zed Renamed"
    assert refreshed.fetched_at is not None and refreshed.fetched_at > time.time() - 60
    assert await a.ctx.store.count_jobs() == 0
    assert (await a.ctx.resolver.actor(zed)).display_name == "Zed Renamed"
    assert await a.ctx.store.count_jobs() == 0  # fresh now: nothing more to queue


async def test_unknown_actors_and_asked_refreshes_are_fetched_at_once(start, remote):
    a, zed = await _known_then_stale(start, remote)
    assert (await a.ctx.resolver.actor(zed, refresh=True)).display_name == "Zed Renamed"
    yan = remote.add_actor("yan")
    assert (await a.ctx.resolver.actor(yan)).uri == yan
    assert await a.ctx.store.count_jobs() == 0


async def test_a_refresh_that_cannot_reach_the_server_is_retried(start, remote):
    a, zed = await _known_then_stale(start, remote)
    await a.ctx.resolver.actor(zed)
    port = int(remote.base.rsplit(":", 1)[1])
    await remote.stop()  # the server is away for a while

    await a.ctx.jobs.drain()
    job = await a.ctx.store.find_job(REFRESH, zed)
    assert job is not None and (job.state, job.attempts) == ("queued", 1)
    assert job.last_error and job.run_at > time.time()
    assert (await _cached(a, zed)).display_name == "Zed"

    await remote.start(port)  # back
    a.ctx.jobs.clock = lambda: job.run_at
    await a.ctx.jobs.drain()
    assert (await _cached(a, zed)).display_name == "Zed Renamed"
    assert await a.ctx.store.count_jobs() == 0


async def test_a_refresh_out_of_attempts_is_dropped_not_kept_dead(start, remote):
    """A dead job would keep the actor's key, and no later refresh could be queued."""
    a, zed = await _known_then_stale(start, remote)
    await remote.stop()
    await a.ctx.resolver.actor(zed)
    for _ in range(refreshes.ACTOR_REFRESH_RETRY.attempts):
        job = await a.ctx.store.find_job(REFRESH, zed)
        assert job is not None and job.state == "queued"
        a.ctx.jobs.clock = lambda due=job.run_at: due
        await a.ctx.jobs.drain()
    assert await a.ctx.store.count_jobs() == 0
    await refreshes.queue_actor_refresh(a.ctx, zed)
    assert await a.ctx.store.find_job(REFRESH, zed) is not None


async def test_a_refresh_the_server_refuses_ends_and_keeps_the_record(start, remote):
    a, zed = await _known_then_stale(start, remote)
    await a.ctx.resolver.actor(zed)
    del remote.documents["/users/zed"]  # 404: not coming back
    await a.ctx.jobs.drain()
    assert await a.ctx.store.count_jobs() == 0  # not retried, not dead
    assert (await _cached(a, zed)).display_name == "Zed"
