"""Requests first (`fedchirp serve`): the inbox edge goes ahead of background work.

- WriteLock (store/writers.py): urgent waiters are served before the others, each kind
  in the order it came; a waiter cancelled while waiting, or just as the lock was
  handed to it, does not leave the lock held by nobody.
- Database.urgent on a real SQLite store: a unit opened inside it goes ahead of a
  unit already waiting for the writer, and so does the group commit of Jobs.enqueue.
- Jobs (services/jobs.py) on a real store: while requests are in flight one job runs
  at a time (whatever the concurrency) and the runner rests after each job so jobs
  keep to SHARE_UNDER_LOAD of the time; without requests it runs `concurrency` jobs;
  with all slots busy the idle loop does not spin on next_job_due.
- The inbox job's payload embeds the body as it came: valid JSON for UTF-8 (with or
  without a BOM), UTF-16 and UTF-32 bodies, also applied through a real instance.
- The app (create_app(config, run_workers=True)) counts requests in flight in
  ctx.jobs.requests; a web-only app does not; signer keys are cached for 30 s.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

from fedchirp.federation import resolver as resolver_module
from fedchirp.federation.vocab import parse_activity
from fedchirp.localnet import settle
from fedchirp.services import inbox
from fedchirp.services import jobs as jobs_module
from fedchirp.services.in_flight import InFlight
from fedchirp.services.jobs import MAX_LAG_SECONDS, SHARE_UNDER_LOAD, Jobs
from fedchirp.store import Store
from fedchirp.store.writers import WriteLock
from tests.dbutil import all_rows, count_rows
from tests.instance_processes import inbox_signer, remote_account

QUEUE = "test-queue"
TIMEOUT = 10.0  # seconds: only ever reached when something is broken


async def _until(check: Callable[[], bool], why: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout} s: {why}")
        await asyncio.sleep(0.005)


# -- WriteLock ----------------------------------------------------------------------


def _queued(lock: WriteLock) -> tuple[int, int]:
    """(urgent, normal) waiters queued on the lock."""
    urgent, normal = lock._waiters
    return len(urgent), len(normal)


async def _take(lock: WriteLock, name: str, order: list[str], urgent: bool = False) -> None:
    async with lock.held(urgent):
        order.append(name)
        await asyncio.sleep(0)  # holds it across a turn of the loop, as a unit would


async def test_urgent_waiter_goes_ahead_of_a_normal_one_queued_before_it():
    lock = WriteLock()
    order: list[str] = []
    holder = lock.held()
    await holder.__aenter__()
    normal = asyncio.create_task(_take(lock, "normal", order))
    await _until(lambda: _queued(lock) == (0, 1), "the normal waiter queued")
    urgent = asyncio.create_task(_take(lock, "urgent", order, urgent=True))
    await _until(lambda: _queued(lock) == (1, 1), "the urgent waiter queued")
    await holder.__aexit__(None, None, None)
    await asyncio.wait_for(asyncio.gather(normal, urgent), TIMEOUT)
    assert order == ["urgent", "normal"]
    assert not lock._held and _queued(lock) == (0, 0)


async def test_waiters_of_each_kind_are_served_in_the_order_they_came():
    lock = WriteLock()
    order: list[str] = []
    holder = lock.held()
    await holder.__aenter__()
    tasks = []
    for name, urgent in [
        ("normal-1", False),
        ("urgent-1", True),
        ("normal-2", False),
        ("urgent-2", True),
        ("normal-3", False),
        ("urgent-3", True),
    ]:
        before = sum(_queued(lock))
        tasks.append(asyncio.create_task(_take(lock, name, order, urgent)))
        await _until(lambda before=before: sum(_queued(lock)) == before + 1, f"{name} queued")
    await holder.__aexit__(None, None, None)
    await asyncio.wait_for(asyncio.gather(*tasks), TIMEOUT)
    assert order == ["urgent-1", "urgent-2", "urgent-3", "normal-1", "normal-2", "normal-3"]


async def test_lock_is_free_at_once_when_nobody_holds_it():
    lock = WriteLock()
    order: list[str] = []
    await asyncio.wait_for(_take(lock, "first", order), TIMEOUT)
    await asyncio.wait_for(_take(lock, "urgent", order, urgent=True), TIMEOUT)
    assert order == ["first", "urgent"] and not lock._held


@pytest.mark.parametrize("urgent", [False, True], ids=["normal", "urgent"])
async def test_waiter_cancelled_while_waiting_does_not_wedge_the_lock(urgent):
    lock = WriteLock()
    order: list[str] = []
    holder = lock.held()
    await holder.__aenter__()
    cancelled = asyncio.create_task(_take(lock, "cancelled", order, urgent))
    await _until(lambda: sum(_queued(lock)) == 1, "the first waiter queued")
    later = asyncio.create_task(_take(lock, "later", order))
    await _until(lambda: sum(_queued(lock)) == 2, "the second waiter queued")
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert _queued(lock) == (0, 1)  # it left the queue
    await holder.__aexit__(None, None, None)
    await asyncio.wait_for(later, TIMEOUT)
    assert order == ["later"]
    # Nobody waits and nobody holds it: the next one takes it at once.
    await asyncio.wait_for(_take(lock, "next", order), TIMEOUT)
    assert order == ["later", "next"] and not lock._held


async def test_only_waiter_cancelled_leaves_the_lock_free_after_release():
    lock = WriteLock()
    order: list[str] = []
    holder = lock.held()
    await holder.__aenter__()
    cancelled = asyncio.create_task(_take(lock, "cancelled", order))
    await _until(lambda: sum(_queued(lock)) == 1, "the waiter queued")
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    await holder.__aexit__(None, None, None)
    assert not lock._held
    await asyncio.wait_for(_take(lock, "next", order), TIMEOUT)
    assert order == ["next"]


@pytest.mark.parametrize("urgent", [False, True], ids=["normal", "urgent"])
async def test_waiter_cancelled_just_as_it_was_handed_the_lock_passes_it_on(urgent):
    lock = WriteLock()
    order: list[str] = []
    holder = lock.held()
    await holder.__aenter__()
    handed = asyncio.create_task(_take(lock, "handed", order, urgent))
    await _until(lambda: sum(_queued(lock)) == 1, "the first waiter queued")
    later = asyncio.create_task(_take(lock, "later", order))
    await _until(lambda: sum(_queued(lock)) == 2, "the second waiter queued")
    # Release (handing the lock to the first waiter: its future gets its result) and
    # cancel that waiter before it has run again: nothing awaits in between.
    await holder.__aexit__(None, None, None)
    assert lock._held and _queued(lock) == (0, 1)  # owned by `handed`, not yet woken
    handed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await handed
    await asyncio.wait_for(later, TIMEOUT)  # it passed the lock on
    assert order == ["later"]
    assert not lock._held and _queued(lock) == (0, 0)
    await asyncio.wait_for(_take(lock, "next", order), TIMEOUT)
    assert order == ["later", "next"]


# -- Database.urgent on a real store --------------------------------------------------


def _job(key: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"queue": QUEUE, "key": key, "payload": json.dumps(payload or {"key": key})}


async def _keys_in_id_order(store: Store) -> list[str]:
    return [row["key"] for row in sorted(await all_rows(store, "jobs"), key=lambda r: r["id"])]


async def test_unit_opened_in_urgent_goes_ahead_of_a_unit_already_waiting(make_store):
    store = await make_store()
    db = store.db
    lock = db._write_lock
    order: list[str] = []
    release = asyncio.Event()

    async def hold() -> None:
        async with db.atomic():
            await store.enqueue_jobs([_job("holder")], time.time())
            order.append("holder")
            await release.wait()

    async def unit(name: str) -> None:
        async with db.atomic():
            order.append(name)
            await store.enqueue_jobs([_job(name)], time.time())

    async def urgent_unit(name: str) -> None:
        with db.urgent():
            async with db.atomic():
                order.append(name)
                await store.enqueue_jobs([_job(name)], time.time())

    async def was_urgent_unit(name: str) -> None:
        with db.urgent():
            pass
        await unit(name)  # urgent() has ended: this unit waits its turn

    holder = asyncio.create_task(hold())
    await _until(lambda: order == ["holder"], "the holder's unit open")
    normal = asyncio.create_task(unit("normal"))
    await _until(lambda: _queued(lock) == (0, 1), "the normal unit waiting")
    was_urgent = asyncio.create_task(was_urgent_unit("was-urgent"))
    await _until(lambda: _queued(lock) == (0, 2), "the unit opened after urgent() waiting")
    urgent = asyncio.create_task(urgent_unit("urgent"))
    await _until(lambda: _queued(lock) == (1, 2), "the urgent unit waiting")
    release.set()
    await asyncio.wait_for(asyncio.gather(holder, normal, was_urgent, urgent), TIMEOUT)
    assert order == ["holder", "urgent", "normal", "was-urgent"]
    # Committed in that order too (ids are handed out by the writer).
    assert await _keys_in_id_order(store) == ["holder", "urgent", "normal", "was-urgent"]


async def test_group_commit_of_enqueue_goes_ahead_of_a_waiting_unit(make_store):
    store = await make_store()
    db = store.db
    jobs = Jobs(store)
    lock = db._write_lock
    release = asyncio.Event()
    opened = asyncio.Event()
    seen_by_background: list[int] = []

    async def hold() -> None:
        async with db.atomic():
            opened.set()
            await release.wait()

    async def background_unit() -> None:
        async with db.atomic():
            # What the edge queued is committed before this unit began.
            seen_by_background.append(await count_rows(store, "jobs"))
            await store.enqueue_jobs([_job("background")], time.time())

    holder = asyncio.create_task(hold())
    await asyncio.wait_for(opened.wait(), TIMEOUT)
    background = asyncio.create_task(background_unit())
    await _until(lambda: _queued(lock) == (0, 1), "the background unit waiting")
    edge = asyncio.create_task(jobs.enqueue(QUEUE, "from-the-edge", {"n": 1}))
    await _until(lambda: _queued(lock) == (1, 1), "the group commit waiting as urgent")
    release.set()
    await asyncio.wait_for(asyncio.gather(holder, background, edge), TIMEOUT)
    assert seen_by_background == [1]
    assert await _keys_in_id_order(store) == ["from-the-edge", "background"]


# -- the jobs runner ----------------------------------------------------------------------


def _set_event() -> asyncio.Event:
    event = asyncio.Event()
    event.set()
    return event


class Recorder:
    """A job handler that records how many run at once and waits for the test to let
    each job (payload {"n": n}) finish."""

    def __init__(self) -> None:
        self.running = 0
        self.peak = 0
        self.started: list[int] = []
        self.finished: list[int] = []
        self.release: defaultdict[int, asyncio.Event] = defaultdict(asyncio.Event)

    async def __call__(self, payload: dict[str, Any]) -> None:
        n = payload["n"]
        self.running += 1
        self.peak = max(self.peak, self.running)
        self.started.append(n)
        try:
            await self.release[n].wait()
        finally:
            self.running -= 1
        self.finished.append(n)

    def release_all(self) -> None:
        """Let the jobs running finish, and those started later run straight through."""
        self.release = defaultdict(_set_event, self.release)
        for event in self.release.values():
            event.set()


async def _queue_jobs(store: Store, count: int) -> None:
    await store.enqueue_jobs([_job(f"job-{n}", {"n": n}) for n in range(count)], time.time())


async def _stop(task: asyncio.Task[Any]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_under_requests_one_job_runs_at_a_time_whatever_the_concurrency(make_store):
    store = await make_store()
    jobs = Jobs(store, concurrency=8, poll_seconds=0.05)
    handler = Recorder()
    jobs.register(QUEUE, handler)
    await _queue_jobs(store, 10)
    jobs.requests.count = 1
    assert jobs.requests

    assert await jobs.run_due() == 1
    await _until(lambda: handler.started == [0], "the first job started")
    assert await jobs.run_due() == 0  # its one slot is taken
    assert handler.running == 1

    worker = asyncio.create_task(jobs.run_forever())
    try:
        for n in range(10):
            await _until(lambda n=n: len(handler.started) == n + 1, f"job {n} started")
            assert handler.running == 1, handler.started
            handler.release[handler.started[n]].set()
        await _until(lambda: len(handler.finished) == 10, "all jobs finished")
    finally:
        await _stop(worker)
    assert handler.peak == 1
    assert sorted(handler.finished) == list(range(10))
    assert await count_rows(store, "jobs") == 0


async def test_without_requests_jobs_run_at_full_concurrency(make_store):
    store = await make_store()
    jobs = Jobs(store, concurrency=8, poll_seconds=0.05)
    handler = Recorder()
    jobs.register(QUEUE, handler)
    await _queue_jobs(store, 12)
    assert jobs.requests.count == 0 and not jobs.requests

    assert await jobs.run_due() == 8
    await _until(lambda: handler.running == 8, "eight jobs running")
    assert await jobs.run_due() == 0
    handler.release_all()
    await asyncio.wait_for(jobs.drain(), TIMEOUT)
    assert handler.peak == 8
    assert sorted(handler.finished) == list(range(12))
    assert await count_rows(store, "jobs") == 0


async def test_load_ending_lets_the_runner_fill_its_slots(make_store):
    store = await make_store()
    jobs = Jobs(store, concurrency=4, poll_seconds=0.05)
    handler = Recorder()
    jobs.register(QUEUE, handler)
    await _queue_jobs(store, 6)
    jobs.requests.count = 2
    assert await jobs.run_due() == 1
    jobs.requests.count = 0
    assert await jobs.run_due() == 3  # up to the concurrency, with one already running
    await _until(lambda: handler.running == 4, "four jobs running")
    handler.release_all()
    await asyncio.wait_for(jobs.drain(), TIMEOUT)
    assert sorted(handler.finished) == list(range(6))


class FakeMonotonic:
    """Stands in for the time module in services/jobs.py: monotonic() is ours to move."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.time = time.time

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def fake_monotonic(monkeypatch: pytest.MonkeyPatch) -> FakeMonotonic:
    fake = FakeMonotonic()
    monkeypatch.setattr(jobs_module, "time", fake)
    return fake


