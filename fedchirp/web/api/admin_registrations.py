"""The Mastodon admin API for sign-ups: approve or reject an account waiting for approval
(POST /api/v1/admin/accounts/:id/approve and /reject). The rest of the admin accounts
API lives in admin_accounts.py."""

from __future__ import annotations

from aiohttp import web

from fedchirp.services import registrations
from fedchirp.web.api.admin_entities import admin_account
from fedchirp.web.api.auth import require_admin
from fedchirp.web.api.entities import Renderer
from fedchirp.web.api.params import path_id
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()
SCOPE = "admin:write:accounts"


@routes.post("/api/v1/admin/accounts/{id}/approve")
async def approve(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    admin = await require_admin(request, SCOPE)
    account = await registrations.approve(ctx.store, path_id(request))
    user = await ctx.store.get_local_user(account.id)
    return web.json_response(await admin_account(Renderer(ctx, admin), account, user))


@routes.post("/api/v1/admin/accounts/{id}/reject")
async def reject(request: web.Request) -> web.Response:
    """Deletes the pending account; the answer is the account as it was."""
    ctx = ctx_of(request)
    admin = await require_admin(request, SCOPE)
    account_id = path_id(request)
    user = await ctx.store.get_local_user(account_id)
    pending = await registrations.pending_user(ctx.store, account_id)
    entity = await admin_account(Renderer(ctx, admin), pending, user)
    await registrations.reject(ctx.store, account_id)
    return web.json_response(entity)
