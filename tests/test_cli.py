"""The command line: `fedchirp.cli.main` in-process, and the real console script.

In-process tests call main(argv) and read what it printed; the tests that need a
real process (serve, demo, errors that used to hang) run `python -m fedchirp` or
the installed `fedchirp` script. Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from fedchirp.config import load_config
from fedchirp.services.accounts import authenticate
from fedchirp.store import Store
from fedchirp.store.migrate import head_revision
from fedchirp.store.models import Account, LocalUser
from tests.cliutil import Result, run_main

ADMIN_PASSWORD_RE = re.compile(r"created account 'admin' with password (\S+)")
CONSOLE_SCRIPT = Path(sys.executable).with_name("fedchirp")


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """cli(*argv) -> Result of fedchirp.cli.main(argv), run in this process."""

    def _run(*argv: str) -> Result:
        return run_main(capsys, argv)

    return _run


@pytest.fixture
def config(tmp_path: Path, cli) -> Path:
    """An initialised instance: its config path (the database holds only admin)."""
    path = tmp_path / "instance" / "config.toml"
    result = cli("--config", str(path), "init", "--port", "18080")
    assert result.code == 0, result.err
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def subprocess_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "FEDCHIRP_CONFIG"}
    env["PYTHONUNBUFFERED"] = "1"
    return env


# -- looking into the database the config names --------------------------------


def database_path(config_path: Path) -> Path:
    return load_config(config_path).database_path


async def _with_store(db_path: Path, action):
    store = Store(db_path)
    await store.open()
    try:
        return await action(store)
    finally:
        await store.close()


def count_local_users(db_path: Path) -> int:
    return asyncio.run(_with_store(db_path, lambda store: store.count_local_users()))


def local_account(db_path: Path, username: str) -> tuple[Account, LocalUser] | None:
    async def find(store: Store) -> tuple[Account, LocalUser] | None:
        account = await store.find_account(username, "")
        if account is None:
            return None
        user = await store.get_local_user(account.id)
        assert user is not None
        return account, user

    return asyncio.run(_with_store(db_path, find))


def can_sign_in(db_path: Path, username: str, password: str) -> bool:
    async def check(store: Store) -> bool:
        account = await authenticate(store, username, password)
        return account is not None and account.username == username

    return asyncio.run(_with_store(db_path, check))


def assert_one_line_error(result: Result) -> None:
    assert result.code != 0
    assert result.err.startswith("fedchirp: "), result.err
    assert result.err.count("\n") == 1 and result.err.endswith("\n"), result.err
    assert "Traceback" not in result.err


# -- init ----------------------------------------------------------------------


def test_init_writes_config_database_and_admin_whose_password_is_shown_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli
) -> None:
    monkeypatch.chdir(tmp_path)  # no --config: the default config.toml in the cwd

    first = cli("init", "--port", "18081")

    assert first.code == 0, first.err
    assert first.err == ""
    config_path = tmp_path / "config.toml"
    assert config_path.is_file()
    config = load_config(config_path)
    assert config.server.listen_port == 18081
    assert config.server.domain == "127.0.0.1:18081"
    db_path = tmp_path / "data" / "fedchirp.sqlite3"
    assert config.database_path == db_path.resolve()
    assert db_path.is_file()
    passwords = ADMIN_PASSWORD_RE.findall(first.out)
    assert len(passwords) == 1, first.out
    assert first.out.count("password") == 1
    assert count_local_users(db_path) == 1
    found = local_account(db_path, "admin")
    assert found is not None
    account, user = found
    assert user.is_admin
    assert account.uri == "http://127.0.0.1:18081/users/admin"

    # The printed password is the admin's, and nothing else is.
    assert can_sign_in(db_path, "admin", passwords[0])
    assert not can_sign_in(db_path, "admin", passwords[0] + "x")

    config_text = config_path.read_text()
    second = cli("init")

    assert second.code == 0, second.err
    assert "password" not in second.out
    assert "using existing config" in second.out
    assert config_path.read_text() == config_text
    assert count_local_users(db_path) == 1
    assert can_sign_in(db_path, "admin", passwords[0])


def test_init_with_domain_keeps_it_in_ids(tmp_path: Path, cli) -> None:
    path = tmp_path / "config.toml"

    result = cli("--config", str(path), "init", "--domain", "chirp.example", "--port", "18082")

    assert result.code == 0, result.err
    config = load_config(path)
    assert config.server.domain == "chirp.example"
    assert config.server.listen_port == 18082
    found = local_account(config.database_path, "admin")
    assert found is not None
    assert found[0].uri == "http://chirp.example/users/admin"


def test_failed_init_leaves_no_config_behind(tmp_path: Path, cli) -> None:
    path = tmp_path / "config.toml"
    (tmp_path / "data").write_text("a file where the data directory should be")

    result = cli("--config", str(path), "init")

    assert_one_line_error(result)
    assert "data" in result.err
    assert not path.exists()


# -- user create ---------------------------------------------------------------


def test_user_create_generates_and_prints_a_password(config: Path, cli) -> None:
    db_path = database_path(config)

    result = cli("--config", str(config), "user", "create", "bob")

    assert result.code == 0, result.err
    assert result.err == ""
    assert "created bob@127.0.0.1:18080 (http://127.0.0.1:18080/users/bob)" in result.out
    passwords = re.findall(r"^password: (\S+)$", result.out, re.MULTILINE)
    assert len(passwords) == 1, result.out
    assert count_local_users(db_path) == 2
    found = local_account(db_path, "bob")
    assert found is not None
    account, user = found
    assert account.actor_type == "Person"
    assert not account.locked
    assert not user.is_admin
    assert can_sign_in(db_path, "bob", passwords[0])


def test_user_create_with_password_locked_organization(config: Path, cli) -> None:
    db_path = database_path(config)

    result = cli(
        "--config",
        str(config),
        "user",
        "create",
        "acme_corp",
        "--password",
        "correct horse battery",
        "--locked",
        "--type",
        "Organization",
        "--display-name",
        "ACME",
    )

    assert result.code == 0, result.err
    assert "password" not in result.out  # the caller chose it; it is not echoed
    assert count_local_users(db_path) == 2
    found = local_account(db_path, "acme_corp")
    assert found is not None
    account, user = found
    assert account.locked
    assert account.actor_type == "Organization"
    assert account.display_name == "ACME"
    assert not user.is_admin
    assert can_sign_in(db_path, "acme_corp", "correct horse battery")
    assert not can_sign_in(db_path, "acme_corp", "wrong horse battery")


def test_user_create_admin_flag(config: Path, cli) -> None:
    db_path = database_path(config)

    result = cli("--config", str(config), "user", "create", "root2", "--admin")

    assert result.code == 0, result.err
    found = local_account(db_path, "root2")
    assert found is not None
    assert found[1].is_admin


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["admin"], "username 'admin' is taken"),
        (["no spaces!"], "username must be"),
        (["carol", "--password", "short"], "password must be at least 8 characters"),
    ],
    ids=["duplicate", "bad-username", "short-password"],
)
def test_user_create_refusals_are_one_line_and_change_nothing(
    config: Path, cli, argv: list[str], message: str
) -> None:
    db_path = database_path(config)

    result = cli("--config", str(config), "user", "create", *argv)

    assert_one_line_error(result)
    assert message in result.err
    assert result.out == ""
    assert count_local_users(db_path) == 1
    assert local_account(db_path, "carol") is None
    assert local_account(db_path, "no spaces!") is None


@pytest.mark.parametrize("command", [["user", "create", "carol"], ["migrate"]])
def test_missing_config_is_one_line_and_creates_nothing(
    tmp_path: Path, cli, command: list[str]
) -> None:
    path = tmp_path / "nowhere" / "config.toml"

    result = cli("--config", str(path), *command)

    assert_one_line_error(result)
    assert "does not exist" in result.err
    assert "fedchirp init" in result.err
    assert result.out == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("[server]\n", "[server]\nbogus_setting = 1\n", "unknown setting server.bogus_setting"),
        ("max_chars = 500", 'max_chars = "lots"', "posts.max_chars must be int, got str"),
        ("listen_port = 8080", "listen_port = 99999", "server.listen_port must be a port number"),
        ("[posts]\n", "[nonsense]\nx = 1\n\n[posts]\n", "unknown section [nonsense]"),
        ("[server]\n", "[server\n", "is not valid TOML"),
    ],
    ids=["unknown-key", "wrong-type", "bad-port", "unknown-section", "not-toml"],
)
@pytest.mark.parametrize("command", [["user", "create", "carol"], ["migrate"], ["init"]])
def test_bad_config_is_one_line_and_changes_nothing(
    tmp_path: Path, cli, old: str, new: str, message: str, command: list[str]
) -> None:
    good = tmp_path / "good.toml"
    assert cli("--config", str(good), "init").code == 0
    db_path = database_path(good)
    good_text = good.read_text()
    assert good_text.count(old) == 1
    bad = tmp_path / "bad.toml"  # same directory, so the same data_dir and database
    bad_text = good_text.replace(old, new)
    bad.write_text(bad_text)

    result = cli("--config", str(bad), *command)

    assert_one_line_error(result)
    assert message in result.err
    assert bad.read_text() == bad_text
    assert count_local_users(db_path) == 1
    assert local_account(db_path, "carol") is None


def test_unusable_database_is_a_one_line_error_not_a_hang(tmp_path: Path) -> None:
    """A database file SQLite cannot read used to print a traceback and never exit."""
    config_path = tmp_path / "config.toml"
    config_path.write_text('[server]\ndomain = "127.0.0.1:18083"\n')
    (tmp_path / "data").mkdir()
    db_path = tmp_path / "data" / "fedchirp.sqlite3"
    db_path.write_text("this is not a database\n")

    for command in (["user", "create", "carol"], ["migrate"], ["init"], ["serve"]):
        proc = subprocess.run(
            [sys.executable, "-m", "fedchirp", "--config", str(config_path), *command],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=tmp_path,
            env=subprocess_env(),
        )
        assert_one_line_error(Result(proc.returncode, proc.stdout, proc.stderr))
        assert "not a database" in proc.stderr
        assert db_path.read_text() == "this is not a database\n"


# -- migrate -------------------------------------------------------------------


def test_migrate_prints_the_schema_version(config: Path, cli) -> None:
    db_path = database_path(config)

    result = cli("--config", str(config), "migrate")

    assert result.code == 0, result.err
    match = re.fullmatch(r"schema version (\d{4})\n", result.out)
    assert match, result.out
    version = match.group(1)
    assert version == head_revision()
    assert asyncio.run(_with_store(db_path, lambda store: store.schema_version())) == version
    assert count_local_users(db_path) == 1

    again = cli("--config", str(config), "migrate")
    assert again.code == 0
    assert again.out == result.out


# -- the real console script ---------------------------------------------------


def test_console_script_reports_errors_in_one_line(tmp_path: Path) -> None:
    assert CONSOLE_SCRIPT.is_file(), f"{CONSOLE_SCRIPT} is not installed"
    missing = tmp_path / "missing.toml"

    proc = subprocess.run(
        [str(CONSOLE_SCRIPT), "--config", str(missing), "user", "create", "carol"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=subprocess_env(),
    )

    assert_one_line_error(Result(proc.returncode, proc.stdout, proc.stderr))
    assert proc.returncode == 2
    assert f"{missing} does not exist" in proc.stderr
    assert not missing.exists()


def test_console_script_init_and_user_create(tmp_path: Path) -> None:
    config_path = tmp_path / "config.toml"

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CONSOLE_SCRIPT), "--config", str(config_path), *argv],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            env=subprocess_env(),
        )

    init = run("init", "--port", "18084")
    assert init.returncode == 0, init.stderr
    (password,) = ADMIN_PASSWORD_RE.findall(init.stdout)
    created = run("user", "create", "dave", "--password", "dave's password")
    assert created.returncode == 0, created.stderr
    duplicate = run("user", "create", "dave", "--password", "dave's password")
    assert_one_line_error(Result(duplicate.returncode, duplicate.stdout, duplicate.stderr))

    db_path = database_path(config_path)
    assert count_local_users(db_path) == 2
    assert can_sign_in(db_path, "admin", password)
    assert can_sign_in(db_path, "dave", "dave's password")


# -- serve ---------------------------------------------------------------------

# Talk to loopback directly, whatever proxy the environment names.
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get_json(url: str) -> tuple[int, dict, str]:
    with _LOOPBACK.open(url, timeout=5) as response:
        return response.status, json.loads(response.read()), response.headers["Content-Type"]


@pytest.fixture
def served(tmp_path: Path, cli) -> Iterator[tuple[int, subprocess.Popen[bytes], Path]]:
    port = free_port()
    config_path = tmp_path / "config.toml"
    assert cli("--config", str(config_path), "init", "--port", str(port)).code == 0
    log = tmp_path / "serve.log"
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "fedchirp", "--config", str(config_path), "serve"],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
            env=subprocess_env(),
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, f"serve exited early:\n{log.read_text()}"
            try:
                status, _, _ = get_json(f"http://127.0.0.1:{port}/.well-known/nodeinfo")
                if status == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            assert time.monotonic() < deadline, f"serve did not answer:\n{log.read_text()}"
            time.sleep(0.2)
        yield port, proc, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_serve_answers_nodeinfo_and_webfinger(served) -> None:
    port, proc, log = served
    base = f"http://127.0.0.1:{port}"

    status, links, _ = get_json(f"{base}/.well-known/nodeinfo")
    assert status == 200
    hrefs = [link["href"] for link in links["links"]]
    assert f"{base}/nodeinfo/2.1" in hrefs

    status, nodeinfo, content_type = get_json(f"{base}/nodeinfo/2.1")
    assert status == 200
    assert content_type.startswith("application/json")
    assert nodeinfo["version"] == "2.1"
    assert nodeinfo["software"]["name"] == "fedchirp"
    assert nodeinfo["usage"]["users"]["total"] == 1
    assert nodeinfo["protocols"] == ["activitypub"]

    status, jrd, content_type = get_json(
        f"{base}/.well-known/webfinger?resource=acct:admin@127.0.0.1:{port}"
    )
    assert status == 200
    assert content_type.startswith("application/jrd+json")
    assert jrd["subject"] == f"acct:admin@127.0.0.1:{port}"
    actor_links = [
        link
        for link in jrd["links"]
        if link["rel"] == "self" and link["type"] == "application/activity+json"
    ]
    assert [link["href"] for link in actor_links] == [f"{base}/users/admin"]

    with pytest.raises(urllib.error.HTTPError) as missing:
        get_json(f"{base}/.well-known/webfinger?resource=acct:nobody@127.0.0.1:{port}")
    assert missing.value.code == 404

    assert proc.poll() is None
    assert f"serving http://127.0.0.1:{port}" in log.read_text()


def test_serve_on_a_busy_port_is_a_one_line_error(tmp_path: Path, cli) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config_path = tmp_path / "config.toml"
        assert cli("--config", str(config_path), "init", "--port", str(port)).code == 0

        proc = subprocess.run(
            [sys.executable, "-m", "fedchirp", "--config", str(config_path), "serve"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            env=subprocess_env(),
        )

    assert_one_line_error(Result(proc.returncode, "", proc.stderr))
    assert "address already in use" in proc.stderr


# -- demo ----------------------------------------------------------------------


def test_demo_shows_every_activity_crossing(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "fedchirp", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=subprocess_env(),
    )

    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "OK:" in out
    for sender, receiver, activity in [
        ("A", "B", "Follow"),
        ("B", "A", "Accept"),
        ("B", "A", "Create"),
        ("B", "A", "Delete"),
        ("A", "B", "Undo"),
    ]:
        line = rf"^\s+{sender} -> {receiver}\s+{activity}\s+\S"
        assert re.search(line, out, re.MULTILINE), f"no {activity} line in:\n{out}"
