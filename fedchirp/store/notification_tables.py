"""Notification policy tables (store/schema.py re-exports them), as Mastodon 4.3 has them."""

from __future__ import annotations

from sqlalchemy import Column, PrimaryKeyConstraint, Table, Text, UniqueConstraint

from fedchirp.store.columns import Id, metadata, ref

# One row per local account that changed its policy; no row means the defaults.
# Each for_* is accept, filter or drop.
notification_policies = Table(
    "notification_policies",
    metadata,
    Column("account_id", Id, ref("accounts.id"), primary_key=True),
    Column("for_not_following", Text, nullable=False, server_default="accept"),
    Column("for_not_followers", Text, nullable=False, server_default="accept"),
    Column("for_new_accounts", Text, nullable=False, server_default="accept"),
    Column("for_private_mentions", Text, nullable=False, server_default="filter"),
    Column("for_limited_accounts", Text, nullable=False, server_default="filter"),
    Column("updated_at", Text, nullable=False),
)

# A sender whose notifications to an account were filtered: one request per pair,
# until the account accepts or dismisses it. Its count and last post are read from
# the filtered notifications themselves.
notification_requests = Table(
    "notification_requests",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("from_account_id", Id, ref("accounts.id"), nullable=False),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    UniqueConstraint("account_id", "from_account_id"),
)

# Senders an account accepted a request from: their notifications are never filtered.
notification_permissions = Table(
    "notification_permissions",
    metadata,
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("from_account_id", Id, ref("accounts.id"), nullable=False),
    Column("created_at", Text, nullable=False),
    PrimaryKeyConstraint("account_id", "from_account_id"),
)
