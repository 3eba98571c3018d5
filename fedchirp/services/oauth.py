"""OAuth 2 for the client API: registered apps, access tokens and scopes.

Tokens are random and stored only as their SHA-256, so a leaked database does
not leak working tokens. Scopes follow Mastodon: read/write/follow/push/admin
and their granular forms (read:statuses, write:follows, ...).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass

from fedchirp.clock import now_iso
from fedchirp.services.accounts import PENDING_APPROVAL, authenticate
from fedchirp.services.context import Context
from fedchirp.services.errors import Forbidden, Invalid
from fedchirp.store.models import Account, OAuthApp

TOP_SCOPES = ("read", "write", "follow", "push", "profile")
GRANULAR_SCOPES = frozenset(
    [
        f"read:{part}"
        for part in (
            "accounts",
            "blocks",
            "bookmarks",
            "favourites",
            "filters",
            "follows",
            "lists",
            "mutes",
            "notifications",
            "search",
            "statuses",
        )
    ]
    + [
        f"write:{part}"
        for part in (
            "accounts",
            "blocks",
            "bookmarks",
            "conversations",
            "favourites",
            "filters",
            "follows",
            "lists",
            "media",
            "mutes",
            "notifications",
            "reports",
            "statuses",
        )
    ]
)
# Admin scopes (Mastodon's): admin:read and admin:write cover their granular forms. A
# token with them works only for an admin (web/api/auth.py require_admin).
ADMIN_PARTS = (
    "accounts",
    "reports",
    "domain_allows",
    "domain_blocks",
    "ip_blocks",
    "email_domain_blocks",
    "canonical_email_blocks",
)
ADMIN_SCOPES = frozenset(
    ["admin:read", "admin:write"]
    + [f"admin:{access}:{part}" for access in ("read", "write") for part in ADMIN_PARTS]
)
# The legacy "follow" scope stands for these granular ones.
FOLLOW_SCOPE_GRANTS = frozenset(
    {"read:follows", "write:follows", "read:blocks", "write:blocks", "read:mutes", "write:mutes"}
)
OOB_REDIRECT = "urn:ietf:wg:oauth:2.0:oob"
CODE_LIFETIME_SECONDS = 600
GRANT_TYPES = ("authorization_code", "password", "client_credentials")


class InvalidClient(Exception):
    """Unknown client_id or wrong client_secret."""


class InvalidGrant(Exception):
    """Wrong credentials, or a grant that cannot give what was asked."""


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    scopes: str
    created_at: int  # unix seconds, as OAuth token responses carry it


def parse_scopes(text: str) -> tuple[str, ...]:
    scopes = tuple(dict.fromkeys(text.replace("+", " ").split()))
    for scope in scopes:
        if scope not in TOP_SCOPES and scope not in GRANULAR_SCOPES and scope not in ADMIN_SCOPES:
            raise Invalid(f"unknown scope {scope!r}")
    return scopes


def scope_allows(granted: str, required: str) -> bool:
    """Does a token with `granted` scopes cover the `required` scope?"""
    have = set(granted.split())
    parts = required.split(":")
    # read covers read:statuses; admin:read covers admin:read:domain_blocks.
    covering = {":".join(parts[:n]) for n in range(1, len(parts) + 1)}
    return bool(covering & have) or ("follow" in have and required in FOLLOW_SCOPE_GRANTS)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def register_app(
    ctx: Context, name: str, redirect_uris: str, scopes: str, website: str | None
) -> OAuthApp:
    if not name.strip():
        raise Invalid("client_name can't be blank")
    if not redirect_uris.strip():
        raise Invalid("redirect_uris can't be blank")
    return await ctx.store.insert_app(
        {
            "name": name.strip()[:200],
            "website": website,
            "redirect_uris": redirect_uris.strip(),
            "scopes": " ".join(parse_scopes(scopes or "read")),
            "client_id": secrets.token_urlsafe(32),
            "client_secret": secrets.token_urlsafe(32),
            "created_at": now_iso(),
        }
    )


async def client_app(ctx: Context, client_id: str, client_secret: str) -> OAuthApp:
    app = await ctx.store.get_app_by_client_id(client_id)
    if app is None or not secrets.compare_digest(app.client_secret, client_secret):
        raise InvalidClient("client authentication failed")
    return app


async def token_app(ctx: Context, token: str) -> OAuthApp | None:
    """The app behind a live token (GET /api/v1/apps/verify_credentials), if its owner
    may still use it."""
    if await token_owner(ctx, token) is None:
        return None
    return await ctx.store.get_app_of_token(token_hash(token))


def granted_scopes(app: OAuthApp, requested: str | None) -> str:
    """The scopes to grant: what was asked for (default: the app's), within the app's."""
    asked = parse_scopes(requested) if requested else parse_scopes(app.scopes)
    allowed = app.scopes
    if not all(scope_allows(allowed, scope) for scope in asked):
        raise InvalidGrant("the requested scope is beyond what the app registered")
    return " ".join(asked)


async def issue_token(
    ctx: Context, app: OAuthApp | None, account: Account | None, scopes: str
) -> IssuedToken:
    token = secrets.token_urlsafe(32)
    await ctx.store.insert_token(
        token_hash(token), app.id if app else None, account.id if account else None, scopes
    )
    return IssuedToken(token, scopes, int(time.time()))


async def password_grant(
    ctx: Context, app: OAuthApp, username: str, password: str, scope: str | None
) -> IssuedToken:
    try:
        account = await authenticate(ctx.store, username, password)
    except Forbidden as exc:  # pending approval
        raise InvalidGrant(str(exc)) from exc
    if account is None:
        raise InvalidGrant("the username or password is wrong")
    return await issue_token(ctx, app, account, granted_scopes(app, scope))


@dataclass(frozen=True)
class AuthorizationRequest:
    """A checked /oauth/authorize request, ready to show to the person signing in."""

    app: OAuthApp
    redirect_uri: str
    scopes: str
    state: str | None
    code_challenge: str | None


async def check_authorization_request(
    ctx: Context,
    client_id: str,
    redirect_uri: str,
    response_type: str,
    scope: str | None,
    state: str | None = None,
    code_challenge: str | None = None,
    code_challenge_method: str | None = None,
) -> AuthorizationRequest:
    """Validate what an app asks for before anyone is asked to sign in."""
    app = await ctx.store.get_app_by_client_id(client_id)
    if app is None:
        raise InvalidClient("unknown client_id")
    if response_type != "code":
        raise InvalidGrant("response_type must be code")
    if redirect_uri not in app.redirect_uris.split():
        raise InvalidGrant("redirect_uri is not one the app registered")
    if code_challenge and (code_challenge_method or "plain") != "S256":
        raise InvalidGrant("code_challenge_method must be S256")
    return AuthorizationRequest(
        app, redirect_uri, granted_scopes(app, scope), state, code_challenge or None
    )


async def issue_code(ctx: Context, request: AuthorizationRequest, account: Account) -> str:
    """The person approved: a one-time code the app exchanges for a token."""
    code = secrets.token_urlsafe(32)
    await ctx.store.insert_code(
        {
            "code_hash": token_hash(code),
            "app_id": request.app.id,
            "account_id": account.id,
            "scopes": request.scopes,
            "redirect_uri": request.redirect_uri,
            "code_challenge": request.code_challenge,
            "expires_at": time.time() + CODE_LIFETIME_SECONDS,
        }
    )
    return code


async def code_grant(
    ctx: Context, app: OAuthApp, code: str, redirect_uri: str, code_verifier: str | None
) -> IssuedToken:
    found = await ctx.store.take_code(token_hash(code))  # used up, whatever happens next
    if found is None or found.app_id != app.id or found.expires_at < time.time():
        raise InvalidGrant("the authorization code is invalid or expired")
    if found.redirect_uri != redirect_uri:
        raise InvalidGrant("redirect_uri does not match the authorization request")
    if found.code_challenge is not None:
        if not code_verifier:
            raise InvalidGrant("code_verifier is required")
        digest = hashlib.sha256(code_verifier.encode("ascii", "replace")).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        if not secrets.compare_digest(expected, found.code_challenge):
            raise InvalidGrant("code_verifier does not match the code_challenge")
    account = await ctx.store.get_account(found.account_id)
    user = await ctx.store.get_local_user(found.account_id)
    if account is None or user is None or user.disabled or account.suspended_at:
        raise InvalidGrant("the account no longer exists, or is disabled or suspended")
    return await issue_token(ctx, app, account, found.scopes)


async def token_owner(ctx: Context, token: str) -> tuple[Account | None, str] | None:
    """(account or None for app-only tokens, scopes) of a live token, else None; a token
    of a sign-up still pending approval raises Forbidden, as Mastodon answers it (403)."""
    found = await ctx.store.token_owner(token_hash(token))
    if found is None:
        return None
    account, scopes, approved = found
    if not approved:
        raise Forbidden(PENDING_APPROVAL)
    if account is not None and account.suspended_at:
        return None  # revoked when suspended; this holds should one slip through
    return account, scopes


async def revoke(ctx: Context, app: OAuthApp, token: str) -> None:
    """Revoke a token issued to this app (RFC 7009: nobody else's); its Web Push
    subscription goes with it."""
    async with ctx.store.db.atomic():
        await ctx.store.revoke_token(token_hash(token), app.id)
        await ctx.store.delete_push_subscriptions_of_revoked_tokens(token_hash(token))


async def is_admin(ctx: Context, account: Account) -> bool:
    user = await ctx.store.get_local_user(account.id)
    return user is not None and user.is_admin and not user.disabled


async def token_for_new_account(ctx: Context, app_token: str, account: Account) -> IssuedToken:
    """The token POST /api/v1/accounts answers with: for the new account, of the app (and
    with the scopes) whose token asked, as Mastodon issues it."""
    found = await ctx.store.get_token(token_hash(app_token))
    if found is None:
        raise InvalidGrant("the app token is no longer valid")
    token = secrets.token_urlsafe(32)
    await ctx.store.insert_token(token_hash(token), found.app_id, account.id, found.scopes)
    return IssuedToken(token, found.scopes, int(time.time()))
