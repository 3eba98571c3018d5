"""`fedchirp user list/password/disable/enable/promote/demote/delete`: the real command
line against a real SQLite instance.

Most tests call fedchirp.cli.main in this process on an initialised instance; the ones
that need a running server (a token answering 401) run `python -m fedchirp` beside it.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from fedchirp.config import load_config, render_toml
from fedchirp.localnet import DEFAULT_PASSWORD, LocalInstance
from fedchirp.services import sessions
from fedchirp.services.accounts import authenticate
from fedchirp.store import Store
from tests.cliutil import Result, run_main

BOB_PASSWORD = "bob's first password"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """cli(*user_argv, stdin=None) -> Result of `fedchirp --config X user ...`, run in this
    process on an instance holding admin and bob."""
    config = tmp_path / "instance" / "config.toml"

    def _run(*argv: str, stdin: str | None = None) -> Result:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", _Stdin(stdin))
        return run_main(capsys, ["--config", str(config), *argv])

    assert _run("init", "--port", "18081").code == 0
    assert _run("user", "create", "bob", "--password", BOB_PASSWORD).code == 0
    _run.config = config  # type: ignore[attr-defined]
    return _run


class _Stdin:
    """A piped (not terminal) stdin holding text."""

    def __init__(self, text: str) -> None:
        self.lines = iter(text.splitlines(keepends=True))

    def readline(self) -> str:
        return next(self.lines, "")

    def isatty(self) -> bool:
        return False


def _signs_in(config: Path, username: str, password: str) -> bool:
    async def check() -> bool:
        store = Store(load_config(config).database_url)
        await store.open()
        try:
            return await authenticate(store, username, password) is not None
        finally:
            await store.close()

    return asyncio.run(check())


def _users(result: Result) -> dict[str, tuple[str, str]]:
    """username -> (admin, disabled) from `user list`."""
    rows = [line.split() for line in result.out.splitlines()[1:]]
    return {row[0]: (row[1], row[2]) for row in rows}


def _assert_refused(result: Result, words: str) -> None:
    assert result.code != 0
    assert result.out == ""
    assert result.err.count("\n") == 1 and words in result.err


def test_list_shows_users_and_the_admin_flag(cli) -> None:
    result = cli("user", "list")
    assert result.code == 0, result.err
    assert _users(result) == {"admin": ("yes", "no"), "bob": ("no", "no")}


def test_password_from_stdin_replaces_the_old_one(cli) -> None:
    result = cli("user", "password", "bob", "--stdin", stdin="a brand new password\n")
    assert result.code == 0, result.err
    assert "a brand new password" not in result.out
    assert _signs_in(cli.config, "bob", "a brand new password")
    assert not _signs_in(cli.config, "bob", BOB_PASSWORD)


def test_generated_password_is_printed_and_works(cli) -> None:
    result = cli("user", "password", "bob", "--generate")
    assert result.code == 0, result.err
    password = result.out.split("password: ")[1].strip()
    assert _signs_in(cli.config, "bob", password)
    assert not _signs_in(cli.config, "bob", BOB_PASSWORD)


def test_password_refusals_change_nothing(cli) -> None:
    _assert_refused(cli("user", "password", "bob", "--stdin", stdin="short\n"), "at least 8")
    _assert_refused(cli("user", "password", "bob", stdin=""), "--stdin or --generate")
    _assert_refused(
        cli("user", "password", "nobody", "--stdin", stdin="long enough password\n"), "nobody"
    )
    assert _signs_in(cli.config, "bob", BOB_PASSWORD)


def test_promote_and_demote_flip_the_admin_flag(cli) -> None:
    assert cli("user", "promote", "bob").code == 0
    assert _users(cli("user", "list"))["bob"] == ("yes", "no")
    assert cli("user", "demote", "bob").code == 0
    assert cli("user", "demote", "admin").code == 0
    assert _users(cli("user", "list")) == {"admin": ("no", "no"), "bob": ("no", "no")}


def test_disable_blocks_sign_in_and_enable_restores_it(cli) -> None:
    assert cli("user", "disable", "bob").code == 0
    assert _users(cli("user", "list"))["bob"] == ("no", "yes")
    assert not _signs_in(cli.config, "bob", BOB_PASSWORD)
    assert cli("user", "enable", "bob").code == 0
    assert _users(cli("user", "list"))["bob"] == ("no", "no")
    assert _signs_in(cli.config, "bob", BOB_PASSWORD)


def test_delete_needs_yes_then_removes_the_user(cli) -> None:
    _assert_refused(cli("user", "delete", "bob"), "--yes")
    assert "bob" in _users(cli("user", "list"))
    result = cli("user", "delete", "bob", "--yes")
    assert result.code == 0, result.err
    assert _users(cli("user", "list")) == {"admin": ("yes", "no")}
    assert not _signs_in(cli.config, "bob", BOB_PASSWORD)
    # The name stays taken: other servers know it by the deleted account's key.
    _assert_refused(cli("user", "create", "bob", "--password", BOB_PASSWORD), "taken")
    _assert_refused(cli("user", "delete", "bob", "--yes"), "no local account 'bob'")


@pytest.mark.parametrize(
    "command", ["disable", "enable", "promote", "demote", "delete", "password"]
)
def test_unknown_user_is_one_line_and_non_zero(cli, command: str) -> None:
    extra = {"delete": ["--yes"], "password": ["--generate"]}.get(command, [])
    _assert_refused(cli("user", command, "nobody", *extra), "no local account 'nobody'")
    assert _users(cli("user", "list")) == {"admin": ("yes", "no"), "bob": ("no", "no")}


# -- beside a running server ------------------------------------------------------------


async def _fedchirp(config: Path, *argv: str, stdin: str = "") -> Result:
    """`python -m fedchirp --config config ...` in a process of its own."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fedchirp", "--config", str(config), *argv,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), 60)
    assert process.returncode is not None
    return Result(process.returncode, out.decode(), err.decode())


