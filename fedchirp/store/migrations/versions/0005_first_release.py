"""The schema of the first release (its SQL migrations 0001-0005), the base of all others.

A database that release wrote is stamped here and upgraded; a new database is made
from store/schema.py and stamped at the head, so this revision has nothing to do.
"""

revision = "0005"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass
