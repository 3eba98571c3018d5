"""Admin pages: the reports queue, a report with its actions, and the accounts list with
suspend and silence. Admins only (403 for anyone else); plain forms with the session's
CSRF token, no script."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedchirp.services import moderation, oauth, reports, sessions
from fedchirp.services.accounts import account_by_id
from fedchirp.services.errors import ServiceError
from fedchirp.store.models import Page
from fedchirp.store.moderation import AccountFilter
from fedchirp.web.api import admin_entities
from fedchirp.web.api.entities import Renderer
from fedchirp.web.ids import id_in_path
from fedchirp.web.pages.common import (
    checked_form,
    go,
    go_with_problem,
    render,
    require_signed_in,
    safe_next,
)
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()

PAGE_SIZE = 50
REPORT_CHANGES = ("assign", "unassign", "resolve", "reopen")


async def _require_admin(request: web.Request) -> sessions.SignedIn:
    session = await require_signed_in(request)
    if not await oauth.is_admin(ctx_of(request), session.account):
        raise web.HTTPForbidden(reason="admins only")
    return session


async def _checked_admin_form(request: web.Request) -> tuple[sessions.SignedIn, Any]:
    await _require_admin(request)  # before the form is read: no CSRF check for strangers
    return await checked_form(request)


# -- reports ----------------------------------------------------------------------


@routes.get("/admin/reports")
async def reports_page(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    session = await _require_admin(request)
    resolved = request.query.get("resolved") == "1"
    found = await reports.list_reports(ctx.store, resolved, Page(limit=PAGE_SIZE))
    renderer = Renderer(ctx, session.account)
    shown = [await admin_entities.admin_report(renderer, report) for report in found]
    return await render(request, "admin_reports.html", reports=shown, resolved=resolved)


@routes.get(r"/admin/reports/{id:\d+}")
async def report_page(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    session = await _require_admin(request)
    report = await reports.report_by_id(ctx.store, id_in_path(request))
    entity = await admin_entities.admin_report(Renderer(ctx, session.account), report)
    return await render(request, "admin_report.html", report=entity)


@routes.post(r"/admin/reports/{id:\d+}/{change:assign|unassign|resolve|reopen}")
async def change_report(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    session, _ = await _checked_admin_form(request)
    report = await reports.report_by_id(ctx.store, id_in_path(request))
    change, admin = request.match_info["change"], session.account
    if change == "assign":
        await reports.assign(ctx.store, report, admin)
    elif change == "unassign":
        await reports.assign(ctx.store, report, None)
    elif change == "resolve":
        await reports.resolve(ctx.store, report, admin)
    else:
        await reports.reopen(ctx.store, report)
    raise go(f"/admin/reports/{report.id}")


@routes.post(r"/admin/reports/{id:\d+}/action")
async def act_on_report(request: web.Request) -> web.Response:
    """Suspend or silence the reported account; the report is resolved with it."""
    ctx = ctx_of(request)
    session, form = await _checked_admin_form(request)
    report = await reports.report_by_id(ctx.store, id_in_path(request))
    target = await account_by_id(ctx, report.target_account_id)
    here = f"/admin/reports/{report.id}"
    try:
        await moderation.take_action(
            ctx.store, session.account, target, str(form.get("type", "")), report
        )
    except ServiceError as exc:
        raise go_with_problem(session, here, f"Nothing done: {exc}") from None
    raise go(here)


# -- accounts ---------------------------------------------------------------------


@routes.get("/admin/accounts")
async def accounts_page(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    session = await _require_admin(request)
    query = request.query
    filters = AccountFilter(
        origin=query.get("origin") or None,
        status=query.get("status") or None,
        username=query.get("username") or None,
    )
    try:
        found = await moderation.list_accounts(ctx.store, filters, Page(limit=PAGE_SIZE))
    except ServiceError as exc:
        raise go_with_problem(session, "/admin/accounts", str(exc)) from None
    renderer = Renderer(ctx, session.account)
    shown = [await admin_entities.admin_account(renderer, a, u) for a, u in found]
    return await render(
        request,
        "admin_accounts.html",
        accounts=shown,
        filters=filters,
        origins=moderation.ORIGINS,
        statuses=moderation.STATUSES,
    )


@routes.post(
    r"/admin/accounts/{id:\d+}/{change:suspend|unsuspend|silence|unsilence|disable|enable}"
)
async def change_account(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    session, form = await _checked_admin_form(request)
    target = await account_by_id(ctx, id_in_path(request))
    change = request.match_info["change"]
    back = str(form.get("back", ""))
    back = safe_next(back, "/admin/accounts") if back.startswith("/admin/") else "/admin/accounts"
    try:
        if change in moderation.ACTIONS:
            await moderation.take_action(ctx.store, session.account, target, change)
        else:
            await moderation.undo_action(ctx.store, session.account, target, change)
    except ServiceError as exc:
        raise go_with_problem(session, back, f"Nothing done: {exc}") from None
    raise go(back)
