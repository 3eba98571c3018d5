"""The Mastodon-compatible client API and its OAuth endpoints."""

from aiohttp import web

from fedchirp.web.api import (
    accounts,
    admin_accounts,
    admin_domain_blocks,
    admin_registrations,
    admin_reports,
    blocks,
    bookmarks,
    circles,
    instance,
    media,
    oauth,
    polls,
    profile,
    registrations,
    reports,
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
    reports.routes,
    admin_accounts.routes,
    admin_reports.routes,
    admin_domain_blocks.routes,
    profile.routes,
    registrations.routes,
    admin_registrations.routes,
    blocks.routes,
    polls.routes,
]
