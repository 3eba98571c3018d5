"""Hashtags for apps: GET /api/v1/tags/:name, follow and unfollow, and the list of
followed tags (/api/v1/followed_tags)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedchirp.services import followed_tags
from fedchirp.services.context import Context
from fedchirp.web.api.auth import optional_user, require_user
from fedchirp.web.api.params import page_from, paged_response
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()


def tag_entity(ctx: Context, name: str, following: bool | None) -> dict[str, Any]:
    """Mastodon's Tag; `following` only for a signed-in caller. No usage history is kept."""
    entity: dict[str, Any] = {"name": name, "url": ctx.urls.tag(name), "history": []}
    if following is not None:
        entity["following"] = following
    return entity


@routes.get("/api/v1/tags/{name}")
async def show(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await optional_user(request, "read:follows")
    name, following = await followed_tags.following(ctx, viewer, request.match_info["name"])
    return web.json_response(tag_entity(ctx, name, following if viewer else None))


@routes.post("/api/v1/tags/{name}/{action:follow|unfollow}")
async def follow(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "write:follows")
    following = request.match_info["action"] == "follow"
    act = followed_tags.follow if following else followed_tags.unfollow
    name = await act(ctx, viewer, request.match_info["name"])
    return web.json_response(tag_entity(ctx, name, following))


@routes.get("/api/v1/followed_tags")
async def followed(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "read:follows")
    page = page_from(request, default_limit=100, max_limit=200)
    found = await followed_tags.followed(ctx, viewer, page)
    body = [tag_entity(ctx, tag.tag, True) for tag in found]
    return paged_response(request, body, [tag.id for tag in found], page)
