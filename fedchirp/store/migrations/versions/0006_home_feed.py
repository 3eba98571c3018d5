"""Home feeds written at fan-out time, account counters, listing indexes, Alembic in charge.

The feed of every local account is filled from what its home timeline showed
before: its own posts, posts its accepted followees let followers see, and posts
addressed to it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ref(target: str) -> sa.ForeignKey:
    return sa.ForeignKey(target, ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "home_feed",
        sa.Column("account_id", Id, _ref("accounts.id"), nullable=False),
        sa.Column("status_id", Id, _ref("statuses.id"), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "status_id"),
    )
    op.create_index("home_feed_status", "home_feed", ["status_id"])
    op.create_table(
        "account_stats",
        sa.Column("account_id", Id, _ref("accounts.id"), primary_key=True),
        sa.Column("statuses_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("followers_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("following_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_status_at", sa.Text()),
    )
    op.create_table(
        "status_stats",
        sa.Column("status_id", Id, _ref("statuses.id"), primary_key=True),
        sa.Column("replies_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("reblogs_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("favourites_count", sa.Integer(), nullable=False, server_default="0"),
    )
    _count_existing_rows()
    op.create_index("statuses_listing", "statuses", ["visibility", "local", "id"])
    op.create_index("notifications_status", "notifications", ["status_id"])
    op.execute(
        "INSERT INTO home_feed (account_id, status_id)"
        " SELECT u.account_id, s.id FROM local_users u"
        "  JOIN statuses s ON s.account_id = u.account_id"
        " UNION SELECT f.follower_id, s.id FROM follows f"
        "  JOIN local_users u ON u.account_id = f.follower_id"
        "  JOIN statuses s ON s.account_id = f.followee_id"
        "  WHERE f.state = 'accepted' AND s.visibility IN ('public', 'unlisted', 'private')"
        " UNION SELECT r.account_id, r.status_id FROM status_recipients r"
        "  JOIN local_users u ON u.account_id = r.account_id"
    )
    # The first release's own migration bookkeeping; Alembic keeps alembic_version now.
    op.execute("DROP TABLE IF EXISTS schema_migrations")


def _count_existing_rows() -> None:
    """Fill the counters from the rows there are."""
    op.execute("INSERT INTO account_stats (account_id) SELECT id FROM accounts")
    for column, subquery in (
        (
            "statuses_count",
            "SELECT COUNT(*) FROM statuses s"
            " WHERE s.account_id = a.account_id AND s.reblog_of_id IS NULL",
        ),
        (
            "followers_count",
            "SELECT COUNT(*) FROM follows f"
            " WHERE f.followee_id = a.account_id AND f.state = 'accepted'",
        ),
        (
            "following_count",
            "SELECT COUNT(*) FROM follows f"
            " WHERE f.follower_id = a.account_id AND f.state = 'accepted'",
        ),
        (
            "last_status_at",
            "SELECT MAX(s.created_at) FROM statuses s WHERE s.account_id = a.account_id",
        ),
    ):
        op.execute(f"UPDATE account_stats AS a SET {column} = ({subquery})")
    op.execute(
        "INSERT INTO status_stats (status_id) SELECT DISTINCT t.id FROM statuses t"
        " WHERE EXISTS (SELECT 1 FROM statuses s WHERE s.in_reply_to_id = t.id"
        "  OR s.reblog_of_id = t.id)"
        " OR EXISTS (SELECT 1 FROM favourites f WHERE f.status_id = t.id)"
    )
    for column, subquery in (
        ("replies_count", "SELECT COUNT(*) FROM statuses s WHERE s.in_reply_to_id = t.status_id"),
        ("reblogs_count", "SELECT COUNT(*) FROM statuses s WHERE s.reblog_of_id = t.status_id"),
        ("favourites_count", "SELECT COUNT(*) FROM favourites f WHERE f.status_id = t.status_id"),
    ):
        op.execute(f"UPDATE status_stats AS t SET {column} = ({subquery})")
