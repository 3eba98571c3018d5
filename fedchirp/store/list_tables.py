"""Lists: a local user's named sets of accounts they follow, each with its own timeline
(store/schema.py re-exports these).

A member must be followed by the list's owner (accepted or requested), as on Mastodon:
the trigger below drops a member from the owner's lists when that follow ends, so no
code path (unfollow, block, account deletion) can leave one behind.
"""

from __future__ import annotations

from sqlalchemy import (
    DDL,
    CheckConstraint,
    Column,
    Index,
    Integer,
    Table,
    Text,
    UniqueConstraint,
    event,
)

from fedchirp.store.columns import Id, metadata, ref

REPLIES_POLICIES = ("followed", "list", "none")

lists = Table(
    "lists",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("title", Text, nullable=False),
    Column("replies_policy", Text, nullable=False, server_default="list"),
    # Members' posts leave the owner's home timeline (Mastodon 4.2).
    Column("exclusive", Integer, nullable=False, server_default="0"),
    Column("created_at", Text, nullable=False),
    CheckConstraint("replies_policy IN ('followed', 'list', 'none')"),
    Index("lists_account", "account_id"),
)

# Pages of a list's members go by this id (newest added first), as Mastodon's do.
list_accounts = Table(
    "list_accounts",
    metadata,
    Column("id", Id, primary_key=True),
    Column("list_id", Id, ref("lists.id"), nullable=False),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("created_at", Text, nullable=False),
    UniqueConstraint("list_id", "account_id"),
    # The home timeline's exclusive check and "which lists is this account in".
    Index("list_accounts_account", "account_id", "list_id"),
)

SQLITE_TRIGGERS = (
    """CREATE TRIGGER follow_end_leaves_lists AFTER DELETE ON follows
BEGIN
    DELETE FROM list_accounts
    WHERE account_id = OLD.followee_id
      AND list_id IN (SELECT id FROM lists WHERE account_id = OLD.follower_id);
END""",
)

POSTGRESQL_TRIGGERS = (
    """CREATE FUNCTION follow_end_leaves_lists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM list_accounts
    WHERE account_id = OLD.followee_id
      AND list_id IN (SELECT id FROM lists WHERE account_id = OLD.follower_id);
    RETURN OLD;
END $$""",
    """CREATE TRIGGER follow_end_leaves_lists AFTER DELETE ON follows
FOR EACH ROW EXECUTE FUNCTION follow_end_leaves_lists()""",
)

for _dialect, _statements in (("sqlite", SQLITE_TRIGGERS), ("postgresql", POSTGRESQL_TRIGGERS)):
    for _statement in _statements:
        event.listen(metadata, "after_create", DDL(_statement).execute_if(dialect=_dialect))
