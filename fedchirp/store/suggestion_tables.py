"""Follow suggestions a local user dismissed (store/schema.py re-exports it)."""

from __future__ import annotations

from sqlalchemy import Column, PrimaryKeyConstraint, Table, Text

from fedchirp.store.columns import Id, metadata, ref

# DELETE /api/v1/suggestions/:id: the account is never suggested to this user again.
suggestion_dismissals = Table(
    "suggestion_dismissals",
    metadata,
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("target_account_id", Id, ref("accounts.id"), nullable=False),
    Column("created_at", Text, nullable=False),
    PrimaryKeyConstraint("account_id", "target_account_id"),
)
