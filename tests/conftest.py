"""Shared fixtures: real FedChirp instances on 127.0.0.1, each with a database of its own.

Backends. Instances keep their data in SQLite unless a test module opts in to
running on both databases:

    pytestmark = pytest.mark.backends      # or: BACKENDS = ("sqlite", "postgresql")

Then every test of the module that starts instances (or asks for `backend`,
`make_store` or `database_settings`) runs twice, ids [sqlite] and [postgresql];
on PostgreSQL each instance gets a fresh database in a throwaway cluster
(tests/postgres.py). `@pytest.mark.backends("postgresql")` picks backends for one
test or module; `@pytest.mark.sqlite_only` keeps a test (one that opens a Store
on a path, or reads the SQLite file itself) on SQLite alone, with its plain id.
A test that asks for `database_settings` by name runs on both backends too.
"""

from __future__ import annotations

import inspect
import itertools
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

from fedchirp.localnet import ApiClient, LocalInstance, start_instance
from tests.postgres import PostgresCluster, find_bindir
from tests.stubs import RecordingInbox, StubActorServer

if TYPE_CHECKING:
    from fedchirp.store import Store

StartInstance = Callable[..., Awaitable[LocalInstance]]
MakeStore = Callable[..., Awaitable["Store"]]

BACKENDS = ("sqlite", "postgresql")

_KEY_POOL: list[tuple[str, str]] = []


@pytest.fixture(autouse=True)
def _pooled_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """RSA-2048 generation costs ~0.1 s a key; tests create hundreds of accounts.
    Keys come from a pool made once per session, and within one test every key
    handed out is different, so no two actors of a test ever share a key."""
    from fedchirp.federation.httpsig import generate_key_pair
    from fedchirp.services import accounts

    handed_out = itertools.count()

    def next_key() -> tuple[str, str]:
        index = next(handed_out)
        while len(_KEY_POOL) <= index:
            _KEY_POOL.append(generate_key_pair())
        return _KEY_POOL[index]

    monkeypatch.setattr(accounts, "generate_key_pair", next_key)


# -- backends ---------------------------------------------------------------------


