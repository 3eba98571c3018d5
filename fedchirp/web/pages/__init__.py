"""Server-rendered HTML pages (Jinja2 templates in fedchirp/templates)."""

from __future__ import annotations

from datetime import datetime

import aiohttp_jinja2
import jinja2
from aiohttp import web

from fedchirp.clock import parse_iso
from fedchirp.web.pages import (
    admin,
    admin_announcements,
    admin_domain_blocks,
    analytics,
    feeds,
    home,
    invites,
    lists,
    moderation,
    public,
    settings,
    signin,
    signup,
    style,
)

# Feeds first: /@alice.rss must not be taken for a profile named "alice.rss".
ROUTE_TABLES: list[web.RouteTableDef] = [
    feeds.routes,
    signin.routes,
    signup.routes,
    invites.routes,
    home.routes,
    lists.routes,
    analytics.routes,
    admin.routes,
    admin_domain_blocks.routes,
    admin_announcements.routes,
    settings.routes,
    moderation.routes,
    public.routes,
    style.routes,
]


def when(value: str | None) -> str:
    """A stored timestamp as people read it."""
    moment: datetime | None = parse_iso(value)
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def setup_templates(app: web.Application) -> None:
    environment = aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("fedchirp", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["when"] = when
    style.setup_stylesheet(app)
