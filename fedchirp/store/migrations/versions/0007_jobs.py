"""Durable background jobs: incoming activities are applied by workers, not in the request."""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Real = sa.Float().with_variant(sa.dialects.sqlite.REAL(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", Id, primary_key=True),
        sa.Column("queue", sa.Text(), nullable=False),
        sa.Column("key", sa.Text()),
        sa.Column("lane", sa.Text()),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False, server_default="queued"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("run_at", Real, nullable=False),
        sa.Column("lease_until", Real, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text()),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("finished_at", sa.Text()),
        sa.CheckConstraint("state IN ('queued', 'running', 'dead')"),
        sa.UniqueConstraint("queue", "key"),
    )
    op.create_index("jobs_due", "jobs", ["state", "run_at"])
    op.create_index("jobs_lane", "jobs", ["lane", "id"])
