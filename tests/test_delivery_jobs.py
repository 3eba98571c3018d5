"""Deliveries are jobs of the one job system: the migration that moved them there, both
ways, with what each delivery had become (delivered, failed, waiting to retry)."""

from __future__ import annotations

import time

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from fedchirp.services.accounts import create_local_account
from fedchirp.store.jobs import JobOutcome
from fedchirp.store.migrate import _config
from fedchirp.store.outbound import delivery_activity_id
from fedchirp.urls import Urls

# The migration moves rows with dialect-specific SQL (RETURNING, bulk inserts).
pytestmark = pytest.mark.backends

ACTIVITY = {"id": "http://127.0.0.1:1/users/alice/statuses/1/activity", "type": "Create"}
INBOXES = ["https://x.test/inbox", "https://y.test/inbox", "https://z.test/inbox"]


def _revisions(connection) -> tuple[str, str]:
    """(this migration's revision, the one before it), whatever numbers a merge gave them."""
    scripts = ScriptDirectory.from_config(_config(connection))
    found = next(s for s in scripts.walk_revisions() if s.path.endswith("_delivery_jobs.py"))
    return found.revision, found.down_revision  # type: ignore[return-value]


def _deliveries(connection) -> list[tuple[str, str, int, str | None]]:
    rows = connection.execute(
        text(
            "SELECT inbox_url, state, attempts, last_error FROM deliveries"
            " WHERE activity_uri = :uri ORDER BY inbox_url"
        ),
        {"uri": ACTIVITY["id"]},
    )
    return [tuple(row) for row in rows]


async def test_the_migration_moves_deliveries_to_jobs_and_back(make_store):
    store = await make_store("db")
    alice = await create_local_account(store, Urls("http://127.0.0.1:1"), "alice", "pw" * 8)
    now = time.time()
    assert await store.outbound_enqueue(ACTIVITY, "{}", alice.id, INBOXES, now, None) == 3
    # A repeat to an inbox it was queued for is dropped.
    assert await store.outbound_enqueue(ACTIVITY, "{}", alice.id, INBOXES[:1], now) == 0
    jobs = {job.lane: job for job in await store.claim_jobs(["deliver"], now, 60, 10)}
    assert sorted(jobs) == INBOXES  # one per inbox, each first in its own lane
    await store.settle_jobs(
        [
            JobOutcome(jobs[INBOXES[0]].id, "done"),
            JobOutcome(jobs[INBOXES[1]].id, "dead", error="HTTP 410: gone"),
            JobOutcome(jobs[INBOXES[2]].id, "retry", now + 600, "HTTP 503: busy"),
        ]
    )
    # (What the delivery worker counts with its outcomes: one delivered, one failed.)
    await store.outbound_count_outcomes({delivery_activity_id(jobs[INBOXES[0]].payload): (1, 1)})
    before = await store.outbound_deliveries(ACTIVITY["id"])
    assert [(d.state, d.attempts, d.last_error) for d in before] == [
        ("delivered", 0, None),
        ("failed", 1, "HTTP 410: gone"),
        ("queued", 1, "HTTP 503: busy"),
    ]
    stats = await store.delivery_stats(alice.id)
    assert stats == {"delivered": 1, "failed": 1, "queued": 1}

    async with store.db.atomic() as connection:
        revision, previous = await connection.run_sync(_revisions)
        await connection.run_sync(lambda c: command.downgrade(_config(c), previous))
        assert await connection.run_sync(_deliveries) == [
            (INBOXES[0], "delivered", 0, None),
            (INBOXES[1], "failed", 1, "HTTP 410: gone"),
            (INBOXES[2], "queued", 1, "HTTP 503: busy"),
        ]
        assert (await connection.execute(text("SELECT COUNT(*) FROM jobs"))).scalar() == 0
    assert revision in await store.migrate()

    after = await store.outbound_deliveries(ACTIVITY["id"])
    assert [(d.inbox_url, d.state, d.body) for d in after] == [
        (d.inbox_url, d.state, d.body) for d in before
    ]
    [waiting] = [d for d in after if d.state == "queued"]
    assert (waiting.attempts, waiting.run_at) == (1, pytest.approx(now + 600))
    assert await store.delivery_stats(alice.id) == stats
    # The moved job is claimed as any other once due, in its inbox's lane.
    [job] = await store.claim_jobs(["deliver"], now + 601, 60, 10)
    assert (job.id, job.lane, job.attempts) == (waiting.job_id, INBOXES[2], 2)
    # The same activity for one more inbox: only that one is queued, in its own lane.
    more = [*INBOXES, "https://w.test/inbox"]
    assert await store.outbound_enqueue(ACTIVITY, "{}", alice.id, more, now + 601) == 1
    assert [d.inbox_url for d in await store.outbound_deliveries(ACTIVITY["id"])] == sorted(more)
    assert await store.delivery_stats(alice.id) == dict(stats, queued=2)
    [added] = await store.claim_jobs(["deliver"], now + 601, 60, 10)
    assert added.lane == "https://w.test/inbox"
