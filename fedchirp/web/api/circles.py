"""/api/v1/circles: follower groups, shaped like Mastodon's lists API (as the
circles feature of Mastodon forks is). Posts go to a group with
POST /api/v1/statuses circle_id=<id> (visibility "limited", or left out)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedchirp.services import circles
from fedchirp.store.models import Circle
from fedchirp.web.api.auth import require_user
from fedchirp.web.api.entities import Renderer
from fedchirp.web.api.params import id_list, path_id, read_params, text
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()


def _circle(circle: Circle) -> dict[str, Any]:
    return {"id": str(circle.id), "title": circle.title}


@routes.get("/api/v1/circles")
async def index(request: web.Request) -> web.Response:
    owner = await require_user(request, "read:lists")
    return web.json_response(
        [_circle(c) for c in await circles.list_circles(ctx_of(request), owner)]
    )


@routes.post("/api/v1/circles")
async def create(request: web.Request) -> web.Response:
    owner = await require_user(request, "write:lists")
    params = await read_params(request)
    circle = await circles.create_circle(ctx_of(request), owner, text(params, "title"))
    return web.json_response(_circle(circle))


@routes.get("/api/v1/circles/{id}")
async def show(request: web.Request) -> web.Response:
    owner = await require_user(request, "read:lists")
    return web.json_response(
        _circle(await circles.owned_circle(ctx_of(request), owner, path_id(request)))
    )


@routes.put("/api/v1/circles/{id}")
async def rename(request: web.Request) -> web.Response:
    owner = await require_user(request, "write:lists")
    params = await read_params(request)
    circle = await circles.rename_circle(
        ctx_of(request), owner, path_id(request), text(params, "title")
    )
    return web.json_response(_circle(circle))


@routes.delete("/api/v1/circles/{id}")
async def delete(request: web.Request) -> web.Response:
    owner = await require_user(request, "write:lists")
    await circles.delete_circle(ctx_of(request), owner, path_id(request))
    return web.json_response({})


@routes.get("/api/v1/circles/{id}/accounts")
async def accounts(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    owner = await require_user(request, "read:lists")
    members = await circles.members(ctx, owner, path_id(request))
    renderer = Renderer(ctx, owner)
    return web.json_response([await renderer.account(a) for a in members])


@routes.post("/api/v1/circles/{id}/accounts")
async def add_accounts(request: web.Request) -> web.Response:
    owner = await require_user(request, "write:lists")
    params = await read_params(request)
    await circles.add_members(
        ctx_of(request), owner, path_id(request), id_list(params, "account_ids")
    )
    return web.json_response({})


@routes.delete("/api/v1/circles/{id}/accounts")
async def remove_accounts(request: web.Request) -> web.Response:
    owner = await require_user(request, "write:lists")
    params = await read_params(request)
    await circles.remove_members(
        ctx_of(request), owner, path_id(request), id_list(params, "account_ids")
    )
    return web.json_response({})
