"""Local users an admin has disabled: they cannot sign in or get tokens."""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "local_users",
        sa.Column("disabled", sa.Integer(), nullable=False, server_default="0"),
    )
