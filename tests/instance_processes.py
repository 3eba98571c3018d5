"""FedChirp run the way it is deployed, for tests: `python -m fedchirp --config X <command>`
in processes of their own (serve, web, worker, jobs), on one config file and database.

Also what such tests share: a config on a free loopback port, a remote actor's account
row, and signing inbox POSTs as a stub server's actor (our own sign_request; other tests
check signatures against third-party code). Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from fedchirp.clock import now_iso
from fedchirp.config import config_from_dict, render_toml
from fedchirp.federation.httpsig import sign_request
from tests.stubs import StubActorServer

START_TIMEOUT = 30.0  # seconds for a process to come up
STOP_TIMEOUT = 15.0  # seconds for a process to exit on SIGTERM before it is killed

# What a process that is not listening yet (or any more) does to a request.
CONNECTION_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(directory: Path, **sections: dict[str, Any]) -> Path:
    """config.toml for an instance on a free loopback port, allowed to talk to loopback
    over http; `sections` add to or override the defaults, e.g. jobs={"lease_seconds": 2}."""
    port = free_port()
    settings: dict[str, dict[str, Any]] = {
        "server": {"domain": f"127.0.0.1:{port}", "listen_host": "127.0.0.1", "listen_port": port},
        "storage": {"data_dir": str(directory / "data")},
        "federation": {"allow_private_addresses": True, "allow_http": True},
        "delivery": {"timeout_seconds": 5.0, "poll_seconds": 0.2},
        "jobs": {"poll_seconds": 0.2},
    }
    for name, values in sections.items():
        settings[name] = {**settings.get(name, {}), **values}
    path = directory / "config.toml"
    path.write_text(render_toml(config_from_dict(settings, base_dir=directory)), encoding="utf-8")
    return path


class FedchirpProcess:
    """One `python -m fedchirp --config X <args>`; its stdout and stderr go to <name>.log
    beside the config."""

    def __init__(self, config_path: Path, args: list[str], name: str) -> None:
        self.config_path = config_path
        self.args = args
        self.name = name
        self.log = config_path.with_name(f"{name}.log")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> FedchirpProcess:
        assert self.proc is None, f"{self.name} is running already"
        env = {k: v for k, v in os.environ.items() if k != "FEDCHIRP_CONFIG"}
        env["PYTHONUNBUFFERED"] = "1"
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "fedchirp", "--config", str(self.config_path), *self.args],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.config_path.parent,
                env=env,
            )
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    async def wait_for_log(self, text: str, timeout: float = START_TIMEOUT) -> None:
        """Until the log holds text (the process must stay alive meanwhile)."""
        deadline = time.monotonic() + timeout
        while text not in self.log_text():
            assert self.running, f"{self.name} exited early:\n{self.log_tail()}"
            assert time.monotonic() < deadline, f"{self.name} never logged {text!r}:\n" + (
                self.log_tail()
            )
            await asyncio.sleep(0.05)

    async def wait_http(
        self, http: aiohttp.ClientSession, url: str, timeout: float = START_TIMEOUT
    ) -> None:
        """Until GET url answers 200 (a web or serve process is listening)."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.running, f"{self.name} exited early:\n{self.log_tail()}"
            try:
                async with http.get(url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
                    if resp.status == 200:
                        return
            except CONNECTION_ERRORS:
                pass
            assert time.monotonic() < deadline, f"{self.name} did not answer:\n{self.log_tail()}"
            await asyncio.sleep(0.05)

    def kill(self) -> None:
        """kill -9: no cleanup, no shutdown handlers, whatever was in progress."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    async def terminate(self, timeout: float = STOP_TIMEOUT) -> tuple[int, float]:
        """SIGTERM, then wait for the exit: (exit status, seconds it took). Killed with
        SIGKILL (status -9) if it takes longer than timeout."""
        assert self.proc is not None
        started = time.monotonic()
        self.proc.terminate()
        while self.proc.poll() is None and time.monotonic() - started < timeout:
            await asyncio.sleep(0.02)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        return self.proc.returncode, time.monotonic() - started

    async def stop(self) -> None:
        """Whatever state it is in: stopped afterwards."""
        if self.running:
            await self.terminate()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return f"--- {self.log.name} ---\n" + "\n".join(self.log_text().splitlines()[-lines:])


def remote_account(base: str, name: str, pem: str, shared_inbox: bool = True) -> dict[str, Any]:
    """An accounts row for actor `name` on the server at base (Store.upsert_remote_account)."""
    uri = f"{base}/users/{name}"
    return {
        "username": name,
        "domain": base.removeprefix("http://"),
        "uri": uri,
        "url": uri,
        "inbox_url": f"{uri}/inbox",
        "shared_inbox_url": f"{base}/inbox" if shared_inbox else None,
        "outbox_url": f"{uri}/outbox",
        "followers_url": f"{uri}/followers",
        "following_url": f"{uri}/following",
        "public_key_id": f"{uri}#main-key",
        "public_key_pem": pem,
        "created_at": now_iso(),
        "fetched_at": time.time(),
    }


def inbox_signer(remote: StubActorServer, name: str) -> Callable[[str, bytes], dict[str, str]]:
    """sign(url, body) -> the headers of a POST signed as the remote actor, Mastodon's way."""
    key_id = f"{remote.base}/users/{name}#main-key"

    def sign(url: str, body: bytes) -> dict[str, str]:
        headers = sign_request("POST", url, key_id, remote.keys[name], body)
        return {**headers, "Content-Type": "application/activity+json"}

    return sign
