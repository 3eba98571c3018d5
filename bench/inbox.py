"""Inbox throughput (signed Create POSTs answered 202) against baselines, in one run.

    .venv/bin/python bench/inbox.py [--requests 3000] [--warmup 100]
        [--concurrency 1,8,32] [--backends sqlite,postgresql] [--pg-web 1,2,3] [--actors 1]
        [--inbox-limit-shared]

For each concurrency it measures, with the same client and the same kind of request:
  bare aiohttp   an aiohttp handler that reads the body and answers 202, in a process
                 of its own (the HTTP floor; the fastest of three passes of the N
                 requests, as it is short and noisy)
  sqlite         `fedchirp serve`: web and workers in one process, on SQLite
  postgresql     1, 2 and 3 `fedchirp web` processes sharing one port (SO_REUSEPORT)
                 plus one `fedchirp worker`, on PostgreSQL
and once, as a second reference, the one-core rate of cryptography's RSA-2048
PKCS#1 v1.5 verify (what the inbox must do per request at least).

The requests: N distinct Create(Note) activities by a remote actor that a local user
follows (--actors K: K such actors taking turns; the inbox applies one sender's
activities one at a time, in order), signed Mastodon-style
(fedchirp.federation.httpsig.sign_request). The actors and their key are served by a
stub actor server (tests/stubs.py) in a process of its own; the instance fetches each
actor once, while the run is set up, through its own resolver, and has it cached from
then on. The instances run with
federation.allow_private_addresses and allow_http, everything on 127.0.0.1.

The client is a process of its own: it signs every request before the clock starts,
sends a warm-up at the measured concurrency (keep-alive connections, one per request
in flight), waits until the workers have applied the warm-up, then sends the N timed
requests; every answer must be a 202. The rate is N over the time from the first
timed request to the last 202. After the last 202 the database is polled until every
activity is in inbox_seen (the drain time; at first poll done it is an upper bound),
and then checked: each activity applied exactly once (one status per note id, no job
left queued or dead). Each measurement gets a new database and new server processes.

Also printed: the CPU used during the timed phase by the client, the fedchirp
processes and (for PostgreSQL) the whole PostgreSQL server, and how the requests
were spread over several web processes (from their access logs). On a machine with
few cores these say what limits the figures. PostgreSQL runs as a throwaway cluster
(tests/postgres.py; as the unprivileged user `nobody` when we are root). Every
process this starts is stopped on the way out, also after an error or a Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import multiprocessing
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from email.utils import format_datetime
from multiprocessing.connection import Connection
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web
from benchlib import end_popen, end_process, free_port, tests_module
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from fedchirp.app import instance_context
from fedchirp.clock import now_iso, utcnow
from fedchirp.config import load_config
from fedchirp.federation.httpsig import (
    digest_header,
    generate_key_pair,
    load_private_key,
    sign_request,
)
from fedchirp.services import accounts

REPO = Path(__file__).resolve().parent.parent
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
ACTOR = "remote"  # the stub's actors, who post: remote0, remote1, ...
FOLLOWER = "reader"  # the local account following them

START_SECONDS = 90.0  # for a process to come up
REQUEST_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.02  # database polling while the workers drain
VERIFY_SECONDS = 1.0  # how long the RSA verify reference runs
BARE_PASSES = 3  # the bare server is timed over this many passes, the fastest counts


# -- small helpers ----------------------------------------------------------------------


def _listening(port: int) -> int | None:
    """How many sockets listen on 127.0.0.1:port (one per web process with
    SO_REUSEPORT); None where /proc/net/tcp cannot tell."""
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return None
    wanted = f"0100007F:{port:04X}"
    return sum(1 for line in lines if line.split()[1] == wanted and line.split()[3] == "0A")


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), 0.5).close()
    except OSError:
        return False
    return True


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(stat.parent.name))
    return found


async def _receive(
    conn: Connection, process: multiprocessing.process.BaseProcess, seconds: float
) -> Any:
    """The next message from a child process, within seconds (a Ctrl-C gets through)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if conn.poll():
            return conn.recv()
        if not process.is_alive():
            raise RuntimeError(f"{process.name} ended (exit code {process.exitcode})")
        await asyncio.sleep(0.01)
    raise RuntimeError(f"{process.name} did not answer within {seconds:.0f} s")


