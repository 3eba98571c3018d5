"""Content filters (Mastodon's v2 filters): a titled filter per context list, its
keywords and the posts it names."""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _filter_ref() -> sa.Column:
    return sa.Column("filter_id", Id, sa.ForeignKey("filters.id", ondelete="CASCADE"),
                     nullable=False)


def upgrade() -> None:
    op.create_table(
        "filters",
        sa.Column("id", Id, primary_key=True),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("context", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("filter_action", sa.Text(), nullable=False, server_default="warn"),
        sa.Column("expires_at", sa.Text()),
        sa.Column("created_at", sa.Text(), nullable=False),
    )
    op.create_index("filters_by_account", "filters", ["account_id"])
    op.create_table(
        "filter_keywords",
        sa.Column("id", Id, primary_key=True),
        _filter_ref(),
        sa.Column("keyword", sa.Text(), nullable=False),
        sa.Column("whole_word", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("created_at", sa.Text(), nullable=False),
    )
    op.create_index("filter_keywords_by_filter", "filter_keywords", ["filter_id"])
    op.create_table(
        "filter_statuses",
        sa.Column("id", Id, primary_key=True),
        _filter_ref(),
        sa.Column("status_id", Id, sa.ForeignKey("statuses.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.UniqueConstraint("filter_id", "status_id"),
    )


def downgrade() -> None:
    op.drop_table("filter_statuses")
    op.drop_table("filter_keywords")
    op.drop_table("filters")
