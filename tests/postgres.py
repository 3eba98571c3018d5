"""A throwaway PostgreSQL cluster for the tests, and fresh databases in it.

One cluster per test session: initdb into a directory under /tmp, a server on a
free loopback port with durability turned off (fsync, synchronous_commit and
full-page writes: nothing here needs to survive a crash), stopped and deleted
when the session ends. Each test (each instance, even) gets a database of its
own, made with CREATE DATABASE and dropped after the test.

PostgreSQL refuses to run as root; under root (containers, CI) initdb and the
server run as the unprivileged user `nobody`, in a directory it owns.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import asyncpg

USER = "fedchirp"  # the cluster's superuser, trusted without a password on 127.0.0.1
UNPRIVILEGED = "nobody"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def find_bindir() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres: pg_config's, else Debian's newest."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=30
            ).stdout.strip()
            if out and _has_server(Path(out)):
                return Path(out)
    # Debian installs the server outside PATH, one directory per major version.
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    found = [bindir for bindir in found if _has_server(bindir)]
    return max(found, key=_version_key) if found else None


def _has_server(bindir: Path) -> bool:
    return all(os.access(bindir / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres"))


def _version_key(bindir: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/<version>/bin
    return tuple(int(part) for part in bindir.parent.name.split(".") if part.isdigit())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresCluster:
    """A private PostgreSQL server: start(), then create_database() as often as needed."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = 0
        self.root: Path | None = None
        self._numbers = itertools.count(1)
        self._as_user: list[str] = []
        self._owner: tuple[int, int] | None = None

    # -- the server ----------------------------------------------------------------

    def start(self) -> None:
        if os.geteuid() == 0:
            self._drop_root()
        # Under /tmp, not pytest's tmp_path: every directory above the cluster must
        # be traversable by the unprivileged user, and tmp_path's parents are 0700.
        self.root = Path(tempfile.mkdtemp(prefix="fedchirp-pg-", dir="/tmp"))
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _drop_root(self) -> None:
        try:
            user = pwd.getpwnam(UNPRIVILEGED)
        except KeyError:
            raise RuntimeError(
                f"running as root, and there is no user {UNPRIVILEGED!r} to run PostgreSQL as"
            ) from None
        self._owner = (user.pw_uid, user.pw_gid)
        if shutil.which("setpriv"):
            self._as_user = [
                "setpriv",
                f"--reuid={user.pw_uid}",
                f"--regid={user.pw_gid}",
                "--clear-groups",
            ]
        elif shutil.which("runuser"):
            self._as_user = ["runuser", "-u", UNPRIVILEGED, "--"]
        else:
            raise RuntimeError("running as root, and neither setpriv nor runuser is installed")

    def _start(self) -> None:
        assert self.root is not None
        self.root.chmod(0o755)
        data, sockets, log = self.root / "data", self.root / "sockets", self.root / "server.log"
        data.mkdir(mode=0o700)
        sockets.mkdir(mode=0o755)
        log.touch()
        if self._owner is not None:
            for path in (data, sockets, log):
                os.chown(path, *self._owner)
        self._run(
            "initdb",
            "-D", str(data),
            "-A", "trust",
            "-U", USER,
            "--no-sync",
            "-E", "UTF8",
            "--locale=C",
        )  # fmt: skip
        for attempt in range(5):
            port = _free_port()  # another process may take it before the server does
            options = (
                f"-h 127.0.0.1 -p {port} -k {sockets} -F -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
            )
            try:
                self._run("pg_ctl", "-D", str(data), "-l", str(log), "-w", "-t", "60",
                          "-o", options, "start")  # fmt: skip
            except RuntimeError:
                if attempt == 4:
                    raise
                continue
            self.port = port
            return

    def _run(self, tool: str, *args: str) -> None:
        assert self.root is not None
        command = [*self._as_user, str(self.bindir / tool), *args]
        done = subprocess.run(
            command, cwd=self.root, capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"{' '.join(command)} failed ({done.returncode}):\n"
                f"{done.stdout}{done.stderr}\n{tail}"
            )

    def stop(self) -> None:
        """Stop the server (no shutdown checkpoint: the data is thrown away) and delete it."""
        if self.root is None:
            return
        if self.port:
            with contextlib.suppress(RuntimeError, OSError, subprocess.SubprocessError):
                self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
            self.port = 0
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    # -- databases ---------------------------------------------------------------

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{USER}@127.0.0.1:{self.port}/{database}"

    async def _admin(self) -> asyncpg.Connection:
        return await asyncpg.connect(
            host="127.0.0.1", port=self.port, user=USER, database="postgres", ssl=False
        )

    async def create_database(self) -> str:
        """A new, empty database; returns its name (see url())."""
        name = f"t_{next(self._numbers)}"
        connection = await self._admin()
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        return name

    async def drop_databases(self, names: list[str]) -> None:
        """Drop databases (disconnecting anyone still connected) to keep the cluster small."""
        if not names or not self.port:
            return
        connection = await self._admin()
        try:
            force = " WITH (FORCE)" if connection.get_server_version().major >= 13 else ""
            for name in names:
                with contextlib.suppress(asyncpg.PostgresError):
                    await connection.execute(f'DROP DATABASE IF EXISTS "{name}"{force}')
        finally:
            await connection.close()
