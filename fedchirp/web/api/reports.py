"""POST /api/v1/reports: a user reports an account (and some of its posts) to the admins."""

from __future__ import annotations

from aiohttp import web

from fedchirp.services import reports
from fedchirp.services.accounts import account_by_id
from fedchirp.web.api import admin_entities
from fedchirp.web.api.auth import require_user
from fedchirp.web.api.entities import Renderer
from fedchirp.web.api.params import flag, id_list, optional_id, read_params, text
from fedchirp.web.errors import ApiError
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()


@routes.post("/api/v1/reports")
@routes.post("/api/v1/reports/")  # where Mastodon.py posts
async def create(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    reporter = await require_user(request, "write:reports")
    params = await read_params(request)
    target_id = optional_id(params, "account_id")
    if target_id is None:
        raise ApiError(422, "account_id is required")
    target = await account_by_id(ctx, target_id)
    report = await reports.file_report(
        ctx,
        reporter,
        target,
        status_ids=id_list(params, "status_ids"),
        comment=text(params, "comment"),
        forward=flag(params, "forward"),
        category=text(params, "category") or None,
        rule_ids=id_list(params, "rule_ids"),
    )
    entity = await admin_entities.report(Renderer(ctx, reporter), report, target)
    return web.json_response(entity)
