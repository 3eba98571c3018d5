"""/api/v1/accounts: who someone is, what they posted, and following them."""

from __future__ import annotations

import contextlib

from aiohttp import web

from fedchirp.services import follows, pins, timelines
from fedchirp.services.accounts import account_by_id, resolve_account
from fedchirp.services.errors import NotFound
from fedchirp.store.models import StatusFilters
from fedchirp.web.api.auth import optional_user, require_user
from fedchirp.web.api.entities import Renderer
from fedchirp.web.api.params import flag, id_from, page_from, paged_response, path_id
from fedchirp.web.errors import ApiError
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()


@routes.get("/api/v1/accounts/verify_credentials")
async def verify_credentials(request: web.Request) -> web.Response:
    account = await require_user(request, "read:accounts")
    return web.json_response(await Renderer(ctx_of(request), account).credential_account(account))


@routes.get("/api/v1/accounts/lookup")
async def lookup(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await optional_user(request, "read:accounts")
    acct = request.query.get("acct", "")
    if not acct:
        raise ApiError(400, "acct is required")
    account = await resolve_account(ctx, acct, resolve_remote=False)
    return web.json_response(await Renderer(ctx, viewer).account(account))


@routes.get("/api/v1/accounts/relationships")
async def relationships(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "read:follows")
    ids = request.query.getall("id[]", []) or request.query.getall("id", [])
    renderer = Renderer(ctx, viewer)
    result = []
    # One answer per account, as Mastodon's: apps ask with every account on a page.
    for account_id in dict.fromkeys(filter(None, map(id_from, ids))):
        with contextlib.suppress(NotFound):
            result.append(await renderer.relationship(await account_by_id(ctx, account_id)))
    return web.json_response(result)


@routes.get("/api/v1/accounts/{id:\\d+}")
async def show(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await optional_user(request, "read:accounts")
    account = await account_by_id(ctx, path_id(request))
    return web.json_response(await Renderer(ctx, viewer).account(account))


@routes.get("/api/v1/accounts/{id:\\d+}/statuses")
async def statuses(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await optional_user(request, "read:statuses")
    account = await account_by_id(ctx, path_id(request))
    page = page_from(request)
    query = dict(request.query)
    if flag(query, "pinned"):
        pinned = [] if page.max_id else await pins.pinned(ctx, viewer, account)  # one page
        return web.json_response(await Renderer(ctx, viewer).statuses(pinned))
    filters = StatusFilters(
        exclude_replies=flag(query, "exclude_replies"),
        exclude_reblogs=flag(query, "exclude_reblogs"),
        only_media=flag(query, "only_media"),
        tagged=query.get("tagged") or None,
    )
    found = await timelines.account_statuses(ctx, viewer, account, page, filters)
    body = await Renderer(ctx, viewer, "account").statuses(found)
    return paged_response(request, body, [s.id for s in found], page)


@routes.get("/api/v1/accounts/{id:\\d+}/{direction:followers|following}")
async def follow_list(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await optional_user(request, "read:accounts")
    account = await account_by_id(ctx, path_id(request))
    page = page_from(request, default_limit=40, max_limit=80)
    pairs = await follows.follow_list(ctx, account, request.match_info["direction"], page)
    renderer = Renderer(ctx, viewer)
    body = [await renderer.account(a) for _, a in pairs]
    return paged_response(request, body, [follow_id for follow_id, _ in pairs], page)


@routes.post("/api/v1/accounts/{id:\\d+}/follow")
async def follow(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "write:follows")
    target = await account_by_id(ctx, path_id(request))
    await follows.follow(ctx, viewer, target)
    return web.json_response(await Renderer(ctx, viewer).relationship(target))


@routes.post("/api/v1/accounts/{id:\\d+}/unfollow")
async def unfollow(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "write:follows")
    target = await account_by_id(ctx, path_id(request))
    await follows.unfollow(ctx, viewer, target)
    return web.json_response(await Renderer(ctx, viewer).relationship(target))


@routes.post("/api/v1/accounts/{id:\\d+}/remove_from_followers")
async def remove_from_followers(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "write:follows")
    target = await account_by_id(ctx, path_id(request))
    await follows.remove_follower(ctx, viewer, target)
    return web.json_response(await Renderer(ctx, viewer).relationship(target))


@routes.get("/api/v1/follow_requests")
async def follow_requests(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "read:follows")
    renderer = Renderer(ctx, viewer)
    pending = await follows.pending_requests(ctx, viewer)
    return web.json_response([await renderer.account(a) for _, a in pending])


@routes.post("/api/v1/follow_requests/{id:\\d+}/{decision:authorize|reject}")
async def decide_follow_request(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "write:follows")
    requester = await account_by_id(ctx, path_id(request))
    if request.match_info["decision"] == "authorize":
        await follows.authorize(ctx, viewer, requester)
    else:
        await follows.reject(ctx, viewer, requester)
    return web.json_response(await Renderer(ctx, viewer).relationship(requester))
