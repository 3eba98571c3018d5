"""Web and worker processes apart, on one PostgreSQL database (processes.py, services/jobs.py).

Each test runs the real commands (`fedchirp web`, `fedchirp worker`, `fedchirp jobs`)
in processes of their own, on one config file and one fresh PostgreSQL database, and
reads the database from this process:

- web + workers: 200 signed Create(Note)s POSTed to two web processes sharing a port
  are all answered 202 and only queued (a web process applies nothing); two workers
  started afterwards apply each one exactly once.
- kill -9: a worker killed while it fetches a Create's object (from a stub server that
  holds the first fetch) leaves the job leased; another worker takes it up once the
  lease has run out, not before, and the note is stored once.
- SIGTERM: a worker stopped while it holds such a job exits promptly and gives the job
  back at once (queued, the attempt not counted); another worker completes it.
- deliveries: three workers send 1,000 queued deliveries to stub inboxes, each exactly
  once and, per inbox, in the order they were queued.
- `fedchirp jobs` lists a job that died in a worker, with its error.
- wake-up: a worker whose poll is a minute applies what a web process queued at once
  (the web process NOTIFYs; store/signals.py WorkSignal), and a burst of queued work
  is signalled once per interval.

These need PostgreSQL (several processes share the database): `postgres_url` skips
without it, and fails under CI. Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select, update

from fedchirp.config import Config, load_config
from fedchirp.federation.vocab import parse_activity
from fedchirp.services import inbox
from fedchirp.services.accounts import create_local_account
from fedchirp.services.context import Context
from fedchirp.services.jobs import DEFAULT_RETRY, Jobs
from fedchirp.store import Store
from fedchirp.store.models import Account
from fedchirp.store.schema import home_feed, inbox_seen, jobs, outbound_activities, statuses
from fedchirp.store.signals import WORK_CHANNEL, WorkSignal
from fedchirp.urls import Urls
from tests.instance_processes import (
    FedchirpProcess,
    inbox_signer,
    remote_account,
    write_config,
)
from tests.stubs import StubActorServer, StubServer

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
PASSWORD = "correct horse battery"
ACTIVITIES = 200
IN_FLIGHT = 24
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=15)
APPLY_TIMEOUT = 45.0  # seconds for workers to apply or send a whole batch
TEST_TIMEOUT = 90.0  # a hard bound on each test
HOLD_SECONDS = 15.0  # how long the slow stub holds a first fetch (fetch timeout is 20)
APPLIED = "fedchirp.services.inbox: inbox Create from"  # a worker's line per applied job

Spawn = Callable[[Path, list[str], str], FedchirpProcess]


# -- fixtures -----------------------------------------------------------------------


@pytest.fixture
async def store(postgres_url: str) -> AsyncIterator[Store]:
    """A Store on the test's PostgreSQL database, opened (so migrated) before any
    process of the test starts."""
    opened = Store(postgres_url)
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
async def spawn(store: Store) -> AsyncIterator[Spawn]:
    """spawn(config_path, args, name) -> a started `fedchirp` process, stopped after the
    test (before its database is dropped)."""
    started: list[FedchirpProcess] = []

    def _spawn(config_path: Path, args: list[str], name: str) -> FedchirpProcess:
        process = FedchirpProcess(config_path, args, name).start()
        started.append(process)
        return process

    yield _spawn
    await asyncio.gather(*(process.stop() for process in started))


class SlowStubServer(StubActorServer):
    """A StubActorServer that holds the first GET of each path in `held` (until `release`
    is set or HOLD_SECONDS pass) and serves later ones at once; `requested` keeps when
    (time.time()) each path was asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.held: set[str] = set()
        self.requested: dict[str, list[float]] = defaultdict(list)
        self.release = asyncio.Event()

    async def _serve(self, request: web.Request) -> web.Response:
        asked = self.requested[request.path]
        asked.append(time.time())
        if request.path in self.held and len(asked) == 1:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.release.wait(), HOLD_SECONDS)
        return await super()._serve(request)

    async def stop(self) -> None:
        self.release.set()  # a held request would keep the runner's cleanup waiting
        await super().stop()

    async def wait_requests(self, path: str, count: int, timeout: float = APPLY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while len(self.requested[path]) < count:
            assert time.monotonic() < deadline, f"{path} was asked for {self.requested[path]}"
            await asyncio.sleep(0.02)


@pytest.fixture
async def slow_remote() -> AsyncIterator[SlowStubServer]:
    server = SlowStubServer()
    await server.start()
    yield server
    await server.stop()


class CountingInboxes(StubServer):
    """Inboxes /inbox/<n> answering 202, counting POSTs per (activity id, inbox) and
    keeping, per inbox, the order activities arrived in. Signatures are not checked."""

    def __init__(self) -> None:
        super().__init__()
        self.posts: Counter[tuple[str, str]] = Counter()
        self.arrivals: dict[str, list[str]] = defaultdict(list)
        self.app.router.add_post("/inbox/{n}", self._receive)

    def inbox(self, number: int) -> str:
        return f"{self.base}/inbox/{number}"

    async def _receive(self, request: web.Request) -> web.Response:
        activity_id = json.loads(await request.read())["id"]
        inbox_url = f"{self.base}{request.path}"
        self.posts[(activity_id, inbox_url)] += 1
        self.arrivals[inbox_url].append(activity_id)
        return web.Response(status=202)


# -- helpers -----------------------------------------------------------------------


async def _until(
    check: Callable[[], Awaitable[bool]], timeout: float, why: Callable[[], str]
) -> float:
    """Poll check until true; returns the seconds it took, fails with why() after timeout."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > timeout:
            pytest.fail(f"not within {timeout} s: {why()}")
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def _alice_follows_zed(store: Store, config: Config, remote: StubActorServer) -> Account:
    """alice (local) follows zed (an actor on the stub server), so zed's posts are wanted
    here; returns zed's account."""
    remote.add_actor("zed")
    alice = await create_local_account(store, Urls(config.base_url), "alice", PASSWORD)
    zed = await store.upsert_remote_account(
        remote_account(remote.base, "zed", remote.actors["zed"]["publicKey"]["publicKeyPem"])
    )
    await store.insert_follow(alice.id, zed.id, f"{config.base_url}/follows/1", "accepted")
    return zed


def _note(actor: str, number: int) -> dict[str, Any]:
    # A second apart: notes sharing a publication second are another test's business.
    published = f"2026-01-02T03:{number // 60:02d}:{number % 60:02d}Z"
    return {
        "@context": AS_CONTEXT,
        "id": f"{actor}/statuses/{number}",
        "type": "Note",
        "attributedTo": actor,
        "content": f"<p>note number {number}</p>",
        "published": published,
        "to": [PUBLIC],
        "cc": [f"{actor}/followers"],
    }


def _create(note: dict[str, Any], embed: bool = True) -> dict[str, Any]:
    """A Create of the note: embedding it, or naming it by id only (to be fetched)."""
    return {
        "@context": AS_CONTEXT,
        "id": f"{note['id']}/activity",
        "type": "Create",
        "actor": note["attributedTo"],
        "published": note["published"],
        "to": note["to"],
        "cc": note["cc"],
        "object": note if embed else note["id"],
    }


async def _seen(store: Store) -> set[str]:
    return set(await store.db.scalars(select(inbox_seen.c.activity_uri)))


async def _notes_of(store: Store, account_id: int) -> list[str]:
    """The uris of the account's statuses, one per row (a note stored twice shows twice)."""
    return list(
        await store.db.scalars(select(statuses.c.uri).where(statuses.c.account_id == account_id))
    )


async def _jobs(store: Store) -> list[dict[str, Any]]:
    """The job rows, oldest first, without their payloads (short in failure messages)."""
    columns = [column for column in jobs.c if column.name != "payload"]
    return [dict(row) for row in await store.db.all(select(*columns).order_by(jobs.c.id))]


async def _queue_slow_create(
    store: Store, remote: SlowStubServer, zed: Account
) -> tuple[str, str, str]:
    """Queue (as the web edge would) a Create naming its note by id only, the note served
    by the stub only after holding the first fetch. Returns (activity id, note id, note
    path on the stub)."""
    note = _note(zed.uri, 0)
    path = note["id"].removeprefix(remote.base)
    remote.documents[path] = (note, "application/activity+json")
    remote.held.add(path)
    body = json.dumps(_create(note, embed=False)).encode()
    activity = parse_activity(json.loads(body))
    edge = cast(Context, SimpleNamespace(jobs=Jobs(store)))  # all accept() uses
    await inbox.accept(edge, activity, zed, body)
    [job] = await _jobs(store)
    assert (job["queue"], job["key"], job["state"]) == ("inbox", activity.id, "queued")
    return activity.id, note["id"], path


def _applied_lines(process: FedchirpProcess) -> list[str]:
    return [line for line in process.log_text().splitlines() if APPLIED in line]


# -- 1: web processes queue, workers apply ---------------------------------------------


async def test_web_queues_and_two_workers_apply_each_activity_once(
    tmp_path: Path,
    postgres_url: str,
    store: Store,
    spawn: Spawn,
    http: aiohttp.ClientSession,
    remote: StubActorServer,
) -> None:
    config_path = write_config(tmp_path, database={"url": postgres_url})
    config = load_config(config_path)
    async with asyncio.timeout(TEST_TIMEOUT):
        zed = await _alice_follows_zed(store, config, remote)
        alice = await store.find_account("alice", "")
        assert alice is not None
        url = f"{config.base_url}/inbox"
        sign = inbox_signer(remote, "zed")
        creates = [_create(_note(zed.uri, number)) for number in range(ACTIVITIES)]
        bodies = [json.dumps(create).encode() for create in creates]
        requests = [(body, sign(url, body)) for body in bodies]
        activity_ids = {create["id"] for create in creates}
        note_ids = {create["object"]["id"] for create in creates}

        # Two web processes on one port (SO_REUSEPORT); each is up once it has answered.
        webs = [spawn(config_path, ["web"], f"web-{n}") for n in (1, 2)]
        probe = f"{config.base_url}/.well-known/nodeinfo"
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as fresh:
            await webs[0].wait_http(fresh, probe)
            for process in webs:
                while "GET /.well-known/nodeinfo" not in process.log_text():
                    await process.wait_http(fresh, probe)  # new connections, spread by the kernel

        answers: list[int] = []
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def send(body: bytes, headers: dict[str, str]) -> None:
            async with (
                gate,
                http.post(url, data=body, headers=headers, timeout=REQUEST_TIMEOUT) as resp,
            ):
                await resp.read()
                answers.append(resp.status)

        await asyncio.gather(*(send(body, headers) for body, headers in requests))
        assert Counter(answers) == {202: ACTIVITIES}, "\n".join(p.log_tail() for p in webs)

        def answered_by() -> list[int]:  # from the access logs, written just after answering
            return [p.log_text().count("POST /inbox") for p in webs]

        async def all_logged() -> bool:
            return sum(answered_by()) >= ACTIVITIES

        await _until(all_logged, 5.0, lambda: f"access logs show {answered_by()}")
        print(f"inbox POSTs answered by each web process: {answered_by()}")
        assert sum(answered_by()) == ACTIVITIES
        assert all(answered_by()), "one web process answered every POST: was port sharing off?"

        # The web processes only queued: a second later nothing is applied, nothing claimed.
        await asyncio.sleep(1.0)
        queued = await _jobs(store)
        assert {job["key"] for job in queued} == activity_ids
        assert {(job["queue"], job["state"], job["attempts"]) for job in queued} == {
            ("inbox", "queued", 0)
        }
        assert await _seen(store) == set()
        assert await _notes_of(store, zed.id) == []
        assert not any(_applied_lines(p) for p in webs)

        workers = [spawn(config_path, ["worker"], f"worker-{n}") for n in (1, 2)]
        seen: set[str] = set()

        async def all_applied() -> bool:
            assert all(w.running for w in workers), "\n".join(w.log_tail() for w in workers)
            seen.update(await _seen(store))
            return activity_ids <= seen

        took = await _until(
            all_applied,
            APPLY_TIMEOUT,
            lambda: (
                f"{len(activity_ids - seen)} not applied\n"
                + "\n".join(w.log_tail() for w in workers)
            ),
        )
        print(f"2 workers applied {ACTIVITIES} queued activities in {took:.1f} s (from start)")

        notes = await _notes_of(store, zed.id)
        assert len(notes) == ACTIVITIES, "a note was stored twice (or not at all)"
        assert set(notes) == note_ids
        assert await _jobs(store) == [], "finished jobs are deleted"
        feed = set(
            await store.db.scalars(
                select(home_feed.c.status_id).where(home_feed.c.account_id == alice.id)
            )
        )
        assert len(feed) == ACTIVITIES, "notes missing from alice's home feed"
        # Each job ran once, in one of the workers: one log line each, none a repeat.
        per_worker = [_applied_lines(w) for w in workers]
        print(f"activities applied by each worker: {[len(lines) for lines in per_worker]}")
        lines = [line for worker_lines in per_worker for line in worker_lines]
        assert len(lines) == ACTIVITIES, f"{len(lines)} applications of {ACTIVITIES} jobs"
        assert all("stored public post" in line for line in lines), lines[:3]


# -- 2: kill -9 mid-job: another worker takes it up when the lease runs out ---------------


async def test_job_of_killed_worker_is_taken_up_after_its_lease(
    tmp_path: Path,
    postgres_url: str,
    store: Store,
    spawn: Spawn,
    slow_remote: SlowStubServer,
) -> None:
    lease = 3.0
    config_path = write_config(
        tmp_path,
        database={"url": postgres_url},
        jobs={"lease_seconds": lease},
        federation={"fetch_timeout_seconds": 20.0},
    )
    config = load_config(config_path)
    async with asyncio.timeout(TEST_TIMEOUT):
        zed = await _alice_follows_zed(store, config, slow_remote)
        activity_id, note_id, path = await _queue_slow_create(store, slow_remote, zed)

        a = spawn(config_path, ["worker"], "worker-a")
        await slow_remote.wait_requests(path, 1)  # A claimed the job and is fetching
        [job] = await _jobs(store)
        assert (job["state"], job["attempts"]) == ("running", 1)
        lease_until = job["lease_until"]
        b = spawn(config_path, ["worker"], "worker-b")
        a.kill()
        assert time.time() < lease_until, "A was killed after its lease ran out"
        await b.wait_for_log("worker for")
        b_up = time.time()
        print(f"B started {lease_until - b_up:.1f} s before A's lease ran out")

        async def applied() -> bool:
            assert b.running, b.log_tail()
            return activity_id in await _seen(store)

        await _until(applied, APPLY_TIMEOUT, b.log_tail)
        asked = slow_remote.requested[path]
        assert len(asked) == 2, f"note fetched {len(asked)} times"
        assert asked[1] >= lease_until, (
            f"B took the job {lease_until - asked[1]:.2f} s before A's lease ran out"
        )
        assert await _notes_of(store, zed.id) == [note_id]
        assert await _jobs(store) == []
        assert _applied_lines(a) == []
        assert len(_applied_lines(b)) == 1, b.log_tail()


# -- 3: SIGTERM gives the job back at once --------------------------------------------------


async def test_stopped_worker_gives_its_job_back_at_once(
    tmp_path: Path,
    postgres_url: str,
    store: Store,
    spawn: Spawn,
    slow_remote: SlowStubServer,
) -> None:
    lease = 60.0  # longer than the test waits: the job must come back without it
    config_path = write_config(
        tmp_path,
        database={"url": postgres_url},
        jobs={"lease_seconds": lease},
        federation={"fetch_timeout_seconds": 20.0},
    )
    config = load_config(config_path)
    async with asyncio.timeout(TEST_TIMEOUT):
        zed = await _alice_follows_zed(store, config, slow_remote)
        activity_id, note_id, path = await _queue_slow_create(store, slow_remote, zed)

        a = spawn(config_path, ["worker"], "worker-a")
        await slow_remote.wait_requests(path, 1)  # A holds the job, waiting on the fetch
        [job] = await _jobs(store)
        assert (job["state"], job["attempts"]) == ("running", 1)
        assert job["lease_until"] > time.time() + lease / 2

        status, took = await a.terminate(timeout=5.0)  # then SIGKILL
        print(f"worker A exited {status} {took:.2f} s after SIGTERM")
        assert took < 5.0, f"A did not stop within 5 s of SIGTERM:\n{a.log_tail()}"
        assert status == 0, a.log_tail()
        assert "giving back claimed jobs" in a.log_text()
        [job] = await _jobs(store)
        assert (job["key"], job["state"], job["attempts"]) == (activity_id, "queued", 0), job
        assert job["lease_until"] <= time.time() and job["run_at"] <= time.time(), job
        assert await _seen(store) == set()
        assert await _notes_of(store, zed.id) == []

        b = spawn(config_path, ["worker"], "worker-b")

        async def applied() -> bool:
            assert b.running, b.log_tail()
            return activity_id in await _seen(store)

        took = await _until(applied, APPLY_TIMEOUT, b.log_tail)
        print(f"worker B applied it {took:.1f} s after it started")
        assert len(slow_remote.requested[path]) == 2
        assert await _notes_of(store, zed.id) == [note_id]
        assert await _jobs(store) == []
        assert _applied_lines(a) == []
        assert len(_applied_lines(b)) == 1, b.log_tail()


# -- 4: three workers, 1,000 deliveries ------------------------------------------------------


async def test_three_workers_send_each_delivery_once(
    tmp_path: Path, postgres_url: str, store: Store, spawn: Spawn
) -> None:
    servers, inboxes_per_server, activities = 4, 5, 50  # 20 inboxes x 50 = 1,000 deliveries
    # Each worker leases at most CLAIM_AHEAD (4) x 4 deliveries at once: fewer than the 20 inboxes
    # whose oldest delivery may go, so no worker can take every sendable one.
    config_path = write_config(
        tmp_path, database={"url": postgres_url}, delivery={"concurrency": 4}
    )
    config = load_config(config_path)
    stubs = [CountingInboxes() for _ in range(servers)]
    for stub in stubs:
        await stub.start()
    try:
        async with asyncio.timeout(TEST_TIMEOUT):
            inboxes = [stub.inbox(n) for stub in stubs for n in range(inboxes_per_server)]
            alice = await create_local_account(store, Urls(config.base_url), "alice", PASSWORD)
            workers = [spawn(config_path, ["worker"], f"worker-{n}") for n in (1, 2, 3)]
            for worker in workers:  # all up before anything is queued: all can take part
                await worker.wait_for_log("working:")
            activity_ids = []
            for number in range(activities):
                activity = {
                    "@context": AS_CONTEXT,
                    "id": f"{alice.uri}/activities/{number}",
                    "type": "Create",
                    "actor": alice.uri,
                    "object": f"{alice.uri}/statuses/{number}",
                }
                body = json.dumps(activity)
                queued = await store.outbound_enqueue(
                    activity, body, alice.id, inboxes, time.time()
                )
                assert queued == len(inboxes)
                activity_ids.append(activity["id"])
            total = len(activity_ids) * len(inboxes)
            assert total == 1000

            async def all_delivered() -> bool:
                assert all(w.running for w in workers), "\n".join(w.log_tail() for w in workers)
                return sum(len(stub.posts) for stub in stubs) >= total  # each sent once or more

            took = await _until(
                all_delivered,
                APPLY_TIMEOUT,
                lambda: (
                    f"{sum(len(s.posts) for s in stubs)} of {total} deliveries arrived\n"
                    + "\n".join(w.log_tail() for w in workers)
                ),
            )
            print(f"3 workers sent {total} deliveries in {took:.1f} s (from start)")
            await asyncio.sleep(0.5)  # a second send of anything would show by now

            posts: Counter[tuple[str, str]] = Counter()
            for stub in stubs:
                posts.update(stub.posts)
            repeated = {key: count for key, count in posts.items() if count != 1}
            assert not repeated, f"{len(repeated)} deliveries sent more than once"
            wanted = {(activity_id, inbox) for activity_id in activity_ids for inbox in inboxes}
            assert set(posts) == wanted
            for stub in stubs:
                for inbox_url, arrived in stub.arrivals.items():
                    assert arrived == activity_ids, f"{inbox_url} got activities out of order"

            # Every delivery job finished (deleted), each counted once as delivered.
            assert await store.count_jobs() == 0
            rows = await store.db.all(select(outbound_activities))
            counts = Counter((row["recipients"], row["delivered"], row["failed"]) for row in rows)
            assert counts == {(len(inboxes), len(inboxes), 0): activities}, counts
            sent_by = [_delivered_in_log(w.log_text()) for w in workers]
            print(f"deliveries sent by each worker: {sent_by}")
            assert sum(sent_by) == total
            assert all(sent_by), "a worker sent nothing"
    finally:
        for stub in stubs:
            await stub.stop()


def _delivered_in_log(text: str) -> int:
    """Deliveries a worker logged as delivered (it logs its outcomes a group at a time)."""
    return sum(int(n) for n in re.findall(r"delivery outcomes, (\d+) delivered", text))


# -- 5: `fedchirp jobs` shows a dead job ------------------------------------------------------


async def test_jobs_command_lists_a_dead_job_with_its_error(
    tmp_path: Path, postgres_url: str, store: Store, spawn: Spawn
) -> None:
    config_path = write_config(tmp_path, database={"url": postgres_url})
    async with asyncio.timeout(TEST_TIMEOUT):
        broken = "https://example.invalid/activities/broken"
        later = "https://example.invalid/activities/later"
        payload = {"actor": 1, "activity": {"type": "Create", "actor": "https://example.invalid/a"}}
        rows = [
            {"queue": "inbox", "key": key, "payload": json.dumps(payload)}
            for key in (broken, later)
        ]
        await store.enqueue_jobs(rows + rows[:1], time.time())  # the repeat is dropped
        assert await store.count_jobs() == 2
        # One try left for the broken one (a worker then buries it); the other is not due.
        await store.db.write(
            update(jobs).where(jobs.c.key == broken).values(attempts=DEFAULT_RETRY.attempts - 1)
        )
        await store.db.write(
            update(jobs).where(jobs.c.key == later).values(run_at=time.time() + 3600)
        )

        worker = spawn(config_path, ["worker"], "worker")

        async def dead() -> bool:
            assert worker.running, worker.log_tail()
            return any(job["state"] == "dead" for job in await _jobs(store))

        await _until(dead, APPLY_TIMEOUT, worker.log_tail)
        status, _ = await worker.terminate()
        assert status == 0, worker.log_tail()
        [job] = [job for job in await _jobs(store) if job["key"] == broken]
        assert job["attempts"] == DEFAULT_RETRY.attempts
        assert job["last_error"].startswith("InvalidDocument: "), job
        assert job["finished_at"]

        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "fedchirp", "--config", str(config_path), "jobs"],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert lines[0] == "1 queued, 0 running, 1 dead", done.stdout
        assert lines[1:] == [
            f"dead {job['id']} inbox {broken} after {DEFAULT_RETRY.attempts} attempts, "
            f"{job['finished_at']}: {job['last_error']}"
        ], done.stdout


