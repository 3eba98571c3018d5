"""How pages answer a rate limit (a readable page with Retry-After), and the limits that
apply to a route by its path or name, before its handler runs."""

from __future__ import annotations

import logging

from aiohttp import web

from fedchirp.services import ratelimits
from fedchirp.services.ratelimits import RateLimited
from fedchirp.web.addresses import client_address
from fedchirp.web.errors import Handler
from fedchirp.web.pages.common import render
from fedchirp.web.ratelimit import per_address, refusal_headers

log = logging.getLogger(__name__)

# Limits counted per client address for every request to a route, whatever it answers,
# by (method, path), or for POSTs by route name (`@routes.post(path, name="sign_up")`).
ROUTE_LIMITS: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/accounts"): ratelimits.SIGN_UP_PER_ADDRESS,
    ("POST", "/auth/sign_up"): ratelimits.SIGN_UP_PER_ADDRESS,
}
NAMED_ROUTE_LIMITS: dict[str, str] = {"sign_up": ratelimits.SIGN_UP_PER_ADDRESS}


async def refused_page(request: web.Request, exc: RateLimited) -> web.Response:
    """A page saying what was refused and when to try again."""
    log.info("429 %s %s from %s: %s", request.method, request.path,
             client_address(request), exc.reason)  # fmt: skip
    response = await render(
        request, "message.html", status=429, heading="Please wait", message=exc.reason, code=""
    )
    response.headers.update(refusal_headers(exc))
    return response


@web.middleware
async def route_limits_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The limits of ROUTE_LIMITS and NAMED_ROUTE_LIMITS, before the handler runs."""
    rule = ROUTE_LIMITS.get((request.method, request.path))
    if rule is None and request.method == "POST":
        rule = NAMED_ROUTE_LIMITS.get(request.match_info.route.name or "")
    if rule is not None:
        try:
            await per_address(request, rule)
        except RateLimited as exc:
            if request.path.startswith("/api/"):
                raise
            return await refused_page(request, exc)
    return await handler(request)
