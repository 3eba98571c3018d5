"""Accounts: local users and the remote actors we know."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    bindparam,
    delete,
    distinct,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from fedchirp.clock import now_iso
from fedchirp.store import dialect
from fedchirp.store.counters import uncount_account
from fedchirp.store.db import Queries
from fedchirp.store.models import Account, LocalUser
from fedchirp.store.query import Prepared, Read, ids_param, record, records
from fedchirp.store.schema import (
    accounts,
    follows,
    local_users,
    oauth_codes,
    oauth_tokens,
    statuses,
    tombstones,
    web_sessions,
)
from fedchirp.store.signup import retire_local_username


def _account(row: Any) -> Account:
    found = record(Account, row)
    assert found is not None
    return found


# Read for every page that shows accounts: prepared once (store/query.py Prepared).
_ACCOUNTS_BY_ID = Prepared(select(accounts).where(accounts.c.id.in_(ids_param())))


# Read for every signed inbox POST.
_ACCOUNT_BY_KEY_ID = Prepared(
    select(accounts).where(accounts.c.public_key_id == bindparam("key_id"))
)


def accounts_read(account_ids: Iterable[int]) -> Read[dict[int, Account]]:
    """Accounts by id; ids not found are left out."""
    return Read(
        _ACCOUNTS_BY_ID,
        {"ids": list(set(account_ids))},
        lambda rows: {a.id: a for a in records(Account, rows)},
    )


class AccountQueries(Queries):
    async def insert_local_account(
        self,
        account: dict[str, Any],
        password_hash: str,
        private_key_pem: str,
        is_admin: bool,
        user: dict[str, Any] | None = None,
    ) -> Account:
        """Create a local account and its user row together; user holds more columns of
        the user row (a sign-up's approved, email, sign_up_reason, invite_id)."""
        async with self.db.atomic() as conn:
            result = await conn.execute(insert(accounts).values(account).returning(accounts))
            row = result.mappings().one()
            await conn.execute(
                insert(local_users).values(
                    account_id=row["id"],
                    password_hash=password_hash,
                    private_key_pem=private_key_pem,
                    is_admin=int(is_admin),
                    created_at=account["created_at"],
                    **(user or {}),
                )
            )
        return _account(row)

    async def upsert_remote_account(self, account: dict[str, Any]) -> Account:
        """Insert or refresh a remote actor, keyed by its uri."""
        statement = dialect.upsert(
            self.db.dialect, accounts, account, key=["uri"], keep=["created_at"]
        ).returning(accounts)
        rows = await self.db.write_returning(statement)
        return _account(rows[0])

    async def get_account(self, account_id: int) -> Account | None:
        return record(
            Account, await self.db.one(select(accounts).where(accounts.c.id == account_id))
        )

    async def get_accounts(self, account_ids: Iterable[int]) -> dict[int, Account]:
        """Accounts by id; ids not found are left out."""
        return await self.db.read(accounts_read(account_ids))

    async def get_account_by_uri(self, uri: str) -> Account | None:
        return record(Account, await self.db.one(select(accounts).where(accounts.c.uri == uri)))

    async def get_account_by_key_id(self, key_id: str) -> Account | None:
        rows = await self.db.fetch(_ACCOUNT_BY_KEY_ID, {"key_id": key_id})
        return record(Account, rows[0]) if rows else None

    async def find_account(self, username: str, domain: str) -> Account | None:
        """Find by username (case-insensitive, as WebFinger lookups are) and domain."""
        row = await self.db.one(
            select(accounts).where(
                func.lower(accounts.c.username) == func.lower(username),
                func.lower(accounts.c.domain) == func.lower(domain),
            )
        )
        return record(Account, row)

    async def search_accounts(
        self, text: str, limit: int, offset: int = 0, followed_by: int | None = None
    ) -> list[Account]:
        """Accounts whose username or display name starts with text, local first; with
        followed_by, only accounts that account follows."""
        pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = select(accounts).where(
            accounts.c.username.ilike(pattern, escape="\\")
            | accounts.c.display_name.ilike(pattern, escape="\\"),
            accounts.c.suspended_at.is_(None),
            ~exists().where(tombstones.c.uri == accounts.c.uri),  # deleted accounts
        )
        if followed_by is not None:
            query = query.where(
                select(follows.c.id)
                .where(
                    follows.c.follower_id == followed_by,
                    follows.c.followee_id == accounts.c.id,
                    follows.c.state == "accepted",
                )
                .exists()
            )
        query = query.order_by(accounts.c.domain != "", accounts.c.username)
        return records(Account, await self.db.all(query.limit(limit).offset(offset)))

    async def get_local_user(self, account_id: int) -> LocalUser | None:
        row = await self.db.one(select(local_users).where(local_users.c.account_id == account_id))
        return record(LocalUser, row)

    async def count_active_local_users(self, since_iso: str) -> int:
        """Local accounts that posted at or after since_iso."""
        count = await self.db.scalar(
            select(func.count(distinct(statuses.c.account_id)))
            .select_from(
                statuses.join(local_users, local_users.c.account_id == statuses.c.account_id)
            )
            .where(statuses.c.created_at >= since_iso)
        )
        return count or 0

    async def list_local_users(self) -> list[tuple[Account, LocalUser]]:
        """Every local account with its user row, by username."""
        rows = await self.db.all(
            select(accounts, *(c.label(f"user_{c.name}") for c in local_users.c))
            .select_from(accounts.join(local_users, local_users.c.account_id == accounts.c.id))
            .order_by(func.lower(accounts.c.username))
        )
        found = []
        for row in rows:
            values = dict(row)
            user = {c.name: values.pop(f"user_{c.name}") for c in local_users.c}
            found.append((_account(values), record(LocalUser, user)))
        return found  # type: ignore[return-value]

    async def set_password_hash(self, account_id: int, password_hash: str) -> None:
        """A new password; every session and token of the account ends with the old one."""
        async with self.db.atomic() as db:
            await db.execute(
                update(local_users)
                .where(local_users.c.account_id == account_id)
                .values(password_hash=password_hash)
            )
            await _sign_out_everywhere(db, account_id)

    async def set_user_disabled(self, account_id: int, disabled: bool) -> None:
        """Disable (ending every session, token and pending code) or enable a local user."""
        async with self.db.atomic() as db:
            await db.execute(
                update(local_users)
                .where(local_users.c.account_id == account_id)
                .values(disabled=int(disabled))
            )
            if disabled:
                await _sign_out_everywhere(db, account_id)

    async def set_user_admin(self, account_id: int, is_admin: bool) -> None:
        await self.db.write(
            update(local_users)
            .where(local_users.c.account_id == account_id)
            .values(is_admin=int(is_admin))
        )

    async def count_local_users(self) -> int:
        count = await self.db.scalar(select(func.count()).select_from(local_users))
        return count or 0

    async def delete_account(self, account_id: int) -> None:
        """Delete an account; what hangs off it cascades, once what it counted elsewhere
        (followers, likes, boosts, replies) is taken back. A local username stays taken
        for sign-ups (store/signup.py retire_local_username)."""
        async with self.db.atomic() as db:
            await retire_local_username(db, account_id, self.db.dialect)
            await uncount_account(db, account_id)
            # Follows before the account: the trigger recording a follow's end writes a
            # follower event for the followee, which must not name an account going away.
            await db.execute(
                delete(follows).where(
                    or_(follows.c.follower_id == account_id, follows.c.followee_id == account_id)
                )
            )
            await db.execute(delete(accounts).where(accounts.c.id == account_id))


async def _sign_out_everywhere(db: AsyncConnection, account_id: int) -> None:
    """Revoke the account's OAuth tokens, and drop its web sessions and unused codes."""
    await db.execute(
        update(oauth_tokens)
        .where(oauth_tokens.c.account_id == account_id, oauth_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now_iso())
    )
    await db.execute(delete(web_sessions).where(web_sessions.c.account_id == account_id))
    await db.execute(delete(oauth_codes).where(oauth_codes.c.account_id == account_id))
