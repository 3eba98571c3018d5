"""Announcements (with dismissals and reactions) and featured hashtags."""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0021"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ref(target: str) -> sa.ForeignKey:
    return sa.ForeignKey(target, ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "announcements",
        sa.Column("id", Id, primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.Text()),
        sa.Column("ends_at", sa.Text()),
        sa.Column("all_day", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("published", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("published_at", sa.Text()),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Text(), nullable=False),
    )
    op.create_table(
        "announcement_dismissals",
        sa.Column("account_id", Id, _ref("accounts.id"), nullable=False),
        sa.Column("announcement_id", Id, _ref("announcements.id"), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "announcement_id"),
    )
    op.create_table(
        "announcement_reactions",
        sa.Column("announcement_id", Id, _ref("announcements.id"), nullable=False),
        sa.Column("account_id", Id, _ref("accounts.id"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("announcement_id", "account_id", "name"),
    )
    op.create_table(
        "featured_tags",
        sa.Column("id", Id, primary_key=True),
        sa.Column("account_id", Id, _ref("accounts.id"), nullable=False),
        sa.Column("tag", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.UniqueConstraint("account_id", "tag"),
    )


def downgrade() -> None:
    op.drop_table("featured_tags")
    op.drop_table("announcement_reactions")
    op.drop_table("announcement_dismissals")
    op.drop_table("announcements")
