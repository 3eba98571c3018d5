"""Featured hashtags for apps: /api/v1/featured_tags (list, feature, unfeature),
suggestions, and an account's (services/featured_tags.py)."""

from __future__ import annotations

from aiohttp import web

from fedchirp.services import featured_tags
from fedchirp.services.accounts import account_by_id
from fedchirp.web.api.announcement_entities import featured_tag_entity
from fedchirp.web.api.auth import optional_user, require_user
from fedchirp.web.api.params import read_params, text
from fedchirp.web.api.tags import tag_entity
from fedchirp.web.ids import id_in_path
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()


@routes.get("/api/v1/featured_tags")
async def index(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "read:accounts")
    found = await featured_tags.of_account(ctx, viewer)
    return web.json_response([featured_tag_entity(ctx, f) for f in found])


@routes.post("/api/v1/featured_tags")
async def feature(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "write:accounts")
    params = await read_params(request)
    featured = await featured_tags.feature(ctx, viewer, text(params, "name"))
    return web.json_response(featured_tag_entity(ctx, featured))


@routes.delete(r"/api/v1/featured_tags/{id:\d+}")
async def unfeature(request: web.Request) -> web.Response:
    viewer = await require_user(request, "write:accounts")
    await featured_tags.unfeature(ctx_of(request), viewer, id_in_path(request))
    return web.json_response({})


@routes.get("/api/v1/featured_tags/suggestions")
async def suggestions(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "read:accounts")
    names = await featured_tags.suggestions(ctx, viewer)
    return web.json_response([tag_entity(ctx, name, None) for name in names])


@routes.get(r"/api/v1/accounts/{id:\d+}/featured_tags")
async def of_account(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    await optional_user(request, "read:accounts")
    account = await account_by_id(ctx, id_in_path(request))
    found = await featured_tags.of_account(ctx, account)
    return web.json_response([featured_tag_entity(ctx, f) for f in found])
