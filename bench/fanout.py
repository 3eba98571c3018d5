"""Fan-out of one local post to many remote inboxes, against the one-core RSA signing rate.

    .venv/bin/python bench/fanout.py [--backends sqlite,postgresql]
        [--followers 1000] [--hosts 50] [--repeat 3]
        [--large-followers 10000] [--large-hosts 500] [--no-large-shared]
        [--stub-processes 4] [--concurrency N] [--per-host N]
        [--profile DIR] [--no-profile-gil] [--py-spy /tmp/pyspy/bin/py-spy] [--timeout 60]

A local account posts once through the Mastodon API (POST /api/v1/statuses, bearer
token, public) to `python -m fedchirp --config X serve` (web and workers in one
process of its own). The post is queued for one delivery per distinct inbox in the
same transaction (services/posting.py), and the delivery worker sends them
(federation/delivery.py: delivery.concurrency in flight, delivery.per_host per host,
each request signed with the author's RSA-2048 key on a thread). The remote servers
are stub inboxes in processes of their own: aiohttp apps listening on many loopback
ports (each port is one "host" to the worker) that read the body, answer 202 and
count the POSTs per host and path, noting when each arrived. They check only that a
Signature header is there; they do not verify it (a real server would, but that
would put RSA verify load on the same few cores as the sender).

Scenarios, each on a new database with a new server process, on each backend:
  personal   --followers accepted remote followers on --hosts stub hosts, each with an
             inbox of its own and no shared inbox: one POST per follower. Posted
             --repeat times (the first post opens the connections), each timed.
  shared     the same followers and hosts, but every host offers a shared inbox:
             exactly one POST per host, counted at the stubs.
  large      --large-followers on --large-hosts, personal inboxes (and again with shared
             inboxes unless --no-large-shared).

A post is timed from the API's 200 (in this process), or from its first POST at the stubs
if that came first, to the arrival of its last POST (arrival times on the system-wide
monotonic clock); deliveries/s
is the number of POSTs over that time. The reference is the one-core rate of
cryptography's RSA-2048 PKCS#1 v1.5 / SHA-256 sign of a signing string like the
worker's, measured at the start of the run on one thread for about 2 s. Each post is
then checked: every expected inbox got exactly one POST and nothing else arrived
(after a short wait for strays), every POST was signed, and the post's outbound
activity counts all its deliveries delivered in the database (their jobs are gone).
Also printed: the CPU used between sending the post and its last POST by the server
process (and by its event-loop thread alone, and its other threads: the signing
executor, the SQLite connections), the stubs and (for PostgreSQL) the PostgreSQL
server with its ended backends, and for PostgreSQL how many new connections the
server opened meanwhile (the cluster logs connections).

--profile DIR adds one more post to the personal scenario, recorded by py-spy (raw
collapsed stacks per thread, in DIR; by default only of the thread holding the GIL,
the one thing a Python process cannot do twice at once) and summed up after the
table; it is not counted in the table (the sampling slows the server down).

Accounts and follows are written with the Store API, the token as its hash (as
tests/test_crash.py does). PostgreSQL runs as a throwaway cluster (tests/postgres.py;
as the unprivileged user `nobody` when we are root). Everything listens on 127.0.0.1;
every process this starts is stopped on the way out, also after an error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
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

from fedchirp.clock import now_iso, utcnow
from fedchirp.config import DeliveryConfig, config_from_dict, load_config, render_toml
from fedchirp.federation.httpsig import digest_header, generate_key_pair, load_private_key
from fedchirp.services.accounts import create_local_account
from fedchirp.services.oauth import token_hash
from fedchirp.store import Store
from fedchirp.urls import Urls

REPO = Path(__file__).resolve().parent.parent
POSTER = "poster"
PASSWORD = "bench-password-not-secret"
SCOPES = "read write follow"
# Never parsed: the stand-in followers only receive deliveries, they never sign.
DUMMY_PEM = "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n"

START_SECONDS = 90.0  # for a process to come up
REQUEST_TIMEOUT_SECONDS = 120.0  # the API post (it queues every delivery)
SIGN_SECONDS = 2.0  # how long the RSA sign reference runs
POLL_SECONDS = 0.02  # how often the stubs are asked for their count
STRAY_SECONDS = 1.0  # after the last expected POST, how long to wait for more
SETTLE_SECONDS = 30.0  # for the post's deliveries to be marked delivered
SETUP_CHUNK = 500  # followers written per transaction while preparing
PROFILE_RATE = 200  # py-spy samples per second


# -- small helpers ----------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads) so far, with that of its children
    that ended (PostgreSQL's backends for short connections); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return sum(int(field) for field in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _children(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(stat.parent.name))
    return found


def _thread_cpu(pid: int) -> dict[int, tuple[str, float]]:
    """(kind, CPU seconds) of each thread of a process: 'main' (the event loop) for the
    first one; the others by their OS name with the digits taken out, or 'others' where
    they bear the process's name (Python does not name its threads for the OS)."""
    threads = {}
    process_name = ""
    with contextlib.suppress(OSError):
        process_name = Path(f"/proc/{pid}/comm").read_text().strip()
    for task in Path(f"/proc/{pid}/task").glob("[0-9]*"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            tid = int(task.name)
            comm = (task / "comm").read_text().strip()
            name = "main" if tid == pid else re.sub(r"\d+", "N", comm)
            name = "others" if comm == process_name and tid != pid else name
            threads[tid] = (name, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
    return threads


class CpuMeter:
    """CPU seconds used between start() and stop() per group of processes, as a share
    of one core over the wall time; and per kind of thread of one process."""

    def __init__(self, groups: dict[str, Any], threads_of: int | None = None) -> None:
        self.groups = groups  # name -> list of pids, or a callable giving them
        self.threads_of = threads_of
        self.before: dict[str, dict[int, float]] = {}
        self.threads_before: dict[int, tuple[str, float]] = {}
        self.started = 0.0

    def _sample(self) -> dict[str, dict[int, float]]:
        out = {}
        for name, pids in self.groups.items():
            pids = pids() if callable(pids) else pids
            out[name] = {pid: _cpu_seconds(pid) for pid in pids}
        return out

    def start(self) -> None:
        if self.threads_of is not None:
            self.threads_before = _thread_cpu(self.threads_of)
        self.before, self.started = self._sample(), time.monotonic()

    def stop(self, until: float | None = None) -> dict[str, Any]:
        """Shares of a core; the wall time runs to `until` (a monotonic time) if given.
        Under "threads", the shares of the kinds of threads of threads_of."""
        after = self._sample()
        threads_after = _thread_cpu(self.threads_of) if self.threads_of is not None else {}
        wall = max(1e-6, (until or time.monotonic()) - self.started)
        shares: dict[str, Any] = {
            name: sum(cpu - self.before[name].get(pid, 0.0) for pid, cpu in pids.items()) / wall
            for name, pids in after.items()
        }
        kinds: Counter[str] = Counter()
        for tid, (kind, cpu) in threads_after.items():
            kinds[kind] += (cpu - self.threads_before.get(tid, (kind, 0.0))[1]) / wall
        shares["threads"] = dict(kinds.most_common())
        return shares


# -- the reference: one core signing ------------------------------------------------------


def sign_rate(private_pem: str, seconds: float = SIGN_SECONDS) -> float:
    """cryptography's RSA-2048 PKCS#1 v1.5 / SHA-256 sign of a signing string like the
    one httpsig.sign_request builds for an inbox POST, in a loop on this thread."""
    key = load_private_key(private_pem)
    text = (
        "(request-target): post /users/follower123/inbox\nhost: 127.0.0.1:43210\n"
        f"date: {format_datetime(utcnow(), usegmt=True)}\ndigest: {digest_header(b'x' * 1500)}"
    ).encode()
    key.sign(text, padding.PKCS1v15(), hashes.SHA256())  # warm
    rounds, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(50):
            key.sign(text, padding.PKCS1v15(), hashes.SHA256())
        rounds += 50
    return rounds / elapsed


# -- the stub inboxes (processes of their own) -------------------------------------------


def _stub_inboxes(conn: Connection, ports: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    asyncio.run(_serve_stub_inboxes(conn, ports))


async def _serve_stub_inboxes(conn: Connection, port_count: int) -> None:
    """Listen on port_count loopback ports; answer every POST 202 and count it by
    host:port and path, with its arrival time. Commands come on conn: reset, count,
    report, stop."""
    counts: Counter[str] = Counter()
    arrivals: list[float] = []
    unsigned = [0]

    async def inbox(request: web.Request) -> web.Response:
        await request.read()
        arrivals.append(time.monotonic())
        counts[f"{request.host}{request.path}"] += 1
        if "Signature" not in request.headers:
            unsigned[0] += 1
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/{path:.*}", inbox)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    ports = []
    for _ in range(port_count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(runner, sock, backlog=256).start()
        ports.append(sock.getsockname()[1])

    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()

    def command() -> None:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            message = "stop"
        if message == "reset":
            counts.clear()
            arrivals.clear()
            unsigned[0] = 0
            conn.send("ok")
        elif message == "count":
            conn.send(len(arrivals))
        elif message == "report":
            conn.send({"counts": dict(counts), "arrivals": arrivals, "unsigned": unsigned[0]})
        else:
            loop.remove_reader(conn.fileno())
            stopped.set()

    loop.add_reader(conn.fileno(), command)
    conn.send(ports)
    await stopped.wait()
    await runner.cleanup()


class StubPool:
    """Stub inbox processes; host i is the i-th port, ports dealt out round robin."""

    def __init__(self, hosts: int, processes: int) -> None:
        self.processes: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
        self.ports: list[int] = []
        spawn = multiprocessing.get_context("spawn")
        processes = max(1, min(processes, hosts))
        shares = [hosts // processes + (n < hosts % processes) for n in range(processes)]
        for n, share in enumerate(shares):
            ours, theirs = spawn.Pipe()
            process = spawn.Process(target=_stub_inboxes, args=(theirs, share), daemon=True)
            process.name = f"stub-inboxes-{n}"
            process.start()
            self.processes.append((process, ours))
        by_process = [self._receive(n, START_SECONDS) for n in range(len(self.processes))]
        for i in range(hosts):
            self.ports.append(by_process[i % processes][i // processes])

    @property
    def pids(self) -> list[int]:
        return [p.pid for p, _ in self.processes if p.pid is not None]

    def base(self, host: int) -> str:
        return f"http://127.0.0.1:{self.ports[host]}"

    def _receive(self, n: int, seconds: float) -> Any:
        process, conn = self.processes[n]
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if conn.poll(0.05):
                return conn.recv()
            if not process.is_alive():
                raise RuntimeError(f"{process.name} ended (exit code {process.exitcode})")
        raise RuntimeError(f"{process.name} did not answer within {seconds:.0f} s")

    def _ask(self, message: str) -> list[Any]:
        for _process, conn in self.processes:
            conn.send(message)
        return [self._receive(n, 60) for n in range(len(self.processes))]

    def reset(self) -> None:
        self._ask("reset")

    def count(self) -> int:
        return sum(self._ask("count"))

    def report(self) -> dict[str, Any]:
        counts: Counter[str] = Counter()
        arrivals: list[float] = []
        unsigned = 0
        for part in self._ask("report"):
            counts.update(part["counts"])
            arrivals.extend(part["arrivals"])
            unsigned += part["unsigned"]
        return {"counts": counts, "arrivals": sorted(arrivals), "unsigned": unsigned}

    def stop(self) -> None:
        for _process, conn in self.processes:
            with contextlib.suppress(OSError):
                conn.send("stop")
        for process, _conn in self.processes:
            process.join(5)
            end_process(process)


# -- PostgreSQL --------------------------------------------------------------------------

_PG_MODULE: list[ModuleType] = []


def _pg() -> ModuleType:
    if not _PG_MODULE:
        _PG_MODULE.append(tests_module("postgres"))
    return _PG_MODULE[0]


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


async def log_connections(cluster: Any) -> None:
    """Have the cluster log every new connection (to count them per post)."""
    connection = await asyncpg.connect(
        host="127.0.0.1", port=cluster.port, user=_pg().USER, database="postgres", ssl=False
    )
    try:
        await connection.execute("ALTER SYSTEM SET log_connections = on")
        await connection.execute("SELECT pg_reload_conf()")
    finally:
        await connection.close()


class ConnectionLog:
    """New connections to one database, from the cluster's log (log_connections)."""

    def __init__(self, cluster: Any, database: str) -> None:
        self.path = Path(cluster.root) / "server.log"
        self.pattern = re.compile(
            rf"connection authorized: user={re.escape(_pg().USER)} "
            rf"database={re.escape(database)}(?![\w])"
        )
        self.offset = 0

    def mark(self) -> None:
        self.offset = self.path.stat().st_size

    def since_mark(self) -> int:
        with self.path.open("rb") as log:
            log.seek(self.offset)
            return len(self.pattern.findall(log.read().decode(errors="replace")))


def _postmaster_pid(cluster: Any) -> int | None:
    with contextlib.suppress(OSError, ValueError, TypeError):
        return int((Path(cluster.root) / "data" / "postmaster.pid").read_text().split()[0])
    return None


# -- a FedChirp instance ------------------------------------------------------------------


class Instance:
    """A config, a database with the poster and its followers, and `serve` on a port."""

    def __init__(self, directory: Path, database_url: str, args: argparse.Namespace) -> None:
        self.directory = directory
        directory.mkdir(parents=True)
        self.port = free_port()
        settings: dict[str, Any] = {
            "server": {
                "domain": f"127.0.0.1:{self.port}",
                "listen_host": "127.0.0.1",
                "listen_port": self.port,
            },
            "storage": {"data_dir": str(directory / "data")},
            "federation": {"allow_private_addresses": True, "allow_http": True},
            "delivery": {"concurrency": args.concurrency, "per_host": args.per_host},
        }
        if database_url:
            settings["database"] = {"url": database_url}
        self.config_path = directory / "fedchirp.toml"
        self.config_path.write_text(
            render_toml(config_from_dict(settings, base_dir=directory)), encoding="utf-8"
        )
        self.config = load_config(self.config_path)
        self.base_url = self.config.base_url
        self.log = directory / "serve.log"
        self.process: subprocess.Popen | None = None

    async def prepare(
        self, stubs: StubPool, followers: int, hosts: int, shared: bool
    ) -> tuple[str, set[str]]:
        """The poster with `followers` accepted remote followers on the first `hosts`
        stub hosts (follower i on host i % hosts); returns an API token and the set of
        host:port/path the post must reach."""
        token = secrets.token_urlsafe(32)
        expected: set[str] = set()
        store = Store(self.config.database_url)
        await store.open()  # the schema, as `serve` would make it
        try:
            poster = await create_local_account(store, Urls(self.base_url), POSTER, PASSWORD)
            inboxes: set[str] = set()
            for start in range(0, followers, SETUP_CHUNK):
                async with store.atomic():
                    for i in range(start, min(start + SETUP_CHUNK, followers)):
                        base = stubs.base(i % hosts)
                        remote = await store.upsert_remote_account(
                            _remote_account(base, f"f{i}", shared)
                        )
                        await store.insert_follow(
                            remote.id, poster.id, f"{remote.uri}#follows/{i}", "accepted"
                        )
                        inboxes.add(remote.delivery_inbox)
            await store.insert_token(token_hash(token), None, poster.id, SCOPES)
            found = await store.remote_follower_inboxes(poster.id)
        finally:
            await store.close()
        if found != inboxes:
            raise RuntimeError(f"{len(found)} follower inboxes in the store, {len(inboxes)} made")
        expected = {inbox.removeprefix("http://") for inbox in inboxes}
        return token, expected

    async def start(self, http: aiohttp.ClientSession) -> None:
        env = {k: v for k, v in os.environ.items() if k != "FEDCHIRP_CONFIG"}
        env["PYTHONUNBUFFERED"] = "1"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "fedchirp", "--config", str(self.config_path), "serve"],
                cwd=REPO, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=env, start_new_session=True,  # we stop it ourselves, also after a Ctrl-C
            )  # fmt: skip
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited ({self.process.returncode})\n{self.log_tail()}")
            with contextlib.suppress(aiohttp.ClientError, OSError, asyncio.TimeoutError):
                async with http.get(
                    f"{self.base_url}/.well-known/nodeinfo", timeout=aiohttp.ClientTimeout(total=2)
                ) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.05)
        raise RuntimeError(f"serve did not answer in {START_SECONDS:.0f} s\n{self.log_tail()}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        process, self.process = self.process, None
        end_popen(process)

    def log_tail(self, chars: int = 3000) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text[-chars:]


def _remote_account(base: str, name: str, shared: bool) -> dict[str, Any]:
    uri = f"{base}/users/{name}"
    return {
        "username": name,
        "domain": base.removeprefix("http://"),
        "uri": uri,
        "url": uri,
        "inbox_url": f"{uri}/inbox",
        "shared_inbox_url": f"{base}/inbox" if shared else None,
        "outbox_url": f"{uri}/outbox",
        "followers_url": f"{uri}/followers",
        "following_url": f"{uri}/following",
        "public_key_id": f"{uri}#main-key",
        "public_key_pem": DUMMY_PEM,
        "created_at": now_iso(),
        "fetched_at": time.time(),
    }


class Window:
    """The parent's view of an instance's database, by a connection of its own."""

    def __init__(self, sqlite_path: Path | None, pg: asyncpg.Connection | None) -> None:
        self.sqlite = sqlite3.connect(sqlite_path, timeout=10) if sqlite_path else None
        self.pg = pg

    @classmethod
    async def open(cls, instance: Instance, cluster: Any, database: str | None) -> Window:
        if database is None:
            return cls(instance.config.database_path, None)
        pg = await asyncpg.connect(
            host="127.0.0.1", port=cluster.port, user=_pg().USER, database=database, ssl=False
        )
        return cls(None, pg)

    async def delivery_states(self, status_id: int) -> dict[str, int]:
        # Finished delivery jobs are gone; each outbound activity counts their outcomes.
        sql = (
            "SELECT SUM(delivered), SUM(failed), SUM(recipients - delivered - failed)"
            " FROM outbound_activities WHERE status_id = {}"
        )
        if self.sqlite is not None:
            row = self.sqlite.execute(sql.format("?"), (status_id,)).fetchone()
        else:
            assert self.pg is not None
            row = await self.pg.fetchrow(sql.format("$1"), status_id)
        counts = zip(("delivered", "failed", "queued"), row or (), strict=False)
        return {state: int(n) for state, n in counts if n}

    async def close(self) -> None:
        if self.sqlite is not None:
            self.sqlite.close()
        if self.pg is not None:
            await self.pg.close()


# -- one post -----------------------------------------------------------------------------


async def post_status(
    http: aiohttp.ClientSession, instance: Instance, token: str, text: str
) -> tuple[int, float, float]:
    """POST /api/v1/statuses; (status id, monotonic time sent, monotonic time of the 200)."""
    headers = {"Authorization": f"Bearer {token}"}
    body = {"status": text, "visibility": "public"}
    sent = time.monotonic()
    async with http.post(
        f"{instance.base_url}/api/v1/statuses",
        json=body,
        headers=headers,
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS),
    ) as response:
        answer = await response.read()
    answered = time.monotonic()
    if response.status != 200:
        raise RuntimeError(f"the post was answered {response.status}: {answer[:300]!r}")
    return int(json.loads(answer)["id"]), sent, answered


async def measure_post(
    http: aiohttp.ClientSession,
    instance: Instance,
    window: Window,
    stubs: StubPool,
    meter: CpuMeter,
    token: str,
    expected: set[str],
    text: str,
    timeout: float,
    connections: ConnectionLog | None = None,
) -> dict[str, Any]:
    """One post, timed from its 200 (or first POST) to its last POST, then checked."""
    stubs.reset()
    if connections is not None:
        connections.mark()
    meter.start()
    status_id, sent, answered = await post_status(http, instance, token, text)
    deadline = answered + timeout
    received = 0
    while (received := stubs.count()) < len(expected):
        if not instance.alive():
            raise RuntimeError(f"serve exited during the fan-out\n{instance.log_tail()}")
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(POLL_SECONDS)
    timed_out = received < len(expected)
    report = stubs.report()  # the arrivals so far: the CPU window ends at the last one
    arrivals = report["arrivals"]
    last = arrivals[-1] if arrivals else time.monotonic()
    cpu = meter.stop(until=last)
    new_connections = connections.since_mark() if connections is not None else None
    await asyncio.sleep(STRAY_SECONDS)  # anything more (a duplicate) would show up now
    report = stubs.report()
    states: dict[str, int] = {}
    settle_deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < settle_deadline:
        states = await window.delivery_states(status_id)
        if not states.get("queued"):
            break
        await asyncio.sleep(0.1)
    problems = []
    counts: Counter[str] = report["counts"]
    if timed_out:
        problems.append(f"only {received} of {len(expected)} POSTs in {timeout:.0f} s")
    if set(counts) != expected:
        missing, extra = len(expected - set(counts)), len(set(counts) - expected)
        problems.append(f"{missing} inboxes got nothing, {extra} unexpected paths")
    repeated = sum(1 for n in counts.values() if n > 1)
    if repeated:
        problems.append(f"{repeated} inboxes got more than one POST")
    if report["unsigned"]:
        problems.append(f"{report['unsigned']} POSTs without a Signature")
    if states != {"delivered": len(expected)}:
        problems.append(f"deliveries in the database: {states}")
    first = report["arrivals"][0] if report["arrivals"] else None
    # A worker in another connection may start sending before this process has read the
    # 200 (the post commits before its answer is written): the clock starts then.
    start = answered if first is None else min(answered, first)
    seconds = max(1e-6, last - start)
    return {
        "expected": len(expected),
        "posts": sum(counts.values()),
        "api": answered - sent,
        "first": None if first is None else first - answered,
        "seconds": seconds,
        "from_send": last - sent,
        "last_at": last,
        "rate": len(expected) / seconds,
        "cpu": cpu,
        "connections": new_connections,
        "check": "; ".join(problems) or "ok",
    }


# -- profiling ----------------------------------------------------------------------------


class Profiler:
    """py-spy record on a process: raw collapsed stacks with thread ids, only of the
    threads holding the GIL when gil is set (what the process's Python work is)."""

    def __init__(self, py_spy: str, pid: int, output: Path, gil: bool) -> None:
        self.output = output
        self.gil = gil
        self.log = output.with_suffix(".log")
        command = [py_spy, "record", "--pid", str(pid), "--rate", str(PROFILE_RATE),
                   "--format", "raw", "--threads", "--output", str(output)]  # fmt: skip
        if gil:
            command.append("--gil")
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        time.sleep(1.0)  # py-spy attaches
        if self.process.poll() is not None:
            raise RuntimeError(f"py-spy exited: {self.log.read_text(errors='replace')[-500:]}")
        self.started = time.monotonic()
        self.seconds = 0.0

    def stop(self, until: float | None = None) -> None:
        """Stop recording; the time profiled runs to `until` (monotonic) if given."""
        self.seconds = (until or time.monotonic()) - self.started
        end_popen(self.process, signal.SIGINT)  # py-spy writes its output on SIGINT


WANTED_FRAMES = ("fedchirp", "aiohttp", "sqlalchemy", "aiosqlite", "asyncpg", "logging",
                 "asyncio", "concurrent")  # fmt: skip


def summarize_profile(profiler: Profiler, top: int = 18) -> list[str]:
    """Samples per thread, the hottest functions (self, then inclusive), over all threads."""
    path = profiler.output
    stacks: list[tuple[list[str], int]] = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    if not stacks:
        return [f"  (no samples in {path})"]
    by_thread: Counter[str] = Counter()
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, count in stacks:
        by_thread[frames[0]] += count
        own[_short(frames[-1]) if len(frames) > 1 else "(no Python frame)"] += count
        for name in {_short(frame) for frame in frames[1:]}:
            inclusive[name] += count
    total = sum(by_thread.values())
    possible = PROFILE_RATE * profiler.seconds
    what = "holding the GIL" if profiler.gil else "not idle"
    lines = [
        f"  {total} samples {what} in {profiler.seconds:.1f} s (attach to last POST) at "
        f"{PROFILE_RATE}/s: {total / possible * 100:.0f}% of the possible samples",
        "  by thread:",
    ]
    for thread, count in by_thread.most_common(8):
        lines.append(f"    {count * 100 / total:5.1f}%  {thread}")
    lines.append("  self (the innermost Python frame; C calls count in their caller):")
    for name, count in own.most_common(top):
        lines.append(f"    {count * 100 / total:5.1f}%  {name}")
    lines.append(f"  inclusive, frames of {', '.join(WANTED_FRAMES)}:")
    shown = [(n, c) for n, c in inclusive.most_common() if any(w in n for w in WANTED_FRAMES)]
    for name, count in shown[: top * 2]:
        lines.append(f"    {count * 100 / total:5.1f}%  {name}")
    return lines


def _short(frame: str) -> str:
    """'func (path/to/module.py:123)' -> 'func (module.py)': lines merged."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    parts = where.split("/")
    return f"{name} ({'/'.join(parts[-2:])})" if where else name


# -- a scenario ---------------------------------------------------------------------------


async def run_scenario(
    name: str,
    backend: str,
    followers: int,
    hosts: int,
    shared: bool,
    repeat: int,
    stubs: StubPool,
    cluster: Any,
    run_dir: Path,
    args: argparse.Namespace,
    profile: bool = False,
) -> dict[str, Any]:
    directory = run_dir / f"{backend}-{name}"
    database = None
    url = ""
    if backend == "postgresql":
        database = await cluster.create_database()
        url = cluster.url(database)
    instance = Instance(directory, url, args)
    window: Window | None = None
    started = time.monotonic()
    try:
        token, expected = await instance.prepare(stubs, followers, hosts, shared)
        setup = time.monotonic() - started
        print(f"  {backend} {name}: {followers:,} followers on {hosts} hosts, "
              f"{len(expected):,} inboxes, set up in {setup:.1f} s", flush=True)  # fmt: skip
        window = await Window.open(instance, cluster, database)
        timeout = args.timeout + len(expected) * 0.05
        connector = aiohttp.TCPConnector(limit=4)
        async with aiohttp.ClientSession(connector=connector) as http:
            await instance.start(http)
            assert instance.process is not None
            groups: dict[str, Any] = {"serve": [instance.process.pid], "stubs": stubs.pids}
            postmaster = _postmaster_pid(cluster) if database is not None else None
            if postmaster is not None:
                groups["postgres"] = lambda: [postmaster, *_children(postmaster)]
            meter = CpuMeter(groups, threads_of=instance.process.pid)
            connections = ConnectionLog(cluster, database) if database is not None else None
            posts = []
            for n in range(repeat):
                text = f"fan-out bench, {name} post {n + 1}: hello to {followers} followers"
                result = await measure_post(
                    http, instance, window, stubs, meter, token, expected, text, timeout,
                    connections,
                )  # fmt: skip
                posts.append(result)
                print(f"    post {n + 1}: {result['posts']:,} POSTs, last {result['seconds']:.2f} s"
                      f" after the 200 ({result['rate']:,.0f}/s), api {result['api']*1e3:.0f} ms;"
                      f" cpu {_cpu_text(result['cpu'])}{_connections_text(result)};"
                      f" {result['check']}", flush=True)  # fmt: skip
                print(f"      serve's threads: {_threads_text(result['cpu'])}", flush=True)
            profile_lines: list[str] = []
            if profile:
                output = args.profile / f"{backend}-{name}.pyspy.txt"
                profiler = Profiler(args.py_spy, instance.process.pid, output, args.profile_gil)
                result = None
                try:
                    result = await measure_post(
                        http, instance, window, stubs, meter, token, expected,
                        f"fan-out bench, {name}, profiled", timeout, connections,
                    )  # fmt: skip
                finally:
                    profiler.stop(until=result["last_at"] if result else None)
                print(f"    profiled post: {result['rate']:,.0f}/s under py-spy, "
                      f"{result['check']}; stacks in {output}", flush=True)  # fmt: skip
                profile_lines = summarize_profile(profiler)
    except Exception:
        print(f"  {backend} {name}: failed; server log:\n{instance.log_tail()}", file=sys.stderr)
        raise
    finally:
        instance.stop()
        if window is not None:
            await window.close()
        if database is not None:
            await cluster.drop_databases([database])
        shutil.rmtree(directory, ignore_errors=True)
    return {
        "name": name,
        "backend": backend,
        "followers": followers,
        "hosts": hosts,
        "shared": shared,
        "posts": posts,
        "profile": profile_lines,
    }


def _connections_text(post: dict[str, Any]) -> str:
    count = post.get("connections")
    return "" if count is None else f"; {count} new db connections"


def _cpu_text(cpu: dict[str, Any]) -> str:
    order = ("serve", "stubs", "postgres")
    text = " ".join(f"{name} {cpu[name] * 100:.0f}%" for name in order if name in cpu)
    main = cpu.get("threads", {}).get("main")
    return text if main is None else text.replace("% ", f"% (main {main * 100:.0f}%) ", 1)


def _threads_text(cpu: dict[str, Any]) -> str:
    """The server's threads that used 1% of a core or more."""
    shown = [(kind, share) for kind, share in cpu.get("threads", {}).items() if share >= 0.01]
    return ", ".join(f"{kind} {share * 100:.0f}%" for kind, share in shown)


# -- the run ------------------------------------------------------------------------------


def scenarios(args: argparse.Namespace) -> list[tuple[str, int, int, bool, int]]:
    """(name, followers, hosts, shared inboxes, posts) in the order they run."""
    chosen = [
        ("personal", args.followers, args.hosts, False, args.repeat),
        ("shared", args.followers, args.hosts, True, 1),
    ]
    if args.large_followers:
        chosen.append(("large", args.large_followers, args.large_hosts, False, 1))
        if args.large_shared:
            chosen.append(("large-shared", args.large_followers, args.large_hosts, True, 1))
    return chosen


async def run(args: argparse.Namespace, run_dir: Path) -> tuple[list[dict[str, Any]], float]:
    private_pem, _ = generate_key_pair()
    signs = sign_rate(private_pem)
    print(f"RSA-2048 sign (cryptography), one thread: {signs:,.0f}/s", flush=True)
    hosts = max(args.hosts, args.large_hosts if args.large_followers else 0)
    stubs: StubPool | None = None
    cluster = None
    results: list[dict[str, Any]] = []
    try:
        stubs = StubPool(hosts, args.stub_processes)
        print(f"{hosts} stub hosts in {len(stubs.processes)} processes "
              f"(ports {min(stubs.ports)}-{max(stubs.ports)})", flush=True)  # fmt: skip
        for backend in args.backends:
            if backend == "postgresql":
                cluster = start_cluster()
                if cluster is None:
                    continue
                await log_connections(cluster)
            for name, followers, n_hosts, shared, repeat in scenarios(args):
                results.append(
                    await run_scenario(
                        name, backend, followers, n_hosts, shared, repeat, stubs, cluster,
                        run_dir, args, profile=args.profile is not None and name == "personal",
                    )
                )  # fmt: skip
            if cluster is not None:
                cluster.stop()
                cluster = None
    finally:
        if stubs is not None:
            stubs.stop()
        if cluster is not None:
            cluster.stop()
    return results, signs


def report(results: list[dict[str, Any]], signs: float, args: argparse.Namespace, load: str):
    print()
    print("Fan-out of one public post through POST /api/v1/statuses to stub inboxes; "
          f"delivery.concurrency {args.concurrency}, per_host {args.per_host}")  # fmt: skip
    print(load)
    print(f"RSA-2048 sign (cryptography, one thread): {signs:,.0f} signs/s")
    print("time: from the API's 200 (or the first POST, if earlier) to the last POST received; "
          "rate: POSTs over that time")
    print()
    header = (
        f"{'backend':<10} {'scenario':<13} {'followers':>9} {'hosts':>5} {'post':>4} "
        f"{'POSTs':>6} {'api ms':>7} {'first s':>7} {'last s':>7} {'POSTs/s':>8} "
        f"{'x sign':>6}  {'check':<6} cpu (share of a core; main: serve's event-loop thread)"
    )
    print(header)
    print("-" * len(header))
    failures = []
    for result in results:
        for n, post in enumerate(result["posts"], start=1):
            first = "" if post["first"] is None else f"{post['first']:.3f}"
            ok = "ok" if post["check"] == "ok" else "FAILED"
            print(f"{result['backend']:<10} {result['name']:<13} {result['followers']:>9,} "
                  f"{result['hosts']:>5} {n:>4} {post['posts']:>6,} {post['api'] * 1e3:>7.0f} "
                  f"{first:>7} {post['seconds']:>7.2f} {post['rate']:>8,.0f} "
                  f"{post['rate'] / signs:>6.3f}  {ok:<6} "
                  f"{_cpu_text(post['cpu'])}{_connections_text(post)}")  # fmt: skip
            if post["check"] != "ok":
                failures.append(f"{result['backend']} {result['name']} post {n}: {post['check']}")
    print()
    print("goal (printed, not checked): 1,000 personal inboxes at >= 0.5x the one-core "
          "signing rate (median of the posts)")  # fmt: skip
    for result in results:
        posts = result["posts"]
        if result["name"] == "personal":
            rate = statistics.median(p["rate"] for p in posts)
            ratio = rate / signs
            print(f"  {result['backend']:<10} personal: {rate:,.0f} deliveries/s = {ratio:.3f}x "
                  f"signing ({'met' if ratio >= 0.5 else 'NOT met'}); per post "
                  + ", ".join(f"{p['rate']:,.0f}" for p in posts))  # fmt: skip
        elif result["name"] == "shared":
            count, hosts = posts[0]["posts"], result["hosts"]
            print(f"  {result['backend']:<10} shared: {count} POSTs for {result['followers']:,} "
                  f"followers on {hosts} servers ({'ok' if count == hosts else 'WRONG'}, "
                  f"expected exactly {hosts})")  # fmt: skip
            if count != hosts:
                failures.append(f"{result['backend']} shared: {count} POSTs, not {hosts}")
        else:
            post = posts[0]
            print(f"  {result['backend']:<10} {result['name']}: {post['posts']:,} POSTs, last "
                  f"{post['seconds']:.2f} s after the 200 ({post['from_send']:.2f} s after "
                  f"sending the post), {post['rate']:,.0f}/s = {post['rate'] / signs:.3f}x "
                  "signing")  # fmt: skip
    for result in results:
        if result["profile"]:
            print()
            print(f"py-spy, {result['backend']} {result['name']} (one extra post):")
            print("\n".join(result["profile"]))
    return failures


def _load_average() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def main() -> None:
    defaults = DeliveryConfig()
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--followers", type=int, default=1000, help="personal and shared")
    parser.add_argument("--hosts", type=int, default=50, help="stub hosts they are spread on")
    parser.add_argument("--repeat", type=int, default=3, help="posts timed in 'personal'")
    parser.add_argument("--large-followers", type=int, default=10_000, help="0 to skip")
    parser.add_argument("--large-hosts", type=int, default=500)
    parser.add_argument("--large-shared", action=argparse.BooleanOptionalAction, default=True,
                        help="also the large fan-out with shared inboxes (default)")  # fmt: skip
    parser.add_argument("--stub-processes", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=defaults.concurrency,
                        help="delivery.concurrency of the instance")  # fmt: skip
    parser.add_argument("--per-host", type=int, default=defaults.per_host,
                        help="delivery.per_host of the instance")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds for a fan-out, plus 50 ms per POST")  # fmt: skip
    parser.add_argument("--profile", type=Path, default=None,
                        help="profile one extra 'personal' post with py-spy, to here")  # fmt: skip
    parser.add_argument("--profile-gil", action=argparse.BooleanOptionalAction, default=True,
                        help="sample only threads holding the GIL (default)")  # fmt: skip
    parser.add_argument("--py-spy", default="/tmp/pyspy/bin/py-spy")
    args = parser.parse_args()
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if set(args.backends) - {"sqlite", "postgresql"} or not args.backends:
        parser.error("backends are sqlite and postgresql")
    if min(args.followers, args.hosts, args.repeat, args.stub_processes) < 1:
        parser.error("--followers, --hosts, --repeat and --stub-processes must be >= 1")
    if args.large_followers < 0 or (args.large_followers and args.large_hosts < 1):
        parser.error("--large-followers must be >= 0 and --large-hosts >= 1")
    too_many_hosts = args.large_followers and args.large_hosts > args.large_followers
    if args.hosts > args.followers or too_many_hosts:
        parser.error("more hosts than followers")
    if args.profile is not None:
        args.profile = args.profile.resolve()
        args.profile.mkdir(parents=True, exist_ok=True)
        if not os.access(args.py_spy, os.X_OK):
            parser.error(f"no py-spy at {args.py_spy}")
    # A Ctrl-C (even where a shell made us ignore it) and a SIGTERM end the run through
    # the finally blocks that stop the processes.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    run_dir = Path(tempfile.mkdtemp(prefix="fedchirp-bench-fanout-"))
    load_before = _load_average()
    try:
        results, signs = asyncio.run(run(args, run_dir))
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    load = (f"1-minute load average {load_before} before, {_load_average()} after, "
            f"on {os.cpu_count()} CPUs")  # fmt: skip
    failures = report(results, signs, args, load)
    if failures:
        print("\nCHECK FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        sys.exit(130)
