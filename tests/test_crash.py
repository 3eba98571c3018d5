"""Crash safety: `kill -9` the real server while it works, restart it, read the database.

Each service writes one action as one unit of work (store/db.py): a local post with
its recipients, tags, home-feed entries and delivery jobs (services/posting.py), an
incoming activity's effects with its "seen" mark (services/inbox.py). These tests run
`python -m fedchirp serve` in a process of its own, SIGKILL it at random moments under
load, restart it on the same data, and then check from this process that nothing was
left half-written:

- posting: 50 posts by alice, who has accepted remote followers on three loopback
  "servers", through the Mastodon API while the server is killed 3-4 times. Every
  post that exists (acknowledged or not) has a Create delivery for each distinct
  follower inbox, its tag and its home-feed entry; every acknowledged one exists;
  no delivery points at a post that is not there.
- inbox: 200 signed Create(Note) activities from a followed remote actor, 24 in
  flight, and a kill part-way. Right after the kill every activity is either fully
  applied (note stored and id seen) or not at all, and every one answered 202 is
  applied or queued as a job; after a restart the worker applies the queue and the
  sender's retries complete the rest, each exactly once.

The kill points come from a seeded random.Random; the seed is printed (see it with
-s, or in a failure's captured output) and FEDCHIRP_CRASH_SEED=<seed> replays it.
Both tests run on SQLite and PostgreSQL (tests/conftest.py); the SQLite file also
gets PRAGMA integrity_check and foreign_key_check. Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from fedchirp.config import Config, config_from_dict, load_config, render_toml
from fedchirp.federation.documents import create_activity_id
from fedchirp.services.accounts import create_local_account
from fedchirp.services.oauth import token_hash
from fedchirp.store import Store
from fedchirp.store.models import Account
from fedchirp.store.schema import (
    account_stats,
    home_feed,
    inbox_seen,
    jobs,
    outbound_activities,
    status_tags,
    statuses,
)
from fedchirp.urls import Urls
from tests.instance_processes import free_port, inbox_signer, remote_account
from tests.stubs import StubActorServer

# Run on SQLite and on PostgreSQL (see tests/conftest.py).
pytestmark = pytest.mark.backends

POSTS_WANTED = 50
POSTERS = 4  # concurrent API clients
ACTIVITIES = 200
IN_FLIGHT = 24
START_TIMEOUT = 30.0  # seconds for `serve` to answer after it is started
RUN_TIMEOUT = 45.0  # seconds for a whole posting or sending phase
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=15)
TAG = "crashtest"
# Never parsed: these stand-in followers only receive deliveries, they never sign.
DUMMY_PEM = "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n"

# What a dying server (or a fresh one not listening yet) does to a request.
CONNECTION_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError)


def _seed() -> int:
    seed = int(os.environ.get("FEDCHIRP_CRASH_SEED") or random.randrange(2**32))
    print(f"crash test seed: {seed} (replay with FEDCHIRP_CRASH_SEED={seed})")
    return seed


# -- the server in a process of its own ------------------------------------------------


def _write_config(directory: Path, database_settings: dict[str, Any]) -> Path:
    """A config for an instance on a free loopback port, allowed to deliver to loopback."""
    port = free_port()
    settings = {
        "server": {"domain": f"127.0.0.1:{port}", "listen_host": "127.0.0.1", "listen_port": port},
        "storage": {"data_dir": str(directory / "data")},
        "federation": {"allow_private_addresses": True, "allow_http": True},
        "delivery": {"timeout_seconds": 5.0},
        # Jobs the killed server had claimed are taken up when their lease runs out.
        "jobs": {"lease_seconds": 2.0, "poll_seconds": 0.5},
        **database_settings,
    }
    path = directory / "config.toml"
    path.write_text(render_toml(config_from_dict(settings, base_dir=directory)), encoding="utf-8")
    return path


class ServerProcess:
    """`python -m fedchirp --config X serve`, started, SIGKILLed and restarted at will."""

    def __init__(self, config_path: Path, http: aiohttp.ClientSession) -> None:
        self.config_path = config_path
        self.config = load_config(config_path)
        self.http = http
        self.log = config_path.with_name("serve.log")
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0

    @property
    def base_url(self) -> str:
        return self.config.base_url

    async def start(self) -> None:
        assert self.proc is None, "already running"
        env = {k: v for k, v in os.environ.items() if k != "FEDCHIRP_CONFIG"}
        env["PYTHONUNBUFFERED"] = "1"
        with self.log.open("ab") as log:
            log.write(f"--- start {self.starts + 1} ---\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "fedchirp", "--config", str(self.config_path), "serve"],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.config_path.parent,
                env=env,
            )
        self.starts += 1
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert self.proc.poll() is None, f"serve exited early:\n{self.log_tail()}"
            try:
                async with self.http.get(
                    f"{self.base_url}/.well-known/nodeinfo", timeout=aiohttp.ClientTimeout(total=2)
                ) as resp:
                    if resp.status == 200:
                        return
            except CONNECTION_ERRORS:
                pass
            assert time.monotonic() < deadline, f"serve did not answer:\n{self.log_tail()}"
            await asyncio.sleep(0.05)

    def kill(self) -> None:
        """kill -9: no cleanup, no shutdown handlers, whatever was in progress."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None
        self.kills += 1

    async def stop(self) -> None:
        """A clean shutdown (SIGTERM); SIGKILL if it takes more than 15 s."""
        if self.proc is None:
            return
        self.proc.terminate()
        deadline = time.monotonic() + 15
        while self.proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


