"""/api/v1/instance/peers, /activity and /extended_description, /api/v1/custom_emojis,
and /api/v1/accounts/familiar_followers."""

from __future__ import annotations

from aiohttp import web

from fedchirp import html
from fedchirp.services import instance_extras
from fedchirp.web.api.auth import require_user
from fedchirp.web.api.emoji_entities import emoji_entity
from fedchirp.web.api.entities import Renderer
from fedchirp.web.api.params import id_list, read_params
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()


@routes.get("/api/v1/instance/peers")
async def peers(request: web.Request) -> web.Response:
    return web.json_response(await instance_extras.peers(ctx_of(request)))


@routes.get("/api/v1/instance/activity")
async def activity(request: web.Request) -> web.Response:
    weeks = await instance_extras.weekly_activity(ctx_of(request))
    return web.json_response(
        [
            {  # strings, as Mastodon sends them
                "week": str(int(week.start.timestamp())),
                "statuses": str(week.statuses),
                "logins": str(week.logins),
                "registrations": str(week.registrations),
            }
            for week in weeks
        ]
    )


@routes.get("/api/v1/instance/extended_description")
async def extended_description(request: web.Request) -> web.Response:
    text = ctx_of(request).config.server.extended_description
    return web.json_response(
        {
            "updated_at": instance_extras.CONFIG_READ_AT,
            "content": html.sanitize(text) if text else "",
        }
    )


@routes.get("/api/v1/custom_emojis")
async def custom_emojis(request: web.Request) -> web.Response:
    """Our emoji that show in pickers (not other servers')."""
    ctx = ctx_of(request)
    found = await ctx.store.local_emojis(picker_only=True)
    return web.json_response([emoji_entity(ctx, emoji) for emoji in found])


@routes.get("/api/v1/accounts/familiar_followers")
async def familiar_followers(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "read:follows")
    ids = id_list(await read_params(request), "id")
    found = await instance_extras.familiar_followers(ctx, viewer, ids)
    renderer = Renderer(ctx, viewer)
    return web.json_response(
        [
            {"id": str(account_id), "accounts": [await renderer.account(a) for a in accounts]}
            for account_id, accounts in found.items()
        ]
    )
