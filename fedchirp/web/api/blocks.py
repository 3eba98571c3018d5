"""/api/v1 blocks, mutes and domain_blocks: a user's own moderation."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from fedchirp.clock import to_iso
from fedchirp.services import blocks, mutes
from fedchirp.services.accounts import account_by_id
from fedchirp.web.api.auth import require_user
from fedchirp.web.api.entities import Renderer
from fedchirp.web.api.params import flag, page_from, paged_response, path_id, read_params, text
from fedchirp.web.errors import ApiError
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()


@routes.post("/api/v1/accounts/{id:\\d+}/{action:block|unblock}")
async def block(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "write:blocks")
    target = await account_by_id(ctx, path_id(request))
    if request.match_info["action"] == "block":
        await blocks.block(ctx, viewer, target)
    else:
        await blocks.unblock(ctx, viewer, target)
    return web.json_response(await Renderer(ctx, viewer).relationship(target))


@routes.post("/api/v1/accounts/{id:\\d+}/{action:mute|unmute}")
async def mute(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "write:mutes")
    target = await account_by_id(ctx, path_id(request))
    if request.match_info["action"] == "unmute":
        await mutes.unmute(ctx, viewer, target)
    else:
        params = await read_params(request)
        duration = _seconds(params.get("duration"))
        await mutes.mute(ctx, viewer, target, flag(params, "notifications", True), duration)
    return web.json_response(await Renderer(ctx, viewer).relationship(target))


def _seconds(value: object) -> int:
    """duration: whole seconds, 0 or absent for ever (Mastodon.py sends an int or none)."""
    if value is None or value == "":
        return 0
    try:
        return int(str(value))
    except ValueError as exc:
        raise ApiError(422, "duration must be a whole number of seconds") from exc


@routes.get("/api/v1/blocks")
async def blocked(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "read:blocks")
    page = page_from(request, default_limit=40, max_limit=80)
    pairs = await ctx.store.blocked_accounts(viewer.id, page)
    renderer = Renderer(ctx, viewer)
    body = [await renderer.account(account) for _, account in pairs]
    return paged_response(request, body, [block_id for block_id, _ in pairs], page)


@routes.get("/api/v1/mutes")
async def muted(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "read:mutes")
    page = page_from(request, default_limit=40, max_limit=80)
    pairs = await mutes.muted(ctx, viewer, page)
    renderer = Renderer(ctx, viewer)
    body = []
    for mute_record, account in pairs:
        entity = dict(await renderer.account(account))
        expires = mute_record.expires_at
        entity["mute_expires_at"] = (
            to_iso(datetime.fromtimestamp(expires, UTC)) if expires is not None else None
        )
        body.append(entity)
    return paged_response(request, body, [m.id for m, _ in pairs], page)


@routes.get("/api/v1/domain_blocks")
async def domain_blocks(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "read:blocks")
    return web.json_response(await mutes.blocked_domains(ctx, viewer))


@routes.post("/api/v1/domain_blocks")
async def domain_block(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "write:blocks")
    await mutes.block_domain(ctx, viewer, await _domain(request))
    return web.json_response({})


@routes.delete("/api/v1/domain_blocks")
async def domain_unblock(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "write:blocks")
    await mutes.unblock_domain(ctx, viewer, await _domain(request))
    return web.json_response({})


async def _domain(request: web.Request) -> str:
    domain = text(await read_params(request), "domain")
    if not domain:
        raise ApiError(422, "domain is required")
    return domain
