"""Pages anyone may open: landing page, profiles, posts with their threads, tags,
the brand logo. What a visitor sees is exactly what the API would show them."""

from __future__ import annotations

import mimetypes

from aiohttp import web

from fedchirp.services import featured_tags, moderation, posting, threads, timelines
from fedchirp.services.accounts import local_account, resolve_account
from fedchirp.services.errors import Gone, NotFound, ServiceError
from fedchirp.store.models import Page
from fedchirp.web.activitypub import activity_response, require_visible, wants_activity_json
from fedchirp.web.api.entities import Renderer
from fedchirp.web.ids import id_in_path, id_in_query
from fedchirp.web.pages.common import render, render_statuses, viewer_of
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()


@routes.get("/")
async def landing(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await viewer_of(request)
    statuses = await timelines.public(ctx, local_only=True, page=Page(limit=20), viewer=viewer)
    return await render(
        request, "landing.html", statuses=await render_statuses(ctx, viewer, statuses)
    )


@routes.get(r"/@{handle:[^/]+}")
async def profile(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await viewer_of(request)
    handle = request.match_info["handle"]
    try:
        # Signed-in people may open remote profiles we have not seen yet.
        account = await resolve_account(ctx, handle, resolve_remote=viewer is not None)
    except Gone:
        raise  # deleted: 410
    except ServiceError as exc:
        raise NotFound(f"no account {handle!r} here") from exc
    if moderation.is_suspended(account):
        raise web.HTTPGone(text="This account is suspended.")
    page = Page(max_id=id_in_query(request, "max_id"), limit=20)
    statuses = await timelines.account_statuses(ctx, viewer, account, page)
    renderer = Renderer(ctx, viewer)
    relationship = (
        await renderer.relationship(account) if viewer and viewer.id != account.id else None
    )
    return await render(
        request,
        "profile.html",
        account=await renderer.account(account),
        organization=account.actor_type == "Organization",
        relationship=relationship,
        statuses=await renderer.statuses(statuses),
        feed=f"/@{account.username}" if account.is_local else None,
        featured=await featured_tags.of_account(ctx, account),
    )


@routes.get(r"/@{username}/{status_id:\d+}")
async def local_status_page(request: web.Request) -> web.Response:
    """The public permalink of a local post (AS2 clients get the Note)."""
    ctx = ctx_of(request)
    account = await local_account(ctx, request.match_info["username"])
    status = await timelines.local_post(ctx, account, id_in_path(request, "status_id"))
    if wants_activity_json(request):
        await require_visible(request, ctx, status)
        return activity_response(await posting.note_document(ctx, status, account))
    return await _thread_page(request, status.id)


@routes.get(r"/statuses/{status_id:\d+}")
async def status_page(request: web.Request) -> web.Response:
    """Any post this server knows, local or remote, with its thread."""
    return await _thread_page(request, id_in_path(request, "status_id"))


async def _thread_page(request: web.Request, status_id: int) -> web.Response:
    ctx = ctx_of(request)
    viewer = await viewer_of(request)
    status = await timelines.visible_status(ctx, viewer, status_id)
    if status.reblog_of_id is not None:
        raise web.HTTPFound(f"/statuses/{status.reblog_of_id}")
    ancestors, descendants = await threads.context(ctx, viewer, status)
    rendered = await render_statuses(ctx, viewer, [*ancestors, status, *descendants])
    focus = rendered[len(ancestors)]
    reply_audience = (
        status.visibility if status.visibility in ("public", "unlisted", "private") else "direct"
    )
    return await render(
        request,
        "status.html",
        ancestors=rendered[: len(ancestors)],
        focus=focus,
        descendants=rendered[len(ancestors) + 1 :],
        reply_audience=reply_audience,
    )


@routes.get("/tags/{name}")
async def tag_page(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await viewer_of(request)
    name = request.match_info["name"]
    statuses = await timelines.tag(ctx, name, local_only=False, page=Page(limit=20), viewer=viewer)
    return await render(
        request, "tag.html", tag=name, statuses=await render_statuses(ctx, viewer, statuses)
    )


@routes.get("/brand/logo")
async def logo(request: web.Request) -> web.StreamResponse:
    path = ctx_of(request).config.logo_path
    if path is None or not path.is_file():
        raise NotFound("no logo")
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return web.FileResponse(path, headers={"Content-Type": content_type})
