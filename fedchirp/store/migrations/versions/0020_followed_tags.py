"""Hashtags local users follow."""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "followed_tags",
        sa.Column("id", Id, primary_key=True),
        sa.Column(
            "account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("tag", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.UniqueConstraint("account_id", "tag"),
    )
    op.create_index("followed_tags_tag", "followed_tags", ["tag"])


def downgrade() -> None:
    op.drop_index("followed_tags_tag", "followed_tags")
    op.drop_table("followed_tags")
