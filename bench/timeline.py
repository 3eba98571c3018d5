"""Home timeline latency at 10k, 100k and 1M posts, against the bare indexed read, in one run.

    .venv/bin/python bench/timeline.py [--sizes 10000,100000,1000000]
        [--backends sqlite,postgresql] [--requests 1000] [--warmup 100]
        [--cache-dir /tmp/fedchirp-bench-timeline] [--no-keep] [--rebuild]

For each backend and size it measures, with the same client:
  fedchirp   GET /api/v1/timelines/home (bearer token, 20 posts) from the real server,
             `python -m fedchirp --config ... serve`, in a process of its own
  bare read  an aiohttp server in a process of its own doing only the indexed read of
             the same 20 rows (home_feed joined to statuses, through aiosqlite or
             asyncpg directly) and answering them as JSON
The client is a third process: the request is prepared before the clock starts, then
a warm-up, then N sequential requests on one keep-alive connection, each timed from
sending the request to the end of the JSON body; every answer must be a 200 with 20
items. It prints p50/p99 of both, the ratio of the p99s and how much each p99 grows
from the smallest size to the largest.

The databases are made in bulk, not through the store: the schema by opening
fedchirp.store.Store once (create_all + stamp), then rows with the raw driver
(sqlite3 executemany, asyncpg COPY). One local account "reader" follows 200 of 2,000
remote authors; posts by the remote authors have time-ordered ids (store/ids.py) and
mostly public visibility, with some unlisted, private and direct posts, mentions,
replies and hashtags. account_stats and the reader's home_feed are what the store
would have written (fan-out on write, trimmed to HOME_FEED_SIZE); both are checked
against the statuses with SQL after the load.

Built databases stay in the cache directory (keyed by the schema, the migrations and
this generator) and are reused by the next run; --no-keep deletes them at the end,
--rebuild builds them again. PostgreSQL runs as a private server over a data
directory in the cache (as the unprivileged user `nobody` when we are root), started
for the run and stopped at the end. Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import importlib.util
import inspect
import json
import math
import multiprocessing
import os
import pwd
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import aiosqlite
import asyncpg
import yarl
from aiohttp import web
from benchlib import end_process, free_port
from sqlalchemy import Table

from fedchirp.federation.httpsig import generate_key_pair
from fedchirp.services.oauth import token_hash
from fedchirp.services.passwords import hash_password
from fedchirp.store import Store, schema, triggers
from fedchirp.store.db import SQLITE_PRAGMAS
from fedchirp.store.ids import SEQUENCE_BITS
from fedchirp.store.migrate import head_revision
from fedchirp.store.models import FOLLOWER_VISIBLE
from fedchirp.store.timelines import HOME_FEED_SIZE
from fedchirp.urls import Urls

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CACHE_DIR = Path(tempfile.gettempdir()) / "fedchirp-bench-timeline"

READER_ID = 1
READER = "reader"
FIRST_AUTHOR = 2
AUTHORS = 2_000
FOLLOWEES = 200
PAGE_SIZE = 20  # the Mastodon API's default page, what the client asks for
TOKEN = "fedchirp-bench-timeline-token"
SCOPES = "read write follow push"
SPAN_MS = 180 * 86_400_000  # the posts are spread over half a year
CHUNK = 20_000  # posts generated and loaded at a time

BARE_SQL = (
    "SELECT s.* FROM home_feed h JOIN statuses s ON s.id = h.status_id "
    "WHERE h.account_id = {param} ORDER BY h.status_id DESC LIMIT 20"
)

SERVER_START_SECONDS = 90.0
REQUEST_TIMEOUT_SECONDS = 30.0
PG_USER = "fedchirp"  # the cluster's superuser, trusted without a password on 127.0.0.1
PG_UNPRIVILEGED = "nobody"


# -- the data ---------------------------------------------------------------------------

ACCOUNT_COLUMNS = (
    "id", "username", "domain", "display_name", "note", "actor_type", "locked", "uri",
    "url", "inbox_url", "shared_inbox_url", "outbox_url", "followers_url",
    "following_url", "public_key_id", "public_key_pem", "avatar_url", "created_at",
    "fetched_at",
)  # fmt: skip
STATUS_COLUMNS = (
    "id", "uri", "url", "account_id", "local", "content", "visibility", "language",
    "in_reply_to_id", "in_reply_to_uri", "in_reply_to_account_id", "created_at",
)  # fmt: skip
FILLER = (
    "Morning walk along the river, the fog has not lifted yet.",
    "Shipped the release today; thanks to everyone who tested the betas.",
    "Does anyone have a good recipe for sourdough that does not take three days?",
    "Reading about B-trees again and it is still delightful.",
    "The train was late, so here is a photo of the station clock instead.",
    "Reminder: back up your database before you upgrade anything.",
    "Small web, small servers, small joys.",
    "Finally fixed the bug that only happened on Tuesdays.",
)


def _iso(ms: int) -> str:
    """clock.to_iso of a unix time in milliseconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