def _job_taking(clock: FakeMonotonic, seconds: float, ran: list[int]) -> Any:
    async def handler(payload: dict[str, Any]) -> None:
        clock.now += seconds  # the job took this long
        ran.append(payload["n"])

    return handler


async def _run_claimed(jobs: Jobs) -> None:
    """Wait for the jobs this runner started to finish (finished in the store too)."""
    await asyncio.wait_for(asyncio.gather(*list(jobs._running.values())), TIMEOUT)


async def test_after_a_job_under_requests_the_runner_rests(make_store, fake_monotonic):
    clock = fake_monotonic
    store = await make_store()
    jobs = Jobs(store, concurrency=8, poll_seconds=0.05)
    ran: list[int] = []
    jobs.register(QUEUE, _job_taking(clock, 2.0, ran))
    await _queue_jobs(store, 3)
    jobs.requests.count = 1

    assert await jobs.run_due() == 1
    await _run_claimed(jobs)
    assert ran == [0]
    finished_at = clock.now  # 1002.0: the job took 2 s
    rest = 2.0 * (1 / SHARE_UNDER_LOAD - 1)  # so jobs take SHARE_UNDER_LOAD of the time
    assert rest == pytest.approx(34 / 3)  # 2 s of a job, then 11.3 s of rest: 15%
    assert jobs._rest_until == pytest.approx(finished_at + rest)
    assert jobs._rest_until > clock.now

    assert await jobs.run_due() == 0  # resting, though a slot is free and jobs are due
    clock.now = finished_at + rest - 0.5
    assert await jobs.run_due() == 0
    assert ran == [0]
    clock.now = finished_at + rest
    assert await jobs.run_due() == 1  # the rest is over
    await _run_claimed(jobs)
    assert ran == [0, 1]
    assert await jobs.run_due() == 0  # and it rests again after that one
    assert await count_rows(store, "jobs") == 1


