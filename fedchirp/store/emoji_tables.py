"""Custom emoji, ours and other servers' (store/schema.py re-exports this)."""

from __future__ import annotations

from sqlalchemy import Column, Integer, Table, Text, UniqueConstraint

from fedchirp.store.columns import Id, metadata

# domain '' for ours (image_file names the stored image); a remote one keeps its
# server's image URL and the id (uri) of its Emoji object.
custom_emojis = Table(
    "custom_emojis",
    metadata,
    Column("id", Id, primary_key=True),
    Column("shortcode", Text, nullable=False),
    Column("domain", Text, nullable=False, server_default=""),
    Column("image_file", Text),
    Column("image_url", Text, nullable=False, server_default=""),
    Column("static_url", Text, nullable=False, server_default=""),
    Column("visible_in_picker", Integer, nullable=False, server_default="1"),
    Column("category", Text),
    Column("uri", Text, nullable=False, server_default=""),
    Column("updated_at", Text, nullable=False),
    UniqueConstraint("shortcode", "domain"),
)
