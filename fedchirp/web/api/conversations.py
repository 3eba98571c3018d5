"""/api/v1/conversations: a user's direct-message threads (services/conversations.py),
and the Conversation entity the direct stream sends too."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedchirp.services import conversations
from fedchirp.services.context import Context
from fedchirp.store.conversations import Conversation
from fedchirp.store.models import Account
from fedchirp.web.api.auth import require_user
from fedchirp.web.api.entities import Renderer
from fedchirp.web.api.params import page_from, paged_response, path_id
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()


@routes.get("/api/v1/conversations")
@routes.get("/api/v1/conversations/")  # as Mastodon.py asks for it
async def listing(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "read:statuses")
    page = page_from(request, default_limit=20, max_limit=40)
    found = await conversations.page(ctx, viewer, page)
    body = await render(ctx, viewer, found)
    ids = [c.last_status_id for c in found if c.last_status_id is not None]
    return paged_response(request, body, ids, page)  # pages go by the last post's id


@routes.post("/api/v1/conversations/{id}/read")
async def read(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "write:conversations")
    found = await conversations.mark_read(ctx, viewer, path_id(request))
    return web.json_response((await render(ctx, viewer, [found]))[0])


@routes.delete("/api/v1/conversations/{id}")
async def remove(request: web.Request) -> web.Response:
    viewer = await require_user(request, "write:conversations")
    await conversations.remove(ctx_of(request), viewer, path_id(request))
    return web.json_response({})


async def render(ctx: Context, viewer: Account, found: list[Conversation]) -> list[dict[str, Any]]:
    """Conversation entities: id, unread, the other accounts (the viewer alone, as on
    Mastodon, for posts to oneself), the last post it may see."""
    renderer = Renderer(ctx, viewer)
    last = await ctx.store.get_statuses(c.last_status_id for c in found if c.last_status_id)
    statuses = {s["id"]: s for s in await renderer.statuses(list(last.values()))}
    others = {c.id: c.participant_ids or (viewer.id,) for c in found}
    accounts = await ctx.store.get_accounts(i for ids in others.values() for i in ids)
    return [
        {
            "id": str(c.id),
            "unread": c.unread,
            "accounts": [
                await renderer.account(accounts[i]) for i in others[c.id] if i in accounts
            ],
            "last_status": statuses.get(str(c.last_status_id)),
        }
        for c in found
    ]