async def test_without_requests_the_runner_does_not_rest(make_store, fake_monotonic):
    clock = fake_monotonic
    store = await make_store()
    jobs = Jobs(store, concurrency=1, poll_seconds=0.05)
    ran: list[int] = []
    jobs.register(QUEUE, _job_taking(clock, 2.0, ran))
    await _queue_jobs(store, 2)
    assert await jobs.run_due() == 1
    await _run_claimed(jobs)
    assert jobs._rest_until <= clock.now
    assert await jobs.run_due() == 1  # at once
    await _run_claimed(jobs)
    assert ran == [0, 1]


async def test_rest_ends_when_the_requests_do(make_store, fake_monotonic):
    clock = fake_monotonic
    store = await make_store()
    jobs = Jobs(store, concurrency=4, poll_seconds=0.05)
    ran: list[int] = []
    jobs.register(QUEUE, _job_taking(clock, 2.0, ran))
    await _queue_jobs(store, 4)
    jobs.requests.count = 1
    assert await jobs.run_due() == 1
    await _run_claimed(jobs)
    assert await jobs.run_due() == 0  # resting
    jobs.requests.count = 0
    assert await jobs.run_due() == 3  # no request waits: no rest, full concurrency
    await _run_claimed(jobs)
    assert sorted(ran) == [0, 1, 2, 3]


