"""Polls and their votes (store/schema.py re-exports these)."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, Table, Text, UniqueConstraint

from fedchirp.store.columns import Id, Real, metadata, ref

# One poll per status (local or remote). options and tallies are JSON lists of the
# same length: titles, and votes per option (for a remote poll, as its server said).
polls = Table(
    "polls",
    metadata,
    Column("status_id", Id, ref("statuses.id"), primary_key=True),
    Column("options", Text, nullable=False),
    Column("tallies", Text, nullable=False),
    Column("multiple", Integer, nullable=False, server_default="0"),
    Column("hide_totals", Integer, nullable=False, server_default="0"),
    Column("expires_at", Text),
    Column("votes_count", Integer, nullable=False, server_default="0"),
    Column("voters_count", Integer),
    Column("closed_at", Text),
    Column("last_fetched", Real),
)

# Votes: on our polls from anyone they were shown to; on remote polls, our users' own.
poll_votes = Table(
    "poll_votes",
    metadata,
    Column("id", Id, primary_key=True),
    Column("status_id", Id, ref("polls.status_id"), nullable=False),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("choice", Integer, nullable=False),
    Column("uri", Text, unique=True),
    Column("created_at", Text, nullable=False),
    UniqueConstraint("status_id", "account_id", "choice"),
    Index("poll_votes_account", "account_id", "status_id"),
)
