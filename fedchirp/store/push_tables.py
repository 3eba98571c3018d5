"""Web Push subscriptions (store/schema.py re-exports this table)."""

from __future__ import annotations

from sqlalchemy import Column, Integer, Table, Text

from fedchirp.store.columns import Id, metadata, ref

# One per OAuth token, as in Mastodon: an app's subscription ends with its token.
# access_token is that token itself: Mastodon's push payload carries it so the app
# knows which of its sign-ins a push is for (the tokens table keeps only hashes).
# alerts is a JSON object {type: bool}; p256dh and auth are as the app sent them
# (base64, either alphabet).
web_push_subscriptions = Table(
    "web_push_subscriptions",
    metadata,
    Column("id", Id, primary_key=True),
    Column("token_id", Id, ref("oauth_tokens.id"), nullable=False, unique=True),
    Column("account_id", Id, ref("accounts.id"), nullable=False, index=True),
    Column("access_token", Text, nullable=False),
    Column("endpoint", Text, nullable=False),
    Column("p256dh", Text, nullable=False),
    Column("auth", Text, nullable=False),
    Column("alerts", Text, nullable=False),
    Column("policy", Text, nullable=False, server_default="all"),
    Column("standard", Integer, nullable=False, server_default="0"),
    Column("created_at", Text, nullable=False),
)