def _spawn(target: Any, *args: Any) -> tuple[multiprocessing.process.BaseProcess, Connection]:
    spawn = multiprocessing.get_context("spawn")
    ours, theirs = spawn.Pipe()
    process = spawn.Process(target=target, args=(theirs, *args), daemon=True)
    process.name = target.__name__.strip("_")
    process.start()
    return process, ours


# -- the stub actor and the bare server (processes of their own) ------------------------


def _stub_actor(conn: Connection, private_pem: str, count: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    asyncio.run(_serve_stub_actor(conn, private_pem, count))


async def _serve_stub_actor(conn: Connection, private_pem: str, count: int) -> None:
    """Serve `count` actors (one key pair between them, a key id each): [(id, key id)]."""
    stub = tests_module("stubs").StubActorServer()
    await stub.start()
    actors = []
    for n in range(count):
        actor_id = stub.add_actor(f"{ACTOR}{n}", private_pem)
        actors.append((actor_id, stub.actors[f"{ACTOR}{n}"]["publicKey"]["id"]))
    conn.send(actors)
    await asyncio.Event().wait()  # until terminated


def _bare_server(conn: Connection) -> None:
    """The HTTP floor: read the body, answer 202."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    asyncio.run(_serve_bare(conn))


async def _serve_bare(conn: Connection) -> None:
    async def accept(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/inbox", accept)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    conn.send(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
    await asyncio.Event().wait()


# -- the activities ---------------------------------------------------------------------


@dataclass(frozen=True)
class Senders:
    """The remote actors (id, key id) taking turns to post, and their private key."""

    actors: tuple[tuple[str, str], ...]
    private_pem: str

    def actor(self, n: int) -> tuple[str, str]:
        return self.actors[n % len(self.actors)]

    def note_ids(self, tag: str, count: int) -> set[str]:
        return {note_id(self.actor(n)[0], tag, n) for n in range(count)}


def note_id(actor: str, tag: str, n: int) -> str:
    return f"{actor}/statuses/{tag}-{n}"


def create_activity(actor: str, tag: str, n: int) -> bytes:
    """A Create(Note) about the size and shape of a short Mastodon post."""
    published = now_iso()
    note = note_id(actor, tag, n)
    audience = {"to": [PUBLIC], "cc": [f"{actor}/followers"]}
    content = (
        f"<p>Post {n} of the inbox benchmark ({tag}). A few sentences of ordinary text, "
        "so that the body is about as long as a short post from a Mastodon server.</p>"
    )
    return json.dumps(
        {
            "@context": [
                "https://www.w3.org/ns/activitystreams",
                {"sensitive": "as:sensitive", "Hashtag": "as:Hashtag"},
            ],
            "id": f"{note}/activity",
            "type": "Create",
            "actor": actor,
            "published": published,
            **audience,
            "object": {
                "id": note,
                "type": "Note",
                "summary": None,
                "inReplyTo": None,
                "published": published,
                "url": f"{actor.replace('/users/', '/@')}/{tag}-{n}",
                "attributedTo": actor,
                **audience,
                "sensitive": False,
                "content": content,
                "contentMap": {"en": content},
                "attachment": [],
                "tag": [],
            },
        }
    ).encode()


# -- the client (a process of its own) ---------------------------------------------------


def _client(
    conn: Connection,
    url: str,
    senders: Senders,
    tag: str,
    warmup: int,
    count: int,
    concurrency: int,
    passes: int,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        asyncio.run(_load(conn, url, senders, tag, warmup, count, concurrency, passes))
    except Exception as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))


def _signed(url: str, senders: Senders, tag: str, count: int) -> list:
    requests = []
    for n in range(count):
        actor, key_id = senders.actor(n)
        body = create_activity(actor, tag, n)
        headers = sign_request("POST", url, key_id, senders.private_pem, body)
        requests.append((body, {**headers, "Content-Type": "application/activity+json"}))
    return requests


async def _send(session: aiohttp.ClientSession, url: str, requests: list, concurrency: int):
    pending = iter(requests)

    async def worker() -> None:
        for body, headers in pending:
            async with session.post(url, data=body, headers=headers) as response:
                answer = await response.read()
                if response.status != 202:
                    raise RuntimeError(f"{url} answered {response.status}: {answer[:300]!r}")

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _load(
    conn: Connection,
    url: str,
    senders: Senders,
    tag: str,
    warmup: int,
    count: int,
    concurrency: int,
    passes: int,
) -> None:
    """Sign everything, warm up, wait for the parent's go, then the timed requests
    (`passes` times over, for a server that does not mind repeats: the fastest counts)."""
    warm = _signed(url, senders, f"{tag}w", warmup)
    timed = _signed(url, senders, f"{tag}t", count)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await _send(session, url, warm, concurrency)
        conn.send(("warm", None))
        if conn.recv() != "go":
            return
        best: dict[str, float] = {}
        for _ in range(passes):
            cpu, started = time.process_time(), time.perf_counter()
            await _send(session, url, timed, concurrency)
            elapsed, last_202 = time.perf_counter() - started, time.time()
            cpu = time.process_time() - cpu
            if not best or elapsed < best["seconds"]:
                best = {"seconds": elapsed, "last_202": last_202, "cpu": cpu}
    conn.send(("done", best))


class Client:
    """One run of the client process against url."""

    def __init__(
        self, senders: Senders, url: str, tag: str, args: Any, c: int, passes: int = 1
    ) -> None:
        self.process, self.conn = _spawn(
            _client, url, senders, tag, args.warmup, args.requests, c, passes
        )
        self.passes = passes
        self.signing_seconds = 60 + (args.warmup + args.requests) * 0.05

    async def expect(self, kind: str, seconds: float) -> Any:
        message = await _receive(self.conn, self.process, seconds)
        if message[0] == "error":
            raise RuntimeError(f"client: {message[1]}")
        if message[0] != kind:
            raise RuntimeError(f"client said {message[0]}, expected {kind}")
        return message[1]

    async def warmed_up(self, requests: int) -> None:
        await self.expect("warm", self.signing_seconds + requests * REQUEST_TIMEOUT_SECONDS)

    async def go(self, requests: int) -> dict[str, Any]:
        self.conn.send("go")
        return await self.expect("done", 60 + self.passes * requests * REQUEST_TIMEOUT_SECONDS)

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send("stop")
        self.process.join(5)
        end_process(self.process)


async def measure_bare(
    base_url: str, pid: int, senders: Senders, c: int, args: Any
) -> dict[str, Any]:
    client = Client(senders, f"{base_url}/inbox", f"bare-c{c}-", args, c, BARE_PASSES)
    meter = CpuMeter({"bare": [pid]})
    try:
        await client.warmed_up(args.warmup)
        meter.start()
        result = await client.go(args.requests)
        cpu = meter.stop()
    finally:
        client.stop()
    cpu["client"] = result["cpu"] / result["seconds"]
    return {"rate": args.requests / result["seconds"], "cpu": cpu}


def verify_rate(private_pem: str) -> float:
    """cryptography's RSA PKCS#1 v1.5 / SHA-256 verify of a signing string like ours."""
    key = load_private_key(private_pem)
    text = (
        "(request-target): post /inbox\nhost: 127.0.0.1:8080\n"
        f"date: {format_datetime(utcnow(), usegmt=True)}\ndigest: {digest_header(b'x' * 900)}"
    ).encode()
    signature = key.sign(text, padding.PKCS1v15(), hashes.SHA256())
    public = key.public_key()
    rounds, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < VERIFY_SECONDS:
        for _ in range(100):
            public.verify(signature, text, padding.PKCS1v15(), hashes.SHA256())
        rounds += 100
    return rounds / elapsed


# -- a FedChirp instance under test ------------------------------------------------------


class Instance:
    """A database, a config and the server processes on one port: `serve` (web == 0),
    or `web` processes sharing the port plus one `worker`."""

    def __init__(
        self, directory: Path, database_url: str, web: int, shared_limit: bool = False
    ) -> None:
        self.directory = directory
        self.database_url = database_url
        self.web = web
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.processes: list[tuple[str, subprocess.Popen, Path]] = []
        directory.mkdir(parents=True)
        self.config = directory / "fedchirp.toml"
        self.config.write_text(
            "[server]\n"
            f'domain = "127.0.0.1:{self.port}"\n'
            'scheme = "http"\n'
            'listen_host = "127.0.0.1"\n'
            f"listen_port = {self.port}\n\n"
            "[storage]\n"
            f"data_dir = {json.dumps(str(directory / 'data'))}\n\n"
            "[database]\n"
            f"url = {json.dumps(database_url)}\n\n"
            "[federation]\n"
            "allow_private_addresses = true\n"
            "allow_http = true\n\n"
            # One sender posts every request: the limit per server is checked and counted
            # on each of them as always, at a rate it never reaches.
            "[limits]\n"
            'inbox_per_server = "1000000000/minute"\n'
            # --inbox-limit-shared: counted in the database, as every other limit is there.
            + ('storage = "database"\ninbox_shared = true\n' if shared_limit else "")
        )

    async def prepare(self, actors: list[str]) -> None:
        """Schema, a local account following the remote actors (fetched here, once, by
        the instance's own resolver, and cached in the database)."""
        async with instance_context(load_config(self.config)) as ctx:
            reader = await accounts.create_local_account(
                ctx.store, ctx.urls, FOLLOWER, "bench-password-not-secret"
            )
            for n, actor in enumerate(actors):
                remote = await ctx.resolver.actor(actor)
                uri = ctx.urls.activity(FOLLOWER, "follows", f"bench{n}")
                await ctx.store.insert_follow(reader.id, remote.id, uri, "accepted")

    async def start(self) -> None:
        roles = ["serve"] if self.web == 0 else ["worker"] + ["web"] * self.web
        for n, role in enumerate(roles):
            log = self.directory / f"{role}-{n}.log"
            with log.open("ab") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "fedchirp", "--config", str(self.config), role],
                    cwd=REPO, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True,  # we stop it ourselves, also after a Ctrl-C
                )  # fmt: skip
            self.processes.append((role, process, log))
        listeners = max(1, self.web)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            for role, process, _log in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"fedchirp {role} exited ({process.returncode})\n" +
                                       self.log_tail())  # fmt: skip
            found = _listening(self.port)
            if found is None:  # no /proc: settle for the port answering, and a pause
                if _answers(self.port):
                    await asyncio.sleep(2.0)
                    return
            elif found >= listeners:
                return
            await asyncio.sleep(0.05)
        raise RuntimeError(f"fedchirp did not start in {START_SECONDS:.0f} s\n{self.log_tail()}")

    def stop(self) -> None:
        for _role, process, _log in self.processes:
            with contextlib.suppress(OSError):
                process.terminate()
        for _role, process, _log in self.processes:
            end_popen(process)

    def pids(self) -> dict[str, list[int]]:
        by_role: dict[str, list[int]] = {}
        for role, process, _log in self.processes:
            by_role.setdefault(role, []).append(process.pid)
        return by_role

    def inbox_posts(self) -> list[int]:
        """Inbox POSTs each web process has logged so far (aiohttp's access log)."""
        return [
            log.read_text(errors="replace").count('"POST /inbox ')
            for role, _process, log in self.processes
            if role in ("web", "serve")
        ]

    def log_tail(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-1500:]}"
            for _role, _process, log in self.processes
            if log.exists()
        )


