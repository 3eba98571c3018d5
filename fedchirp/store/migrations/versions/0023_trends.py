"""Follow suggestions a user dismissed (trends and suggestions need no other table)."""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0025"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "suggestion_dismissals",
        sa.Column(
            "account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "target_account_id",
            Id,
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "target_account_id"),
    )


def downgrade() -> None:
    op.drop_table("suggestion_dismissals")
