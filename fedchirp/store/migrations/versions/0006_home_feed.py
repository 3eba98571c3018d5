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
        sa.Column("last_status_at", sa.Text()),
    )
    op.execute(
        "INSERT INTO account_stats (account_id, statuses_count, last_status_at)"
        " SELECT account_id, SUM(CASE WHEN reblog_of_id IS NULL THEN 1 ELSE 0 END),"
        " MAX(created_at) FROM statuses GROUP BY account_id"
    )
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
