"""Status edit history, pinned posts (and custom emoji)."""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ref(name: str, target: str) -> sa.Column:
    return sa.Column(name, Id, sa.ForeignKey(target, ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "status_edits",
        sa.Column("id", Id, primary_key=True),
        _ref("status_id", "statuses.id"),
        sa.Column("content", sa.Text(), nullable=False, server_default=""),
        sa.Column("spoiler_text", sa.Text(), nullable=False, server_default=""),
        sa.Column("sensitive", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.Text(), nullable=False),
    )
    op.create_index("status_edits_status", "status_edits", ["status_id", "id"])
    op.create_table(
        "status_pins",
        sa.Column("id", Id, primary_key=True),
        _ref("account_id", "accounts.id"),
        _ref("status_id", "statuses.id"),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.UniqueConstraint("account_id", "status_id"),
    )
    op.create_table(
        "custom_emojis",
        sa.Column("id", Id, primary_key=True),
        sa.Column("shortcode", sa.Text(), nullable=False),
        sa.Column("domain", sa.Text(), nullable=False, server_default=""),
        sa.Column("image_file", sa.Text()),
        sa.Column("image_url", sa.Text(), nullable=False, server_default=""),
        sa.Column("static_url", sa.Text(), nullable=False, server_default=""),
        sa.Column("visible_in_picker", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("category", sa.Text()),
        sa.Column("uri", sa.Text(), nullable=False, server_default=""),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.UniqueConstraint("shortcode", "domain"),
    )


def downgrade() -> None:
    op.drop_table("custom_emojis")
    op.drop_table("status_pins")
    op.drop_index("status_edits_status", "status_edits")
    op.drop_table("status_edits")
