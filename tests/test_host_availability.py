"""Unavailable hosts: after failed deliveries on 7 days (UTC) with no answer between, a host
gets nothing more until it is heard from (Mastodon's rule), and that survives a restart.

The delivery queue's clock is moved by whole days; the remote hosts are stub servers on
127.0.0.1 whose inboxes answer what the test says (503: failing, 202: up).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pytest

from fedchirp import cli
from fedchirp.config import render_toml
from fedchirp.federation.availability import HostResult, after
from fedchirp.federation.delivery import HOST_UNAVAILABLE
from fedchirp.store.models import HostFailure
from tests.instance_processes import inbox_signer
from tests.stubs import like_activity

# Run on SQLite and on PostgreSQL (see tests/conftest.py).
pytestmark = pytest.mark.backends

DAY = 86_400.0
# One attempt per delivery: each day's failure is that day's new delivery, and the
# per-host breaker (ten failures in a row) never opens.
ONE_TRY = {"delivery": {"max_attempts": 1}}


class Clock:
    """The delivery queue's clock, moved by hand: noon UTC today, then whole days on."""

    def __init__(self) -> None:
        self.now = (time.time() // DAY) * DAY + DAY / 2

    def __call__(self) -> float:
        return self.now


async def _setup(start, settings=ONE_TRY, **options):
    instance = await start("a", settings=settings, run_workers=False, **options)
    await instance.create_user("alice")
    clock = Clock()
    instance.ctx.delivery.clock = clock
    return instance, clock


async def _deliver(instance, inbox_url: str, n: int):
    """Queue activity n for inbox_url, run the queue once; the delivery as it ended."""
    alice = await instance.ctx.store.find_account("alice", "")
    activity = like_activity(alice.uri, n)
    # A URL of its own each time: a later delivery never waits behind an earlier one.
    await instance.ctx.delivery.enqueue(activity, alice, [f"{inbox_url}?n={n}"])
    assert await instance.ctx.delivery.run_due() == 1
    [delivery] = await instance.ctx.store.outbound_deliveries(activity["id"])
    return delivery


async def _fail_on_days(instance, clock, inbox_url: str, days: int, first: int = 0) -> None:
    """One failed delivery a day for `days` days, from the clock's day on."""
    for n in range(first, first + days):
        delivery = await _deliver(instance, inbox_url, n)
        assert (delivery.state, delivery.attempts) == ("failed", 1)
        assert delivery.last_error != HOST_UNAVAILABLE
        clock.now += DAY


async def _row(instance, host: str) -> HostFailure | None:
    return (await instance.ctx.store.host_failures_of([host])).get(host)


def test_failures_on_one_utc_day_count_once():
    noon = 20_000 * DAY + DAY / 2
    row = None
    for at in (noon, noon + 60, noon + DAY / 2 - 1):  # the last one just before midnight
        row = after(row, HostResult("h", False, at), 7)
    assert row is not None and (row.failure_days, row.failing_since) == (1, noon)
    row = after(row, HostResult("h", False, noon + DAY / 2), 7)  # midnight: a new day
    assert (row.failure_days, row.last_failure_at, row.unavailable) == (2, noon + DAY / 2, False)
    assert after(row, HostResult("h", True, noon + DAY), 7) is None


async def test_failures_on_seven_days_make_a_host_unavailable(start, inbox):
    a, clock = await _setup(start)
    inbox.replies.extend([(503, {})] * 20)
    first_day = clock.now

    await _fail_on_days(a, clock, inbox.url, 6)
    row = await _row(a, inbox.domain)
    assert row is not None
    assert (row.failure_days, row.unavailable, row.failing_since) == (6, False, first_day)
    assert len(inbox.received) == 6  # still tried every day

    await _fail_on_days(a, clock, inbox.url, 1, first=6)
    row = await _row(a, inbox.domain)
    assert row is not None and (row.failure_days, row.unavailable) == (7, True)
    assert row.last_failure_at == first_day + 6 * DAY
    assert await a.ctx.store.unavailable_hosts() == [inbox.domain]

    # A new delivery is failed at once, without a request: the server never sees it.
    inbox.replies.clear()  # it would even answer now
    delivery = await _deliver(a, inbox.url, 7)
    assert (delivery.state, delivery.attempts) == ("failed", 0)
    assert delivery.last_error == HOST_UNAVAILABLE
    assert len(inbox.received) == 7


async def test_an_answer_before_the_seventh_day_starts_the_count_again(start, inbox):
    a, clock = await _setup(start)
    inbox.replies.extend([(503, {})] * 6)
    await _fail_on_days(a, clock, inbox.url, 6)
    assert (await _row(a, inbox.domain)).failure_days == 6

    assert (await _deliver(a, inbox.url, 6)).state == "delivered"  # day 7: it answers
    assert await _row(a, inbox.domain) is None
    clock.now += DAY

    inbox.replies.extend([(503, {})] * 6)
    await _fail_on_days(a, clock, inbox.url, 6, first=7)
    row = await _row(a, inbox.domain)
    assert (row.failure_days, row.unavailable) == (6, False)
    assert (await _deliver(a, inbox.url, 13)).state == "delivered"  # sent, not dropped
    assert len(inbox.received) == 14


async def test_a_final_client_error_is_an_answer_too(start, inbox):
    a, clock = await _setup(start)
    inbox.replies.extend([(503, {})] * 3 + [(410, {})])
    await _fail_on_days(a, clock, inbox.url, 3)
    gone = await _deliver(a, inbox.url, 3)  # the server is there
    assert gone.state == "failed" and gone.last_error.startswith("HTTP 410")
    assert await _row(a, inbox.domain) is None


async def test_answers_from_a_host_without_failures_write_nothing(start, inbox):
    a, _ = await _setup(start)
    store = a.ctx.store
    writes = []
    for name in ("save_host_failures", "clear_host_failures"):
        method = getattr(store, name)

        async def spy(rows, method=method, name=name):
            writes.append((name, rows))
            return await method(rows)

        setattr(store, name, spy)
    for n in range(3):
        assert (await _deliver(a, inbox.url, n)).state == "delivered"
    assert writes == []
    inbox.replies.append((503, {}))
    await _deliver(a, inbox.url, 3)
    assert [name for name, _ in writes] == ["save_host_failures"]


async def test_an_activity_from_the_host_makes_it_available_again(start, remote, http):
    a, clock = await _setup(start)
    zed = remote.add_actor("zed")
    shared_inbox = f"{remote.base}/inbox"
    remote.inbox_status = 503
    await _fail_on_days(a, clock, shared_inbox, 7)
    assert (await _row(a, remote.domain)).unavailable
    assert (await _deliver(a, shared_inbox, 7)).last_error == HOST_UNAVAILABLE
    tried = len(remote.inbox)

    # zed follows alice: a signed POST from the host shows it is up.
    alice = await a.ctx.store.find_account("alice", "")
    url = f"{a.base_url}/users/alice/inbox"
    follow = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{zed}#follow-1",
        "type": "Follow",
        "actor": zed,
        "object": alice.uri,
    }
    body = json.dumps(follow).encode()
    async with http.post(url, data=body, headers=inbox_signer(remote, "zed")(url, body)) as resp:
        assert resp.status == 202
    assert await _row(a, remote.domain) is None  # for every process, not only this one
    assert await a.ctx.store.unavailable_hosts() == []

    remote.inbox_status = 202
    delivery = await _deliver(a, shared_inbox, 8)
    assert delivery.state == "delivered"  # sent once (counted below): its job finished
    assert len(remote.inbox) == tried + 1


