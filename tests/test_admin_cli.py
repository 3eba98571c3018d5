"""`fedchirp admin accounts/suspend/unsuspend/silence/unsilence/reports/resolve`: the real
command line in this process, on an initialised SQLite instance holding a local user, a
remote account and a report about it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from fedchirp.config import load_config
from fedchirp.services.accounts import authenticate
from fedchirp.store import Store
from fedchirp.store.models import Page
from tests.cliutil import Result, run_main

BOB_PASSWORD = "bob's first password"
MALLORY = "https://elsewhere.example/users/mallory"


def _with_store(config: Path, work: Callable[[Store], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        store = Store(load_config(config).database_url)
        await store.open()
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())


async def _seed(store: Store) -> None:
    """A remote account, and bob's report about it."""
    mallory = await store.upsert_remote_account(
        {
            "username": "mallory",
            "domain": "elsewhere.example",
            "uri": MALLORY,
            "inbox_url": f"{MALLORY}/inbox",
            "public_key_id": f"{MALLORY}#main-key",
            "public_key_pem": "-",
            "created_at": "2026-01-01T00:00:00Z",
        }
    )
    bob = await store.find_account("bob", "")
    assert bob is not None
    await store.insert_report(
        {"account_id": bob.id, "target_account_id": mallory.id, "comment": "spam\nlinks"}
    )


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    config = tmp_path / "instance" / "config.toml"

    def _run(*argv: str) -> Result:
        return run_main(capsys, ["--config", str(config), *argv])

    assert _run("init", "--port", "18082").code == 0
    assert _run("user", "create", "bob", "--password", BOB_PASSWORD).code == 0
    _with_store(config, _seed)
    _run.config = config  # type: ignore[attr-defined]
    return _run


def _rows(result: Result) -> dict[str, list[str]]:
    """acct -> the rest of its row, from `admin accounts`."""
    rows = [line.split() for line in result.out.splitlines()[1:]]
    return {row[1]: row[2:] for row in rows}


def _refused(result: Result, words: str) -> None:
    assert result.code != 0 and result.out == ""
    assert result.err.count("\n") == 1 and words in result.err, result.err


def test_suspend_and_silence_local_and_remote_accounts(cli) -> None:
    everyone = _rows(cli("admin", "accounts"))
    assert everyone == {
        "mallory@elsewhere.example": ["active", "-"],
        "bob": ["active", "no"],
        "admin": ["active", "no"],
    }
    done = cli("admin", "suspend", "mallory@elsewhere.example")
    assert done.code == 0 and done.out == "mallory@elsewhere.example suspended\n"
    assert cli("admin", "silence", "@bob").code == 0
    assert list(_rows(cli("admin", "accounts", "--suspended"))) == ["mallory@elsewhere.example"]
    assert _rows(cli("admin", "accounts", "--silenced")) == {"bob": ["silenced", "no"]}
    assert list(_rows(cli("admin", "accounts", "--remote"))) == ["mallory@elsewhere.example"]

    assert cli("admin", "suspend", "bob").code == 0
    assert _with_store(cli.config, lambda s: authenticate(s, "bob", BOB_PASSWORD)) is None
    assert cli("admin", "unsuspend", "bob").code == 0
    assert _with_store(cli.config, lambda s: authenticate(s, "bob", BOB_PASSWORD)) is not None
    assert cli("admin", "unsilence", "bob").code == 0
    assert cli("admin", "unsuspend", "mallory@elsewhere.example").code == 0
    assert {row[0] for row in _rows(cli("admin", "accounts")).values()} == {"active"}


def test_reports_are_listed_and_resolved(cli) -> None:
    listed = cli("admin", "reports")
    assert listed.code == 0
    (row,) = listed.out.splitlines()[1:]
    report_id, state, category, by, about, *comment = row.split()
    assert (state, category, by, about) == ("open", "other", "bob", "mallory@elsewhere.example")
    assert comment == ["spam", "links"]  # one line per report, whatever the comment holds

    assert cli("admin", "resolve", report_id).out == f"report {report_id} resolved\n"
    assert cli("admin", "reports").out.splitlines()[1:] == []
    resolved = cli("admin", "reports", "--resolved").out.splitlines()[1:]
    assert [line.split()[:2] for line in resolved] == [[report_id, "resolved"]]


def test_bad_input_gets_one_line_and_changes_nothing(cli) -> None:
    _refused(cli("admin", "suspend", "nobody"), "nobody")
    _refused(cli("admin", "silence", "ghost@nowhere.example"), "ghost@nowhere.example")
    _refused(cli("admin", "suspend", "not a handle!"), "not an account handle")
    _refused(cli("admin", "resolve", "abc"), "not a report id")
    _refused(cli("admin", "resolve", "99999999999999999999"), "no report")
    _refused(cli("admin", "resolve", "4242"), "report not found")
    _refused(cli("admin", "accounts", "--limit", "0"), "--limit")
    reports = _with_store(cli.config, lambda s: s.list_reports(None, Page()))
    assert [r.action_taken_at for r in reports] == [None]
    assert {row[0] for row in _rows(cli("admin", "accounts")).values()} == {"active"}
