"""OAuth applications, authorization codes and access tokens (stored as hashes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from fedchirp.clock import now_iso
from fedchirp.store.db import Queries
from fedchirp.store.models import Account, OAuthApp, OAuthCode, OAuthToken
from fedchirp.store.query import Prepared, record
from fedchirp.store.schema import accounts, local_users, oauth_apps, oauth_codes, oauth_tokens

# Every API request starts with this read: prepared once (store/query.py Prepared).
_TOKEN_OWNER = Prepared(
    select(
        oauth_tokens.c.scopes.label("token_scopes"),
        local_users.c.approved.label("user_approved"),
        accounts,
    )
    .select_from(
        oauth_tokens.outerjoin(accounts, accounts.c.id == oauth_tokens.c.account_id).outerjoin(
            local_users, local_users.c.account_id == oauth_tokens.c.account_id
        )
    )
    .where(oauth_tokens.c.token_hash == bindparam("hash"), oauth_tokens.c.revoked_at.is_(None))
)


class OAuthQueries(Queries):
    async def insert_app(self, values: dict[str, Any]) -> OAuthApp:
        """Register a client application; return it as stored."""
        rows = await self.db.write_returning(
            insert(oauth_apps).values(values).returning(oauth_apps)
        )
        return record(OAuthApp, rows[0])  # type: ignore[return-value]

    async def insert_code(self, values: dict[str, Any]) -> None:
        await self.db.write(insert(oauth_codes).values(values))

    async def take_code(self, code_hash: str) -> OAuthCode | None:
        """Remove and return an authorization code: a code works once."""
        rows = await self.db.write_returning(
            delete(oauth_codes).where(oauth_codes.c.code_hash == code_hash).returning(oauth_codes)
        )
        return record(OAuthCode, rows[0] if rows else None)

    async def get_app_by_client_id(self, client_id: str) -> OAuthApp | None:
        row = await self.db.one(select(oauth_apps).where(oauth_apps.c.client_id == client_id))
        return record(OAuthApp, row)

    async def insert_token(
        self, token_hash: str, app_id: int | None, account_id: int | None, scopes: str
    ) -> None:
        await self.db.write(
            insert(oauth_tokens).values(
                token_hash=token_hash,
                app_id=app_id,
                account_id=account_id,
                scopes=scopes,
                created_at=now_iso(),
            )
        )

    async def token_owner(self, token_hash: str) -> tuple[Account | None, str, bool] | None:
        """(account, or None for an app token; scopes; whether the account is approved, i.e.
        not a sign-up waiting for an admin) of a live token, in one read: every API request
        starts here."""
        rows = await self.db.fetch(_TOKEN_OWNER, {"hash": token_hash})
        row = rows[0] if rows else None
        if row is None:
            return None
        values = dict(row)
        scopes = values.pop("token_scopes")
        approved = values.pop("user_approved") != 0  # None: an app token
        return (record(Account, values) if values["id"] is not None else None), scopes, approved

    async def get_token(self, token_hash: str) -> OAuthToken | None:
        """A token by its hash, unless it was revoked."""
        row = await self.db.one(
            select(oauth_tokens).where(
                oauth_tokens.c.token_hash == token_hash, oauth_tokens.c.revoked_at.is_(None)
            )
        )
        return record(OAuthToken, row)

    async def get_app_of_token(self, token_hash: str) -> OAuthApp | None:
        """The app a live (not revoked) token was issued to."""
        row = await self.db.one(
            select(oauth_apps)
            .join(oauth_tokens, oauth_tokens.c.app_id == oauth_apps.c.id)
            .where(oauth_tokens.c.token_hash == token_hash, oauth_tokens.c.revoked_at.is_(None))
        )
        return record(OAuthApp, row)

    async def revoke_token(self, token_hash: str, app_id: int) -> None:
        """Revoke a token, if it was issued to this app."""
        await self.db.write(
            update(oauth_tokens)
            .where(oauth_tokens.c.token_hash == token_hash, oauth_tokens.c.app_id == app_id)
            .values(revoked_at=now_iso())
        )
