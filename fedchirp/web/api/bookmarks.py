"""Bookmarks, the favourites list, read markers and preferences: what apps keep and
read for their user."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedchirp.services import bookmarks, timelines
from fedchirp.store.models import Marker
from fedchirp.web.api.auth import require_user
from fedchirp.web.api.entities import Renderer
from fedchirp.web.api.params import page_from, paged_response, path_id, read_params
from fedchirp.web.errors import ApiError
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()


@routes.get("/api/v1/{kind:bookmarks|favourites}")
async def marked_list(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    kind = request.match_info["kind"]
    viewer = await require_user(request, f"read:{kind}")
    page = page_from(request, default_limit=20, max_limit=40)
    found = await bookmarks.marked(ctx, viewer, kind, page)
    body = await Renderer(ctx, viewer).statuses([status for _, status in found])
    return paged_response(request, body, [mark_id for mark_id, _ in found], page)


@routes.post("/api/v1/statuses/{id}/{action:bookmark|unbookmark}")
async def bookmark(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await require_user(request, "write:bookmarks")
    status = await timelines.visible_status(ctx, viewer, path_id(request))
    act = bookmarks.bookmark if request.match_info["action"] == "bookmark" else bookmarks.unbookmark
    return web.json_response(await Renderer(ctx, viewer).status(await act(ctx, viewer, status)))


@routes.get("/api/v1/markers")
async def markers(request: web.Request) -> web.Response:
    viewer = await require_user(request, "read:statuses")
    wanted = request.query.getall("timeline[]", []) or request.query.getall("timeline", [])
    return web.json_response(_markers(await bookmarks.markers(ctx_of(request), viewer, wanted)))


@routes.post("/api/v1/markers")
async def save_markers(request: web.Request) -> web.Response:
    viewer = await require_user(request, "write:statuses")
    positions = _positions(await read_params(request))
    if not positions:
        raise ApiError(422, "name home or notifications, with its last_read_id")
    saved = await bookmarks.save_markers(ctx_of(request), viewer, positions)
    return web.json_response(_markers(saved))


def _positions(params: dict[str, Any]) -> dict[str, str]:
    """{timeline: last_read_id} from JSON ({"home": {"last_read_id": ...}}) or a form
    (home[last_read_id]=...)."""
    positions = {}
    for timeline in bookmarks.MARKER_TIMELINES:
        nested = params.get(timeline)
        value = nested.get("last_read_id") if isinstance(nested, dict) else None
        value = value if value is not None else params.get(f"{timeline}[last_read_id]")
        if value is not None:
            positions[timeline] = str(value)
    return positions


def _markers(found: list[Marker]) -> dict[str, Any]:
    return {
        marker.timeline: {
            "last_read_id": marker.last_read_id,
            "version": marker.version,
            "updated_at": marker.updated_at,
        }
        for marker in found
    }


@routes.get("/api/v1/preferences")
async def preferences(request: web.Request) -> web.Response:
    """The defaults apps start a post with. Nobody can change them yet, so they are
    Mastodon's defaults, said honestly rather than left unanswered (Ivory needs them)."""
    await require_user(request, "read:accounts")
    return web.json_response(
        {
            "posting:default:visibility": "public",
            "posting:default:sensitive": False,
            "posting:default:language": None,
            "reading:expand:media": "default",
            "reading:expand:spoilers": False,
        }
    )
