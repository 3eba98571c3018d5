"""Profiles of local accounts: editing them, who has to hear of a change, and erasing an
account that deleted itself while keeping its name and key."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, or_, select, update

from fedchirp.clock import now_iso
from fedchirp.store.counters import uncount_account
from fedchirp.store.db import Queries
from fedchirp.store.dialect import insert_ignore
from fedchirp.store.models import Account
from fedchirp.store.query import record
from fedchirp.store.schema import (
    accounts,
    follows,
    local_users,
    media_attachments,
    metadata,
    tombstones,
)

# Rows that outlive a self-deleted account: the account (its name stays taken and its
# key keeps signing the Delete until every server has it), its user row (the private
# key), and that Delete as an outbound activity (its deliveries are jobs).
_KEPT_ON_ERASE = frozenset({"accounts", "local_users", "outbound_activities"})


class ProfileQueries(Queries):
    async def update_profile(
        self, account_id: int, account_values: dict[str, Any], user_values: dict[str, Any]
    ) -> Account:
        """Change an account's profile columns and its user row's together."""
        async with self.db.atomic() as db:
            if account_values:
                await db.execute(
                    update(accounts).where(accounts.c.id == account_id).values(account_values)
                )
            if user_values:
                await db.execute(
                    update(local_users)
                    .where(local_users.c.account_id == account_id)
                    .values(user_values)
                )
            row = (
                (await db.execute(select(accounts).where(accounts.c.id == account_id)))
                .mappings()
                .one()
            )
        found = record(Account, row)
        assert found is not None
        return found

    async def lock_account(self, account_id: int) -> Account | None:
        """The account, locked until the enclosing unit of work ends (PostgreSQL; the
        SQLite writer is one at a time anyway): for read-modify-write of its profile."""
        async with self.db.atomic() as db:
            row = (
                (
                    await db.execute(
                        select(accounts).where(accounts.c.id == account_id).with_for_update()
                    )
                )
                .mappings()
                .one_or_none()
            )
        return record(Account, row)

    async def known_inboxes(self, account_id: int) -> set[str]:
        """Delivery inboxes of every remote account that follows this one or is followed by
        it (in any state): the servers that know it."""
        inbox = func.coalesce(accounts.c.shared_inbox_url, accounts.c.inbox_url)
        found: set[str] = set()
        for other, this in (
            (follows.c.follower_id, follows.c.followee_id),
            (follows.c.followee_id, follows.c.follower_id),
        ):
            found |= set(
                await self.db.scalars(
                    select(inbox)
                    .distinct()
                    .join(follows, other == accounts.c.id)
                    .where(this == account_id, accounts.c.domain != "")
                )
            )
        return found

    async def local_media_names(self, account_id: int) -> list[str]:
        """The stored files of an account's uploads (originals and previews)."""
        rows = await self.db.all(
            select(media_attachments.c.file_name, media_attachments.c.preview_name).where(
                media_attachments.c.account_id == account_id
            )
        )
        return [name for row in rows for name in row.values() if name]

    async def is_account_deleted(self, account: Account) -> bool:
        """A local account that deleted itself (its id is a tombstone)."""
        found = await self.db.one(select(tombstones.c.uri).where(tombstones.c.uri == account.uri))
        return found is not None

    async def erase_local_account(self, account: Account, profile: dict[str, Any]) -> None:
        """Remove everything of a local account but its account and user rows, which keep
        its name and key: its posts, follows both ways, likes, notifications, uploads,
        groups, sessions and tokens. The actor id becomes a tombstone; profile holds the
        blanked profile columns. Counters elsewhere are taken back first."""
        async with self.db.atomic() as db:
            await uncount_account(db, account.id)
            # Follows first: the triggers they fire write follower events and circle
            # changes, which the loop below then removes for this account.
            await db.execute(
                delete(follows).where(
                    or_(follows.c.follower_id == account.id, follows.c.followee_id == account.id)
                )
            )
            for table in metadata.sorted_tables[::-1]:  # dependents first
                if table.name in _KEPT_ON_ERASE:
                    continue
                for key in table.foreign_keys:
                    if key.column is not accounts.c.id:
                        continue
                    column = key.parent
                    if key.ondelete == "SET NULL":
                        await db.execute(
                            update(table).where(column == account.id).values({column.name: None})
                        )
                    else:
                        await db.execute(delete(table).where(column == account.id))
            await db.execute(update(accounts).where(accounts.c.id == account.id).values(profile))
            await db.execute(
                update(local_users)
                .where(local_users.c.account_id == account.id)
                .values(
                    disabled=1,
                    password_hash="!",  # matches no password
                    note_source="",
                    avatar_file=None,
                    header_file=None,
                    email=None,
                )
            )
            await db.execute(
                insert_ignore(self.db.dialect, tombstones).values(
                    uri=account.uri, deleted_at=now_iso()
                )
            )
