"""/api/v1/timelines and /api/v1/notifications."""

from __future__ import annotations

from aiohttp import web

from fedchirp.services import notifications, timelines
from fedchirp.web.api.auth import optional_user, require_user
from fedchirp.web.api.entities import Renderer
from fedchirp.web.api.notification_groups import wanted
from fedchirp.web.api.params import flag, page_from, paged_response
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()


@routes.get("/api/v1/timelines/home")
async def home(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "read:statuses")
    page = page_from(request)
    found = await timelines.home(ctx, viewer, page)
    body = await Renderer(ctx, viewer, "home").statuses(found)
    return paged_response(request, body, [s.id for s in found], page)


@routes.get("/api/v1/timelines/public")
async def public(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await optional_user(request, "read:statuses")
    params = dict(request.query)
    page = page_from(request)
    found = await timelines.public(ctx, flag(params, "local"), page, viewer)
    body = await Renderer(ctx, viewer, "public").statuses(found)
    return paged_response(request, body, [s.id for s in found], page)


@routes.get("/api/v1/timelines/tag/{hashtag}")
async def tag(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await optional_user(request, "read:statuses")
    page = page_from(request)
    found = await timelines.tag(
        ctx, request.match_info["hashtag"], flag(dict(request.query), "local"), page, viewer
    )
    body = await Renderer(ctx, viewer, "public").statuses(found)
    return paged_response(request, body, [s.id for s in found], page)


@routes.get("/api/v1/notifications")
async def notification_list(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "read:notifications")
    page = page_from(request, default_limit=40, max_limit=80)
    found = await notifications.list_notifications(ctx, viewer, page, wanted(request))
    body = await Renderer(ctx, viewer, "notifications").notifications(found)
    return paged_response(request, body, [n.id for n in found], page)
