"""The Mastodon admin API for sign-ups: approve or reject an account waiting for approval
(POST /api/v1/admin/accounts/:id/approve and /reject). The rest of the admin accounts
API lives in admin_accounts.py."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedchirp.services import registrations
from fedchirp.services.context import Context
from fedchirp.store.models import Account, LocalUser
from fedchirp.web.api.auth import require_user
from fedchirp.web.api.entities import Renderer
from fedchirp.web.api.params import path_id
from fedchirp.web.errors import ApiError
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()
SCOPE = "admin:write:accounts"


async def require_admin(request: web.Request, scope: str) -> Account:
    """The caller, who must hold an admin scope and be an admin; 403 otherwise."""
    account = await require_user(request, scope)
    user = await ctx_of(request).store.get_local_user(account.id)
    if user is None or not user.is_admin:
        raise ApiError(403, "This action is not allowed")
    return account


async def admin_account_entity(
    ctx: Context, viewer: Account, account: Account, user: LocalUser | None
) -> dict[str, Any]:
    """Mastodon's Admin::Account, for a local account."""
    return {
        "id": str(account.id),
        "username": account.username,
        "domain": None,
        "created_at": account.created_at,
        "email": (user.email if user else None) or "",
        "ip": None,
        "ips": [],
        "locale": "",
        "invite_request": (user.sign_up_reason if user else "") or None,
        "role": {"id": "-99", "name": "", "permissions": "0", "color": "", "highlighted": False},
        "confirmed": True,
        "approved": bool(user.approved) if user else False,
        "disabled": bool(user.disabled) if user else False,
        "suspended": False,
        "silenced": False,
        "sensitized": False,
        "account": await Renderer(ctx, viewer).account(account),
        "created_by_application_id": None,
        "invited_by_account_id": None,
    }


@routes.post("/api/v1/admin/accounts/{id}/approve")
async def approve(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    admin = await require_admin(request, SCOPE)
    account = await registrations.approve(ctx.store, path_id(request))
    user = await ctx.store.get_local_user(account.id)
    return web.json_response(await admin_account_entity(ctx, admin, account, user))


@routes.post("/api/v1/admin/accounts/{id}/reject")
async def reject(request: web.Request) -> web.Response:
    """Deletes the pending account; the answer is the account as it was."""
    ctx = ctx_of(request)
    admin = await require_admin(request, SCOPE)
    account_id = path_id(request)
    user = await ctx.store.get_local_user(account_id)
    pending = await registrations.pending_user(ctx.store, account_id)
    entity = await admin_account_entity(ctx, admin, pending, user)
    await registrations.reject(ctx.store, account_id)
    return web.json_response(entity)
