"""Conversations: each local user's direct-message threads."""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "account_conversations",
        sa.Column("id", Id, primary_key=True),
        sa.Column(
            "account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("root_id", Id, nullable=False),
        sa.Column("participant_ids", sa.Text(), nullable=False),
        sa.Column("unread", sa.Integer(), nullable=False, server_default="0"),
        sa.UniqueConstraint("account_id", "root_id", "participant_ids"),
    )
    op.create_table(
        "conversation_statuses",
        sa.Column(
            "conversation_id",
            Id,
            sa.ForeignKey("account_conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "status_id", Id, sa.ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False
        ),
        sa.PrimaryKeyConstraint("conversation_id", "status_id"),
    )
    op.create_index("conversation_statuses_status", "conversation_statuses", ["status_id"])


def downgrade() -> None:
    op.drop_index("conversation_statuses_status", "conversation_statuses")
    op.drop_table("conversation_statuses")
    op.drop_table("account_conversations")
