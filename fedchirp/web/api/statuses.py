"""/api/v1/statuses: post, read, edit, delete, like, boost, thread context."""

from __future__ import annotations

from aiohttp import web

from fedchirp.clock import parse_iso
from fedchirp.services import interactions, posting, scheduling, threads, timelines
from fedchirp.services.ratelimits import STATUSES_PER_ACCOUNT
from fedchirp.web.api.auth import optional_user, require_user
from fedchirp.web.api.entities import Renderer
from fedchirp.web.api.params import flag, id_list, optional_id, path_id, read_params, text
from fedchirp.web.api.polls import poll_params
from fedchirp.web.errors import ApiError
from fedchirp.web.ratelimit import per_account
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()


@routes.post("/api/v1/statuses")
async def create(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    author = await require_user(request, "write:statuses")
    await per_account(request, STATUSES_PER_ACCOUNT, author)
    params = await read_params(request)
    post = {
        "text": text(params, "status"),
        "visibility": text(params, "visibility") or None,
        "spoiler_text": text(params, "spoiler_text"),
        "sensitive": flag(params, "sensitive"),
        "in_reply_to_id": optional_id(params, "in_reply_to_id"),
        "language": text(params, "language") or None,
        "circle_id": optional_id(params, "circle_id"),
        "media_ids": id_list(params, "media_ids"),
        "poll": poll_params(params),
    }
    when = text(params, "scheduled_at")
    if when:
        moment = parse_iso(when)
        if moment is None:
            raise ApiError(422, "scheduled_at must be an ISO 8601 date and time")
        scheduled = await scheduling.schedule(ctx, author, moment, post)
        return web.json_response(await Renderer(ctx, author).scheduled_status(scheduled))
    status = await posting.create_status(
        ctx,
        author,
        post.pop("text"),
        idempotency_key=request.headers.get("Idempotency-Key"),
        **post,
    )
    return web.json_response(await Renderer(ctx, author).status(status))


@routes.get("/api/v1/scheduled_statuses")
async def scheduled_index(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    author = await require_user(request, "read:statuses")
    renderer = Renderer(ctx, author)
    found = await scheduling.list_scheduled(ctx, author)
    return web.json_response([await renderer.scheduled_status(s) for s in found])


@routes.get("/api/v1/scheduled_statuses/{id}")
async def scheduled_show(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    author = await require_user(request, "read:statuses")
    found = await scheduling.owned(ctx, author, path_id(request))
    return web.json_response(await Renderer(ctx, author).scheduled_status(found))


@routes.put("/api/v1/scheduled_statuses/{id}")
async def scheduled_update(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    author = await require_user(request, "write:statuses")
    params = await read_params(request)
    moment = parse_iso(text(params, "scheduled_at"))
    if moment is None:
        raise ApiError(422, "scheduled_at must be an ISO 8601 date and time")
    found = await scheduling.reschedule(ctx, author, path_id(request), moment)
    return web.json_response(await Renderer(ctx, author).scheduled_status(found))


@routes.delete("/api/v1/scheduled_statuses/{id}")
async def scheduled_cancel(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    author = await require_user(request, "write:statuses")
    await scheduling.cancel(ctx, author, path_id(request))
    return web.json_response({})


@routes.get("/api/v1/statuses/{id}")
async def show(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await optional_user(request, "read:statuses")
    status = await timelines.visible_status(ctx, viewer, path_id(request))
    return web.json_response(await Renderer(ctx, viewer).status(status))


@routes.put("/api/v1/statuses/{id}")
async def edit(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    author = await require_user(request, "write:statuses")
    status = await timelines.visible_status(ctx, author, path_id(request))
    params = await read_params(request)
    updated = await posting.edit_status(
        ctx, author, status, text(params, "status"), text(params, "spoiler_text")
    )
    return web.json_response(await Renderer(ctx, author).status(updated))


@routes.delete("/api/v1/statuses/{id}")
async def delete(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    author = await require_user(request, "write:statuses")
    status = await timelines.visible_status(ctx, author, path_id(request))
    entity = await Renderer(ctx, author).status(status)
    await posting.delete_status(ctx, author, status)
    entity["text"] = status.source_text  # Mastodon returns the source for "delete & redraft"
    return web.json_response(entity)


@routes.get("/api/v1/statuses/{id}/context")
async def context(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await optional_user(request, "read:statuses")
    status = await timelines.visible_status(ctx, viewer, path_id(request))
    ancestors, descendants = await threads.context(ctx, viewer, status)
    renderer = Renderer(ctx, viewer, "thread")
    return web.json_response(
        {
            "ancestors": await renderer.statuses(ancestors),
            "descendants": await renderer.statuses(descendants),
        }
    )


@routes.post("/api/v1/statuses/{id}/{action:favourite|unfavourite|reblog|unreblog}")
async def act(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    action = request.match_info["action"]
    scope = "write:favourites" if "favourite" in action else "write:statuses"
    account = await require_user(request, scope)
    status = await timelines.visible_status(ctx, account, path_id(request))
    # reblog answers with the new boost; the others with the post acted on.
    result = await interactions.ACTIONS[action](ctx, account, status)
    return web.json_response(await Renderer(ctx, account).status(result))
