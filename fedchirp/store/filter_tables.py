"""Content filters, each user's own (store/schema.py re-exports these): Mastodon's v2
filters, a titled filter with the contexts it applies in, its keywords and the posts
it names. Never federated."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, Table, Text, UniqueConstraint

from fedchirp.store.columns import Id, metadata, ref

filters = Table(
    "filters",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("title", Text, nullable=False),
    Column("context", Text, nullable=False, server_default="[]"),  # JSON list of contexts
    Column("filter_action", Text, nullable=False, server_default="warn"),  # warn|hide|blur
    Column("expires_at", Text),  # ISO-8601 UTC; NULL never expires
    Column("created_at", Text, nullable=False),
    Index("filters_by_account", "account_id"),
)

filter_keywords = Table(
    "filter_keywords",
    metadata,
    Column("id", Id, primary_key=True),
    Column("filter_id", Id, ref("filters.id"), nullable=False),
    Column("keyword", Text, nullable=False),
    Column("whole_word", Integer, nullable=False, server_default="1"),
    Column("created_at", Text, nullable=False),
    Index("filter_keywords_by_filter", "filter_id"),
)

filter_statuses = Table(
    "filter_statuses",
    metadata,
    Column("id", Id, primary_key=True),
    Column("filter_id", Id, ref("filters.id"), nullable=False),
    Column("status_id", Id, ref("statuses.id"), nullable=False),
    Column("created_at", Text, nullable=False),
    UniqueConstraint("filter_id", "status_id"),
)