async def _with_store(config: Config, action: Callable[[Store], Awaitable[Any]]) -> Any:
    store = Store(config.database_url)
    await store.open()
    try:
        return await action(store)
    finally:
        await store.close()


def _check_sqlite_file(config: Config) -> None:
    """The file is sound: PRAGMA integrity_check says ok, no foreign key dangles."""
    if config.database.url:
        return  # PostgreSQL: the row checks are all there is
    with closing(sqlite3.connect(config.database_path)) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []


# -- 1: kill -9 while alice posts to remote followers ----------------------------------


async def _prepare_poster(config: Config, servers: list[str]) -> tuple[int, str, set[str]]:
    """alice, with accepted followers on three servers (and one pending follower who must
    get nothing); returns her id, an API token, and the inboxes her posts must reach."""
    a, b, c = servers
    followers = [
        (a, "ann", True),  # three on a server with a shared inbox: one delivery
        (a, "abe", True),
        (a, "amy", True),
        (b, "bob", False),  # two on a server without one: one delivery each
        (b, "bea", False),
        (c, "cal", True),  # a server where nothing listens: still queued
    ]
    token = secrets.token_urlsafe(32)

    async def prepare(store: Store) -> tuple[int, set[str]]:
        alice = await create_local_account(
            store, Urls(config.base_url), "alice", "correct horse battery"
        )
        expected: set[str] = set()
        for base, name, shared in followers:
            remote = await store.upsert_remote_account(
                remote_account(base, name, DUMMY_PEM, shared)
            )
            await store.insert_follow(remote.id, alice.id, f"{remote.uri}#follow", "accepted")
            expected.add(remote.delivery_inbox)
        pending = await store.upsert_remote_account(remote_account(c, "pat", DUMMY_PEM, False))
        await store.insert_follow(pending.id, alice.id, f"{pending.uri}#follow", "pending")
        assert await store.remote_follower_inboxes(alice.id) == expected
        await store.insert_token(token_hash(token), None, alice.id, "read write follow")
        return alice.id, expected

    alice_id, expected = await _with_store(config, prepare)
    assert len(expected) == 4
    return alice_id, token, expected


