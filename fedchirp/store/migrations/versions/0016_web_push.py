"""Web Push subscriptions, one per OAuth token."""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "web_push_subscriptions",
        sa.Column("id", Id, primary_key=True),
        sa.Column("token_id", Id, sa.ForeignKey("oauth_tokens.id", ondelete="CASCADE"),
                  nullable=False, unique=True),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("p256dh", sa.Text(), nullable=False),
        sa.Column("auth", sa.Text(), nullable=False),
        sa.Column("alerts", sa.Text(), nullable=False),
        sa.Column("policy", sa.Text(), nullable=False, server_default="all"),
        sa.Column("standard", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.Text(), nullable=False),
    )
    op.create_index(
        "ix_web_push_subscriptions_account_id", "web_push_subscriptions", ["account_id"]
    )

