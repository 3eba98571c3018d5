"""The Mastodon admin API for accounts: list, show, moderate (disable, silence, suspend)
and undo, for admins' tokens with admin scopes (docs.joinmastodon.org/methods/admin/accounts)."""

from __future__ import annotations

from aiohttp import web

from fedchirp.services import moderation, reports
from fedchirp.services.accounts import account_by_id
from fedchirp.store.moderation import AccountFilter
from fedchirp.web.api import admin_entities
from fedchirp.web.api.auth import require_admin
from fedchirp.web.api.entities import Renderer
from fedchirp.web.api.params import (
    flag,
    optional_id,
    page_from,
    paged_response,
    path_id,
    read_params,
    text,
)
from fedchirp.web.errors import ApiError
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()

READ, WRITE = "admin:read:accounts", "admin:write:accounts"
V1_STATUSES = ("active", "pending", "disabled", "silenced", "suspended")


def _v1_filter(params: dict) -> AccountFilter:
    """v1 names each filter as a flag: local, remote, active, suspended ..."""
    origin = "local" if flag(params, "local") else "remote" if flag(params, "remote") else None
    status = next((name for name in V1_STATUSES if flag(params, name)), None)
    return AccountFilter(
        origin=origin,
        status=status,
        username=text(params, "username") or None,
        display_name=text(params, "display_name") or None,
        by_domain=text(params, "by_domain") or None,
        staff=flag(params, "staff"),
    )


def _v2_filter(params: dict) -> AccountFilter:
    permissions = text(params, "permissions")
    if permissions not in ("", "staff"):
        raise ApiError(422, "permissions must be staff")
    return AccountFilter(
        origin=text(params, "origin") or None,
        status=text(params, "status") or None,
        username=text(params, "username") or None,
        display_name=text(params, "display_name") or None,
        by_domain=text(params, "by_domain") or None,
        staff=permissions == "staff",
    )


@routes.get("/api/v1/admin/accounts")
async def list_v1(request: web.Request) -> web.Response:
    return await _list(request, _v1_filter(dict(request.query)))


@routes.get("/api/v2/admin/accounts")
async def list_v2(request: web.Request) -> web.Response:
    return await _list(request, _v2_filter(dict(request.query)))


async def _list(request: web.Request, filters: AccountFilter) -> web.Response:
    ctx = ctx_of(request)
    admin = await require_admin(request, READ)
    page = page_from(request, default_limit=100, max_limit=200)
    found = await moderation.list_accounts(ctx.store, filters, page)
    renderer = Renderer(ctx, admin)
    body = [await admin_entities.admin_account(renderer, a, u) for a, u in found]
    return paged_response(request, body, [a.id for a, _ in found], page)


async def _admin_account(request: web.Request, admin_id: int) -> web.Response:
    ctx = ctx_of(request)
    account = await account_by_id(ctx, path_id(request))
    admin = await account_by_id(ctx, admin_id)
    user = await ctx.store.get_local_user(account.id)
    return web.json_response(
        await admin_entities.admin_account(Renderer(ctx, admin), account, user)
    )


@routes.get(r"/api/v1/admin/accounts/{id:\d+}")
async def show(request: web.Request) -> web.Response:
    admin = await require_admin(request, READ)
    return await _admin_account(request, admin.id)


@routes.post(r"/api/v1/admin/accounts/{id:\d+}/action")
async def action(request: web.Request) -> web.Response:
    """Mastodon answers an empty 200; the report named, if any, is resolved."""
    ctx = ctx_of(request)
    admin = await require_admin(request, WRITE)
    target = await account_by_id(ctx, path_id(request))
    params = await read_params(request)
    report_id = optional_id(params, "report_id")
    report = await reports.report_by_id(ctx.store, report_id) if report_id else None
    if report is not None and report.target_account_id != target.id:
        raise ApiError(422, "the report is about another account")
    kind = text(params, "type") or "none"
    await moderation.take_action(ctx.store, admin, target, kind, report)
    return web.json_response({})


def _undo(undo: str):
    async def handler(request: web.Request) -> web.Response:
        ctx = ctx_of(request)
        admin = await require_admin(request, WRITE)
        target = await account_by_id(ctx, path_id(request))
        await moderation.undo_action(ctx.store, admin, target, undo)
        return await _admin_account(request, admin.id)

    return handler


for _name in moderation.UNDO_ACTIONS:
    routes.post(rf"/api/v1/admin/accounts/{{id:\d+}}/{_name}")(_undo(_name))
