"""The delivery queue: retries with backoff, Retry-After, final failures, restarts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import httpsig
import pytest

from fedchirp.federation.delivery import is_final_failure
from tests.stubs import RecordingInbox, like_activity

# Run on SQLite and on PostgreSQL (see tests/conftest.py).
pytestmark = pytest.mark.backends

FAST = {"delivery": {"backoff_base_seconds": 10.0, "backoff_max_seconds": 80.0, "max_attempts": 5}}


class Clock:
    """A clock the test moves by hand, so backoff is checked without waiting."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _verifies(request, public_pem: str) -> bool:
    return httpsig.HeaderVerifier(
        headers=request.headers,
        secret=public_pem,
        method="POST",
        path=request.path_qs,
        sign_header="signature",
        required_headers=["(request-target)", "host", "date", "digest"],
    ).verify()


async def _queued(instance, inbox_url: str, n: int = 1) -> str:
    """Queue a Like for one inbox; its id."""
    alice = await instance.ctx.store.find_account("alice", "")
    await instance.ctx.delivery.enqueue(like_activity(alice.uri, n), alice, [inbox_url])
    return like_activity(alice.uri, n)["id"]


async def _row(instance, activity_id: str):
    """The activity's one delivery as its job shows it (gone once delivered)."""
    [row] = await instance.ctx.store.outbound_deliveries(activity_id)
    return row


async def _setup(start, **options):
    instance = await start("a", settings=FAST, run_workers=False, **options)
    await instance.create_user("alice")
    clock = Clock()
    instance.ctx.delivery.clock = clock
    return instance, clock


def test_final_and_retryable_statuses():
    assert [s for s in (400, 403, 404, 410, 422, 501) if not is_final_failure(s)] == []
    assert [s for s in (401, 408, 429, 500, 502, 503) if is_final_failure(s)] == []


async def test_server_error_is_retried_with_doubling_backoff(start, inbox):
    a, clock = await _setup(start)
    inbox.replies.extend([(503, {}), (500, {}), (502, {})])
    uri = await _queued(a, inbox.url)
    queue, store = a.ctx.delivery, a.ctx.store

    expected = [(10.0, 503), (20.0, 500), (40.0, 502)]
    for attempt, (delay, status) in enumerate(expected, start=1):
        assert await queue.run_due() == 1
        row = await _row(a, uri)
        assert (row.state, row.attempts) == ("queued", attempt)
        assert row.last_error.startswith(f"HTTP {status}")
        assert row.run_at == pytest.approx(clock.now + delay)
        assert await queue.run_due() == 0  # not due yet: nothing is sent early
        clock.now = row.run_at
    assert await queue.run_due() == 1
    row = await _row(a, uri)
    assert (row.state, row.job_id) == ("delivered", None)  # its job finished: gone
    assert await store.delivery_stats((await store.find_account("alice", "")).id) == {
        "delivered": 1, "failed": 0, "queued": 0,
    }  # fmt: skip
    assert len(inbox.received) == 4
    # Every attempt carries the same body under a valid signature made when it was sent.
    assert len({r.body for r in inbox.received}) == 1
    alice = await store.find_account("alice", "")
    assert all(_verifies(r, alice.public_key_pem) for r in inbox.received)


async def test_backoff_is_capped(start):
    a, _ = await _setup(start)
    queue = a.ctx.delivery
    assert [queue.backoff_seconds(n, None) for n in range(6)] == [10, 20, 40, 80, 80, 80]


