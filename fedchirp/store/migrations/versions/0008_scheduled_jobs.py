"""Scheduled posts are published by jobs: queue one for each post scheduled before.

Each job is what services/scheduling.py queues when a post is scheduled: queue
"scheduled.publish", key "<id>@<time>", payload the entry's id and time, due then.
Done here, not at every start: it is needed once, and runs in the upgrade's own
transaction, so no process ever sees an entry without its job.
"""

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

QUEUE = "scheduled.publish"  # services/scheduling.py PUBLISH_QUEUE, as of this revision

scheduled_statuses = sa.table(
    "scheduled_statuses", sa.column("id", sa.Integer()), sa.column("scheduled_at", sa.Text())
)
jobs = sa.table(
    "jobs",
    sa.column("queue", sa.Text()),
    sa.column("key", sa.Text()),
    sa.column("payload", sa.Text()),
    sa.column("run_at", sa.Float()),
    sa.column("created_at", sa.Text()),
)


def _epoch(iso: str) -> float:
    """Seconds since the epoch of a stored time; one that cannot be read is due now."""
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def upgrade() -> None:
    found = op.get_bind().execute(sa.select(scheduled_statuses)).all()
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    rows = [
        {
            "queue": QUEUE,
            "key": f"{entry_id}@{scheduled_at}",
            "payload": json.dumps({"id": entry_id, "at": scheduled_at}),
            "run_at": _epoch(scheduled_at),
            "created_at": created,
        }
        for entry_id, scheduled_at in found
    ]
    if rows:
        op.bulk_insert(jobs, rows)
