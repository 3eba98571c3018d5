"""Trends for apps: /api/v1/trends/tags (and its old name /api/v1/trends) and
/api/v1/trends/statuses, paged by offset as Mastodon pages them."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from fedchirp.services import trends
from fedchirp.web.api.auth import optional_user
from fedchirp.web.api.entities import Renderer
from fedchirp.web.api.params import number
from fedchirp.web.api.tags import tag_entity
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()


def _window(request: web.Request, default: int, most: int) -> tuple[int, int]:
    """(offset, limit) of the request."""
    query = request.query
    return number(query, "offset", 0, 0, 10_000), number(query, "limit", default, 1, most)


def _offset_response(
    request: web.Request, body: list[Any], offset: int, limit: int
) -> web.Response:
    """JSON with Mastodon's Link header: next while pages come full, prev after the first."""
    response = web.json_response(body)
    base = f"{ctx_of(request).urls.base}{request.path}"
    kept = {k: v for k, v in request.query.items() if k != "offset"}
    links = []
    if len(body) == limit:
        links.append(f'<{base}?{urlencode({**kept, "offset": offset + limit})}>; rel="next"')
    if offset > 0:
        links.append(
            f'<{base}?{urlencode({**kept, "offset": max(offset - limit, 0)})}>; rel="prev"'
        )
    if links:
        response.headers["Link"] = ", ".join(links)
    return response


def _trending_tag_entity(request: web.Request, tag: trends.TrendingTag) -> dict[str, Any]:
    entity = tag_entity(ctx_of(request), tag.name, tag.following)
    entity["history"] = [
        {"day": str(day.day * 86_400), "uses": str(day.uses), "accounts": str(day.accounts)}
        for day in tag.history
    ]
    return entity


@routes.get("/api/v1/trends")
@routes.get("/api/v1/trends/tags")
async def trending_tags(request: web.Request) -> web.Response:
    viewer = await optional_user(request, "read:follows")  # as GET /api/v1/tags/:name
    offset, limit = _window(request, 10, 20)
    found = await trends.tags(ctx_of(request), viewer, offset, limit)
    body = [_trending_tag_entity(request, tag) for tag in found]
    return _offset_response(request, body, offset, limit)


@routes.get("/api/v1/trends/statuses")
async def trending_statuses(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await optional_user(request, "read:statuses")
    offset, limit = _window(request, 20, 40)
    found = await trends.statuses(ctx, viewer, offset, limit)
    body = await Renderer(ctx, viewer, "public").statuses(found)
    return _offset_response(request, body, offset, limit)
