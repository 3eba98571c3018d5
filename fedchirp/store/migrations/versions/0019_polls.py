"""Polls and poll votes."""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Real = sa.Float().with_variant(sa.dialects.sqlite.REAL(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "polls",
        sa.Column(
            "status_id", Id, sa.ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("tallies", sa.Text(), nullable=False),
        sa.Column("multiple", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("hide_totals", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("expires_at", sa.Text()),
        sa.Column("votes_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("voters_count", sa.Integer()),
        sa.Column("closed_at", sa.Text()),
        sa.Column("last_fetched", Real),
    )
    op.create_table(
        "poll_votes",
        sa.Column("id", Id, primary_key=True),
        sa.Column(
            "status_id", Id, sa.ForeignKey("polls.status_id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("choice", sa.Integer(), nullable=False),
        sa.Column("uri", sa.Text(), unique=True),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.UniqueConstraint("status_id", "account_id", "choice"),
    )
    op.create_index("poll_votes_account", "poll_votes", ["account_id", "status_id"])


def downgrade() -> None:
    op.drop_index("poll_votes_account", "poll_votes")
    op.drop_table("poll_votes")
    op.drop_table("polls")
