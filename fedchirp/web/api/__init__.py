"""The Mastodon-compatible client API and its OAuth endpoints."""

from aiohttp import web

from fedchirp.web.api import (
    accounts,
    admin_registrations,
    circles,
    instance,
    media,
    oauth,
    registrations,
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
    registrations.routes,
    admin_registrations.routes,
]
