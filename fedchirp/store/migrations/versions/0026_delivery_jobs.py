"""Deliveries become jobs: each outbound activity stored once, a "deliver" job per inbox.

The deliveries table (one row per activity and inbox, each with the body) goes, and
the jobs' lane index keeps live jobs only. Each activity in it becomes one
outbound_activities row: its inboxes, and how many were delivered or failed (for
analytics). Each delivery still queued becomes a job of the queue "deliver"
(store/outbound.py, as of this revision): lane its inbox, key "<activity id>:<inbox>",
payload the activity's id, due when it was, with its attempts and last error; each
failed one becomes a dead job of it, for admins to see.
Done in the upgrade's own transaction, so nothing is sent twice or lost. The
downgrade puts them back: a delivery with no job left was delivered.
"""

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.sqlite import REAL

revision = "0026"
down_revision = "0022"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Real = sa.Float().with_variant(REAL(), "sqlite")
QUEUE = "deliver"
LIVE = sa.text("state != 'dead'")


def _table(name: str, columns: str) -> sa.TableClause:
    return sa.table(name, *(sa.column(column) for column in columns.split()))


deliveries = _table(
    "deliveries",
    "id activity_uri activity_type inbox_url body signer_id status_id state attempts"
    " next_attempt_at last_status last_error created_at finished_at",
)
outbound = _table(
    "outbound_activities",
    "id activity_uri activity_type body signer_id status_id inboxes recipients delivered"
    " failed created_at",
)
jobs = _table(
    "jobs",
    "queue key lane payload state attempts run_at lease_until last_error created_at finished_at",
)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def upgrade() -> None:
    op.create_table(
        "outbound_activities",
        sa.Column("id", Id, primary_key=True),
        sa.Column("activity_uri", sa.Text(), nullable=False, unique=True),
        sa.Column("activity_type", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "signer_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("status_id", Id),
        sa.Column("inboxes", sa.Text(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("failed", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.Text(), nullable=False),
    )
    op.create_index("outbound_activities_signer", "outbound_activities", ["signer_id", "status_id"])
    # Dead jobs stay in their lanes (a refused delivery), and "first in its lane" skips
    # them: the lane index holds live jobs only, so they cost nothing there.
    op.drop_index("jobs_lane", "jobs")
    op.create_index("jobs_lane", "jobs", ["lane", "id"], sqlite_where=LIVE, postgresql_where=LIVE)
    _move_deliveries_to_jobs()
    op.drop_index("deliveries_due", "deliveries")
    op.drop_table("deliveries")


def _move_deliveries_to_jobs() -> None:
    bind = op.get_bind()
    by_activity: dict[str, list[dict]] = {}
    for row in bind.execute(sa.select(deliveries).order_by(deliveries.c.id)).mappings():
        by_activity.setdefault(row["activity_uri"], []).append(dict(row))
    queued = []
    for uri, rows in by_activity.items():
        first, inboxes = rows[0], sorted({row["inbox_url"] for row in rows})
        activity_id = bind.execute(
            sa.insert(outbound)
            .values(
                activity_uri=uri,
                activity_type=first["activity_type"],
                body=first["body"],
                signer_id=first["signer_id"],
                status_id=first["status_id"],
                inboxes="\n".join(inboxes),
                recipients=len(inboxes),
                delivered=sum(row["state"] == "delivered" for row in rows),
                failed=sum(row["state"] == "failed" for row in rows),
                created_at=first["created_at"],
            )
            .returning(outbound.c.id)
        ).scalar_one()
        payload = json.dumps({"activity": activity_id})
        queued += [
            {
                "queue": QUEUE,
                "key": f"{activity_id}:{row['inbox_url']}",
                "lane": row["inbox_url"],
                "payload": payload,
                "state": "dead" if row["state"] == "failed" else "queued",
                "attempts": row["attempts"],
                "run_at": row["next_attempt_at"],
                "lease_until": 0.0,
                "last_error": row["last_error"],
                "created_at": row["created_at"],
                "finished_at": row["finished_at"],
            }
            for row in rows
            if row["state"] != "delivered"
        ]
    if queued:
        op.bulk_insert(jobs, queued)


def downgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", Id, primary_key=True),
        sa.Column("activity_uri", sa.Text(), nullable=False),
        sa.Column("activity_type", sa.Text(), nullable=False),
        sa.Column("inbox_url", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "signer_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("status_id", Id),
        sa.Column("state", sa.Text(), nullable=False, server_default="queued"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", Real, nullable=False),
        sa.Column("lease_until", Real, nullable=False, server_default="0"),
        sa.Column("last_status", sa.Integer()),
        sa.Column("last_error", sa.Text()),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("finished_at", sa.Text()),
        sa.CheckConstraint("state IN ('queued', 'delivered', 'failed')"),
        sa.UniqueConstraint("activity_uri", "inbox_url"),
    )
    op.create_index("deliveries_due", "deliveries", ["state", "next_attempt_at"])
    _move_jobs_to_deliveries()
    op.drop_index("outbound_activities_signer", "outbound_activities")
    op.drop_table("outbound_activities")
    op.drop_index("jobs_lane", "jobs")
    op.create_index("jobs_lane", "jobs", ["lane", "id"])


def _move_jobs_to_deliveries() -> None:
    bind = op.get_bind()
    found = bind.execute(sa.select(jobs).where(jobs.c.queue == QUEUE)).mappings()
    by_key = {row["key"]: row for row in found}
    rows = []
    for activity in bind.execute(sa.select(outbound)).mappings():
        for inbox in filter(None, activity["inboxes"].split("\n")):
            job = by_key.get(f"{activity['id']}:{inbox}")
            state = "delivered" if job is None else "failed" if job["state"] == "dead" else "queued"
            rows.append(
                {
                    "activity_uri": activity["activity_uri"],
                    "activity_type": activity["activity_type"],
                    "inbox_url": inbox,
                    "body": activity["body"],
                    "signer_id": activity["signer_id"],
                    "status_id": activity["status_id"],
                    "state": state,
                    "attempts": 0 if job is None else job["attempts"],
                    "next_attempt_at": 0.0 if job is None else job["run_at"],
                    "last_status": None,
                    "last_error": None if job is None else job["last_error"],
                    "created_at": activity["created_at"],
                    "finished_at": None if state == "queued" else _now(),
                }
            )
    if rows:
        op.bulk_insert(deliveries, rows)
    op.execute(jobs.delete().where(jobs.c.queue == QUEUE))
