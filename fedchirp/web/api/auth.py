"""Who is calling the client API: bearer tokens and their scopes."""

from __future__ import annotations

from aiohttp import web

from fedchirp.services import oauth
from fedchirp.store.models import Account
from fedchirp.web.errors import ApiError
from fedchirp.web.state import ctx_of

_NO_TOKEN = "The access token is invalid"
_OUT_OF_SCOPE = "This action is outside the authorized scopes"


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.query.get("access_token") or None


async def _caller(request: web.Request, scope: str) -> tuple[Account | None, bool]:
    """(account, has_token) after checking the token and its scope."""
    token = bearer_token(request)
    if token is None:
        return None, False
    found = await oauth.token_owner(ctx_of(request), token)
    if found is None:
        raise ApiError(401, _NO_TOKEN)
    account, scopes = found
    if not oauth.scope_allows(scopes, scope):
        raise ApiError(403, _OUT_OF_SCOPE)
    return account, True


async def require_user(request: web.Request, scope: str) -> Account:
    """The account behind a user token with `scope`; 401/403 otherwise."""
    account, has_token = await _caller(request, scope)
    if not has_token:
        raise ApiError(401, _NO_TOKEN)
    if account is None:
        raise ApiError(422, "This method requires an authenticated user")
    return account


async def optional_user(request: web.Request, scope: str) -> Account | None:
    """The caller's account if a token was sent (it must be valid), else None."""
    account, _ = await _caller(request, scope)
    return account


async def require_admin(request: web.Request, scope: str) -> Account:
    """The admin behind a user token with the admin `scope` (e.g. admin:read:accounts);
    401 without a token, 403 for anyone else."""
    account = await require_user(request, scope)
    if not await oauth.is_admin(ctx_of(request), account):
        raise ApiError(403, "This action is allowed only to admins")
    return account
