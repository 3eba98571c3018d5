"""Web sign-in sessions: a random token in a cookie, stored only as its hash, with a
per-session token that every form posts back (CSRF protection)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from fedchirp.clock import now_iso
from fedchirp.services.accounts import authenticate
from fedchirp.services.context import Context
from fedchirp.services.oauth import token_hash
from fedchirp.store.models import Account

SESSION_SECONDS = 30 * 86_400


@dataclass(frozen=True)
class SignedIn:
    account: Account
    csrf_token: str
    is_admin: bool = False


async def sign_in(ctx: Context, username: str, password: str) -> tuple[str, SignedIn] | None:
    """(cookie token, session) for good credentials, None otherwise."""
    account = await authenticate(ctx.store, username, password)
    if account is None:
        return None
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    await ctx.store.insert_session(
        {
            "token_hash": token_hash(token),
            "account_id": account.id,
            "csrf_token": csrf,
            "created_at": now_iso(),
            "expires_at": time.time() + SESSION_SECONDS,
        }
    )
    return token, SignedIn(account, csrf)


async def session_for(ctx: Context, token: str) -> SignedIn | None:
    session = await ctx.store.get_session(token_hash(token), time.time())
    if session is None:
        return None
    account = await ctx.store.get_account(session.account_id)
    if account is None or account.suspended_at:
        return None
    return SignedIn(account, session.csrf_token, session.is_admin)


async def sign_out(ctx: Context, token: str) -> None:
    await ctx.store.delete_session(token_hash(token))


def csrf_matches(session: SignedIn, sent: str) -> bool:
    return bool(sent) and secrets.compare_digest(session.csrf_token, sent)
