"""PATCH /api/v1/accounts/update_credentials: editing one's own profile from an app.

Parameters come as multipart (with avatar and header files), form or JSON, as Mastodon
takes them; profile fields as fields_attributes[N][name|value] (forms) or a list or an
object of {name, value} (JSON).
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from fedchirp.services import profiles
from fedchirp.web.api.auth import require_user
from fedchirp.web.api.entities import Renderer
from fedchirp.web.api.params import flag, read_params, text
from fedchirp.web.errors import ApiError
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()

_FIELD_KEY = re.compile(r"fields_attributes\[(\d{1,2})\]\[(name|value)\]")


@routes.patch("/api/v1/accounts/update_credentials")
async def update_credentials(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    account = await require_user(request, "write:accounts")
    params = await read_params(request)
    limit = ctx.config.media.max_upload_bytes
    changes = profiles.ProfileChanges(
        display_name=_optional_text(params, "display_name"),
        note=_optional_text(params, "note"),
        avatar=_file(params, "avatar", limit),
        header=_file(params, "header", limit),
        locked=_optional_flag(params, "locked"),
        bot=_optional_flag(params, "bot"),
        discoverable=_optional_flag(params, "discoverable"),
        fields=fields_from_params(params),
    )
    updated = await profiles.update_profile(ctx, account, changes)
    return web.json_response(await Renderer(ctx, updated).credential_account(updated))


@routes.delete("/api/v1/profile/{kind:avatar|header}")
async def remove_image(request: web.Request) -> web.Response:
    """Mastodon 4.2's way to take the avatar or header away."""
    ctx = ctx_of(request)
    account = await require_user(request, "write:accounts")
    updated = await profiles.remove_image(ctx, account, request.match_info["kind"])
    return web.json_response(await Renderer(ctx, updated).credential_account(updated))


def _optional_text(params: dict[str, Any], name: str) -> str | None:
    return text(params, name) if params.get(name) is not None else None


def _optional_flag(params: dict[str, Any], name: str) -> bool | None:
    return flag(params, name) if params.get(name) is not None else None


def _file(params: dict[str, Any], name: str, limit: int) -> bytes | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, web.FileField):
        raise ApiError(422, f"{name} must be an image file sent as multipart/form-data")
    return value.file.read(limit + 1)  # one byte more than allowed: "too large" is told


def fields_from_params(params: dict[str, Any]) -> list[tuple[str, str]] | None:
    """Profile fields in the order of their index; None if the request names none."""
    if "fields_attributes" in params:
        return _json_fields(params["fields_attributes"])
    found: dict[int, dict[str, str]] = {}
    for key, value in params.items():
        match = _FIELD_KEY.fullmatch(key)
        if match:
            found.setdefault(int(match[1]), {})[match[2]] = str(value)
    if not found:
        return None
    return [(f.get("name", ""), f.get("value", "")) for _, f in sorted(found.items())]


def _json_fields(value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        try:
            value = [item for _, item in sorted(value.items(), key=lambda kv: int(kv[0]))]
        except ValueError:
            raise ApiError(422, "fields_attributes keys must be numbers") from None
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ApiError(422, "fields_attributes must be a list of {name, value}")
    fields = []
    for item in value:
        name, field_value = item.get("name", ""), item.get("value", "")
        if not isinstance(name, str) or not isinstance(field_value, str):
            raise ApiError(422, "profile field names and values must be strings")
        fields.append((name, field_value))
    return fields