class Window:
    """The parent's view of an instance's database: counts, by a connection of its own."""

    def __init__(self, sqlite_path: Path | None, pg: asyncpg.Connection | None) -> None:
        self.sqlite = sqlite3.connect(sqlite_path, timeout=10) if sqlite_path else None
        self.pg = pg

    @classmethod
    async def open(cls, database_url: str, cluster: Any) -> Window:
        if database_url.startswith("sqlite"):
            return cls(Path(database_url.split("///", 1)[1]), None)
        name = database_url.rsplit("/", 1)[1]
        pg = await asyncpg.connect(
            host="127.0.0.1", port=cluster.port, user=_pg().USER, database=name, ssl=False
        )
        return cls(None, pg)

    async def rows(self, sql: str) -> list[tuple[Any, ...]]:
        if self.sqlite is not None:
            return self.sqlite.execute(sql).fetchall()
        assert self.pg is not None
        return [tuple(row) for row in await self.pg.fetch(sql)]

    async def seen(self) -> int:
        return (await self.rows("SELECT COUNT(*) FROM inbox_seen"))[0][0]

    async def wait_seen(self, count: int, seconds: float) -> tuple[float | None, bool]:
        """Poll until count activities are applied: (when, at the first poll already)."""
        deadline, first = time.monotonic() + seconds, True
        while time.monotonic() < deadline:
            if await self.seen() >= count:
                return time.time(), first
            first = False
            await asyncio.sleep(POLL_SECONDS)
        return None, False

    async def close(self) -> None:
        if self.sqlite is not None:
            self.sqlite.close()
        if self.pg is not None:
            await self.pg.close()


