"""Announcements admins set for everyone, who dismissed or reacted to them, and the
hashtags users feature on their profiles (store/schema.py re-exports these)."""

from __future__ import annotations

from sqlalchemy import Column, Integer, PrimaryKeyConstraint, Table, Text, UniqueConstraint

from fedchirp.store.columns import Id, metadata, ref

# text is what the admin typed, content its HTML (rendered like a post's). starts_at and
# ends_at say when the event it tells of happens; one past its end is no longer shown.
announcements = Table(
    "announcements",
    metadata,
    Column("id", Id, primary_key=True),
    Column("text", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("starts_at", Text),
    Column("ends_at", Text),
    Column("all_day", Integer, nullable=False, server_default="0"),
    Column("published", Integer, nullable=False, server_default="0"),
    Column("published_at", Text),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)

# An announcement a user dismissed ("read" in the API).
announcement_dismissals = Table(
    "announcement_dismissals",
    metadata,
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("announcement_id", Id, ref("announcements.id"), nullable=False),
    PrimaryKeyConstraint("account_id", "announcement_id"),
)

# name: a Unicode emoji, or the shortcode of one of our custom emoji.
announcement_reactions = Table(
    "announcement_reactions",
    metadata,
    Column("announcement_id", Id, ref("announcements.id"), nullable=False),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    PrimaryKeyConstraint("announcement_id", "account_id", "name"),
)

# Hashtags a local user features on their profile; counts come from their posts.
featured_tags = Table(
    "featured_tags",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("tag", Text, nullable=False),  # lowercase, without '#'
    Column("created_at", Text, nullable=False),
    UniqueConstraint("account_id", "tag"),
)
