"""The pages' stylesheet: one file, rendered once per app with the configured accent
colour. Serving it (instead of a <style> in every page) lets the CSP refuse inline styles;
its URL carries a digest of the text, so a browser may keep it for a long time."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import aiohttp_jinja2
from aiohttp import web

from fedchirp.web.state import CONFIG

routes = web.RouteTableDef()


@dataclass(frozen=True)
class Stylesheet:
    text: str
    version: str


STYLESHEET = web.AppKey("stylesheet", Stylesheet)


def setup_stylesheet(app: web.Application) -> None:
    """Render the stylesheet once, while the app is built (after its templates)."""
    environment = aiohttp_jinja2.get_env(app)
    accent = app[CONFIG].branding.accent_color
    text = environment.get_template("style.css").render(accent_color=accent)
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    app[STYLESHEET] = Stylesheet(text, digest)


def stylesheet(app: web.Application) -> Stylesheet:
    return app[STYLESHEET]


@routes.get("/style.css")
async def serve_stylesheet(request: web.Request) -> web.Response:
    sheet = stylesheet(request.app)
    cache = "public, max-age=31536000, immutable"
    if request.query.get("v") != sheet.version:
        cache = "no-cache"  # an old or missing version: do not keep this copy for long
    return web.Response(
        text=sheet.text, content_type="text/css", headers={"Cache-Control": cache}
    )
