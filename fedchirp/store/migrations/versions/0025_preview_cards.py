"""Link preview cards, and which card each post shows."""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Real = sa.Float().with_variant(sa.dialects.sqlite.REAL(), "sqlite")


def _text(name: str) -> sa.Column:
    return sa.Column(name, sa.Text(), nullable=False, server_default="")


def upgrade() -> None:
    op.create_table(
        "preview_cards",
        sa.Column("id", Id, primary_key=True),
        sa.Column("url", sa.Text(), nullable=False, unique=True),
        sa.Column("card_url", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False, server_default="link"),
        *(_text(n) for n in ("title", "description", "author_name", "author_url")),
        *(_text(n) for n in ("provider_name", "provider_url", "image_url", "image_description")),
        sa.Column("width", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("height", sa.Integer(), nullable=False, server_default="0"),
        _text("embed_url"),
        sa.Column("language", sa.Text()),
        sa.Column("published_at", sa.Text()),
        sa.Column("fetched_at", Real, nullable=False),
    )
    op.create_table(
        "status_preview_cards",
        sa.Column(
            "status_id", Id, sa.ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "card_id", Id, sa.ForeignKey("preview_cards.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("public", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.Text(), nullable=False),
    )
    op.create_index("status_preview_cards_recent", "status_preview_cards", ["created_at"])
    op.create_index("status_preview_cards_card", "status_preview_cards", ["card_id"])


def downgrade() -> None:
    op.drop_index("status_preview_cards_card", "status_preview_cards")
    op.drop_index("status_preview_cards_recent", "status_preview_cards")
    op.drop_table("status_preview_cards")
    op.drop_table("preview_cards")
