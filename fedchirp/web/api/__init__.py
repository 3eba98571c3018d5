"""The Mastodon-compatible client API and its OAuth endpoints."""

from aiohttp import web

from fedchirp.web.api import (
    accounts,
    blocks,
    circles,
    instance,
    media,
    oauth,
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
    blocks.routes,
]