async def check_applied(window: Window, expected: set[str], seconds: float) -> str:
    """'ok', or what is wrong: every note stored once and nothing else, no job left."""
    deadline = time.monotonic() + seconds
    while True:  # the last jobs are deleted just after their activity is marked seen
        jobs = dict(await window.rows("SELECT state, COUNT(*) FROM jobs GROUP BY state"))
        if not jobs or time.monotonic() > deadline:
            break
        await asyncio.sleep(POLL_SECONDS)
    uris = [row[0] for row in await window.rows("SELECT uri FROM statuses")]
    seen = await window.seen()
    problems = []
    if len(uris) != len(expected) or set(uris) != expected:
        missing, extra = len(expected - set(uris)), len(set(uris) - expected)
        problems.append(f"{len(uris)} statuses for {len(expected)} notes "
                        f"({missing} missing, {extra} unexpected)")  # fmt: skip
    if seen != len(expected):
        problems.append(f"inbox_seen has {seen}")
    if jobs:
        problems.append(f"jobs left: {jobs}")
    return "; ".join(problems) or "ok"


# -- PostgreSQL --------------------------------------------------------------------------


@functools.cache
def _pg() -> ModuleType:
    return tests_module("postgres")


def start_cluster() -> Any:
    """A throwaway cluster (tests/postgres.py), or None with the reason printed."""
    module = _pg()
    bindir = module.find_bindir()
    if bindir is None:
        print("postgresql: skipped, no PostgreSQL server binaries (initdb, pg_ctl) found")
        return None
    cluster = module.PostgresCluster(bindir)
    cluster.start()
    return cluster


