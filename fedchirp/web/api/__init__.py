"""The Mastodon-compatible client API and its OAuth endpoints."""

from aiohttp import web

from fedchirp.web.api import (
    accounts,
    admin_accounts,
    admin_reports,
    circles,
    instance,
    media,
    oauth,
    reports,
    statuses,
    timelines,
)

ROUTE_TABLES: list[web.RouteTableDef] = [
    oauth.routes,
    instance.routes,
    accounts.routes,
    statuses.routes,
    timelines.routes,
    circles.routes,
    media.routes,
    reports.routes,
    admin_accounts.routes,
    admin_reports.routes,
]
