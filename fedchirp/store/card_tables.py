"""Link preview cards and the posts that link them (store/schema.py re-exports these)."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, Table, Text

from fedchirp.store.columns import Id, Real, metadata, ref

# One card per linked URL, shared by every post that links it; fetched_at (unix
# seconds) tells when it is stale and fetched again.
preview_cards = Table(
    "preview_cards",
    metadata,
    Column("id", Id, primary_key=True),
    Column("url", Text, nullable=False, unique=True),  # the link as posts have it
    Column("card_url", Text, nullable=False),  # the page's canonical URL, shown to apps
    Column("type", Text, nullable=False, server_default="link"),
    Column("title", Text, nullable=False, server_default=""),
    Column("description", Text, nullable=False, server_default=""),
    Column("author_name", Text, nullable=False, server_default=""),
    Column("author_url", Text, nullable=False, server_default=""),
    Column("provider_name", Text, nullable=False, server_default=""),
    Column("provider_url", Text, nullable=False, server_default=""),
    Column("image_url", Text, nullable=False, server_default=""),
    Column("image_description", Text, nullable=False, server_default=""),
    Column("width", Integer, nullable=False, server_default="0"),
    Column("height", Integer, nullable=False, server_default="0"),
    Column("embed_url", Text, nullable=False, server_default=""),
    Column("language", Text),
    Column("published_at", Text),
    Column("fetched_at", Real, nullable=False),
)

# The card a post shows (one per post). Author, time and whether the post is public
# are copied here so trending links are counted from this table alone.
status_preview_cards = Table(
    "status_preview_cards",
    metadata,
    Column("status_id", Id, ref("statuses.id"), primary_key=True),
    Column("card_id", Id, ref("preview_cards.id"), nullable=False),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("public", Integer, nullable=False, server_default="0"),
    Column("created_at", Text, nullable=False),  # the post's
    Index("status_preview_cards_recent", "created_at"),
    Index("status_preview_cards_card", "card_id"),
)
