"""/admin/domain_blocks: the instance's domain blocks for admins, with plain forms to add,
change and lift them (services/domain_blocks.py)."""

from __future__ import annotations

from aiohttp import web

from fedchirp.services import domain_blocks, sessions
from fedchirp.services.domain_blocks import SEVERITIES, BlockRequest
from fedchirp.services.errors import ServiceError
from fedchirp.web.ids import id_in_path
from fedchirp.web.pages.common import checked_form, go_with_problem, render, require_signed_in
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()
PAGE = "/admin/domain_blocks"


async def _require_admin(request: web.Request, session: sessions.SignedIn) -> None:
    user = await ctx_of(request).store.get_local_user(session.account.id)
    if user is None or not user.is_admin:
        raise web.HTTPForbidden(reason="only admins may manage domain blocks")


@routes.get(PAGE)
async def page(request: web.Request) -> web.Response:
    session = await require_signed_in(request)
    await _require_admin(request, session)
    blocks = await domain_blocks.list_blocks(ctx_of(request).store)
    return await render(request, "admin_domain_blocks.html", blocks=blocks, severities=SEVERITIES)


@routes.post(PAGE)
async def add(request: web.Request) -> web.Response:
    session, form = await checked_form(request)
    await _require_admin(request, session)
    ctx = ctx_of(request)
    block = BlockRequest(
        domain=str(form.get("domain", "")),
        severity=str(form.get("severity", "silence")),
        reject_media="reject_media" in form,
        reject_reports="reject_reports" in form,
        private_comment=str(form.get("private_comment", "")),
        public_comment=str(form.get("public_comment", "")),
        obfuscate="obfuscate" in form,
    )
    try:
        await domain_blocks.block(ctx.store, block, ctx.domain_blocks.invalidate)
    except ServiceError as exc:
        raise go_with_problem(session, PAGE, f"Not blocked: {exc}") from None
    raise web.HTTPFound(PAGE)


@routes.post(PAGE + "/{id}/remove")
async def remove(request: web.Request) -> web.Response:
    session, _ = await checked_form(request)
    await _require_admin(request, session)
    ctx = ctx_of(request)
    try:
        await domain_blocks.unblock(ctx.store, id_in_path(request), ctx.domain_blocks.invalidate)
    except ServiceError as exc:
        raise go_with_problem(session, PAGE, f"Not unblocked: {exc}") from None
    raise web.HTTPFound(PAGE)