class Dataset:
    """The rows of one database, table by table: accounts, the reader's user, token and
    follows, the posts in chunks, then the counters and the reader's feed that writing
    those posts would have left."""

    def __init__(self, posts: int, seed: int = 20240601) -> None:
        self.posts = posts
        self.rng = random.Random(seed + posts)
        self.end_ms = int(time.time() * 1000) - 60_000
        self.start_ms = self.end_ms - SPAN_MS
        self.authors = range(FIRST_AUTHOR, FIRST_AUTHOR + AUTHORS)
        self.followees = frozenset(self.rng.sample(self.authors, FOLLOWEES))
        self.actor_uri = {a: f"https://remote{a % 97}.example/users/user{a}" for a in self.authors}
        self.profile_url = {a: f"https://remote{a % 97}.example/@user{a}" for a in self.authors}
        self.reader_urls = Urls("http://127.0.0.1")  # pointed at the server's port when served
        self.feed: deque[int] = deque(maxlen=HOME_FEED_SIZE)  # the trim keeps the newest
        self.stats: dict[int, list[Any]] = {}
        self.replies: Counter[int] = Counter()
        self.recent: deque[tuple[int, str, int]] = deque(maxlen=500)

    def tables(self) -> Iterator[tuple[Table, Sequence[str], list[tuple[Any, ...]]]]:
        yield schema.accounts, ACCOUNT_COLUMNS, self._accounts()
        yield from self._reader_rows()
        for start in range(0, self.posts, CHUNK):
            yield from self._posts(start, min(start + CHUNK, self.posts))
        followers = {a: int(a in self.followees) for a in self.authors}
        following = {READER_ID: len(self.followees)}
        yield (
            schema.account_stats,
            (
                "account_id",
                "statuses_count",
                "followers_count",
                "following_count",
                "last_status_at",
            ),
            [
                (a, count, followers.get(a, 0), following.get(a, 0), last)
                for a, (count, last) in sorted({READER_ID: (0, None), **self.stats}.items())
            ],
        )
        yield (
            schema.status_stats,
            ("status_id", "replies_count"),
            sorted(self.replies.items()),
        )
        yield (
            schema.home_feed,
            ("account_id", "status_id"),
            [(READER_ID, sid) for sid in self.feed],
        )

    def _accounts(self) -> list[tuple[Any, ...]]:
        created = _iso(self.start_ms - 86_400_000)
        fetched = time.time()
        _, public_pem = generate_key_pair()
        urls = self.reader_urls
        rows: list[tuple[Any, ...]] = [
            (
                READER_ID, READER, "", "Reader", "", "Person", 0, urls.actor(READER),
                urls.profile(READER), urls.inbox(READER), urls.shared_inbox,
                urls.outbox(READER), urls.followers(READER), urls.following(READER),
                urls.key_id(READER), public_pem, "", created, None,
            )
        ]  # fmt: skip
        for a in self.authors:
            uri, host = self.actor_uri[a], f"https://remote{a % 97}.example"
            rows.append(
                (
                    a, f"user{a}", f"remote{a % 97}.example", f"User {a}", "<p>Hello.</p>",
                    "Person", 0, uri, self.profile_url[a], f"{uri}/inbox", f"{host}/inbox",
                    f"{uri}/outbox", f"{uri}/followers", f"{uri}/following",
                    f"{uri}#main-key", public_pem, "", created, fetched,
                )
            )  # fmt: skip
        return rows

    def _reader_rows(self) -> Iterator[tuple[Table, Sequence[str], list[tuple[Any, ...]]]]:
        created = _iso(self.start_ms - 86_400_000)
        private_pem, _ = generate_key_pair()
        yield (
            schema.local_users,
            ("account_id", "password_hash", "private_key_pem", "is_admin", "created_at"),
            [(READER_ID, hash_password("bench-password"), private_pem, 0, created)],
        )
        yield (
            schema.oauth_apps,
            ("id", "name", "redirect_uris", "scopes", "client_id", "client_secret", "created_at"),
            [(1, "bench", "urn:ietf:wg:oauth:2.0:oob", SCOPES, "bench", "secret", created)],
        )
        yield (
            schema.oauth_tokens,
            ("id", "token_hash", "app_id", "account_id", "scopes", "created_at"),
            [(1, token_hash(TOKEN), 1, READER_ID, SCOPES, created)],
        )
        reader_uri = self.reader_urls.actor(READER)
        yield (
            schema.follows,
            ("id", "follower_id", "followee_id", "uri", "state", "created_at"),
            [
                (n, READER_ID, a, f"{reader_uri}#follows/{n}", "accepted", created)
                for n, a in enumerate(sorted(self.followees), start=1)
            ],
        )

    def _recipients(self, author: int, visibility: str) -> list[int]:
        rng = self.rng
        if visibility == "direct":
            count, to_reader = rng.randint(1, 3), rng.random() < 0.10
        elif rng.random() < 0.15:
            count, to_reader = rng.randint(1, 2), rng.random() < 0.02
        else:
            return []
        chosen = {rng.randrange(FIRST_AUTHOR, FIRST_AUTHOR + AUTHORS) for _ in range(count)}
        chosen.discard(author)
        if to_reader or not chosen:
            chosen.add(READER_ID)
        return sorted(chosen)

    def _posts(
        self, start: int, stop: int
    ) -> Iterator[tuple[Table, Sequence[str], list[tuple[Any, ...]]]]:
        rng = self.rng
        rows, recipient_rows, tag_rows = [], [], []
        for i in range(start, stop):
            ms = self.start_ms + i * SPAN_MS // self.posts  # strictly increasing in i
            sid = (ms << SEQUENCE_BITS) | rng.getrandbits(SEQUENCE_BITS)  # a remote post's id
            author = rng.randrange(FIRST_AUTHOR, FIRST_AUTHOR + AUTHORS)
            roll = rng.random()
            visibility = (
                "public"
                if roll < 0.70
                else "unlisted"
                if roll < 0.85
                else "private"
                if roll < 0.95
                else "direct"
            )
            recipients = self._recipients(author, visibility)
            mentions = " ".join(f"@user{r}" if r != READER_ID else "@reader" for r in recipients)
            text = FILLER[i % len(FILLER)]
            content = f"<p>{mentions} {text}</p>" if mentions else f"<p>{text}</p>"
            if rng.random() < 0.05:
                tag = f"tag{rng.randrange(50)}"
                tag_rows.append((sid, tag))
                content = content[:-4] + f' <a href="#" class="mention hashtag">#{tag}</a></p>'
            reply_id = reply_uri = reply_author = None
            if self.recent and rng.random() < 0.10:
                reply_id, reply_uri, reply_author = rng.choice(self.recent)
                self.replies[reply_id] += 1
            uri = f"{self.actor_uri[author]}/statuses/{sid}"
            created = _iso(ms)
            rows.append(
                (
                    sid, uri, f"{self.profile_url[author]}/{sid}", author, 0, content,
                    visibility, "en", reply_id, reply_uri, reply_author, created,
                )
            )  # fmt: skip
            recipient_rows.extend((sid, r, 1) for r in recipients)
            self.recent.append((sid, uri, author))
            # What StatusQueries._fan_out writes for a local reader: posts addressed to it,
            # and posts followers may see by the accounts it follows (accepted).
            if READER_ID in recipients or (
                author in self.followees and visibility in FOLLOWER_VISIBLE
            ):
                self.feed.append(sid)
            stat = self.stats.get(author)
            if stat is None:
                self.stats[author] = [1, created]
            else:
                stat[0] += 1
                stat[1] = created
        yield schema.statuses, STATUS_COLUMNS, rows
        yield schema.status_recipients, ("status_id", "account_id", "mentioned"), recipient_rows
        yield schema.status_tags, ("status_id", "tag"), tag_rows


