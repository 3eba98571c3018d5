"""Every refusal is JSON `{"error": reason}` with a 4xx/5xx status, as Mastodon answers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping

from aiohttp import web

from fedchirp.federation.inbox import InboxError
from fedchirp.services.errors import (
    Conflict,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    ServiceError,
    Unavailable,
)
from fedchirp.services.ratelimits import RateLimited
from fedchirp.web.addresses import client_address
from fedchirp.web.ratelimit import refusal_headers
from fedchirp.web.state import CONFIG

log = logging.getLogger(__name__)

_SERVICE_STATUS: dict[type[ServiceError], int] = {
    Gone: 410,  # before NotFound: a kind of it
    NotFound: 404,
    Invalid: 422,
    Forbidden: 403,
    Conflict: 409,
    Unavailable: 502,
}


class ApiError(Exception):
    """Raised by handlers for a request that cannot be served as asked."""

    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers or {}


def json_error(status: int, reason: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": reason}, status=status, headers=headers)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def frame_guard_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Headers on every response: no page of ours may be framed by another site (its
    buttons could be clickjacked); no browser may guess a type other than the one we
    send (an uploaded file sniffed as HTML would run as our page); and no URL of ours,
    with its query, goes to other sites as a Referer.

    The CSP allows scripts and styles from our origin only, never inline ones, so
    markup that slips past the sanitiser cannot run or restyle the page. Pictures may
    come from other servers (remote avatars and attachments are shown from where they
    are), over https; over http too only on a server that is itself served over plain
    http (a test or a machine's own network), whose peers are then http as well."""
    policy = POLICY_BY_SCHEME[request.app[CONFIG].server.scheme]
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # redirects, raised by handlers
        _guard(exc.headers, policy)
        raise
    _guard(response.headers, policy)
    return response


def content_security_policy(remote_schemes: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' {remote_schemes} data:",
            f"media-src 'self' {remote_schemes}",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        )
    )


POLICY_BY_SCHEME = {
    "https": content_security_policy("https:"),
    "http": content_security_policy("https: http:"),
}


def _guard(headers: MutableMapping[str, str], policy: str) -> None:
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Content-Security-Policy", policy)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return json_error(exc.status, exc.reason, exc.headers)
    except InboxError as exc:
        log.info("refused %s %s: %s", request.method, request.path, exc.reason)
        return json_error(exc.status, exc.reason)
    except RateLimited as exc:
        log.info("429 %s %s from %s: %s", request.method, request.path,
                 client_address(request), exc.reason)  # fmt: skip
        return json_error(429, exc.reason, refusal_headers(exc))
    except ServiceError as exc:
        status = next(
            (code for kind, code in _SERVICE_STATUS.items() if isinstance(exc, kind)), 400
        )
        return json_error(status, str(exc))
    except web.HTTPRequestEntityTooLarge as exc:
        return json_error(413, exc.text or "request body is too large")  # names the limit
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow",)}
        return json_error(exc.status, exc.reason, headers)
    except Exception:
        # A bug or a failing disk: log it whole, tell the client only that it happened.
        log.exception("%s %s failed", request.method, request.path)
        return json_error(500, "internal error")