async def test_idle_loop_does_not_spin_while_all_slots_are_busy(make_store, monkeypatch):
    store = await make_store()
    jobs = Jobs(store, concurrency=2, poll_seconds=5.0)
    handler = Recorder()
    jobs.register(QUEUE, handler)
    await _queue_jobs(store, 6)  # more are due than there are slots
    asked = 0
    next_job_due = store.next_job_due

    async def counting_next_job_due(queues: Any) -> float | None:
        nonlocal asked
        asked += 1
        return await next_job_due(queues)

    monkeypatch.setattr(store, "next_job_due", counting_next_job_due)
    worker = asyncio.create_task(jobs.run_forever())
    try:
        await _until(lambda: handler.running == 2, "both slots busy")
        asked_before = asked
        await asyncio.sleep(0.3)
        assert asked - asked_before <= 1  # it sleeps until a job finishes
        assert handler.started == [0, 1]
        handler.release[0].set()  # a finishing job wakes it
        await _until(lambda: handler.started == [0, 1, 2], "the next job started")
    finally:
        handler.release_all()
        await _stop(worker)


# -- the inbox job's payload ------------------------------------------------------------


REMOTE = "http://remote.example"


def _activity(actor: str) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor}/activities/1",
        "type": "Create",
        "actor": actor,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": f"{actor}/statuses/1",
            "type": "Note",
            "attributedTo": actor,
            "content": '<p>café, naïve, ✓ 🐘 "quoted" \\ back</p>',
        },
    }


