"""The notification policy (/api/v2/notifications/policy) and the requests filtered
notifications wait in (/api/v1/notifications/requests), as Mastodon 4.3 serves them."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedchirp.services import notification_policy as policies
from fedchirp.store.models import Account
from fedchirp.store.notification_policy import POLICY_FIELDS, NotificationRequest
from fedchirp.web.api.auth import require_user
from fedchirp.web.api.entities import Renderer
from fedchirp.web.api.params import id_list, page_from, paged_response, path_id, read_params, text
from fedchirp.web.errors import ApiError
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()
REQUEST = r"/api/v1/notifications/requests/{id:\d+}"


async def _policy(request: web.Request, viewer: Account) -> web.Response:
    ctx = ctx_of(request)
    found = await policies.policy(ctx, viewer)
    pending, held = await policies.summary(ctx, viewer)
    body: dict[str, Any] = {name: getattr(found, name) for name in POLICY_FIELDS}
    body["summary"] = {"pending_requests_count": pending, "pending_notifications_count": held}
    return web.json_response(body)


@routes.get("/api/v2/notifications/policy")
async def policy_show(request: web.Request) -> web.Response:
    return await _policy(request, await require_user(request, "read:notifications"))


@routes.patch("/api/v2/notifications/policy")
async def policy_update(request: web.Request) -> web.Response:
    viewer = await require_user(request, "write:notifications")
    params = await read_params(request)
    changes = {name: text(params, name) for name in POLICY_FIELDS if params.get(name) is not None}
    await policies.update_policy(ctx_of(request), viewer, changes)
    return await _policy(request, viewer)


async def _entities(
    request: web.Request, viewer: Account, found: list[NotificationRequest]
) -> list[dict[str, Any]]:
    ctx = ctx_of(request)
    renderer = Renderer(ctx, viewer, "notifications")
    accounts = await ctx.store.get_accounts(r.from_account_id for r in found)
    statuses = await ctx.store.get_statuses(r.last_status_id for r in found if r.last_status_id)
    rendered = {s["id"]: s for s in await renderer.statuses(list(statuses.values()))}
    return [
        {
            "id": str(r.id),
            "created_at": r.created_at,
            "updated_at": r.updated_at,
            "notifications_count": str(r.notifications_count),
            "account": await renderer.account(accounts[r.from_account_id]),
            "last_status": rendered.get(str(r.last_status_id)),
        }
        for r in found
        if r.from_account_id in accounts
    ]


@routes.get("/api/v1/notifications/requests")
async def request_list(request: web.Request) -> web.Response:
    viewer = await require_user(request, "read:notifications")
    page = page_from(request, default_limit=40, max_limit=80)
    found = await policies.requests(ctx_of(request), viewer, page)
    body = await _entities(request, viewer, found)
    return paged_response(request, body, [r.id for r in found], page)


@routes.get("/api/v1/notifications/requests/merged")
async def merged(request: web.Request) -> web.Response:
    await require_user(request, "read:notifications")
    return web.json_response({"merged": True})  # accepting merges at once, not in a job


@routes.get(REQUEST)
async def request_show(request: web.Request) -> web.Response:
    viewer = await require_user(request, "read:notifications")
    found = await policies.request(ctx_of(request), viewer, path_id(request))
    if found is None:
        raise ApiError(404, "Record not found")
    return web.json_response((await _entities(request, viewer, [found]))[0])


async def _settle_one(request: web.Request, accept: bool) -> web.Response:
    viewer = await require_user(request, "write:notifications")
    ctx = ctx_of(request)
    found = await policies.request(ctx, viewer, path_id(request))
    if found is None:
        raise ApiError(404, "Record not found")
    await policies.settle(ctx, viewer, [found.id], accept)
    return web.json_response({})


@routes.post(REQUEST + "/accept")
async def request_accept(request: web.Request) -> web.Response:
    return await _settle_one(request, accept=True)


@routes.post(REQUEST + "/dismiss")
async def request_dismiss(request: web.Request) -> web.Response:
    return await _settle_one(request, accept=False)


async def _settle_many(request: web.Request, accept: bool) -> web.Response:
    viewer = await require_user(request, "write:notifications")
    params = await read_params(request)
    # Mastodon.py 2.x names the list id[][] (it adds [] to its own id[] key).
    ids = id_list(params, "id") + id_list({"id": params.get("id[][]", [])}, "id")
    await policies.settle(ctx_of(request), viewer, ids, accept)
    return web.json_response({})


@routes.post("/api/v1/notifications/requests/accept")
async def requests_accept(request: web.Request) -> web.Response:
    return await _settle_many(request, accept=True)


@routes.post("/api/v1/notifications/requests/dismiss")
async def requests_dismiss(request: web.Request) -> web.Response:
    return await _settle_many(request, accept=False)