def _postmaster_pid(cluster: Any) -> int | None:
    with contextlib.suppress(OSError, ValueError, TypeError):
        return int((Path(cluster.root) / "data" / "postmaster.pid").read_text().split()[0])
    return None


# -- one measurement ---------------------------------------------------------------------


class CpuMeter:
    """CPU seconds used between start() and stop(), per group of processes."""

    def __init__(self, groups: dict[str, Any]) -> None:
        self.groups = groups  # name -> list of pids, or a callable giving them
        self.before: dict[str, dict[int, float]] = {}
        self.wall = 0.0

    def _sample(self) -> dict[str, dict[int, float]]:
        out = {}
        for name, pids in self.groups.items():
            pids = pids() if callable(pids) else pids
            out[name] = {pid: _cpu_seconds(pid) for pid in pids}
        return out

    def start(self) -> None:
        self.before, self.wall = self._sample(), time.perf_counter()

    def stop(self) -> dict[str, float]:
        after, wall = self._sample(), time.perf_counter() - self.wall
        return {
            name: sum(cpu - self.before[name].get(pid, 0.0) for pid, cpu in pids.items()) / wall
            for name, pids in after.items()
        }


async def measure_fedchirp(
    label: str,
    instance: Instance,
    window: Window,
    senders: Senders,
    c: int,
    args: argparse.Namespace,
    cluster: Any,
) -> dict[str, Any]:
    """Warm-up, the timed requests, the drain, the check (the instance is prepared)."""
    tag = f"{label}-c{c}-"
    expected = senders.note_ids(f"{tag}w", args.warmup) | senders.note_ids(f"{tag}t", args.requests)
    drain_seconds = 120 + len(expected) * 0.2
    await instance.start()
    groups: dict[str, Any] = instance.pids()
    postmaster = _postmaster_pid(cluster) if cluster is not None else None
    if postmaster is not None:
        groups["postgres"] = lambda: [postmaster, *_children(postmaster)]
    meter = CpuMeter(groups)
    client = Client(senders, f"{instance.base_url}/inbox", tag, args, c)
    try:
        await client.warmed_up(args.warmup)
        if (await window.wait_seen(args.warmup, drain_seconds))[0] is None:
            raise RuntimeError(f"the warm-up was not applied\n{instance.log_tail()}")
        posts_before = instance.inbox_posts()
        meter.start()
        result = await client.go(args.requests)
        cpu = meter.stop()
        posts = [a - b for a, b in zip(instance.inbox_posts(), posts_before, strict=True)]
        applied_at, at_first_poll = await window.wait_seen(len(expected), drain_seconds)
        check = await check_applied(window, expected, 30.0)
    except Exception:
        print(f"  {label} c={c}: failed; server logs:\n{instance.log_tail()}", file=sys.stderr)
        raise
    finally:
        client.stop()
        instance.stop()
    drain = None if applied_at is None else max(0.0, applied_at - result["last_202"])
    cpu["client"] = result["cpu"] / result["seconds"]
    return {
        "rate": args.requests / result["seconds"],
        "drain": drain,
        "drain_bound": at_first_poll,
        "check": check if applied_at is not None else f"not applied in {drain_seconds:.0f} s",
        "cpu": cpu,
        "posts": posts,
    }


