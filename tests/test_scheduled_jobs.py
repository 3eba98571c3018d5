"""Scheduled posts are published by jobs (services/scheduling.py, services/jobs.py).

Scheduling queues a publish job due at the post's time, in the entry's own unit;
a new time moves it, cancelling takes it out, and a job whose entry was taken or
moved meanwhile writes nothing. Instances run without background workers unless a
test says otherwise: the test runs the job runner itself (Jobs.drain) with its
clock set to a chosen moment, so "not before its time" is checked without waiting
and without a worker racing the test. Everything goes through the client API over
HTTP, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import column, table, update
from sqlalchemy.engine import Connection

from fedchirp.clock import to_iso
from fedchirp.localnet import ApiClient, LocalInstance
from fedchirp.services import scheduling
from fedchirp.store import Store
from fedchirp.store.migrate import head_revision
from fedchirp.store.models import Account, Job, Page

pytestmark = pytest.mark.backends

PUBLISH = scheduling.PUBLISH_QUEUE
STATUSES = "/api/v1/statuses"
SCHEDULED = "/api/v1/scheduled_statuses"


async def _alice(start, client, **options: Any) -> tuple[LocalInstance, Account, ApiClient]:
    instance = await start("a", run_workers=False, **options)
    alice = await instance.create_user("alice")
    return instance, alice, await client(instance, "alice")


def _hours(hours: float) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours)


async def _schedule(api: ApiClient, text: str, when: datetime) -> dict[str, Any]:
    return await api.call("POST", STATUSES, json={"status": text, "scheduled_at": to_iso(when)})


async def _run_at(instance: LocalInstance, moment: datetime) -> None:
    """Run every job due at moment, as a worker whose clock says it is then."""
    instance.ctx.jobs.clock = moment.timestamp
    await instance.ctx.jobs.drain()


async def _posts(instance: LocalInstance, account: Account) -> list[str]:
    statuses = await instance.ctx.store.account_statuses(account.id, None, Page())
    return [status.source_text for status in statuses]


def _key(entry: dict[str, Any]) -> str:
    """The publish job's key of an entry as the API shows it."""
    return f"{entry['id']}@{entry['scheduled_at']}"


async def _job(instance: LocalInstance, entry: dict[str, Any]) -> Job:
    job = await instance.ctx.store.find_job(PUBLISH, _key(entry))
    assert job is not None, f"no publish job for {_key(entry)}"
    return job


async def _payload(instance: LocalInstance, entry: dict[str, Any]) -> dict[str, Any]:
    return json.loads((await _job(instance, entry)).payload)


async def test_a_scheduled_post_is_published_by_its_job_at_its_time_not_before(start, client):
    a, alice, api = await _alice(start, client)
    when = _hours(1)
    entry = await _schedule(api, "later", when)
    job = await _job(a, entry)
    assert job.state == "queued"
    assert job.run_at == pytest.approx(when.timestamp(), abs=0.001)

    await _run_at(a, when - timedelta(seconds=1))
    assert await _posts(a, alice) == []
    assert [e["id"] for e in await api.call("GET", SCHEDULED)] == [entry["id"]]

    await _run_at(a, when)
    assert await _posts(a, alice) == ["later"]
    assert await api.call("GET", SCHEDULED) == []
    assert await a.ctx.store.count_jobs() == 0
    await _run_at(a, when + timedelta(days=1))
    assert await _posts(a, alice) == ["later"]


async def test_a_rescheduled_post_is_published_at_its_new_time(start, client):
    a, alice, api = await _alice(start, client)
    sooner, later = _hours(1), _hours(2)
    moved_later = await _schedule(api, "moved later", sooner)
    moved_sooner = await _schedule(api, "moved sooner", later)
    stale_payload = await _payload(a, moved_later)
    for entry, when in ((moved_later, later), (moved_sooner, sooner)):
        answer = await api.call(
            "PUT", f"{SCHEDULED}/{entry['id']}", json={"scheduled_at": to_iso(when)}
        )
        assert answer["scheduled_at"] == to_iso(when)
        assert await a.ctx.store.find_job(PUBLISH, _key(entry)) is None  # the old time's
        assert (await _job(a, answer)).run_at == pytest.approx(when.timestamp(), abs=0.001)

    await _run_at(a, sooner)
    assert await _posts(a, alice) == ["moved sooner"]
    # A worker that had claimed the job of the old time before the move runs it late:
    # it finds the entry moved and writes nothing.
    await scheduling.publish(a.ctx, stale_payload)
    assert await _posts(a, alice) == ["moved sooner"]
    assert [e["id"] for e in await api.call("GET", SCHEDULED)] == [moved_later["id"]]

    await _run_at(a, later)
    assert sorted(await _posts(a, alice)) == ["moved later", "moved sooner"]
    assert await api.call("GET", SCHEDULED) == []


