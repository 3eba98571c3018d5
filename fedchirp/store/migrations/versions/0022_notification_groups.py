"""Grouped notifications and the notification policy (Mastodon 4.3)."""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0023"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _account_ref(name: str, **kwargs: object) -> sa.Column:
    return sa.Column(
        name, Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, **kwargs
    )


def _policy(name: str, default: str) -> sa.Column:
    return sa.Column(name, sa.Text(), nullable=False, server_default=default)


def upgrade() -> None:
    op.add_column("notifications", sa.Column("group_key", sa.Text()))
    op.add_column(
        "notifications",
        sa.Column("filtered", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index("notifications_group", "notifications", ["account_id", "group_key"])
    op.create_table(
        "notification_policies",
        _account_ref("account_id", primary_key=True),
        _policy("for_not_following", "accept"),
        _policy("for_not_followers", "accept"),
        _policy("for_new_accounts", "accept"),
        _policy("for_private_mentions", "filter"),
        _policy("for_limited_accounts", "filter"),
        sa.Column("updated_at", sa.Text(), nullable=False),
    )
    op.create_table(
        "notification_requests",
        sa.Column("id", Id, primary_key=True),
        _account_ref("account_id"),
        _account_ref("from_account_id"),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.UniqueConstraint("account_id", "from_account_id"),
    )
    op.create_table(
        "notification_permissions",
        _account_ref("account_id"),
        _account_ref("from_account_id"),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "from_account_id"),
    )


def downgrade() -> None:
    op.drop_table("notification_permissions")
    op.drop_table("notification_requests")
    op.drop_table("notification_policies")
    op.drop_index("notifications_group", "notifications")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("filtered")
        batch.drop_column("group_key")
