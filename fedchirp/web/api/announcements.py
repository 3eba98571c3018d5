"""Announcements for apps: GET /api/v1/announcements, dismiss, and reactions
(services/announcements.py)."""

from __future__ import annotations

from aiohttp import web

from fedchirp.services import announcements
from fedchirp.web.api.announcement_entities import announcement_entity
from fedchirp.web.api.auth import require_user
from fedchirp.web.api.emoji_entities import EmojiLookup
from fedchirp.web.api.params import flag
from fedchirp.web.ids import id_in_path
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()


@routes.get("/api/v1/announcements")
async def index(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "read")
    with_dismissed = flag(dict(request.query), "with_dismissed")
    found = await announcements.active(ctx, viewer, with_dismissed)
    lookup = EmojiLookup(ctx)
    return web.json_response([await announcement_entity(ctx, shown, lookup) for shown in found])


@routes.post(r"/api/v1/announcements/{id:\d+}/dismiss")
async def dismiss(request: web.Request) -> web.Response:
    viewer = await require_user(request, "write:accounts")
    await announcements.dismiss(ctx_of(request), viewer, id_in_path(request))
    return web.json_response({})


@routes.put(r"/api/v1/announcements/{id:\d+}/reactions/{name}")
async def react(request: web.Request) -> web.Response:
    viewer = await require_user(request, "write:favourites")
    name = request.match_info["name"]
    await announcements.react(ctx_of(request), viewer, id_in_path(request), name)
    return web.json_response({})


@routes.delete(r"/api/v1/announcements/{id:\d+}/reactions/{name}")
async def unreact(request: web.Request) -> web.Response:
    viewer = await require_user(request, "write:favourites")
    name = request.match_info["name"]
    await announcements.unreact(ctx_of(request), viewer, id_in_path(request), name)
    return web.json_response({})