async def run_fedchirp(
    backend: str,
    web: int,
    c: int,
    run_dir: Path,
    senders: Senders,
    args: argparse.Namespace,
    cluster: Any,
) -> dict[str, Any]:
    label = "sqlite" if backend == "sqlite" else f"pg{web}w"
    directory = run_dir / f"{label}-c{c}"
    database = None
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{directory / 'fedchirp.sqlite3'}"
    else:
        database = await cluster.create_database()
        url = cluster.url(database)
    try:
        instance = Instance(directory, url, web, args.inbox_limit_shared)
        await instance.prepare([actor for actor, _key_id in senders.actors])
        window = await Window.open(url, cluster)
        try:
            pg = cluster if backend == "postgresql" else None  # its CPU counts there only
            return await measure_fedchirp(label, instance, window, senders, c, args, pg)
        finally:
            await window.close()
    finally:
        if database is not None:
            await cluster.drop_databases([database])
        shutil.rmtree(directory / "data", ignore_errors=True)


# -- the run ---------------------------------------------------------------------------


def _config_name(backend: str, web: int) -> str:
    if backend == "sqlite":
        return "sqlite serve (web+workers)"
    return f"postgresql {web} web + 1 worker"


def _cpu_text(cpu: dict[str, float]) -> str:
    order = ("client", "bare", "serve", "web", "worker", "postgres")
    return " ".join(f"{name} {cpu[name] * 100:.0f}%" for name in order if name in cpu)