async def _post_while_killing(
    server: ServerProcess, http: aiohttp.ClientSession, token: str, rng: random.Random
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Post until POSTS_WANTED are acknowledged, killing and restarting the server 3-4
    times on the way. Returns the acknowledged posts (text -> API answer) and the posts
    whose fate is unknown (text -> what went wrong)."""
    acked: dict[str, dict[str, Any]] = {}
    unknown: dict[str, str] = {}
    refused: list[str] = []  # answers other than 200 from a running server
    numbers = itertools.count()
    up = asyncio.Event()
    up.set()
    done = asyncio.Event()
    headers = {"Authorization": f"Bearer {token}"}
    kill_after = sorted(rng.sample(range(3, POSTS_WANTED - 5), rng.randint(3, 4)))
    print(f"killing after {kill_after} acknowledged posts")

    async def poster() -> None:
        while len(acked) < POSTS_WANTED:
            await up.wait()
            text = f"crash test post {next(numbers)} #{TAG}"
            try:
                async with http.post(
                    f"{server.base_url}/api/v1/statuses",
                    json={"status": text},
                    headers=headers,
                    timeout=REQUEST_TIMEOUT,
                ) as resp:
                    body = await resp.read()
                    if resp.status == 200:
                        acked[text] = json.loads(body)
                    else:
                        refused.append(f"{resp.status} {body[:200]!r}")
                        unknown[text] = f"HTTP {resp.status}"
            except CONNECTION_ERRORS as exc:
                unknown[text] = repr(exc)
                await asyncio.sleep(0.02)

    async def killer() -> None:
        for threshold in kill_after:
            while len(acked) < threshold:
                await asyncio.sleep(0.002)
            await asyncio.sleep(rng.uniform(0, 0.03))  # somewhere in the next post or two
            up.clear()
            server.kill()
            await asyncio.sleep(rng.uniform(0, 0.1))
            await server.start()
            up.set()
        await done.wait()

    async def run() -> None:
        killing = asyncio.create_task(killer())
        try:
            await asyncio.gather(*(poster() for _ in range(POSTERS)))
            done.set()
            await killing
        finally:
            killing.cancel()

    try:
        await asyncio.wait_for(run(), RUN_TIMEOUT)
    except TimeoutError:
        pytest.fail(
            f"only {len(acked)} posts acknowledged, {server.kills} kills done in "
            f"{RUN_TIMEOUT} s\n{server.log_tail()}"
        )
    assert not refused, f"the running server refused posts: {refused[:5]}\n{server.log_tail()}"
    assert server.kills == len(kill_after)
    return acked, unknown


async def test_kill_9_while_posting_loses_no_delivery(
    tmp_path: Path,
    database_settings: dict[str, Any],
    http: aiohttp.ClientSession,
    remote: StubActorServer,
    evil: StubActorServer,
) -> None:
    rng = random.Random(_seed())
    dead = f"http://127.0.0.1:{free_port()}"  # nobody listens: deliveries wait to retry
    server = ServerProcess(_write_config(tmp_path, database_settings), http)
    alice_id, token, inboxes = await _prepare_poster(server.config, [remote.base, evil.base, dead])

    await server.start()
    try:
        acked, unknown = await _post_while_killing(server, http, token, rng)
    finally:
        await server.stop()

    async def read(store: Store) -> dict[str, Any]:
        return {
            "posts": await store.db.all(
                select(statuses).where(
                    statuses.c.account_id == alice_id, statuses.c.reblog_of_id.is_(None)
                )
            ),
            "deliveries": await store.db.all(select(outbound_activities)),
            "delivery_jobs": await store.db.all(select(jobs).where(jobs.c.queue == "deliver")),
            "feed": set(
                await store.db.scalars(
                    select(home_feed.c.status_id).where(home_feed.c.account_id == alice_id)
                )
            ),
            "tagged": set(
                await store.db.scalars(
                    select(status_tags.c.status_id).where(status_tags.c.tag == TAG)
                )
            ),
            "count": await store.db.scalar(
                select(account_stats.c.statuses_count).where(account_stats.c.account_id == alice_id)
            ),
            "all_status_ids": set(await store.db.scalars(select(statuses.c.id))),
        }

    found = await _with_store(server.config, read)
    posts = {row["id"]: row for row in found["posts"]}
    by_text = {row["source_text"]: row for row in found["posts"]}
    in_doubt = [text for text in unknown if text in by_text]
    print(
        f"{len(acked)} posts acknowledged, {len(unknown)} in doubt of which {len(in_doubt)} "
        f"were written; {server.kills} kills"
    )

    # Every acknowledged post is there, as it was acknowledged.
    for text, answer in acked.items():
        row = by_text.get(text)
        assert row is not None, f"acknowledged post lost: {text}"
        assert str(row["id"]) == answer["id"] and row["uri"] == answer["uri"]
    # Whatever exists was asked for, once.
    assert set(by_text) <= set(acked) | set(unknown)
    assert len(by_text) == len(posts)

    # Every post that exists is whole: all its follower inboxes queued, tagged, in the feed.
    # (Each activity once, with its inboxes; a job per inbox until it is delivered.)
    queued = {row["activity_uri"]: set(row["inboxes"].split("\n")) for row in found["deliveries"]}
    jobs_of: dict[int, set[str]] = {}
    for job in found["delivery_jobs"]:
        jobs_of.setdefault(json.loads(job["payload"])["activity"], set()).add(job["lane"])
    for row in found["deliveries"]:
        waiting = jobs_of.pop(row["id"], set())
        assert waiting <= queued[row["activity_uri"]]
        assert len(waiting) + row["delivered"] + row["failed"] == row["recipients"]
    assert jobs_of == {}, "delivery jobs of no activity"
    creates = {create_activity_id(row["uri"]): row for row in posts.values()}
    for activity_uri, row in creates.items():
        missing = inboxes - queued.get(activity_uri, set())
        assert not missing, (
            f"post {row['id']} ({row['source_text']!r}, acknowledged: "
            f"{row['source_text'] in acked}) has no delivery to {sorted(missing)}"
        )
        assert queued[activity_uri] == inboxes
    assert set(posts) <= found["feed"], "posts missing from alice's home feed"
    assert set(posts) <= found["tagged"], "posts missing their hashtag"
    assert found["count"] == len(posts), "statuses_count disagrees with the posts"

    # No delivery belongs to a post that is not there.
    for delivery in found["deliveries"]:
        assert delivery["status_id"] is None or delivery["status_id"] in found["all_status_ids"]
        if delivery["activity_type"] == "Create":
            assert delivery["activity_uri"] in creates, f"orphan activity {delivery['id']}"
            assert delivery["status_id"] == creates[delivery["activity_uri"]]["id"]
    _check_sqlite_file(server.config)


# -- 2: kill -9 during a burst of incoming activities ----------------------------------


def _creates(actor: str) -> list[tuple[str, str, bytes]]:
    """(activity id, note id, body) of ACTIVITIES distinct public Create(Note)s.

    Each is published a second after the one before: notes sharing a publication
    second (Mastodon sends whole seconds) run into a separate problem, status ids
    colliding after a restart (store/ids.py), which is not what this test is about."""
    made = []
    first = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    for number in range(ACTIVITIES):
        note_id = f"{actor}/statuses/{number}"
        published = (first + timedelta(seconds=number)).strftime("%Y-%m-%dT%H:%M:%SZ")
        activity = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{note_id}/activity",
            "type": "Create",
            "actor": actor,
            "published": published,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [f"{actor}/followers"],
            "object": {
                "id": note_id,
                "type": "Note",
                "attributedTo": actor,
                "content": f"<p>note number {number} #{TAG}</p>",
                "published": published,
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
                "cc": [f"{actor}/followers"],
            },
        }
        made.append((activity["id"], note_id, json.dumps(activity).encode()))
    return made


async def _applied(config: Config, actor_uri: str) -> tuple[set[str], set[str], set[int], int]:
    """(activity ids seen, note ids stored, ids of those in alice's feed, statuses of the
    actor) as the database holds them now."""

    async def read(store: Store) -> tuple[set[str], set[str], set[int], int]:
        actor = await store.get_account_by_uri(actor_uri)
        assert actor is not None
        alice = await store.find_account("alice", "")
        assert alice is not None
        seen = set(await store.db.scalars(select(inbox_seen.c.activity_uri)))
        rows = await store.db.all(
            select(statuses.c.id, statuses.c.uri).where(statuses.c.account_id == actor.id)
        )
        feed = set(
            await store.db.scalars(
                select(home_feed.c.status_id).where(home_feed.c.account_id == alice.id)
            )
        )
        stored = {row["uri"] for row in rows}
        return seen, stored, {row["id"] for row in rows} & feed, len(rows)

    return await _with_store(config, read)


async def _queued(config: Config) -> set[str]:
    """Keys (activity ids) of the inbox jobs waiting to be applied."""

    async def read(store: Store) -> set[str]:
        return set(await store.db.scalars(select(jobs.c.key).where(jobs.c.state != "dead")))

    return await _with_store(config, read)


async def _until_applied(config: Config, actor_uri: str, wanted: set[str]) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        seen, *_ = await _applied(config, actor_uri)
        if wanted <= seen:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{len(wanted - seen)} activities were never applied")


async def test_kill_9_during_inbox_burst_loses_no_accepted_activity(
    tmp_path: Path,
    database_settings: dict[str, Any],
    http: aiohttp.ClientSession,
    remote: StubActorServer,
) -> None:
    rng = random.Random(_seed())
    server = ServerProcess(_write_config(tmp_path, database_settings), http)
    zed = remote.add_actor("zed")
    public_pem = remote.actors["zed"]["publicKey"]["publicKeyPem"]

    async def prepare(store: Store) -> Account:
        alice = await create_local_account(
            store, Urls(server.base_url), "alice", "correct horse battery"
        )
        account = await store.upsert_remote_account(
            remote_account(remote.base, "zed", public_pem, True)
        )
        # alice follows zed, so zed's posts are wanted here.
        await store.insert_follow(alice.id, account.id, f"{server.base_url}/follows/1", "accepted")
        return account

    await _with_store(server.config, prepare)
    url = f"{server.base_url}/inbox"
    sign = inbox_signer(remote, "zed")
    requests = [(aid, nid, body, sign(url, body)) for aid, nid, body in _creates(zed)]
    kill_after = rng.randint(ACTIVITIES // 5, ACTIVITIES * 3 // 5)
    print(f"killing after {kill_after} activities answered 202")

    answers: dict[str, int | str] = {}  # activity id -> HTTP status, or what went wrong
    kill_now = asyncio.Event()
    killed = asyncio.Event()
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def send(activity_id: str, body: bytes, headers: dict[str, str]) -> None:
        async with gate:
            if killed.is_set():
                return  # the sender would retry later; so it will, below
            try:
                async with http.post(
                    url, data=body, headers=headers, timeout=REQUEST_TIMEOUT
                ) as resp:
                    await resp.read()
                    answers[activity_id] = resp.status
            except CONNECTION_ERRORS as exc:
                answers[activity_id] = repr(exc)
                return
            if sum(status == 202 for status in answers.values()) >= kill_after:
                kill_now.set()

    async def killer() -> None:
        await kill_now.wait()
        await asyncio.sleep(rng.uniform(0, 0.01))
        killed.set()
        server.kill()

    await server.start()
    try:
        killing = asyncio.create_task(killer())
        try:
            await asyncio.wait_for(
                asyncio.gather(*(send(aid, body, headers) for aid, _, body, headers in requests)),
                RUN_TIMEOUT,
            )
            assert kill_now.is_set(), f"too few 202s to kill after:\n{server.log_tail()}"
            await asyncio.wait_for(killing, 5)
        finally:
            killing.cancel()
        assert server.kills == 1
        accepted = {aid for aid, status in answers.items() if status == 202}
        others = {a: s for a, s in answers.items() if s != 202 and isinstance(s, int)}
        assert not others, f"refused by the running server: {others}\n{server.log_tail()}"

        # Right after the kill: each activity is applied whole or not at all, and every
        # one that was answered 202 is applied or waits in the job queue.
        seen, stored, in_feed, _ = await _applied(server.config, zed)
        queued = await _queued(server.config)
        half = [
            (aid, aid in seen, nid in stored)
            for aid, nid, _, _ in requests
            if (aid in seen) != (nid in stored)
        ]
        assert not half, f"half-applied activities (id, seen, stored): {half[:5]}"
        lost = [aid for aid in accepted if aid not in seen and aid not in queued]
        assert not lost, f"{len(lost)} activities answered 202 were lost: {lost[:5]}"
        unanswered_but_applied = len({aid for aid, *_ in requests if aid in seen} - set(accepted))
        print(
            f"{len(accepted)} answered 202 before the kill; {len(seen)} applied "
            f"({unanswered_but_applied} of them unanswered), {len(queued)} queued"
        )
        _check_sqlite_file(server.config)

        # Restarted, the server takes the sender's retries of everything not answered.
        await server.start()
        retry_gate = asyncio.Semaphore(8)

        async def retry(body: bytes, headers: dict[str, str]) -> int:
            async with (
                retry_gate,
                http.post(url, data=body, headers=headers, timeout=REQUEST_TIMEOUT) as resp,
            ):
                await resp.read()
                return resp.status

        pending = [(body, headers) for aid, _, body, headers in requests if aid not in accepted]
        statuses_back = await asyncio.wait_for(
            asyncio.gather(*(retry(body, headers) for body, headers in pending)), RUN_TIMEOUT
        )
        assert set(statuses_back) <= {202}, f"retries answered {sorted(set(statuses_back))}"
        # The restarted server's worker applies what was queued before and since.
        await _until_applied(server.config, zed, {aid for aid, *_ in requests})
    finally:
        await server.stop()

    seen, stored, in_feed, count = await _applied(server.config, zed)
    assert {aid for aid, *_ in requests} <= seen
    assert stored == {nid for _, nid, _, _ in requests}
    assert count == ACTIVITIES, "a note was stored twice"
    assert len(in_feed) == ACTIVITIES, "notes missing from alice's home feed"
    _check_sqlite_file(server.config)