# -- 6: a worker hears of work queued by a web process at once, not at its next poll ------


async def test_a_worker_applies_what_a_web_process_queued_at_once(
    tmp_path: Path,
    postgres_url: str,
    store: Store,
    spawn: Spawn,
    http: aiohttp.ClientSession,
    remote: StubActorServer,
) -> None:
    polls = {"poll_seconds": 60.0}  # a worker left to its poll would wait a minute
    config_path = write_config(
        tmp_path, database={"url": postgres_url}, jobs=polls, delivery=polls
    )
    config = load_config(config_path)
    async with asyncio.timeout(TEST_TIMEOUT):
        zed = await _alice_follows_zed(store, config, remote)
        web_process = spawn(config_path, ["web"], "web")
        worker = spawn(config_path, ["worker"], "worker")
        await web_process.wait_http(http, f"{config.base_url}/.well-known/nodeinfo")
        while "working:" not in worker.log_text():  # its loops are up and listening
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # past the loops' first look at the (empty) queue
        url = f"{config.base_url}/inbox"
        create = _create(_note(zed.uri, 1))
        body = json.dumps(create).encode()
        async with http.post(url, data=body, headers=inbox_signer(remote, "zed")(url, body)) as r:
            assert r.status == 202

        async def applied() -> bool:
            return create["id"] in await _seen(store)

        took = await _until(applied, 10.0, worker.log_tail)
        print(f"applied {took:.2f} s after the 202 (the worker's poll is 60 s)")


async def test_a_burst_of_queued_work_is_signalled_once_per_interval(store: Store) -> None:
    heard: list[float] = []
    stop = await store.listen(WORK_CHANNEL, lambda _: heard.append(time.monotonic()))
    signal = WorkSignal(store, interval=0.2)
    try:
        started = time.monotonic()
        for _ in range(100):  # as 100 group commits would, in one moment
            signal.queued()
        await asyncio.sleep(0.1)
        signal.queued()  # during the interval: signalled once more, at its end
        await asyncio.sleep(0.6)
    finally:
        await signal.close()
        await stop()
    assert len(heard) == 2, heard
    assert heard[0] - started < 0.15 and heard[1] - started >= 0.2