async def test_retry_after_is_honoured(start, inbox):
    a, clock = await _setup(start)
    inbox.replies.append((429, {"Retry-After": "300"}))
    inbox.replies.append((503, {"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}))
    uri = await _queued(a, inbox.url)
    await a.ctx.delivery.run_due()
    row = await _row(a, uri)
    assert row.run_at == pytest.approx(clock.now + 300)  # not the 10 s backoff
    clock.now = row.run_at
    await a.ctx.delivery.run_due()
    row = await _row(a, uri)
    # An HTTP-date far in the future is honoured up to one day.
    assert row.run_at == pytest.approx(clock.now + 86_400)


@pytest.mark.parametrize("status", [400, 403, 404, 410])
async def test_client_errors_are_final(start, inbox, status):
    a, clock = await _setup(start)
    inbox.replies.append((status, {}))
    uri = await _queued(a, inbox.url)
    await a.ctx.delivery.run_due()
    row = await _row(a, uri)
    assert (row.state, row.attempts) == ("failed", 1)
    assert row.last_error.startswith(f"HTTP {status}")
    # A dead job, where admins see the dead jobs (`fedchirp jobs`).
    [dead] = await a.ctx.store.dead_jobs()
    assert (dead.id, dead.queue, dead.lane) == (row.job_id, "deliver", inbox.url)
    clock.now += 10**6
    assert await a.ctx.delivery.run_due() == 0
    assert len(inbox.received) == 1


@pytest.mark.parametrize("status", [401, 408, 429])
async def test_some_client_errors_are_retried(start, inbox, status):
    a, _ = await _setup(start)
    inbox.replies.append((status, {}))
    uri = await _queued(a, inbox.url)
    await a.ctx.delivery.run_due()
    row = await _row(a, uri)
    assert (row.state, row.attempts) == ("queued", 1)
    assert row.last_error.startswith(f"HTTP {status}")


async def test_gives_up_after_max_attempts(start, inbox):
    a, clock = await _setup(start)
    inbox.replies.extend([(500, {})] * 10)
    uri = await _queued(a, inbox.url)
    for _ in range(5):
        clock.now += 1000
        await a.ctx.delivery.run_due()
    row = await _row(a, uri)
    assert (row.state, row.attempts) == ("failed", 5)
    assert [job.id for job in await a.ctx.store.dead_jobs()] == [row.job_id]
    assert "HTTP 500" in row.last_error
    clock.now += 1000
    assert await a.ctx.delivery.run_due() == 0


async def test_unreachable_inbox_is_retried(start):
    a, _ = await _setup(start)
    dead = RecordingInbox()
    await dead.start()
    url = dead.url
    await dead.stop()
    uri = await _queued(a, url)
    await a.ctx.delivery.run_due()
    row = await _row(a, uri)
    assert (row.state, row.attempts) == ("queued", 1)
    assert "failed" in row.last_error


async def test_queue_survives_a_restart(start, tmp_path):
    """A delivery that failed before a restart is delivered after it, from the database."""
    a = await start("a", settings=FAST, run_workers=False)
    await a.create_user("alice")
    target = RecordingInbox()
    await target.start()
    port = int(target.base.rsplit(":", 1)[1])
    await target.stop()  # the remote server is down
    uri = await _queued(a, f"http://127.0.0.1:{port}/inbox")
    await a.ctx.delivery.run_due()
    assert (await _row(a, uri)).attempts == 1
    await a.stop()

    # The remote comes back; our server restarts on the same data directory.
    await target.start(port)
    try:
        again = await start("a", port=a.port, settings=FAST, data_dir=tmp_path / "a")
        later = time.time() + 3600
        again.ctx.delivery.clock = lambda: later
        await again.ctx.delivery.drain()
        row = await _row(again, uri)
        assert (row.state, row.last_error) == ("delivered", None)  # the error says why not
        assert len(target.received) == 1
    finally:
        await target.stop()


async def test_send_interrupted_by_a_crash_is_picked_up_after_its_lease(start, inbox, tmp_path):
    a = await start("a", settings=FAST, run_workers=False)
    await a.create_user("alice")
    uri = await _queued(a, inbox.url)
    # A worker leased the job and died before recording any outcome.
    leased = await a.ctx.store.claim_jobs(["deliver"], time.time(), 60, 10)
    assert [d.id for d in leased] == [(await _row(a, uri)).job_id]
    await a.stop()
    again = await start("a", port=a.port, settings=FAST, data_dir=tmp_path / "a", run_workers=False)
    assert await again.ctx.delivery.run_due() == 0  # still leased
    again.ctx.delivery.clock = lambda: time.time() + 61
    assert await again.ctx.delivery.run_due() == 1
    assert (await _row(again, uri)).state == "delivered"
    assert len(inbox.received) == 1


async def test_drain_waits_for_deliveries_the_worker_loop_started_while_it_looked(start, inbox):
    """The worker loop can claim and start a delivery while drain asks when the next one is
    due; drain must wait for it (it returned with the delivery leased, not yet sent)."""
    a, clock = await _setup(start)
    uri = await _queued(a, inbox.url)
    clock.now -= 1  # not due at drain's own claim
    queue = a.ctx.delivery
    next_due = queue.next_due

    async def worker_claims_meanwhile() -> float | None:
        clock.now += 2
        await queue._refill()  # the worker loop's step: lease, then start sending
        queue._start_backlog()
        return await next_due()  # the leased delivery's: after its lease

    queue.next_due = worker_claims_meanwhile
    await queue.drain()
    assert (await _row(a, uri)).state == "delivered"
    assert len(inbox.received) == 1


async def test_background_worker_delivers_without_being_asked(start, inbox):
    a = await start("a")
    alice = await a.create_user("alice")
    await a.ctx.delivery.enqueue(like_activity(alice.uri), alice, [inbox.url])
    for _ in range(200):
        if inbox.received:
            break
        await asyncio.sleep(0.02)
    assert len(inbox.received) == 1
    request = inbox.received[0]
    assert request.headers["Content-Type"] == "application/activity+json"
    assert json.loads(request.body)["id"] == like_activity(alice.uri)["id"]
    assert _verifies(request, alice.public_key_pem)


async def test_a_later_activity_waits_behind_one_being_retried(start, inbox):
    """Follow fails (503) and is retried later; the Undo made meanwhile must not go first."""
    a, clock = await _setup(start)
    inbox.replies.append((503, {}))
    await _queued(a, inbox.url, 1)
    assert await a.ctx.delivery.run_due() == 1  # attempt 1 of activity 1: 503
    await _queued(a, inbox.url, 2)
    assert await a.ctx.delivery.run_due() == 0  # 2 is due, but 1 is waiting: 2 waits too
    assert await a.ctx.delivery.next_due() > clock.now
    clock.now += 3600
    await a.ctx.delivery.drain()
    order = [json.loads(r.body)["id"].rsplit("-", 1)[1] for r in inbox.received]
    assert order == ["1", "1", "2"]


async def test_one_inbox_gets_activities_in_order(start, inbox):
    """Two activities for one inbox are never sent at once, so a Follow precedes its Undo."""
    a, _ = await _setup(start)
    first = await _row(a, await _queued(a, inbox.url, 1))
    second = await _row(a, await _queued(a, inbox.url, 2))
    assert first.job_id < second.job_id
    assert await a.ctx.delivery.run_due() == 1
    assert await a.ctx.delivery.run_due() == 1
    assert [json.loads(r.body)["id"].rsplit("-", 1)[1] for r in inbox.received] == ["1", "2"]


async def _silent_server() -> tuple[asyncio.base_events.Server, str]:
    """A host that takes connections and never answers: a dead server behind a live
    load balancer, the worst kind for a delivery worker."""

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await reader.read()  # until the client gives up
        writer.close()

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/inbox"


async def test_a_dead_host_does_not_hold_up_live_ones(start, inbox):
    """Deliveries to a host that never answers take only that host's slots: the ones to a
    live host, queued after them, are all delivered while the dead ones still hang."""
    settings = {"delivery": {"timeout_seconds": 20.0, "concurrency": 8, "per_host": 2}}
    a = await start("a", settings=settings)
    alice = await a.create_user("alice")
    silent, dead_url = await _silent_server()
    try:
        dead = [f"{dead_url}?u={n}" for n in range(6)]
        live = [f"{inbox.url}?u={n}" for n in range(20)]
        await a.ctx.delivery.enqueue(like_activity(alice.uri, 1), alice, dead)
        await a.ctx.delivery.enqueue(like_activity(alice.uri, 2), alice, live)
        for _ in range(500):
            if len(inbox.received) == len(live):
                break
            await asyncio.sleep(0.02)
        assert len(inbox.received) == len(live)
        hanging = await a.ctx.store.outbound_deliveries(like_activity(alice.uri, 1)["id"])
        # Still in flight (or leased, waiting for the host's slots): nothing failed yet.
        assert [(d.state, d.last_error) for d in hanging] == [("queued", None)] * len(dead)
    finally:
        silent.close()


async def test_a_failing_host_is_left_alone_until_its_breaker_closes(start, inbox):
    """After ten failures in a row, nothing more is tried on that host (and no attempt is
    counted) until the breaker lets one through; an answer closes it."""
    from fedchirp.federation.breaker import BREAKER_BASE_SECONDS, BREAKER_FAILURES

    a, clock = await _setup(start)
    alice = await a.ctx.store.find_account("alice", "")
    port = int(inbox.base.rsplit(":", 1)[1])
    await inbox.stop()  # the host is down: connections are refused
    urls = [f"{inbox.url}?u={n}" for n in range(BREAKER_FAILURES)]
    await a.ctx.delivery.enqueue(like_activity(alice.uri, 1), alice, urls)
    assert await a.ctx.delivery.run_due() == BREAKER_FAILURES
    await a.ctx.delivery.enqueue(like_activity(alice.uri, 2), alice, [f"{inbox.url}?late"])
    assert await a.ctx.delivery.run_due() == 1
    [late] = await a.ctx.store.outbound_deliveries(like_activity(alice.uri, 2)["id"])
    assert (late.state, late.attempts) == ("queued", 0)  # put off, not tried
    assert late.run_at == clock.now + BREAKER_BASE_SECONDS

    await inbox.start(port)  # the host is back; the breaker lets deliveries through
    clock.now += BREAKER_BASE_SECONDS
    assert await a.ctx.delivery.run_due() == BREAKER_FAILURES + 1
    [late] = await a.ctx.store.outbound_deliveries(like_activity(alice.uri, 2)["id"])
    assert late.state == "delivered"
    assert len(inbox.received) == BREAKER_FAILURES + 1


async def test_a_stopped_worker_gives_back_the_deliveries_it_was_sending(start, tmp_path):
    """One delivery in flight (hanging) and more leased ahead, waiting for the slot: all
    are given back when the worker stops, and nothing counts as an attempt."""
    from fedchirp.federation.delivery import CLAIM_AHEAD

    settings = {"delivery": {"timeout_seconds": 20.0, "concurrency": 1}}
    a = await start("a", settings=settings)
    alice = await a.create_user("alice")
    silent, url = await _silent_server()
    try:
        urls = [f"{url}?u={n}" for n in range(CLAIM_AHEAD + 1)]  # one more than it leases
        await a.ctx.delivery.enqueue(like_activity(alice.uri), alice, urls)
        rows = await a.ctx.store.outbound_deliveries(like_activity(alice.uri)["id"])
        for _ in range(250):
            rows = await a.ctx.store.outbound_deliveries(like_activity(alice.uri)["id"])
            if sum(row.lease_until > 0 for row in rows) == CLAIM_AHEAD:
                break
            await asyncio.sleep(0.02)
        assert sum(row.lease_until > 0 for row in rows) == CLAIM_AHEAD  # one hanging
        await a.stop()
        again = await start("a", port=a.port, data_dir=tmp_path / "a", run_workers=False)
        rows = await again.ctx.store.outbound_deliveries(like_activity(alice.uri)["id"])
        given_back = [(r.state, r.attempts, r.lease_until) for r in rows]
        assert given_back == [("queued", 0, 0)] * len(urls)
    finally:
        silent.close()


async def test_queued_deliveries_and_jobs_are_announced_after_they_commit(start):
    """Other processes' workers hear of queued work through announce (store/signals.py
    WorkSignal: a NOTIFY on PostgreSQL), once it has committed."""
    a, _ = await _setup(start)
    announced: list[str] = []
    a.ctx.delivery.announce = lambda: announced.append("delivery")
    a.ctx.jobs.announce = lambda: announced.append("job")
    async with a.ctx.store.atomic():
        await _queued(a, "http://127.0.0.1:9/inbox")
        assert announced == []  # not before the unit commits
    assert announced == ["delivery"]
    await a.ctx.jobs.enqueue("test", "announced", {"n": 1})  # a group commit
    assert announced == ["delivery", "job"]
