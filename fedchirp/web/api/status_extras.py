"""/api/v1/statuses/:id/history, /source, /pin, /unpin, /favourited_by and /reblogged_by."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedchirp.services import history, interactors, pins, timelines
from fedchirp.store.models import Account, Status, StatusEdit
from fedchirp.web.api.auth import optional_user, require_user
from fedchirp.web.api.entities import Renderer
from fedchirp.web.api.params import page_from, paged_response, path_id
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()


@routes.get("/api/v1/statuses/{id:\\d+}/history")
async def status_history(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await optional_user(request, "read:statuses")
    status = await timelines.visible_status(ctx, viewer, path_id(request))
    author = await ctx.store.get_account(status.account_id)
    assert author is not None
    renderer = Renderer(ctx, viewer)
    current = await renderer.status(status)  # its media and emoji, shown on each version
    versions = await history.versions(ctx, status)
    body = [await _edit_entity(renderer, author, current, edit) for edit in versions]
    return web.json_response(body)


async def _edit_entity(
    renderer: Renderer, author: Account, current: dict[str, Any], edit: StatusEdit
) -> dict[str, Any]:
    """Mastodon's StatusEdit. We keep the text of each version, not its attachments:
    each version shows the post's current ones."""
    return {
        "content": edit.content,
        "spoiler_text": edit.spoiler_text,
        "sensitive": edit.sensitive,
        "created_at": edit.created_at,
        "account": await renderer.account(author),
        "poll": None,
        "media_attachments": current["media_attachments"],
        "emojis": current["emojis"],
    }


@routes.get("/api/v1/statuses/{id:\\d+}/source")
async def status_source(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    author = await require_user(request, "read:statuses")
    status = await timelines.visible_status(ctx, author, path_id(request))
    own = history.own_source(author, status)
    return web.json_response(
        {"id": str(own.id), "text": own.source_text, "spoiler_text": own.spoiler_text}
    )


@routes.post("/api/v1/statuses/{id:\\d+}/{action:pin|unpin}")
async def pin_or_unpin(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    account = await require_user(request, "write:accounts")
    status: Status = await timelines.visible_status(ctx, account, path_id(request))
    act = pins.pin if request.match_info["action"] == "pin" else pins.unpin
    result = await act(ctx, account, status)
    return web.json_response(await Renderer(ctx, account).status(result))


@routes.get("/api/v1/statuses/{id:\\d+}/{who:favourited_by|reblogged_by}")
async def interactors_of(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await optional_user(request, "read:accounts")
    page = page_from(request, default_limit=40, max_limit=80)
    boosts = request.match_info["who"] == "reblogged_by"
    positions, shown = await interactors.of_status(ctx, viewer, path_id(request), boosts, page)
    renderer = Renderer(ctx, viewer)
    body = [await renderer.account(account) for account in shown]
    return paged_response(request, body, positions, page)
