"""The Mastodon-compatible client API and its OAuth endpoints."""

from aiohttp import web

from fedchirp.web.api import (
    accounts,
    bookmarks,
    circles,
    instance,
    media,
    oauth,
    statuses,
    streaming,
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
    bookmarks.routes,
    streaming.routes,
]