def _config_file(instance: LocalInstance, tmp_path: Path) -> Path:
    path = tmp_path / f"{instance.name}.toml"
    path.write_text(render_toml(instance.config), encoding="utf-8")
    return path


async def test_disable_ends_tokens_and_sessions_and_enable_lets_them_back(
    start, client, tmp_path: Path
) -> None:
    a = await start("a")
    await a.create_user("alice")
    await a.create_user("carol")
    config = _config_file(a, tmp_path)
    alice, carol = await client(a, "alice"), await client(a, "carol")
    signed_in = await sessions.sign_in(a.ctx, "alice", DEFAULT_PASSWORD)
    assert signed_in is not None
    cookie = signed_in[0]

    result = await _fedchirp(config, "user", "disable", "alice")
    assert result.code == 0, result.err
    status, _ = await alice.request("GET", "/api/v1/accounts/verify_credentials")
    assert status == 401
    assert await sessions.session_for(a.ctx, cookie) is None
    with pytest.raises(RuntimeError, match="/oauth/token: 400"):
        await client(a, "alice")
    assert await sessions.sign_in(a.ctx, "alice", DEFAULT_PASSWORD) is None
    await carol.call("GET", "/api/v1/accounts/verify_credentials")  # others go on

    result = await _fedchirp(config, "user", "enable", "alice")
    assert result.code == 0, result.err
    again = await client(a, "alice")
    me = await again.call("GET", "/api/v1/accounts/verify_credentials")
    assert me["username"] == "alice"
    status, _ = await alice.request("GET", "/api/v1/accounts/verify_credentials")
    assert status == 401  # what disabling ended stays ended


async def test_password_reset_through_the_oauth_password_grant(
    start, client, tmp_path: Path
) -> None:
    a = await start("a")
    await a.create_user("alice")
    config = _config_file(a, tmp_path)
    old = await client(a, "alice")

    result = await _fedchirp(
        config, "user", "password", "alice", "--stdin", stdin="the new one, long\n"
    )
    assert result.code == 0, result.err
    status, _ = await old.request("GET", "/api/v1/accounts/verify_credentials")
    assert status == 401  # a reset signs the user out everywhere
    with pytest.raises(RuntimeError, match="/oauth/token: 400"):
        await client(a, "alice")
    new = await client(a)
    await new.sign_in("alice", "the new one, long")
    assert (await new.call("GET", "/api/v1/accounts/verify_credentials"))["username"] == "alice"

    result = await _fedchirp(config, "user", "disable", "nobody")
    assert result.code != 0
    assert result.err.strip() == "fedchirp: no local account 'nobody'"
