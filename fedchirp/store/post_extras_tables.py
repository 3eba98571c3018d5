"""What posts carry beyond their current text: earlier versions, pins and the keys of
retried post requests (store/schema.py re-exports these)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)

from fedchirp.store.columns import Id, metadata, ref

# Each version of an edited post, the original first (written in the edit's unit).
# A post never edited has no rows: its history is the post itself.
status_edits = Table(
    "status_edits",
    metadata,
    Column("id", Id, primary_key=True),
    Column("status_id", Id, ref("statuses.id"), nullable=False),
    Column("content", Text, nullable=False, server_default=""),
    Column("spoiler_text", Text, nullable=False, server_default=""),
    Column("sensitive", Integer, nullable=False, server_default="0"),
    Column("created_at", Text, nullable=False),
    Index("status_edits_status", "status_id", "id"),
)

# Posts their author pinned to their profile (the featured collection), local and
# remote authors alike (a remote one's from its Add/Remove activities).
status_pins = Table(
    "status_pins",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("status_id", Id, ref("statuses.id"), nullable=False),
    Column("created_at", Text, nullable=False),
    UniqueConstraint("account_id", "status_id"),
)


# Idempotency-Key of a post request, so a retried request never posts twice.
status_idempotency = Table(
    "status_idempotency",
    metadata,
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("key", Text, nullable=False),
    Column("status_id", Id, ref("statuses.id"), nullable=False),
    Column("created_at", Text, nullable=False),
    PrimaryKeyConstraint("account_id", "key"),
)
