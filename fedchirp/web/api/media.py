"""/api/v1/media and /api/v2/media: uploads, read back and described."""

from __future__ import annotations

from aiohttp import web

from fedchirp.services import media
from fedchirp.services.ratelimits import MEDIA_PER_ACCOUNT
from fedchirp.web.api.auth import require_user
from fedchirp.web.api.entities import Renderer
from fedchirp.web.api.params import path_id, read_params
from fedchirp.web.errors import ApiError
from fedchirp.web.ratelimit import per_account
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()


def _optional_text(params: dict, name: str) -> str | None:
    value = params.get(name)
    return None if value is None else str(value)


@routes.post("/api/v1/media")
@routes.post("/api/v2/media")
async def upload(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    account = await require_user(request, "write:media")
    await per_account(request, MEDIA_PER_ACCOUNT, account)
    if request.content_type != "multipart/form-data":
        raise ApiError(422, "upload the file as multipart/form-data")
    params = await read_params(request)
    field = params.get("file")
    if not isinstance(field, web.FileField):
        raise ApiError(422, "file is required")
    data = field.file.read(ctx.config.media.max_upload_bytes + 1)
    attachment = await media.upload(
        ctx, account, data, _optional_text(params, "description"), _optional_text(params, "focus")
    )
    return web.json_response(Renderer(ctx, account).media(attachment))


@routes.get("/api/v1/media/{id}")
async def show(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    account = await require_user(request, "write:media")
    return web.json_response(
        Renderer(ctx, account).media(await media.own_media(ctx, account, path_id(request)))
    )


@routes.put("/api/v1/media/{id}")
async def update(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    account = await require_user(request, "write:media")
    params = await read_params(request)
    attachment = await media.update(
        ctx,
        account,
        path_id(request),
        _optional_text(params, "description"),
        _optional_text(params, "focus"),
    )
    return web.json_response(Renderer(ctx, account).media(attachment))