def _encoded(document: dict[str, Any], encoding: str, indent: int | None) -> bytes:
    text = json.dumps(document, ensure_ascii=False, indent=indent)
    if encoding == "utf-8-bom":
        return codecs.BOM_UTF8 + text.encode("utf-8")
    return text.encode(encoding)


@pytest.mark.parametrize("indent", [None, 2], ids=["compact", "indented"])
@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-bom", "utf-16", "utf-16-le", "utf-16-be", "utf-32"]
)
async def test_payload_embeds_the_body_as_valid_json(make_store, encoding, indent):
    store = await make_store()
    zed = await store.upsert_remote_account(remote_account(REMOTE, "zed", "not a real key"))
    document = _activity(zed.uri)
    body = _encoded(document, encoding, indent)
    assert json.loads(body) == document  # what the edge parsed the activity from
    activity = parse_activity(json.loads(body))

    payload = inbox._payload(zed, activity, body)

    assert isinstance(payload, str)
    # The id rides beside the body: the edge names an Add or Remove that came without one.
    assert json.loads(payload) == {"actor": zed.id, "id": document["id"], "activity": document}


# -- through a real instance --------------------------------------------------------------


def _follow(actor: str, target: str, number: int) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor}#follow-{number}",
        "type": "Follow",
        "actor": actor,
        "object": target,
    }


async def _post(http: aiohttp.ClientSession, url: str, body: Any, headers: dict[str, str]) -> int:
    async with http.post(url, data=body, headers=headers) as response:
        await response.read()
        return response.status


@pytest.mark.parametrize("encoding", ["utf-8-bom", "utf-16"])
async def test_inbox_post_in_another_encoding_is_queued_and_applied(
    start, remote, http, monkeypatch, encoding
):
    a = await start("a")
    alice = await a.create_user("alice")
    zed = remote.add_actor("zed")
    sign = inbox_signer(remote, "zed")
    url = f"{a.base_url}/users/alice/inbox"
    body = _encoded(_follow(zed, alice.uri, 1), encoding, None)
    in_flight_seen: list[int] = []
    accept = inbox.accept

    async def observing_accept(ctx: Any, *args: Any) -> None:
        in_flight_seen.append(ctx.jobs.requests.count)
        await accept(ctx, *args)

    monkeypatch.setattr(inbox, "accept", observing_accept)
    assert await _post(http, url, body, sign(url, body)) == 202
    assert in_flight_seen == [1]  # this very request, counted while it is answered
    assert a.ctx.jobs.requests.count == 0
    await settle(a)  # a worker applies it: its payload was valid JSON
    follower = await a.ctx.store.get_account_by_uri(zed)
    follow = await a.ctx.store.get_follow(follower.id, alice.id)
    assert follow is not None and follow.state == "accepted"
    assert await count_rows(a.ctx.store, "jobs") == 0