def _split_text(posts: list[int]) -> str:
    total = sum(posts)
    if len(posts) < 2 or not total:
        return ""
    return "/".join(f"{p * 100 / total:.0f}" for p in posts) + "%"


async def run(args: argparse.Namespace, run_dir: Path) -> tuple[dict, float, list[str]]:
    private_pem, _ = generate_key_pair()
    processes: list[multiprocessing.process.BaseProcess] = []
    cluster = None
    results: dict[tuple[str, int, int], dict[str, Any]] = {}
    failures: list[str] = []
    try:
        stub, conn = _spawn(_stub_actor, private_pem, args.actors)
        processes.append(stub)
        senders = Senders(tuple(await _receive(conn, stub, START_SECONDS)), private_pem)
        bare, conn = _spawn(_bare_server)
        processes.append(bare)
        bare_url = f"http://127.0.0.1:{await _receive(conn, bare, START_SECONDS)}"
        actors = senders.actors[0][0] + (f" and {args.actors - 1} more" if args.actors > 1 else "")
        print(f"stub actor {actors}; bare aiohttp on {bare_url}", flush=True)
        verify = verify_rate(private_pem)
        print(f"RSA-2048 verify, one core: {verify:,.0f}/s", flush=True)
        if "postgresql" in args.backends:
            cluster = start_cluster()
        configs = [("sqlite", 0)] if "sqlite" in args.backends else []
        if cluster is not None:
            configs += [("postgresql", webs) for webs in args.pg_web]
        for c in args.concurrency:
            results[("bare", 0, c)] = await measure_bare(bare_url, bare.pid, senders, c, args)
            print(f"c={c:<3} bare aiohttp {results[('bare', 0, c)]['rate']:8.0f} req/s",
                  flush=True)  # fmt: skip
            for backend, webs in configs:
                result = await run_fedchirp(backend, webs, c, run_dir, senders, args, cluster)
                results[(backend, webs, c)] = result
                if result["check"] != "ok":
                    failures.append(f"{_config_name(backend, webs)} c={c}: {result['check']}")
                print(f"c={c:<3} {_config_name(backend, webs):<30} {result['rate']:8.0f} req/s, "
                      f"drain {_drain_text(result)}, {result['check']}; "
                      f"cpu {_cpu_text(result['cpu'])}", flush=True)  # fmt: skip
    finally:
        for process in processes:
            end_process(process)
        if cluster is not None:
            cluster.stop()
    return results, verify, failures


def _drain_text(result: dict[str, Any]) -> str:
    if result["drain"] is None:
        return "n/a"
    return f"{'<=' if result['drain_bound'] else ''}{result['drain']:.2f} s"


