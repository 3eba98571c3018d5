"""The tables of faces, moderation and sign-up: blocks, mutes, domain blocks (a user's and
the instance's), reports, invites, server rules and the counters of rate limits
(store/schema.py re-exports these)."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)

from fedchirp.store.columns import Id, Real, metadata, ref

# account_id blocks target_account_id. uri is the Block activity's id (ours or theirs),
# so an Undo names the row it undoes.
blocks = Table(
    "blocks",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("target_account_id", Id, ref("accounts.id"), nullable=False),
    Column("uri", Text, nullable=False, unique=True),
    Column("created_at", Text, nullable=False),
    UniqueConstraint("account_id", "target_account_id"),
    Index("blocks_target", "target_account_id"),
)

# Local only: a mute is never federated. expires_at (unix seconds) None = for ever.
mutes = Table(
    "mutes",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("target_account_id", Id, ref("accounts.id"), nullable=False),
    Column("hide_notifications", Integer, nullable=False, server_default="1"),
    Column("expires_at", Real),
    Column("created_at", Text, nullable=False),
    UniqueConstraint("account_id", "target_account_id"),
)

# A user's own domain blocks (Mastodon's account_domain_blocks).
account_domain_blocks = Table(
    "account_domain_blocks",
    metadata,
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("domain", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    PrimaryKeyConstraint("account_id", "domain"),
    Index("account_domain_blocks_domain", "domain"),
)

# The instance's domain blocks, set by admins (Mastodon's domain_blocks).
domain_blocks = Table(
    "domain_blocks",
    metadata,
    Column("id", Id, primary_key=True),
    Column("domain", Text, nullable=False, unique=True),
    Column("severity", Text, nullable=False, server_default="silence"),
    Column("reject_media", Integer, nullable=False, server_default="0"),
    Column("reject_reports", Integer, nullable=False, server_default="0"),
    Column("private_comment", Text, nullable=False, server_default=""),
    Column("public_comment", Text, nullable=False, server_default=""),
    Column("obfuscate", Integer, nullable=False, server_default="0"),
    Column("created_at", Text, nullable=False),
    CheckConstraint("severity IN ('noop', 'silence', 'suspend')"),
)

# A report by a local user, or one that came in as a Flag (account_id is then the remote
# reporter, or the instance actor of the remote server). status_ids and rule_ids are JSON
# lists of ids.
reports = Table(
    "reports",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("target_account_id", Id, ref("accounts.id"), nullable=False),
    Column("status_ids", Text, nullable=False, server_default="[]"),
    Column("rule_ids", Text, nullable=False, server_default="[]"),
    Column("comment", Text, nullable=False, server_default=""),
    Column("category", Text, nullable=False, server_default="other"),
    Column("forwarded", Integer, nullable=False, server_default="0"),
    Column("uri", Text, unique=True),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Column("action_taken_at", Text),
    Column("action_taken_by_id", Id, ref("accounts.id", "SET NULL")),
    Column("assigned_account_id", Id, ref("accounts.id", "SET NULL")),
    Index("reports_open", "action_taken_at", "id"),
    Index("reports_target", "target_account_id"),
)

# Invite links to sign up while registrations are closed or need approval.
invites = Table(
    "invites",
    metadata,
    Column("id", Id, primary_key=True),
    Column("code", Text, nullable=False, unique=True),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("max_uses", Integer),
    Column("uses", Integer, nullable=False, server_default="0"),
    Column("expires_at", Real),
    Column("created_at", Text, nullable=False),
)

# The server's rules (/api/v1/instance/rules), shown at sign-up.
rules = Table(
    "rules",
    metadata,
    Column("id", Id, primary_key=True),
    Column("text", Text, nullable=False),
    Column("hint", Text, nullable=False, server_default=""),
    Column("position", Integer, nullable=False, server_default="0"),
    Column("created_at", Text, nullable=False),
)

# Counters of fixed-window rate limits, shared by every process on one database.
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", Text, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("expires_at", Real, nullable=False),
)
