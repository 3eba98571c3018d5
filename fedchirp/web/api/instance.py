"""Instance information (v1 and v2), v2 search, and the default avatar."""

from __future__ import annotations

import struct
import zlib

from aiohttp import web

from fedchirp import __version__
from fedchirp.config import Config
from fedchirp.services import instance, polls, push
from fedchirp.services import search as search_service
from fedchirp.web.api.auth import optional_user, require_user
from fedchirp.web.api.entities import DEFAULT_AVATAR_PATH, DEFAULT_HEADER_PATH, Renderer
from fedchirp.web.api.params import flag, number
from fedchirp.web.api.registrations import registrations_v1, registrations_v2, rule_entities
from fedchirp.web.api.tags import tag_entity
from fedchirp.web.errors import ApiError
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()

# The Mastodon API level we implement, said honestly: apps switch features on by it.
# Mastodon's API version 2 (api_versions, from 4.3) marks grouped notifications
# (/api/v2/notifications, with the notification policy and requests), which we serve,
# so Phanpy and Elk may ask for them: we say 2. The release we name stays 4.2: 4.3
# also added calls we lack (GET /api/v1/statuses and /api/v1/accounts with id[],
# /api/v1/timelines/link, annual reports), and apps gate those on the release.
MASTODON_COMPATIBILITY = "4.2.0"
MASTODON_API_VERSION = 2


def _grey_png(size: int = 48, shade: int = 0xC8) -> bytes:
    """A plain grey square PNG, the avatar of accounts that have none."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)  # 8-bit greyscale
    pixels = b"".join(b"\x00" + bytes([shade]) * size for _ in range(size))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


_AVATAR_PNG = _grey_png()
_HEADER_PNG = _grey_png(shade=0xE6)


def _streaming_url(config: Config) -> str:
    """Where apps open /api/v1/streaming: this server, over ws:// or wss://."""
    scheme = "wss" if config.server.scheme == "https" else "ws"
    return f"{scheme}://{config.server.domain}"


def _version() -> str:
    return f"{MASTODON_COMPATIBILITY} (compatible; FedChirp {__version__})"


def _configuration(config: Config) -> dict:
    media = config.media
    return {
        "statuses": {
            "max_characters": config.posts.max_chars,
            "max_media_attachments": media.max_attachments,
            "characters_reserved_per_url": 23,
        },
        "accounts": {"max_featured_tags": 0, "max_pinned_statuses": 0},
        "media_attachments": {
            "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp"],
            "image_size_limit": media.max_upload_bytes,
            "image_matrix_limit": media.max_decode_pixels,  # larger ones are refused
            "video_size_limit": 0,
            "video_frame_rate_limit": 0,
            "video_matrix_limit": 0,
        },
        "polls": polls.limits(),
    }


@routes.get("/api/v1/instance")
@routes.get("/api/v1/instance/")
async def instance_v1(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    counts = await instance.usage(ctx)
    server = ctx.config.server
    return web.json_response(
        {
            "uri": server.domain,
            "title": server.name,
            "short_description": server.description,
            "description": server.description,
            "email": "",
            "version": _version(),
            "urls": {"streaming_api": _streaming_url(ctx.config)},
            "stats": {
                "user_count": counts.users,
                "status_count": counts.local_posts,
                "domain_count": 0,
            },
            "thumbnail": None,
            "languages": ["en"],
            **registrations_v1(ctx.config),
            "configuration": _configuration(ctx.config),
            "contact_account": None,
            "rules": await rule_entities(request),
        }
    )


@routes.get("/api/v2/instance")
@routes.get("/api/v2/instance/")
async def instance_v2(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    counts = await instance.usage(ctx)
    server = ctx.config.server
    configuration = _configuration(ctx.config)
    configuration["urls"] = {"streaming": _streaming_url(ctx.config)}
    configuration["translation"] = {"enabled": False}
    configuration["vapid"] = {"public_key": await push.vapid_public_key(ctx)}
    return web.json_response(
        {
            "domain": server.domain,
            "title": server.name,
            "version": _version(),
            "source_url": "",
            "description": server.description,
            "usage": {"users": {"active_month": counts.active_month}},
            "thumbnail": {"url": f"{ctx.urls.base}{DEFAULT_AVATAR_PATH}"},
            "languages": ["en"],
            "configuration": configuration,
            "registrations": registrations_v2(ctx.config),
            "contact": {"email": "", "account": None},
            "rules": await rule_entities(request),
            "api_versions": {"mastodon": MASTODON_API_VERSION},
        }
    )


@routes.get("/api/v2/search")
async def search(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await optional_user(request, "read:search")
    params = dict(request.query)
    kind = params.get("type") or None
    if kind not in (None, "accounts", "statuses", "hashtags"):
        raise ApiError(422, "type must be accounts, statuses or hashtags")
    limit = number(params, "limit", 20, 1, 40)
    found = await search_service.search(
        ctx, viewer, params.get("q", ""), kind, flag(params, "resolve"), limit
    )
    renderer = Renderer(ctx, viewer)
    return web.json_response(
        {
            "accounts": [await renderer.account(a) for a in found.accounts],
            "statuses": await renderer.statuses(found.statuses),
            "hashtags": [
                tag_entity(ctx, name, name in found.followed_hashtags if viewer else None)
                for name in found.hashtags
            ],
        }
    )


@routes.get("/api/v1/accounts/search")
async def search_accounts(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "read:accounts")
    params = dict(request.query)
    limit = number(params, "limit", 40, 1, 80)
    offset = number(params, "offset", 0, 0, 10_000)
    found = await search_service.search_accounts(
        ctx, viewer, params.get("q", ""), flag(params, "resolve"), limit, offset,
        following=flag(params, "following"),
    )
    renderer = Renderer(ctx, viewer)
    return web.json_response([await renderer.account(account) for account in found])


def _png(body: bytes) -> web.Response:
    return web.Response(
        body=body, content_type="image/png", headers={"Cache-Control": "public, max-age=86400"}
    )


@routes.get(DEFAULT_AVATAR_PATH)
async def default_avatar(request: web.Request) -> web.Response:
    return _png(_AVATAR_PNG)


@routes.get(DEFAULT_HEADER_PATH)
async def default_header(request: web.Request) -> web.Response:
    return _png(_HEADER_PNG)
