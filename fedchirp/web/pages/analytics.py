"""Analytics pages for authors: their account, and each of their posts."""

from __future__ import annotations

from aiohttp import web

from fedchirp.services import analytics, timelines
from fedchirp.store.models import Page, StatusFilters
from fedchirp.web.api.entities import Renderer
from fedchirp.web.ids import id_in_path
from fedchirp.web.pages.charts import bar_chart, line_chart
from fedchirp.web.pages.common import render, require_signed_in
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()


@routes.get("/analytics")
async def account_analytics(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    me = (await require_signed_in(request)).account
    report = await analytics.account_report(ctx, me)
    posts = await timelines.account_statuses(
        ctx, me, me, Page(limit=40), StatusFilters(exclude_reblogs=True)
    )
    return await render(
        request,
        "analytics.html",
        follower_chart=line_chart(report.followers_by_day, "followers over time"),
        received=report.received,
        deliveries=report.deliveries,
        posts=await Renderer(ctx, me).statuses(posts),
    )


@routes.get("/statuses/{id:\\d+}/analytics")
async def post_analytics(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    me = (await require_signed_in(request)).account
    status = await timelines.visible_status(ctx, me, id_in_path(request))
    report = await analytics.post_report(ctx, me, status)
    chart = bar_chart(
        [
            ("delivered", report.deliveries["delivered"]),
            ("failed", report.deliveries["failed"]),
            ("boosts", report.counts["reblogs"]),
            ("likes", report.counts["favourites"]),
            ("replies", report.counts["replies"]),
        ],
        "how this post did",
    )
    return await render(
        request,
        "post_analytics.html",
        chart=chart,
        deliveries=report.deliveries,
        post=await Renderer(ctx, me).status(status),
    )