async def test_a_cancelled_post_is_never_published(start, client):
    a, alice, api = await _alice(start, client)
    when = _hours(1)
    entry = await _schedule(api, "never", when)
    payload = await _payload(a, entry)
    await api.call("DELETE", f"{SCHEDULED}/{entry['id']}", expect=200)
    assert await a.ctx.store.count_jobs() == 0

    await _run_at(a, when + timedelta(days=1))
    # A worker that had claimed the job before the cancel finds the entry gone.
    await scheduling.publish(a.ctx, payload)
    assert await _posts(a, alice) == []
    assert await api.call("GET", SCHEDULED) == []


async def test_a_reused_entry_id_gets_a_job_of_its_own(start, client):
    """SQLite gives a deleted newest row's id out again. The first entry is published,
    but its worker has not yet finished (deleted) its job when the next entry is
    scheduled: the new entry's job is queued beside it and outlives that finish."""
    a, alice, api = await _alice(start, client)
    first = await _schedule(api, "first", _hours(1))
    old_job = await _job(a, first)
    await scheduling.publish(a.ctx, json.loads(old_job.payload))  # the worker's run
    when = _hours(2)
    second = await _schedule(api, "second", when)
    await a.ctx.store.finish_job(old_job.id)  # the worker finishes the old job

    assert (await _payload(a, second))["at"] == to_iso(when)
    await _run_at(a, when)
    assert sorted(await _posts(a, alice)) == ["first", "second"]


async def test_cancelling_leaves_a_running_job_to_its_worker(start, client):
    """A job being run is not deleted under its worker (whose finish, by id, would hit
    the next job given that id): the run finds the entry gone and writes nothing."""
    a, alice, api = await _alice(start, client)
    when = _hours(1)
    entry = await _schedule(api, "never", when)
    [running] = await a.ctx.store.claim_jobs([PUBLISH], when.timestamp(), 60, 10)
    await api.call("DELETE", f"{SCHEDULED}/{entry['id']}", expect=200)
    assert (await _job(a, entry)).state == "running"

    await scheduling.publish(a.ctx, json.loads(running.payload))
    await a.ctx.store.finish_job(running.id)
    assert await _posts(a, alice) == []
    assert await a.ctx.store.count_jobs() == 0


async def test_a_scheduled_post_is_published_after_a_restart(start, client, tmp_path):
    """Queued before a restart, published by the restarted instance's own worker."""
    a, alice, api = await _alice(start, client)
    when = _hours(1)
    await _schedule(api, "after a restart", when)
    await a.stop()

    again = await start(
        "a", port=a.port, data_dir=tmp_path / "a", settings={"jobs": {"poll_seconds": 0.05}}
    )
    again.ctx.jobs.clock = (when + timedelta(seconds=1)).timestamp
    await _until(lambda: _posts(again, alice), ["after a restart"])


async def test_posts_scheduled_before_publish_jobs_get_their_jobs_on_upgrade(
    start, client, tmp_path
):
    """An entry kept as revision 0007 kept them (without a job): migration 0008 queues
    its job, and it is published at its time. (The database is at the head revision
    otherwise; it is marked 0007 and taken to 0008 alone, then marked head again, so
    later revisions do not run twice.)"""
    a, alice, _ = await _alice(start, client)
    database_url = a.config.database_url
    await a.stop()
    when = _hours(1)
    store = Store(database_url)
    await store.open()
    try:
        entry_id = await store.insert_scheduled(
            alice.id, to_iso(when), json.dumps({"text": "from before"}), None
        )
        version = table("alembic_version", column("version_num"))
        await store.db.write(update(version).values(version_num="0007"))
        async with store.db.atomic() as connection:
            await connection.run_sync(_upgrade_to, "0008")
        await store.db.write(update(version).values(version_num=head_revision()))
    finally:
        await store.close()

    again = await start("a", port=a.port, data_dir=tmp_path / "a", run_workers=False)
    job = await again.ctx.store.find_job(PUBLISH, f"{entry_id}@{to_iso(when)}")
    assert job is not None and job.run_at == pytest.approx(when.timestamp(), abs=0.001)
    await _run_at(again, when - timedelta(seconds=1))
    assert await _posts(again, alice) == []
    await _run_at(again, when)
    assert await _posts(again, alice) == ["from before"]
    assert await again.ctx.store.get_scheduled(entry_id) is None


def _upgrade_to(connection: Connection, revision: str) -> None:
    config = AlembicConfig()
    config.set_main_option("script_location", "fedchirp.store:migrations")
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def _until(read, expected: Any, timeout: float = 15.0) -> None:
    """Poll read() until it returns expected; fail with what it returned last."""
    deadline = time.monotonic() + timeout
    while (found := await read()) != expected:
        assert time.monotonic() < deadline, f"still {found!r}, not {expected!r}"
        await asyncio.sleep(0.05)
