"""Remote hosts deliveries are failing to, and which of them are unavailable."""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

Real = sa.Float().with_variant(sa.dialects.sqlite.REAL(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "host_failures",
        sa.Column("host", sa.Text(), primary_key=True),
        sa.Column("failing_since", Real, nullable=False),
        sa.Column("last_failure_at", Real, nullable=False),
        sa.Column("failure_days", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("unavailable", sa.Integer(), nullable=False, server_default="0"),
    )