def report(results: dict, verify: float, args: argparse.Namespace, load: str) -> None:
    print()
    print(f"Inbox: signed Create(Note) POSTs answered 202; {args.requests} timed requests after "
          f"{args.warmup} warm-up, per row; {args.actors} remote actor(s)")  # fmt: skip
    print(load)
    print(f"RSA-2048 verify (cryptography, one core): {verify:,.0f} verifies/s")
    print()
    header = (
        f"{'configuration':<30} {'conc':>4} {'req/s':>7} {'x bare':>7} {'x 1 web':>8} "
        f"{'drain s':>8}  {'applied':<8} {'web split':<10} cpu during the timed phase"
    )
    print(header)  # fmt: skip
    print("-" * len(header))
    rank = {"bare": 0, "sqlite": 1, "postgresql": 2}
    configs = sorted({(b, w) for b, w, _ in results}, key=lambda k: (rank[k[0]], k[1]))
    for backend, webs in configs:
        for c in args.concurrency:
            result = results.get((backend, webs, c))
            if result is None:
                continue
            bare = results[("bare", 0, c)]["rate"]
            if backend == "bare":
                print(f"{'bare aiohttp (best of 3)':<30} {c:>4} {result['rate']:>7.0f} "
                      f"{'':>7} {'':>8} {'':>8}  {'':<8} {'':<10} "
                      f"{_cpu_text(result['cpu'])}")  # fmt: skip
                continue
            one = results.get(("postgresql", 1, c))
            versus_one = (
                f"{result['rate'] / one['rate']:.2f}x" if backend != "sqlite" and one else ""
            )
            drain = _drain_text(result).removesuffix(" s")
            print(f"{_config_name(backend, webs):<30} {c:>4} {result['rate']:>7.0f} "
                  f"{result['rate'] / bare:>7.3f} {versus_one:>8} {drain:>8}  "
                  f"{'ok' if result['check'] == 'ok' else 'FAILED':<8} "
                  f"{_split_text(result['posts']):<10} {_cpu_text(result['cpu'])}")  # fmt: skip
    print()
    print("goals (printed, not checked): inbox >= 0.25x bare aiohttp on SQLite in one process; "
          "PostgreSQL 2 web + 1 worker >= 1.4x 1 web")  # fmt: skip
    for c in args.concurrency:
        bare = results[("bare", 0, c)]["rate"]
        parts = []
        sqlite = results.get(("sqlite", 0, c))
        if sqlite:
            ratio = sqlite["rate"] / bare
            parts.append(f"sqlite {ratio:.3f}x bare ({'met' if ratio >= 0.25 else 'NOT met'})")
        one, two = results.get(("postgresql", 1, c)), results.get(("postgresql", 2, c))
        if one and two:
            ratio = two["rate"] / one["rate"]
            parts.append(f"pg 2 web {ratio:.2f}x 1 web ({'met' if ratio >= 1.4 else 'NOT met'})")
        print(f"  c={c:<3} " + "; ".join(parts))


def _load_average() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def _int_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=3000, help="timed requests per row")
    parser.add_argument("--warmup", type=int, default=100, help="untimed requests first")
    parser.add_argument("--concurrency", type=_int_list, default=[1, 8, 32],
                        help="requests in flight, a list (default 1,8,32)")  # fmt: skip
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--pg-web",
        type=_int_list,
        default=[1, 2, 3],
        help="web processes sharing the port on PostgreSQL (default 1,2,3)",
    )
    parser.add_argument(
        "--actors",
        type=int,
        default=1,
        help="remote actors taking turns to post (default 1; the inbox applies the "
        "activities of one sender one at a time, in order)",
    )
    parser.add_argument(
        "--inbox-limit-shared",
        action="store_true",
        help="count the inbox's limit per server in the database (limits.inbox_shared) "
        "instead of in each web process's memory",
    )
    args = parser.parse_args()
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if set(args.backends) - {"sqlite", "postgresql"} or not args.backends:
        parser.error("backends are sqlite and postgresql")
    if args.requests < 1 or args.warmup < 1 or not args.concurrency or args.actors < 1:
        parser.error("--requests, --warmup and --actors must be >= 1, --concurrency non-empty")
    if min(args.concurrency) < 1 or not args.pg_web or min(args.pg_web) < 1:
        parser.error("concurrencies and web process counts must be >= 1")
    # A Ctrl-C (even where a shell made us ignore it) and a SIGTERM end the run through
    # the finally blocks that stop the processes.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    run_dir = Path(tempfile.mkdtemp(prefix="fedchirp-bench-inbox-"))
    load_before = _load_average()
    try:
        results, verify, failures = asyncio.run(run(args, run_dir))
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    load = (f"1-minute load average {load_before} before, {_load_average()} after, "
            f"on {os.cpu_count()} CPUs")  # fmt: skip
    report(results, verify, args, load)
    if failures:
        print("\nCHECK FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        sys.exit(130)
