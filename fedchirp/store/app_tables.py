"""What apps keep for each local user: bookmarks, read markers and followed hashtags
(store/schema.py re-exports these)."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, PrimaryKeyConstraint, Table, Text, UniqueConstraint

from fedchirp.store.columns import Id, metadata, ref

# Private to the user, never federated. Pages of bookmarks go by this id (newest first).
bookmarks = Table(
    "bookmarks",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("status_id", Id, ref("statuses.id"), nullable=False),
    Column("created_at", Text, nullable=False),
    UniqueConstraint("account_id", "status_id"),
)

# Where the user stopped reading a timeline ('home' or 'notifications'), shared by
# their apps (/api/v1/markers); version counts the saves.
markers = Table(
    "markers",
    metadata,
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("timeline", Text, nullable=False),
    Column("last_read_id", Text, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("updated_at", Text, nullable=False),
    PrimaryKeyConstraint("account_id", "timeline"),
)

# Hashtags a local user follows: public posts carrying one land in their home feed.
# Pages of followed tags go by id; the tag index serves the fan-out.
followed_tags = Table(
    "followed_tags",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("tag", Text, nullable=False),  # lowercase, without '#'
    Column("created_at", Text, nullable=False),
    UniqueConstraint("account_id", "tag"),
    Index("followed_tags_tag", "tag"),
)
