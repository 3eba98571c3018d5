"""Follow suggestions for apps: /api/v2/suggestions (with why), /api/v1/suggestions
(accounts only) and DELETE /api/v1/suggestions/:account_id (dismiss one)."""

from __future__ import annotations

from aiohttp import web

from fedchirp.services import suggestions
from fedchirp.web.api.auth import require_user
from fedchirp.web.api.entities import Renderer
from fedchirp.web.api.params import number, path_id
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()


@routes.get("/api/v{version:1|2}/suggestions")
async def suggested(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "read:accounts")
    limit = number(request.query, "limit", 40, 1, 80)
    found = await suggestions.suggestions(ctx, viewer, limit)
    renderer = Renderer(ctx, viewer)
    if request.match_info["version"] == "1":
        return web.json_response([await renderer.account(s.account) for s in found])
    body = [
        {
            "source": suggestions.LEGACY_SOURCE[s.sources[0]],
            "sources": s.sources,
            "account": await renderer.account(s.account),
        }
        for s in found
    ]
    return web.json_response(body)


@routes.delete("/api/v1/suggestions/{id}")
async def dismiss(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "write:accounts")
    await suggestions.dismiss(ctx, viewer, path_id(request))
    return web.json_response({})
