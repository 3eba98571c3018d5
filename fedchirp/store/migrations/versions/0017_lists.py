"""Lists of followed accounts, each with its own timeline, and the trigger that drops a
member from the owner's lists when the follow ends."""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

SQLITE_TRIGGER = """CREATE TRIGGER follow_end_leaves_lists AFTER DELETE ON follows
BEGIN
    DELETE FROM list_accounts
    WHERE account_id = OLD.followee_id
      AND list_id IN (SELECT id FROM lists WHERE account_id = OLD.follower_id);
END"""

POSTGRESQL_TRIGGER = (
    """CREATE FUNCTION follow_end_leaves_lists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM list_accounts
    WHERE account_id = OLD.followee_id
      AND list_id IN (SELECT id FROM lists WHERE account_id = OLD.follower_id);
    RETURN OLD;
END $$""",
    """CREATE TRIGGER follow_end_leaves_lists AFTER DELETE ON follows
FOR EACH ROW EXECUTE FUNCTION follow_end_leaves_lists()""",
)


def _ref(name: str, target: str) -> sa.Column:
    return sa.Column(name, Id, sa.ForeignKey(target, ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "lists",
        sa.Column("id", Id, primary_key=True),
        _ref("account_id", "accounts.id"),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("replies_policy", sa.Text(), nullable=False, server_default="list"),
        sa.Column("exclusive", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.CheckConstraint("replies_policy IN ('followed', 'list', 'none')"),
    )
    op.create_index("lists_account", "lists", ["account_id"])
    op.create_table(
        "list_accounts",
        sa.Column("id", Id, primary_key=True),
        _ref("list_id", "lists.id"),
        _ref("account_id", "accounts.id"),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.UniqueConstraint("list_id", "account_id"),
    )
    op.create_index("list_accounts_account", "list_accounts", ["account_id", "list_id"])
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_TRIGGER:
            op.execute(statement)
    else:
        op.execute(SQLITE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER follow_end_leaves_lists ON follows")
        op.execute("DROP FUNCTION follow_end_leaves_lists()")
    else:
        op.execute("DROP TRIGGER follow_end_leaves_lists")
    op.drop_table("list_accounts")
    op.drop_table("lists")