async def test_an_unavailable_host_stays_unavailable_after_a_restart(start, inbox, tmp_path):
    settings = {"delivery": {"max_attempts": 1, "unavailable_after_days": 2}}
    a, clock = await _setup(start, settings)
    inbox.replies.extend([(503, {})] * 2)
    await _fail_on_days(a, clock, inbox.url, 2)
    assert (await _row(a, inbox.domain)).unavailable
    await a.stop()

    again = await start(
        "a", port=a.port, settings=settings, data_dir=tmp_path / "a", run_workers=False
    )
    again.ctx.delivery.clock = clock
    delivery = await _deliver(again, inbox.url, 2)
    assert (delivery.state, delivery.attempts) == ("failed", 0)
    assert delivery.last_error == HOST_UNAVAILABLE
    assert len(inbox.received) == 2


async def test_jobs_command_lists_unavailable_hosts(start, inbox, tmp_path: Path, capsys):
    settings = {"delivery": {"max_attempts": 1, "unavailable_after_days": 2}}
    a, clock = await _setup(start, settings)
    inbox.replies.extend([(503, {})] * 2)
    await _fail_on_days(a, clock, inbox.url, 2)
    config = tmp_path / "config.toml"
    config.write_text(render_toml(a.config), encoding="utf-8")
    capsys.readouterr()
    assert await cli.jobs(argparse.Namespace(config=str(config), limit=20)) == 0
    out = capsys.readouterr().out
    assert "1 remote hosts failing, 1 unavailable" in out
    assert f"unavailable {inbox.domain}: failed on 2 days" in out