def _check_columns() -> None:
    """Fail at once, with the column's name, if the schema no longer has a column we fill."""
    for table, columns in ((schema.accounts, ACCOUNT_COLUMNS), (schema.statuses, STATUS_COLUMNS)):
        missing = set(columns) - set(table.c.keys())
        if missing:
            raise SystemExit(f"bench: schema has no {table.name}.{sorted(missing)[0]}")


# Checks of what was loaded, in SQL both databases speak: the reader's feed must be the
# newest HOME_FEED_SIZE statuses that fan-out would have put there, and the counters
# must count the statuses.
_VISIBLE = ", ".join(f"'{v}'" for v in FOLLOWER_VISIBLE)
EXPECTED_FEED_SQL = f"""
SELECT s.id FROM statuses s
WHERE s.account_id = {READER_ID}
   OR EXISTS (SELECT 1 FROM status_recipients r
              WHERE r.status_id = s.id AND r.account_id = {READER_ID})
   OR (s.visibility IN ({_VISIBLE}) AND EXISTS (
        SELECT 1 FROM follows f WHERE f.follower_id = {READER_ID}
        AND f.followee_id = s.account_id AND f.state = 'accepted'))
ORDER BY s.id DESC LIMIT {HOME_FEED_SIZE}"""
FEED_SQL = f"SELECT status_id FROM home_feed WHERE account_id = {READER_ID} ORDER BY 1 DESC"
EXPECTED_STATS_SQL = (
    "SELECT account_id, COUNT(*), MAX(created_at) FROM statuses "
    "WHERE reblog_of_id IS NULL GROUP BY account_id ORDER BY account_id"
)
STATS_SQL = (
    "SELECT account_id, statuses_count, last_status_at FROM account_stats"
    " WHERE statuses_count > 0 ORDER BY 1"
)


def _check_loaded(rows_of: Any, posts: int) -> str:
    feed = [r[0] for r in rows_of(FEED_SQL)]
    if feed != [r[0] for r in rows_of(EXPECTED_FEED_SQL)]:
        raise RuntimeError("home_feed is not what fan-out and the trim would have left")
    if [tuple(r) for r in rows_of(STATS_SQL)] != [tuple(r) for r in rows_of(EXPECTED_STATS_SQL)]:
        raise RuntimeError("account_stats do not count the statuses")
    counted = rows_of("SELECT COUNT(*) FROM statuses")[0][0]
    if counted != posts:
        raise RuntimeError(f"{counted} statuses loaded, not {posts}")
    return f"feed {len(feed)} entries, checked"


def fingerprint(posts: int) -> str:
    """What a cached database was built from: schema, triggers, migrations, generator."""
    digest = hashlib.sha256()
    for module in (schema, triggers):
        digest.update(Path(module.__file__ or "").read_bytes())
    digest.update(inspect.getsource(Dataset).encode())
    digest.update(repr((head_revision(), posts, HOME_FEED_SIZE, TOKEN)).encode())
    return digest.hexdigest()[:12]


async def _create_schema(url: str) -> None:
    store = Store(url)
    await store.open()  # create_all + alembic stamp on an empty database
    await store.close()


# -- SQLite ---------------------------------------------------------------------------


def sqlite_path(cache: Path, posts: int) -> Path:
    return cache / f"sqlite-{posts}-{fingerprint(posts)}.sqlite3"