async def test_request_in_flight_is_counted_for_the_workers(start, http):
    a = await start("a")
    requests = a.ctx.jobs.requests
    assert requests.count == 0 and not requests
    rest_of_body = asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        yield b'{"type": "Follow", '
        await rest_of_body.wait()  # the handler is reading the body meanwhile
        yield b'"id": "x"}'

    headers = {"Content-Type": "application/activity+json"}
    post = asyncio.create_task(_post(http, f"{a.base_url}/inbox", slow_body(), headers))
    try:
        await _until(lambda: requests.count == 1, "the slow request counted")
        assert requests
    finally:
        rest_of_body.set()
    status = await asyncio.wait_for(post, TIMEOUT)
    assert status == 401  # not signed; answered all the same
    assert requests.count == 0 and requests  # still busy for a moment after the last one
    await asyncio.sleep(InFlight.GRACE_SECONDS * 2)
    assert not requests


def test_in_flight_stays_busy_for_a_moment_after_the_last_request() -> None:
    requests = InFlight()
    assert not requests
    requests.count += 1
    assert requests
    requests.ended()
    assert requests.count == 0 and requests
    requests.last_ended -= InFlight.GRACE_SECONDS * 2
    assert not requests


async def test_jobs_stop_yielding_when_the_queue_lags(make_store) -> None:
    """Under requests one job runs at a time, until a claim finds work that waited past
    MAX_LAG_SECONDS: then the runner takes its full concurrency again."""
    store = await make_store()
    jobs = Jobs(store, concurrency=8)
    release = asyncio.Event()

    async def hold(_payload: dict[str, Any]) -> None:
        await release.wait()

    jobs.register("test", hold)
    long_ago = time.time() - MAX_LAG_SECONDS - 5
    for n in range(5):
        await jobs.enqueue("test", f"late-{n}", {"n": n}, run_at=long_ago)
    jobs.requests.count = 1
    assert await jobs.run_due() == 1  # yielding: one job
    assert await jobs.run_due() == 4  # that job had waited too long: no more yielding
    release.set()
    await asyncio.wait_for(asyncio.gather(*list(jobs._running.values())), TIMEOUT)


async def test_requests_are_not_counted_without_workers(start, remote, http, monkeypatch):
    a = await start("a", run_workers=False)
    alice = await a.create_user("alice")
    zed = remote.add_actor("zed")
    sign = inbox_signer(remote, "zed")
    url = f"{a.base_url}/users/alice/inbox"
    body = json.dumps(_follow(zed, alice.uri, 2)).encode()
    in_flight_seen: list[int] = []
    accept = inbox.accept

    async def observing_accept(ctx: Any, *args: Any) -> None:
        in_flight_seen.append(ctx.jobs.requests.count)
        await accept(ctx, *args)

    monkeypatch.setattr(inbox, "accept", observing_accept)
    assert await _post(http, url, body, sign(url, body)) == 202
    assert in_flight_seen == [0]  # no workers here to make way for
    assert await count_rows(a.ctx.store, "jobs") == 1  # only queued


# -- signer keys cached in memory ----------------------------------------------------------


async def test_signer_key_is_cached_for_thirty_seconds(start, remote, monkeypatch):
    a = await start("a")
    zed = remote.add_actor("zed")
    key_id = f"{zed}#main-key"
    resolver = a.ctx.resolver
    clock = SimpleNamespace(now=5000.0)
    fake_time = SimpleNamespace(monotonic=lambda: clock.now, time=time.time)
    monkeypatch.setattr(resolver_module, "time", fake_time)
    reads = 0
    read = a.ctx.store.get_account_by_key_id

    async def counting_read(key: str) -> Any:
        nonlocal reads
        reads += 1
        return await read(key)

    monkeypatch.setattr(a.ctx.store, "get_account_by_key_id", counting_read)

    first = await resolver.actor_for_key(key_id)  # unknown: fetched from its server
    assert first.uri == zed
    fetched = len(remote.fetches)
    reads_after_first = reads
    clock.now += resolver_module.KEY_CACHE_SECONDS - 1
    assert (await resolver.actor_for_key(key_id)).id == first.id
    assert reads == reads_after_first  # from memory: no database read
    assert len(remote.fetches) == fetched
    # 30 s after the fetch, though used 2 s ago: a hit does not renew the entry, so a
    # deleted actor that keeps sending is noticed within 30 s.
    clock.now += 2
    assert (await resolver.actor_for_key(key_id)).id == first.id
    assert reads == reads_after_first + 1  # read again (from the database, not fetched)
    assert len(remote.fetches) == fetched
