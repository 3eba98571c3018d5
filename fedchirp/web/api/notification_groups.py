"""/api/v2/notifications (grouped notifications, Mastodon 4.3) and the v1 notification
calls besides the list: one notification, dismiss, clear, unread count."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedchirp.services import notification_groups as groups
from fedchirp.store.models import Account
from fedchirp.store.notification_groups import GROUPABLE_TYPES
from fedchirp.store.notifications import NotificationFilter
from fedchirp.web.api.auth import require_user
from fedchirp.web.api.entities import Renderer
from fedchirp.web.api.params import flag, optional_id, page_from, paged_response, path_id
from fedchirp.web.errors import ApiError
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()

# Not group keys: the fixed paths under /api/v2/notifications/.
GROUP_KEY = r"{group_key:(?!policy$|unread_count$)[^/]+}"
STATUS_TYPES = ("favourite", "reblog", "status", "mention", "poll", "update")
PARTIAL_FIELDS = ("id", "acct", "url", "avatar", "avatar_static", "locked", "bot")


def wanted(request: web.Request) -> NotificationFilter:
    """types[], exclude_types[], account_id and include_filtered, as Mastodon reads them."""
    query = request.query
    params = dict(query)
    return NotificationFilter(
        types=query.getall("types[]", []),
        exclude_types=query.getall("exclude_types[]", []),
        from_account_id=optional_id(params, "account_id"),
        include_filtered=flag(params, "include_filtered"),
    )


def _grouped_types(request: web.Request) -> list[str]:
    asked = request.query.getall("grouped_types[]", None)
    return list(GROUPABLE_TYPES) if asked is None else [t for t in asked if t in GROUPABLE_TYPES]


async def _results(
    request: web.Request, viewer: Account, found: list[groups.Group], paginated: bool
) -> dict[str, Any]:
    """Mastodon's GroupedNotificationsResults: accounts and statuses once each, at the
    root, and the groups naming them by id."""
    ctx = ctx_of(request)
    expand = request.query.get("expand_accounts", "full")
    if expand not in ("full", "partial_avatars"):
        raise ApiError(422, "expand_accounts must be full or partial_avatars")
    renderer = Renderer(ctx, viewer, "notifications")
    account_ids = {i for g in found for i in g.data.sample_account_ids}
    accounts = await ctx.store.get_accounts(account_ids)
    status_ids = {g.newest.status_id for g in found if g.newest.status_id}
    statuses = await ctx.store.get_statuses(status_ids)
    rendered = await renderer.statuses(list(statuses.values()))
    full_ids = {g.data.sample_account_ids[0] for g in found} if expand != "full" else account_ids
    body: dict[str, Any] = {"accounts": [], "statuses": rendered, "notification_groups": []}
    partial: list[dict[str, Any]] = []
    for account_id in sorted(account_ids & accounts.keys()):
        entity = await renderer.account(accounts[account_id])
        if account_id in full_ids:
            body["accounts"].append(entity)
        else:
            partial.append({k: entity[k] for k in PARTIAL_FIELDS})
    if expand != "full":
        body["partial_accounts"] = partial
    for g in found:
        if g.newest.status_id in renderer.hidden or (
            g.newest.status_id and g.newest.status_id not in statuses
        ):
            continue
        body["notification_groups"].append(_group(g, accounts, paginated))
    return body


def _group(g: groups.Group, accounts: dict[int, Account], paginated: bool) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "group_key": g.key,
        "notifications_count": g.data.count,
        "type": g.newest.type,
        # A number, as Mastodon's serializer sends it (its docs say String).
        "most_recent_notification_id": g.data.most_recent_id,
    }
    if paginated:
        entity["page_min_id"] = str(g.data.page_min_id)
        entity["page_max_id"] = str(g.data.most_recent_id)
        entity["latest_page_notification_at"] = g.data.latest_at
    entity["sample_account_ids"] = [str(i) for i in g.data.sample_account_ids if i in accounts]
    if g.newest.type in STATUS_TYPES:
        entity["status_id"] = str(g.newest.status_id) if g.newest.status_id else None
    return entity


@routes.get("/api/v2/notifications")
async def grouped_list(request: web.Request) -> web.Response:
    viewer = await require_user(request, "read:notifications")
    page = page_from(request, default_limit=40, max_limit=80)
    found = await groups.grouped(
        ctx_of(request), viewer, page, wanted(request), _grouped_types(request)
    )
    body = await _results(request, viewer, found, paginated=True)
    return paged_response(request, body, [g.newest.id for g in found], page)


@routes.get("/api/v2/notifications/unread_count")
async def grouped_unread_count(request: web.Request) -> web.Response:
    viewer = await require_user(request, "read:notifications")
    limit = page_from(request, default_limit=100, max_limit=1000).limit
    count = await groups.unread_count(
        ctx_of(request), viewer, limit, wanted(request), _grouped_types(request)
    )
    return web.json_response({"count": count})


@routes.get(f"/api/v2/notifications/{GROUP_KEY}")
async def group_show(request: web.Request) -> web.Response:
    viewer = await require_user(request, "read:notifications")
    found = await groups.group(ctx_of(request), viewer, request.match_info["group_key"])
    if found is None:
        raise ApiError(404, "Record not found")
    return web.json_response(await _results(request, viewer, [found], paginated=False))


@routes.post(f"/api/v2/notifications/{GROUP_KEY}/dismiss")
async def group_dismiss(request: web.Request) -> web.Response:
    viewer = await require_user(request, "write:notifications")
    await groups.dismiss_group(ctx_of(request), viewer, request.match_info["group_key"])
    return web.json_response({})


@routes.get(f"/api/v2/notifications/{GROUP_KEY}/accounts")
async def group_accounts(request: web.Request) -> web.Response:
    viewer = await require_user(request, "read:notifications")
    ctx = ctx_of(request)
    page = page_from(request, default_limit=40, max_limit=80)
    members = await groups.group_senders(ctx, viewer, request.match_info["group_key"], page)
    accounts = await ctx.store.get_accounts(n.from_account_id for n in members)
    renderer = Renderer(ctx, viewer)
    body = [
        await renderer.account(accounts[n.from_account_id])
        for n in members
        if n.from_account_id in accounts
    ]
    return paged_response(request, body, [n.id for n in members], page)


# -- v1: one notification, dismiss, clear, unread count -----------------------------


@routes.get("/api/v1/notifications/unread_count")
async def unread_count(request: web.Request) -> web.Response:
    viewer = await require_user(request, "read:notifications")
    limit = page_from(request, default_limit=100, max_limit=1000).limit
    count = await groups.unread_count(ctx_of(request), viewer, limit, wanted(request), None)
    return web.json_response({"count": count})


@routes.get(r"/api/v1/notifications/{id:\d+}")
async def show(request: web.Request) -> web.Response:
    viewer = await require_user(request, "read:notifications")
    ctx = ctx_of(request)
    found = await groups.notification(ctx, viewer, path_id(request))
    rendered = await Renderer(ctx, viewer, "notifications").notifications([found] if found else [])
    if not rendered:
        raise ApiError(404, "Record not found")
    return web.json_response(rendered[0])


@routes.post(r"/api/v1/notifications/{id:\d+}/dismiss")
async def dismiss(request: web.Request) -> web.Response:
    viewer = await require_user(request, "write:notifications")
    if not await groups.dismiss(ctx_of(request), viewer, path_id(request)):
        raise ApiError(404, "Record not found")
    return web.json_response({})


@routes.post("/api/v1/notifications/clear")
async def clear(request: web.Request) -> web.Response:
    viewer = await require_user(request, "write:notifications")
    await groups.clear(ctx_of(request), viewer)
    return web.json_response({})
