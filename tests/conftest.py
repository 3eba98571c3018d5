"""Shared fixtures: real FedChirp instances on 127.0.0.1, each with its own SQLite file."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from fedchirp.localnet import ApiClient, LocalInstance, start_instance
from tests.stubs import StubActorServer

StartInstance = Callable[..., Awaitable[LocalInstance]]

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


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[StartInstance]:
    """start(name, port=0, settings=None) -> a running instance, stopped after the test."""
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
        instance = await start_instance(
            data_dir or tmp_path / name, name, port=port, settings=settings, **options
        )
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
