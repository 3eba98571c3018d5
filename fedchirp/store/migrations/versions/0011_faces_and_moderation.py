"""Profiles, moderation and sign-up: profile columns, admin marks on accounts, sign-up
columns on local users, and the tables of blocks, mutes, domain blocks, reports,
invites, rules and rate-limit counters."""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Real = sa.Float().with_variant(sa.dialects.sqlite.REAL(), "sqlite")


def _text(name: str, default: str | None = None) -> sa.Column:
    if default is None:
        return sa.Column(name, sa.Text())
    return sa.Column(name, sa.Text(), nullable=False, server_default=default)


def _flag(name: str, default: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=False, server_default=default)


def _account_columns() -> None:
    op.add_column("accounts", _text("header_url", ""))
    op.add_column("accounts", _text("fields", "[]"))
    op.add_column("accounts", _flag("discoverable", "1"))
    op.add_column("accounts", _text("suspended_at"))
    op.add_column("accounts", _text("silenced_at"))


def _local_user_columns() -> None:
    op.add_column("local_users", _text("note_source", ""))
    op.add_column("local_users", _text("avatar_file"))
    op.add_column("local_users", _text("header_file"))
    op.add_column("local_users", _flag("approved", "1"))
    op.add_column("local_users", _text("email"))
    op.add_column("local_users", _text("sign_up_reason", ""))
    # SQLite can add a column with an inline REFERENCES (its default is NULL), but not a
    # constraint afterwards; PostgreSQL adds the constraint.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE local_users ADD COLUMN invite_id INTEGER"
            " REFERENCES invites (id) ON DELETE SET NULL"
        )
        return
    op.add_column("local_users", sa.Column("invite_id", Id))
    op.create_foreign_key(
        "local_users_invite_id_fkey", "local_users", "invites", ["invite_id"], ["id"],
        ondelete="SET NULL",
    )


def _account_ref(name: str, nullable: bool = False, on_delete: str = "CASCADE") -> sa.Column:
    return sa.Column(name, Id, sa.ForeignKey("accounts.id", ondelete=on_delete), nullable=nullable)


def _social_tables() -> None:
    op.create_table(
        "blocks",
        sa.Column("id", Id, primary_key=True),
        _account_ref("account_id"),
        _account_ref("target_account_id"),
        sa.Column("uri", sa.Text(), nullable=False, unique=True),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.UniqueConstraint("account_id", "target_account_id"),
    )
    op.create_index("blocks_target", "blocks", ["target_account_id"])
    op.create_table(
        "mutes",
        sa.Column("id", Id, primary_key=True),
        _account_ref("account_id"),
        _account_ref("target_account_id"),
        _flag("hide_notifications", "1"),
        sa.Column("expires_at", Real),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.UniqueConstraint("account_id", "target_account_id"),
    )
    op.create_table(
        "account_domain_blocks",
        _account_ref("account_id"),
        sa.Column("domain", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "domain"),
    )
    op.create_index("account_domain_blocks_domain", "account_domain_blocks", ["domain"])


def _admin_tables() -> None:
    op.create_table(
        "domain_blocks",
        sa.Column("id", Id, primary_key=True),
        sa.Column("domain", sa.Text(), nullable=False, unique=True),
        _text("severity", "silence"),
        _flag("reject_media", "0"),
        _flag("reject_reports", "0"),
        _text("private_comment", ""),
        _text("public_comment", ""),
        _flag("obfuscate", "0"),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.CheckConstraint("severity IN ('noop', 'silence', 'suspend')"),
    )
    op.create_table(
        "reports",
        sa.Column("id", Id, primary_key=True),
        _account_ref("account_id"),
        _account_ref("target_account_id"),
        _text("status_ids", "[]"),
        _text("rule_ids", "[]"),
        _text("comment", ""),
        _text("category", "other"),
        _flag("forwarded", "0"),
        sa.Column("uri", sa.Text(), unique=True),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.Column("action_taken_at", sa.Text()),
        _account_ref("action_taken_by_id", nullable=True, on_delete="SET NULL"),
        _account_ref("assigned_account_id", nullable=True, on_delete="SET NULL"),
    )
    op.create_index("reports_open", "reports", ["action_taken_at", "id"])
    op.create_index("reports_target", "reports", ["target_account_id"])


def _sign_up_tables() -> None:
    op.create_table(
        "invites",
        sa.Column("id", Id, primary_key=True),
        sa.Column("code", sa.Text(), nullable=False, unique=True),
        _account_ref("account_id"),
        sa.Column("max_uses", sa.Integer()),
        _flag("uses", "0"),
        sa.Column("expires_at", Real),
        sa.Column("created_at", sa.Text(), nullable=False),
    )
    op.create_table(
        "rules",
        sa.Column("id", Id, primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        _text("hint", ""),
        _flag("position", "0"),
        sa.Column("created_at", sa.Text(), nullable=False),
    )
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", Real, nullable=False),
    )


def upgrade() -> None:
    _account_columns()
    _social_tables()
    _admin_tables()
    _sign_up_tables()
    _local_user_columns()