def _backends_for(metafunc: pytest.Metafunc) -> tuple[str, ...] | None:
    """The backends a test runs on, or None to leave it unparametrized (SQLite)."""
    definition = metafunc.definition
    if definition.get_closest_marker("sqlite_only"):
        return None
    for marker in definition.iter_markers("parametrize"):
        if "backend" in str(marker.args[0] if marker.args else marker.kwargs.get("argnames")):
            return None  # the test picks its backends itself
    marker = definition.get_closest_marker("backends")
    if marker is not None:
        chosen = tuple(marker.args) or BACKENDS
    elif hasattr(metafunc.module, "BACKENDS"):
        chosen = tuple(metafunc.module.BACKENDS)
    elif "database_settings" in inspect.signature(metafunc.function).parameters:
        chosen = BACKENDS
    else:
        return None
    unknown = set(chosen) - set(BACKENDS)
    if unknown:
        raise pytest.UsageError(f"{definition.nodeid}: unknown backend {sorted(unknown)[0]!r}")
    return chosen


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    backends = _backends_for(metafunc)
    if backends is not None:
        metafunc.parametrize("backend", backends, ids=backends, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """Where this test's instances and stores keep their data: "sqlite" or "postgresql"."""
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL server of this session's own, started on first use."""
    bindir = find_bindir()
    if bindir is None:
        reason = (
            "PostgreSQL server binaries not found (no initdb via pg_config --bindir or in "
            "/usr/lib/postgresql/*/bin); install Debian's postgresql package to run these tests"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    cluster = PostgresCluster(bindir)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
async def postgres_url(postgres_cluster: PostgresCluster) -> AsyncIterator[str]:
    """postgresql+asyncpg://... of a new, empty database, dropped after the test."""
    name = await postgres_cluster.create_database()
    yield postgres_cluster.url(name)
    await postgres_cluster.drop_databases([name])


class BackendDatabases:
    """Databases of the test's backend, one per key: a key asked for again gets the same
    database (an instance restarted on its data directory finds its data)."""

    def __init__(self, backend: str, cluster: PostgresCluster | None, directory: Path) -> None:
        self.backend = backend
        self.cluster = cluster
        self.directory = directory
        self.urls: dict[str, str] = {}
        self.created: list[str] = []
        self._unnamed = itertools.count(1)

    async def url(self, key: str | None = None) -> str:
        key = key if key is not None else f"store-{next(self._unnamed)}"
        if key not in self.urls:
            if self.cluster is None:
                path = self.directory / f"{len(self.urls)}.sqlite3"
                self.urls[key] = f"sqlite+aiosqlite:///{path}"
            else:
                name = await self.cluster.create_database()
                self.created.append(name)
                self.urls[key] = self.cluster.url(name)
        return self.urls[key]


@pytest.fixture
def _backend_cluster(backend: str, request: pytest.FixtureRequest) -> PostgresCluster | None:
    return request.getfixturevalue("postgres_cluster") if backend == "postgresql" else None


@pytest.fixture
async def backend_databases(
    backend: str, _backend_cluster: PostgresCluster | None, tmp_path: Path
) -> AsyncIterator[BackendDatabases]:
    """Fresh databases of the test's backend (`await backend_databases.url(key)`)."""
    databases = BackendDatabases(backend, _backend_cluster, tmp_path / "databases")
    yield databases
    if _backend_cluster is not None:
        await _backend_cluster.drop_databases(databases.created)


@pytest.fixture
async def database_settings(backend: str, backend_databases: BackendDatabases) -> dict[str, Any]:
    """Config settings for one fresh database of the backend: {} on SQLite (the file in
    data_dir), {"database": {"url": ...}} on PostgreSQL. Asking for it by name runs the
    test on both backends."""
    if backend == "sqlite":
        return {}
    return {"database": {"url": await backend_databases.url()}}


@pytest.fixture
async def make_store(backend_databases: BackendDatabases) -> AsyncIterator[MakeStore]:
    """await make_store() -> an open Store on a fresh database of the test's backend, closed
    after the test; make_store("a") twice opens the same database twice."""
    from fedchirp.store import Store

    opened: list[Store] = []

    async def _make_store(name: str | None = None) -> Store:
        store = Store(await backend_databases.url(name))
        await store.open()
        opened.append(store)
        return store

    yield _make_store
    for store in reversed(opened):
        await store.close()


# -- instances ------------------------------------------------------------------------


@pytest.fixture
async def start(
    tmp_path: Path, backend: str, backend_databases: BackendDatabases
) -> AsyncIterator[StartInstance]:
    """start(name, port=0, settings=None) -> a running instance, stopped after the test.

    On PostgreSQL each data directory gets a database of its own, the same one again
    when an instance is restarted on it; settings naming a database win."""
    running: list[LocalInstance] = []
    counter = itertools.count()

    async def _start(
        name: str | None = None,
        port: int = 0,
        settings: dict[str, Any] | None = None,
        data_dir: Path | None = None,
        **options: Any,
    ) -> LocalInstance:
        name = name or f"instance-{next(counter)}"
        data_dir = data_dir or tmp_path / name
        if backend != "sqlite" and "database" not in (settings or {}):
            url = await backend_databases.url(str(data_dir.resolve()))
            settings = {**(settings or {}), "database": {"url": url}}
        instance = await start_instance(data_dir, name, port=port, settings=settings, **options)
        running.append(instance)
        return instance

    _start.running = running  # type: ignore[attr-defined]
    yield _start
    for instance in reversed(running):
        if instance.runner.server is not None:
            await instance.stop()


@pytest.fixture
async def pair(start: StartInstance) -> tuple[LocalInstance, LocalInstance]:
    return await start("a"), await start("b")


@pytest.fixture
async def trio(start: StartInstance) -> tuple[LocalInstance, LocalInstance, LocalInstance]:
    return await start("a"), await start("b"), await start("c")


async def _stub_actor_server() -> AsyncIterator[StubActorServer]:
    server = StubActorServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def remote() -> AsyncIterator[StubActorServer]:
    """A stand-in remote server whose actors' keys the test holds."""
    async for server in _stub_actor_server():
        yield server


@pytest.fixture
async def evil() -> AsyncIterator[StubActorServer]:
    """A second stand-in server, for what one server claims about another."""
    async for server in _stub_actor_server():
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def client(http: aiohttp.ClientSession) -> Callable[..., Awaitable[ApiClient]]:
    """client(instance, username) -> an ApiClient signed in as that (existing) user."""

    async def _client(instance: LocalInstance, username: str | None = None) -> ApiClient:
        api = ApiClient(http, instance)
        if username:
            await api.sign_in(username)
        return api

    return _client


@pytest.fixture
async def inbox() -> AsyncIterator[RecordingInbox]:
    """A remote inbox on 127.0.0.1 that records what it is sent."""
    server = RecordingInbox()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def web() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP session that keeps cookies for 127.0.0.1 (as browsers do)."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


@pytest.fixture(autouse=True)
def _no_config_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A FEDCHIRP_CONFIG in the developer's shell must not reach the commands tests run."""
    monkeypatch.delenv("FEDCHIRP_CONFIG", raising=False)
