"""The Mastodon admin API for the reports queue: list, show, assign, resolve, reopen
(docs.joinmastodon.org/methods/admin/reports)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from fedchirp.services import reports
from fedchirp.store import Store
from fedchirp.store.models import Account, Report
from fedchirp.web.api import admin_entities
from fedchirp.web.api.auth import require_admin
from fedchirp.web.api.entities import Renderer
from fedchirp.web.api.params import flag, optional_id, page_from, paged_response, path_id
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()

READ, WRITE = "admin:read:reports", "admin:write:reports"


@routes.get("/api/v1/admin/reports")
async def list_reports(request: web.Request) -> web.Response:
    """Open reports by default; resolved=true lists handled ones, and both flags all."""
    ctx = ctx_of(request)
    admin = await require_admin(request, READ)
    params = dict(request.query)
    resolved, unresolved = flag(params, "resolved"), flag(params, "unresolved")
    which = None if resolved and unresolved else resolved
    page = page_from(request, default_limit=100, max_limit=200)
    found = await reports.list_reports(
        ctx.store,
        which,
        page,
        optional_id(params, "account_id"),
        optional_id(params, "target_account_id"),
    )
    renderer = Renderer(ctx, admin)
    body = [await admin_entities.admin_report(renderer, report) for report in found]
    return paged_response(request, body, [r.id for r in found], page)


@routes.get(r"/api/v1/admin/reports/{id:\d+}")
async def show(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    admin = await require_admin(request, READ)
    report = await reports.report_by_id(ctx.store, path_id(request))
    return web.json_response(await admin_entities.admin_report(Renderer(ctx, admin), report))


Change = Callable[[Store, Report, Account], Awaitable[Report]]

CHANGES: dict[str, Change] = {
    "assign_to_self": lambda store, report, admin: reports.assign(store, report, admin),
    "unassign": lambda store, report, _: reports.assign(store, report, None),
    "resolve": lambda store, report, admin: reports.resolve(store, report, admin),
    "reopen": lambda store, report, _: reports.reopen(store, report),
}


def _change(change: Change) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        ctx = ctx_of(request)
        admin = await require_admin(request, WRITE)
        report = await reports.report_by_id(ctx.store, path_id(request))
        report = await change(ctx.store, report, admin)
        entity = await admin_entities.admin_report(Renderer(ctx, admin), report)
        return web.json_response(entity)

    return handler


for _name, _change_fn in CHANGES.items():
    routes.post(rf"/api/v1/admin/reports/{{id:\d+}}/{_name}")(_change(_change_fn))
