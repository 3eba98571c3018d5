"""What every page handler shares: who is signed in, CSRF checks, rendering."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import aiohttp_jinja2
from aiohttp import web
from multidict import MultiDictProxy

from fedchirp.services import sessions
from fedchirp.services.context import Context
from fedchirp.store.models import Account
from fedchirp.web.api.entities import Renderer
from fedchirp.web.pages.style import stylesheet
from fedchirp.web.state import ctx_of

SESSION_COOKIE = "fedchirp_session"
_SIGNED_IN = web.RequestKey("signed_in", object)


async def signed_in(request: web.Request) -> sessions.SignedIn | None:
    """The signed-in session of this request, if any (looked up once per request)."""
    if _SIGNED_IN not in request:
        token = request.cookies.get(SESSION_COOKIE)
        found = await sessions.session_for(ctx_of(request), token) if token else None
        request[_SIGNED_IN] = found
    return request[_SIGNED_IN]  # type: ignore[return-value]


async def viewer_of(request: web.Request) -> Account | None:
    session = await signed_in(request)
    return session.account if session else None


async def require_signed_in(request: web.Request) -> sessions.SignedIn:
    session = await signed_in(request)
    if session is None:
        raise web.HTTPFound(f"/login?{urlencode({'next': request.path_qs})}")
    return session


async def checked_form(request: web.Request) -> tuple[sessions.SignedIn, MultiDictProxy[Any]]:
    """The posted form of a signed-in person, after checking its CSRF token."""
    session = await require_signed_in(request)
    try:
        form = await request.post()
    except web.HTTPRequestEntityTooLarge:
        # A page, not a JSON 413: back to the form, saying what the limit is.
        limit = f"{request.client_max_size / 1_048_576:.0f} MB"
        problem = f"Not sent: the form with its picture is larger than {limit}, our limit"
        raise go_with_problem(session, _form_page(request), problem) from None
    if not sessions.csrf_matches(session, str(form.get("csrf", ""))):
        raise web.HTTPForbidden(reason="the form has expired; reload the page and try again")
    return session, form


def _form_page(request: web.Request) -> str:
    """The page of ours a form was sent from (its Referer), or the home page."""
    referer = urlsplit(request.headers.get("Referer", ""))
    if referer.netloc != request.host:
        return "/home"
    return safe_next(referer.path + (f"?{referer.query}" if referer.query else ""))


# The notices a page shows, by the key in its ?notice= (a redirect after a form
# adds it). Only these texts are ever shown: the query names one, it never
# supplies the words (else a link could make our page say anything).
NOTICES = {
    "Posted": "Posted.",
    "Scheduled": "Scheduled.",
    "Cancelled": "Cancelled.",
    "Deleted": "Deleted.",
    "Following": "Following.",
    "Requested": "Follow request sent.",
    "Unfollowed": "Unfollowed.",
    "Accepted": "Request accepted: the account now follows you.",
    "Rejected": "Request rejected.",
    "GroupCreated": "Group created.",
    "GroupUpdated": "Group updated.",
    "ChooseAccount": "Choose an account.",
    "ProfileSaved": "Profile saved.",
    "PasswordChanged": "Password changed: sign in with the new one.",
    "AccountDeleted": "Your account is deleted.",
    "Blocked": "Blocked: neither of you sees the other any more.",
    "Unblocked": "Unblocked.",
    "Muted": "Muted: their posts and notifications are hidden from you.",
    "Unmuted": "Unmuted.",
}
# What went wrong, in words of ours that name the case ("Not posted: the text is
# too long"), travels to the next page in a short-lived cookie signed with the
# session's CSRF secret, so neither a link nor another site can set it.
FLASH_COOKIE = "fedchirp_flash"
FLASH_SECONDS = 60
FLASH_MAX_CHARS = 300


def go(location: str, notice: str = "") -> web.HTTPFound:
    """Redirect after a form (POST/redirect/GET), with one of NOTICES to show."""
    if notice:
        if notice not in NOTICES:
            raise ValueError(f"unknown notice {notice!r}")
        location += ("&" if "?" in location else "?") + f"notice={quote(notice)}"
    return web.HTTPFound(location)


def go_with_problem(session: sessions.SignedIn, location: str, problem: str) -> web.HTTPFound:
    """Redirect after a form that failed, with what went wrong shown on the next page."""
    text = problem[:FLASH_MAX_CHARS]
    encoded = base64.urlsafe_b64encode(text.encode()).decode()
    response = web.HTTPFound(location)
    response.set_cookie(
        FLASH_COOKIE,
        f"{encoded}.{_flash_mac(session, text)}",
        max_age=FLASH_SECONDS,
        httponly=True,
        samesite="Lax",
        path="/",
    )
    return response


def _flash_mac(session: sessions.SignedIn, text: str) -> str:
    key = session.csrf_token.encode()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _flash_text(session: sessions.SignedIn | None, cookie: str) -> str:
    """The problem a signed-in person's last form ran into; "" for a forged cookie."""
    encoded, _, mac = cookie.partition(".")
    if session is None or not mac:
        return ""
    try:
        text = base64.urlsafe_b64decode(encoded.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        return ""
    return text if hmac.compare_digest(mac, _flash_mac(session, text)) else ""


def safe_next(target: str | None, default: str = "/home") -> str:
    """Only a path on this site: a login link must not bounce people to another one.

    Browsers read "//host" and "/" + backslash + "host" as another host, and drop
    tabs and newlines from a URL first (so "/", tab, "/host" is "//host"). So a
    target with whitespace or a control character anywhere, or a slash or
    backslash right after the first slash, is refused."""
    if (
        target
        and target.startswith("/")
        and target[1:2] not in ("/", "\\")
        and not any(ch.isspace() or not ch.isprintable() for ch in target)
    ):
        return target
    return default


async def render(
    request: web.Request, template: str, status: int = 200, **context: Any
) -> web.Response:
    ctx = ctx_of(request)
    session = await signed_in(request)
    flash = request.cookies.get(FLASH_COOKIE)
    notice = _flash_text(session, flash) if flash else ""
    base = {
        "server": ctx.config.server,
        "style_version": stylesheet(request.app).version,
        "has_logo": ctx.config.logo_path is not None,
        "me": await Renderer(ctx, session.account).account(session.account) if session else None,
        "csrf": session.csrf_token if session else "",
        "is_admin": session is not None and session.is_admin,
        "notice": notice or NOTICES.get(request.query.get("notice", ""), ""),
        "path": request.path_qs,
    }
    response = aiohttp_jinja2.render_template(template, request, {**base, **context})
    response.set_status(status)
    if flash is not None:
        response.del_cookie(FLASH_COOKIE, path="/")  # shown once
    return response


async def render_statuses(ctx: Context, viewer: Account | None, statuses: list) -> list[dict]:
    """Mastodon Status entities: the same shape the API serves, for the templates."""
    return await Renderer(ctx, viewer).statuses(statuses)
