"""Bookmarks and read markers, kept per local user for their apps."""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _account_ref() -> sa.Column:
    return sa.Column("account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"),
                     nullable=False)


def upgrade() -> None:
    op.create_table(
        "bookmarks",
        sa.Column("id", Id, primary_key=True),
        _account_ref(),
        sa.Column("status_id", Id, sa.ForeignKey("statuses.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.UniqueConstraint("account_id", "status_id"),
    )
    op.create_table(
        "markers",
        _account_ref(),
        sa.Column("timeline", sa.Text(), nullable=False),
        sa.Column("last_read_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "timeline"),
    )
