"""/admin/announcements: the announcements users see in their apps, for admins, with
plain forms to add, publish, unpublish and delete them (services/announcements.py)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedchirp.services import announcements, oauth, sessions
from fedchirp.services.errors import ServiceError
from fedchirp.web.ids import id_in_path
from fedchirp.web.pages.common import checked_form, go_with_problem, render, require_signed_in
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()
PAGE = "/admin/announcements"


async def _require_admin(request: web.Request) -> sessions.SignedIn:
    session = await require_signed_in(request)
    if not await oauth.is_admin(ctx_of(request), session.account):
        raise web.HTTPForbidden(reason="only admins may manage announcements")
    return session


async def _checked_admin_form(request: web.Request) -> tuple[sessions.SignedIn, Any]:
    await _require_admin(request)  # before the form is read: no CSRF check for strangers
    return await checked_form(request)


@routes.get(PAGE)
async def page(request: web.Request) -> web.Response:
    await _require_admin(request)
    found = await ctx_of(request).store.announcements_all()
    return await render(request, "admin_announcements.html", announcements=found)


@routes.post(PAGE)
async def add(request: web.Request) -> web.Response:
    session, form = await _checked_admin_form(request)
    ctx = ctx_of(request)
    draft = announcements.Draft(
        text=str(form.get("text", "")),
        starts_at=str(form.get("starts_at", "")) or None,
        ends_at=str(form.get("ends_at", "")) or None,
        all_day="all_day" in form,
        published="publish" in form,
    )
    try:
        await announcements.add(
            ctx.store, ctx.urls, ctx.config.server.domain, draft, announcements.announcer(ctx)
        )
    except ServiceError as exc:
        raise go_with_problem(session, PAGE, f"Not added: {exc}") from None
    raise web.HTTPFound(PAGE)


@routes.post(PAGE + r"/{id:\d+}/{change:publish|unpublish|delete}")
async def change(request: web.Request) -> web.Response:
    session, _ = await _checked_admin_form(request)
    ctx = ctx_of(request)
    what, tell = request.match_info["change"], announcements.announcer(ctx)
    try:
        if what == "delete":
            await announcements.delete(ctx.store, id_in_path(request), tell)
        else:
            await announcements.publish(ctx.store, id_in_path(request), what == "publish", tell)
    except ServiceError as exc:
        raise go_with_problem(session, PAGE, f"Not changed: {exc}") from None
    raise web.HTTPFound(PAGE)
