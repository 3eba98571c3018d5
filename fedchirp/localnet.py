"""Several FedChirp instances on 127.0.0.1 in one process: for the demo and the tests.

Each instance gets its own data directory (holding its SQLite database, unless
its settings name another database) and a socket bound before its config is
written (so the port in its domain is the port it really listens on). They
federate over real HTTP with real signatures; the SSRF guard is turned off for
them explicitly, as it must be to reach loopback.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from fedchirp.app import create_app
from fedchirp.config import Config, config_from_dict
from fedchirp.services import accounts
from fedchirp.services.context import Context
from fedchirp.store.models import Account
from fedchirp.web.state import ACTIVITY_OBSERVERS, CTX, ActivityObserver

DEFAULT_PASSWORD = "correct horse battery"


@dataclass
class LocalInstance:
    name: str
    config: Config
    runner: web.AppRunner

    @property
    def app(self) -> web.Application:
        return self.runner.app

    @property
    def ctx(self) -> Context:
        return self.app[CTX]

    @property
    def base_url(self) -> str:
        return self.config.base_url

    @property
    def domain(self) -> str:
        return self.config.server.domain

    @property
    def port(self) -> int:
        return self.config.server.listen_port

    def observe(self, observer: ActivityObserver) -> None:
        self.app[ACTIVITY_OBSERVERS].append(observer)

    async def create_user(
        self, username: str, password: str = DEFAULT_PASSWORD, **options: Any
    ) -> Account:
        return await accounts.create_local_account(
            self.ctx.store, self.ctx.urls, username, password, **options
        )

    def handle(self, username: str) -> str:
        return f"{username}@{self.domain}"

    async def stop(self) -> None:
        await self.runner.cleanup()


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def start_instance(
    data_dir: Path,
    name: str,
    port: int = 0,
    settings: dict[str, Any] | None = None,
    run_workers: bool = True,
) -> LocalInstance:
    """Start an instance on 127.0.0.1 (a free port unless one is given, e.g. to restart).

    settings are config sections laid over the instance's own, key by key: e.g.
    {"database": {"url": "postgresql+asyncpg://..."}} keeps its data in PostgreSQL
    instead of the SQLite file in data_dir (media stay in data_dir either way)."""
    sock = _bind(port)
    port = sock.getsockname()[1]
    data_dir.mkdir(parents=True, exist_ok=True)
    base = {
        "server": {
            "domain": f"127.0.0.1:{port}",
            "scheme": "http",
            "listen_host": "127.0.0.1",
            "listen_port": port,
            "name": name,
        },
        "storage": {"data_dir": str(data_dir)},
        "federation": {"allow_private_addresses": True, "allow_http": True},
    }
    config = config_from_dict(_merge(base, settings or {}), base_dir=data_dir)
    runner = web.AppRunner(create_app(config, run_workers), access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    return LocalInstance(name, config, runner)


class ApiClient:
    """Mastodon API calls over real HTTP, for the demo and the tests."""

    def __init__(self, session: aiohttp.ClientSession, instance: LocalInstance) -> None:
        self.session = session
        self.base = instance.base_url
        self.token = ""

    async def request(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        """(status, JSON body) of an API call, whatever the status."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self.session.request(
            method, self.base + path, headers=headers, **kwargs
        ) as resp:
            return resp.status, await resp.json()

    async def call(self, method: str, path: str, expect: int | None = None, **kwargs: Any) -> Any:
        """Call the API and return the JSON answer; an error status raises unless expected."""
        status, body = await self.request(method, path, **kwargs)
        if expect is not None and status != expect:
            raise AssertionError(f"{method} {path}: {status} (not {expect}) {body}")
        if expect is None and status >= 400:
            raise RuntimeError(f"{method} {path}: {status} {body}")
        return body

    async def sign_in(self, username: str, password: str = DEFAULT_PASSWORD) -> None:
        app = await self.call(
            "POST",
            "/api/v1/apps",
            json={
                "client_name": "fedchirp localnet",
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": "read write follow",
            },
        )
        token = await self.call(
            "POST",
            "/oauth/token",
            json={
                "grant_type": "password",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "username": username,
                "password": password,
                "scope": "read write follow",
            },
        )
        self.token = token["access_token"]


async def settle(*instances: LocalInstance, timeout: float = 15.0) -> None:
    """Deliver everything due on every instance until all queues are quiet.

    Incoming activities are applied (the inbox only queues them) and deliveries sent;
    either can cause more (a Follow makes its target send an Accept), so this loops
    until a full pass finds nothing left to do.
    """

    async def quiet() -> None:
        while True:
            for instance in instances:
                await instance.ctx.jobs.drain()
                await instance.ctx.delivery.drain()
            busy = False
            for instance in instances:
                ctx = instance.ctx
                delivery_due = await ctx.delivery.next_due()
                job_due = await ctx.store.next_job_due(ctx.jobs.queues)
                if ctx.jobs.busy or ctx.delivery.busy:
                    busy = True
                if delivery_due is not None and delivery_due <= ctx.delivery.clock():
                    busy = True
                if job_due is not None and job_due <= ctx.jobs.clock():
                    busy = True
            if not busy:
                return

    await asyncio.wait_for(quiet(), timeout)
