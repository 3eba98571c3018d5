"""Conversations: each local user's direct-message threads, as Mastodon keeps them
(its AccountConversation); store/schema.py re-exports these.

One row per (user, thread, participants): a thread is named by its root post's id (a
number, not a reference: the thread outlives its root), participants are the other
accounts in it, as sorted ids ("3,7"). Its posts are rows of conversation_statuses,
which go with the post, so the last post shown is always one that still exists.
"""

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

account_conversations = Table(
    "account_conversations",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("root_id", Id, nullable=False),
    Column("participant_ids", Text, nullable=False),
    Column("unread", Integer, nullable=False, server_default="0"),
    UniqueConstraint("account_id", "root_id", "participant_ids"),
)

conversation_statuses = Table(
    "conversation_statuses",
    metadata,
    Column("conversation_id", Id, ref("account_conversations.id"), nullable=False),
    Column("status_id", Id, ref("statuses.id"), nullable=False),
    PrimaryKeyConstraint("conversation_id", "status_id"),
    Index("conversation_statuses_status", "status_id"),
)