def build_sqlite(path: Path, posts: int) -> str:
    building = path.with_suffix(".building")
    for stale in path.parent.glob(f"sqlite-{posts}-*"):
        stale.unlink()
    asyncio.run(_create_schema(f"sqlite+aiosqlite:///{building}"))
    connection = sqlite3.connect(building, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-1000000")  # 1 GB while loading
        connection.execute("BEGIN")
        for table, columns, rows in Dataset(posts).tables():
            marks = ", ".join("?" * len(columns))
            connection.executemany(
                f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", rows
            )
        connection.execute("COMMIT")
        note = _check_loaded(lambda sql: connection.execute(sql).fetchall(), posts)
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    building.rename(path)
    for leftover in path.parent.glob(f"{building.name}-*"):
        leftover.unlink()
    return note


def point_reader_sqlite(path: Path, base_url: str) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute(_POINT_READER_SQL.format(param="?"), _reader_urls(base_url))
    finally:
        connection.close()


# -- PostgreSQL -----------------------------------------------------------------------


class PostgresUnavailable(RuntimeError):
    pass


def _pg_tools() -> tuple[Path | None, str, str]:
    """(bindir, superuser, unprivileged user), from the tests' helper when it is there."""
    helper = REPO / "tests" / "postgres.py"
    try:
        spec = importlib.util.spec_from_file_location("_fedchirp_tests_postgres", helper)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.find_bindir(), module.USER, module.UNPRIVILEGED
    except (OSError, ImportError, AttributeError, AssertionError):
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        return (found[-1].parent if found else None), PG_USER, PG_UNPRIVILEGED


class Postgres:
    """A private PostgreSQL server over a data directory kept in the cache.

    Like tests/postgres.py's throwaway cluster (trust on 127.0.0.1, durability off,
    `nobody` when we are root), except that the data directory outlives the run so
    that built databases are reused; stop() shuts it down cleanly."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = 0
        bindir, self.user, unprivileged = _pg_tools()
        if bindir is None:
            raise PostgresUnavailable("no PostgreSQL server binaries (initdb, pg_ctl) found")
        self.bindir = bindir
        self._as_user: list[str] = []
        self._owner: tuple[int, int] | None = None
        if os.geteuid() == 0:
            entry = pwd.getpwnam(unprivileged)
            self._owner = (entry.pw_uid, entry.pw_gid)
            self._as_user = [
                "setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups"
            ]  # fmt: skip

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [*self._as_user, str(self.bindir / tool), *args],
            cwd=self.root, capture_output=True, text=True, timeout=120, check=False,
            start_new_session=True,  # a Ctrl-C meant for us must not stop the server
        )  # fmt: skip
        if check and done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr}\n{tail}")
        return done

    def _own(self, *paths: Path) -> None:
        if self._owner is not None:
            for path in paths:
                os.chown(path, *self._owner)

    def _initdb(self) -> None:
        shutil.rmtree(self.data, ignore_errors=True)
        self.data.mkdir(mode=0o700)
        self._own(self.data)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", self.user,
                  "--no-sync", "-E", "UTF8", "--locale=C")  # fmt: skip

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)  # nobody must reach the data directory
        sockets, log = self.root / "sockets", self.root / "server.log"
        sockets.mkdir(mode=0o755, exist_ok=True)
        log.touch()
        self._own(sockets, log)
        if (self.data / "postmaster.pid").exists():  # left running by a killed run
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
        fresh = not (self.data / "PG_VERSION").exists()
        if fresh:
            self._initdb()
        for attempt in range(4):
            port = free_port()
            options = (
                f"-h 127.0.0.1 -p {port} -k {sockets} -F -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_wal_size=4GB"
            )
            done = self._run("pg_ctl", "-D", str(self.data), "-l", str(log), "-w", "-t", "60",
                             "-o", options, "start", check=False)  # fmt: skip
            if done.returncode == 0:
                self.port = port
                return
            if not fresh:  # a data directory this server cannot use: start over
                print("bench: cached PostgreSQL data unusable, making a new cluster")
                self._initdb()
                fresh = True
            elif attempt == 3:
                raise RuntimeError(f"pg_ctl start failed: {done.stderr}")

    def stop(self) -> None:
        if self.port:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
            self.port = 0

    async def connect(self, database: str = "postgres") -> asyncpg.Connection:
        return await asyncpg.connect(
            host="127.0.0.1", port=self.port, user=self.user, database=database, ssl=False
        )

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{self.user}@127.0.0.1:{self.port}/{database}"

    async def databases(self) -> set[str]:
        connection = await self.connect()
        try:
            return {r[0] for r in await connection.fetch("SELECT datname FROM pg_database")}
        finally:
            await connection.close()

    async def admin(self, *statements: str) -> None:
        connection = await self.connect()
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()


def pg_database(posts: int) -> str:
    return f"timeline_{posts}_{fingerprint(posts)}"


async def build_postgres(cluster: Postgres, name: str, posts: int) -> str:
    building = f"{name}_building"
    stale = [d for d in await cluster.databases() if d.startswith(f"timeline_{posts}_")]
    await cluster.admin(*(f'DROP DATABASE IF EXISTS "{d}"' for d in stale))
    await cluster.admin(f'CREATE DATABASE "{building}"')
    await _create_schema(cluster.url(building))
    connection = await cluster.connect(building)
    try:
        async with connection.transaction():
            for table, columns, rows in Dataset(posts).tables():
                if rows:
                    await connection.copy_records_to_table(
                        table.name, records=rows, columns=list(columns)
                    )
            for table in schema.metadata.sorted_tables:  # ids given, so move the sequences on
                if "id" in table.c and table.c.id.autoincrement is not False:
                    await connection.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"COALESCE(MAX(id), 0) + 1, false) FROM {table.name}"
                    )
        await connection.execute("VACUUM ANALYZE")  # what autovacuum would soon have done
        note = await _check_postgres(connection, posts)
    finally:
        await connection.close()
    await cluster.admin(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
    return note


async def _check_postgres(connection: asyncpg.Connection, posts: int) -> str:
    """_check_loaded on an asyncpg connection."""
    results: dict[str, list[tuple[Any, ...]]] = {}
    for sql in (FEED_SQL, EXPECTED_FEED_SQL, STATS_SQL, EXPECTED_STATS_SQL,
                "SELECT COUNT(*) FROM statuses"):  # fmt: skip
        results[sql] = [tuple(r) for r in await connection.fetch(sql)]
    return _check_loaded(results.__getitem__, posts)


async def point_reader_postgres(cluster: Postgres, name: str, base_url: str) -> None:
    connection = await cluster.connect(name)
    try:
        params = _reader_urls(base_url)
        await connection.execute(
            _POINT_READER_SQL.format(param="${}").format(*range(1, len(params) + 1)), *params
        )
    finally:
        await connection.close()


_URL_FIELDS = (
    "uri", "url", "inbox_url", "shared_inbox_url", "outbox_url", "followers_url",
    "following_url", "public_key_id",
)  # fmt: skip
_POINT_READER_SQL = (
    "UPDATE accounts SET "
    + ", ".join(f"{field} = {{param}}" for field in _URL_FIELDS)
    + f" WHERE id = {READER_ID}"
)


def _reader_urls(base_url: str) -> tuple[str, ...]:
    """The reader's ids as the server on this port mints them."""
    urls = Urls(base_url)
    return (
        urls.actor(READER), urls.profile(READER), urls.inbox(READER), urls.shared_inbox,
        urls.outbox(READER), urls.followers(READER), urls.following(READER),
        urls.key_id(READER),
    )  # fmt: skip


# -- servers --------------------------------------------------------------------------


def _wait_for_port(port: int, alive: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive():
            return False
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return True
        time.sleep(0.05)
    return False


class FedChirpServer:
    """`python -m fedchirp --config ... serve` on a free port, in a process of its own."""

    def __init__(self, run_dir: Path, label: str, database_url: str) -> None:
        self.run_dir = run_dir
        self.label = label
        self.database_url = database_url
        self.process: subprocess.Popen | None = None
        self.log = run_dir / f"fedchirp-{label}.log"
        self.port = 0

    def config(self, port: int) -> Path:
        path = self.run_dir / f"fedchirp-{self.label}.toml"
        path.write_text(
            "[server]\n"
            f'domain = "127.0.0.1:{port}"\n'
            'scheme = "http"\n'
            'listen_host = "127.0.0.1"\n'
            f"listen_port = {port}\n\n"
            "[storage]\n"
            f"data_dir = {json.dumps(str(self.run_dir / f'data-{self.label}'))}\n\n"
            "[database]\n"
            f"url = {json.dumps(self.database_url)}\n"
        )
        return path

    def start(self, before: Any) -> str:
        """Start on a free port (before(base_url) runs first); return the base URL."""
        for _attempt in range(3):
            port = free_port()
            base_url = f"http://127.0.0.1:{port}"
            before(base_url)
            config = self.config(port)
            with self.log.open("ab") as log:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "fedchirp", "--config", str(config), "serve"],
                    cwd=REPO, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True,  # we stop it ourselves, also after a Ctrl-C
                )  # fmt: skip
            process = self.process
            if _wait_for_port(port, lambda p=process: p.poll() is None, SERVER_START_SECONDS):
                self.port = port
                return base_url
            self.stop()
        tail = self.log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"fedchirp server did not start ({self.label}):\n{tail}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def _bare_server(conn: Connection, backend: str, target: dict[str, Any]) -> None:
    """The baseline: only the indexed read of the same 20 rows, answered as JSON."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    asyncio.run(_serve_bare(conn, backend, target))


async def _serve_bare(conn: Connection, backend: str, target: dict[str, Any]) -> None:
    if backend == "sqlite":
        db = await aiosqlite.connect(target["path"], isolation_level=None)
        db.row_factory = aiosqlite.Row
        for pragma in SQLITE_PRAGMAS:  # as the server's connections are set up
            await db.execute(pragma)
        sql = BARE_SQL.format(param="?")

        async def read() -> list[dict[str, Any]]:
            async with db.execute(sql, (READER_ID,)) as cursor:
                return [dict(row) for row in await cursor.fetchall()]
    else:
        pg = await asyncpg.connect(**target, ssl=False)
        sql = BARE_SQL.format(param="$1")

        async def read() -> list[dict[str, Any]]:
            return [dict(row) for row in await pg.fetch(sql, READER_ID)]

    async def home(_request: web.Request) -> web.Response:
        return web.json_response(await read())

    app = web.Application()
    app.router.add_get("/home", home)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    conn.send(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
    await asyncio.Event().wait()  # until terminated


class BareServer:
    def __init__(self, backend: str, target: dict[str, Any]) -> None:
        self.backend = backend
        self.target = target
        self.process: multiprocessing.process.BaseProcess | None = None

    def start(self) -> str:
        spawn = multiprocessing.get_context("spawn")
        ours, theirs = spawn.Pipe()
        self.process = spawn.Process(
            target=_bare_server, args=(theirs, self.backend, self.target), daemon=True
        )
        self.process.start()
        if not ours.poll(SERVER_START_SECONDS):
            raise RuntimeError("the bare server did not start")
        return f"http://127.0.0.1:{ours.recv()}"

    def stop(self) -> None:
        end_process(self.process)
        self.process = None


# -- the client -----------------------------------------------------------------------


def _client(conn: Connection, url: str, headers: dict[str, str], warmup: int, count: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    try:
        conn.send(("ok", asyncio.run(_measure(url, headers, warmup, count))))
    except Exception as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))


async def _measure(url: str, headers: dict[str, str], warmup: int, count: int) -> dict[str, Any]:
    """Sequential GETs on one keep-alive connection; seconds from send to end of body."""
    target = yarl.URL(url)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
    connector = aiohttp.TCPConnector(limit=1)
    latencies: list[float] = []
    ids: list[str] = []
    clock = time.perf_counter
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        for n in range(warmup + count):
            started = clock()
            async with session.get(target, headers=headers) as response:
                body = await response.read()
                status = response.status
            elapsed = clock() - started
            if status != 200:
                raise RuntimeError(f"{url} answered {status}: {body[:300]!r}")
            items = json.loads(body)
            if not isinstance(items, list) or len(items) != PAGE_SIZE:
                raise RuntimeError(f"{url} answered {len(items)} items, not {PAGE_SIZE}")
            if n >= warmup:
                latencies.append(elapsed)
            ids = [str(item["id"]) for item in items]
    return {"latencies": latencies, "ids": ids}


def run_client(url: str, headers: dict[str, str], warmup: int, count: int) -> dict[str, Any]:
    spawn = multiprocessing.get_context("spawn")
    ours, theirs = spawn.Pipe()
    process = spawn.Process(target=_client, args=(theirs, url, headers, warmup, count), daemon=True)
    process.start()
    try:
        if not ours.poll(60 + (warmup + count) * REQUEST_TIMEOUT_SECONDS):
            raise RuntimeError("the client did not finish")
        outcome, result = ours.recv()
    finally:
        end_process(process)
    if outcome != "ok":
        raise RuntimeError(f"client: {result}")
    return result


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# -- the run --------------------------------------------------------------------------


def measure(
    backend: str,
    label: str,
    run_dir: Path,
    database_url: str,
    bare_target: dict[str, Any],
    point_reader: Any,
    args: argparse.Namespace,
) -> dict[str, Any]:
    bare_server = BareServer(backend, bare_target)
    try:
        bare = run_client(f"{bare_server.start()}/home", {}, args.warmup, args.requests)
    finally:
        bare_server.stop()
    server = FedChirpServer(run_dir, label, database_url)
    try:
        base_url = server.start(point_reader)
        assert server.process is not None
        print(f"  fedchirp server pid {server.process.pid} on {base_url}", flush=True)
        ours = run_client(
            f"{base_url}/api/v1/timelines/home",
            {"Authorization": f"Bearer {TOKEN}"},
            args.warmup,
            args.requests,
        )
    finally:
        server.stop()
    if ours["ids"] != bare["ids"]:
        print(f"  WARNING: fedchirp and the bare read returned different posts ({label})")
    return {
        "fedchirp": (percentile(ours["latencies"], 50), percentile(ours["latencies"], 99)),
        "bare": (percentile(bare["latencies"], 50), percentile(bare["latencies"], 99)),
    }


def run_sqlite(cache: Path, run_dir: Path, sizes: list[int], args: argparse.Namespace) -> dict:
    results = {}
    for posts in sizes:
        path = sqlite_path(cache, posts)
        if args.rebuild or not path.exists():
            started = time.perf_counter()
            note = build_sqlite(path, posts)
            print(f"sqlite {posts:,}: built in {time.perf_counter() - started:.1f} s ({note})")
        else:
            print(f"sqlite {posts:,}: reusing {path}")
        results[posts] = measure(
            "sqlite",
            f"sqlite-{posts}",
            run_dir,
            f"sqlite+aiosqlite:///{path}",
            {"path": str(path)},
            lambda base_url, path=path: point_reader_sqlite(path, base_url),
            args,
        )
        _progress("sqlite", posts, results[posts])
    return results


def run_postgres(cluster: Postgres, run_dir: Path, sizes: list[int], args: argparse.Namespace):
    results = {}
    for posts in sizes:
        name = pg_database(posts)
        if args.rebuild or name not in asyncio.run(cluster.databases()):
            started = time.perf_counter()
            note = asyncio.run(build_postgres(cluster, name, posts))
            print(f"postgresql {posts:,}: built in {time.perf_counter() - started:.1f} s ({note})")
        else:
            print(f"postgresql {posts:,}: reusing database {name}")
        results[posts] = measure(
            "postgresql",
            f"postgresql-{posts}",
            run_dir,
            cluster.url(name),
            {"host": "127.0.0.1", "port": cluster.port, "user": cluster.user, "database": name},
            lambda base_url, name=name: asyncio.run(point_reader_postgres(cluster, name, base_url)),
            args,
        )
        _progress("postgresql", posts, results[posts])
    return results


def _progress(backend: str, posts: int, result: dict[str, Any]) -> None:
    (f50, f99), (b50, b99) = result["fedchirp"], result["bare"]
    print(
        f"  {backend} {posts:,}: fedchirp p50 {f50 * 1e3:.2f} ms p99 {f99 * 1e3:.2f} ms, "
        f"bare p50 {b50 * 1e3:.2f} ms p99 {b99 * 1e3:.2f} ms",
        flush=True,
    )


def report(
    results: dict[str, dict[int, dict[str, Any]]], args: argparse.Namespace, load: str
) -> None:
    print()
    print(
        f"GET /api/v1/timelines/home ({PAGE_SIZE} posts) vs the bare indexed read of the same "
        f"rows; {args.requests} sequential requests after {args.warmup} warm-up; times in ms"
    )
    print(load)
    goals = []
    for backend, by_size in results.items():
        print()
        print(f"{backend:<11} {'posts':>9}  {'fedchirp p50':>12} {'p99':>7}  "
              f"{'bare p50':>8} {'p99':>6}  {'p50 ratio':>9} {'p99 ratio':>9}")  # fmt: skip
        for posts, result in sorted(by_size.items()):
            (f50, f99), (b50, b99) = result["fedchirp"], result["bare"]
            print(f"{'':<11} {posts:>9,}  {f50 * 1e3:>12.2f} {f99 * 1e3:>7.2f}  "
                  f"{b50 * 1e3:>8.2f} {b99 * 1e3:>6.2f}  "
                  f"{f50 / b50:>8.1f}x {f99 / b99:>8.1f}x")  # fmt: skip
        small, large = min(by_size), max(by_size)
        growth = "n/a (one size)"
        if large != small:
            f_growth = by_size[large]["fedchirp"][1] / by_size[small]["fedchirp"][1]
            b_growth = by_size[large]["bare"][1] / by_size[small]["bare"][1]
            growth = f"{f_growth:.2f}x"
            print(f"{'':<11} p99 growth {small:,} -> {large:,} posts: "
                  f"fedchirp {f_growth:.2f}x, bare {b_growth:.2f}x")  # fmt: skip
        f99, b99 = by_size[large]["fedchirp"][1], by_size[large]["bare"][1]
        goals.append(
            f"  {backend:<11} at {large:,} posts: p99 {f99 * 1e3:.2f} ms (goal < 5), "
            f"{f99 / b99:.1f}x the bare read (goal <= 3x), growth {growth} (goal <= 2x)"
        )
    print()
    print("goals (printed, not checked): home p99 < 5 ms at 1M posts, <= 3x the bare read's "
          "p99, p99 growth <= 2x from 10k to 1M")  # fmt: skip
    print("\n".join(goals))


def _load_average() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="posts per database")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=1000, help="timed requests per server")
    parser.add_argument("--warmup", type=int, default=100, help="untimed requests first")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR)
    parser.add_argument(
        "--keep",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="keep the built databases in the cache dir for the next run (default); "
        "--no-keep deletes them at the end",
    )
    parser.add_argument("--rebuild", action="store_true", help="build even if cached")
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"sqlite", "postgresql"}
    if unknown or not sizes or min(sizes) < PAGE_SIZE * 10 or args.requests < 1:
        parser.error("backends are sqlite and postgresql; sizes >= 200; requests >= 1")
    _check_columns()
    # A Ctrl-C (even where a shell made us ignore it) and a SIGTERM end the run through
    # the finally blocks that stop the servers.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    cache = args.cache_dir.resolve()
    cache.mkdir(parents=True, exist_ok=True)
    cache.chmod(0o755)
    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=cache))
    load_before = _load_average()
    results: dict[str, dict[int, dict[str, Any]]] = {}
    cluster: Postgres | None = None
    try:
        for backend in backends:
            if backend == "sqlite":
                results["sqlite"] = run_sqlite(cache, run_dir, sizes, args)
                continue
            try:
                cluster = Postgres(cache / "postgresql")
            except PostgresUnavailable as exc:
                print(f"postgresql: skipped, {exc}")
                continue
            cluster.start()
            try:
                results["postgresql"] = run_postgres(cluster, run_dir, sizes, args)
            finally:
                cluster.stop()
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(run_dir, ignore_errors=True)
        if not args.keep:
            for built in cache.glob("sqlite-*"):
                built.unlink()
            shutil.rmtree(cache / "postgresql", ignore_errors=True)
    if results:
        # Other work on the machine shows up in the p99s first: say how busy it was.
        load = (
            f"1-minute load average {load_before} before, {_load_average()} after, "
            f"on {os.cpu_count()} CPUs"
        )
        report(results, args, load)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        sys.exit(130)
