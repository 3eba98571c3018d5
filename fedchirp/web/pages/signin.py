"""Logging in and out of the web pages."""

from __future__ import annotations

import secrets

from aiohttp import web

from fedchirp.services import sessions
from fedchirp.services.registrations import registrations_open
from fedchirp.web.pages.common import SESSION_COOKIE, checked_form, render, safe_next
from fedchirp.web.ratelimit import SignInRefused, guarded_sign_in
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()


LOGIN_CSRF_COOKIE = "fedchirp_login_csrf"


async def _login_page(
    request: web.Request, target: str, username: str = "", error: str = "", status: int = 200
) -> web.Response:
    """The form, with a fresh token in both a cookie and the form: a login posted from
    another site cannot know it (so nobody can sign you into their account)."""
    token = secrets.token_urlsafe(24)
    response = await render(
        request,
        "login.html",
        status=status,
        next=target,
        username=username,
        error=error,
        login_csrf=token,
        sign_up_open=registrations_open(ctx_of(request).config),
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="Lax", path="/login")
    return response


@routes.get("/login")
async def login_form(request: web.Request) -> web.Response:
    return await _login_page(request, safe_next(request.query.get("next")))


@routes.post("/login")
async def login(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    form = await request.post()
    username, target = str(form.get("username", "")), safe_next(str(form.get("next", "")))
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, str(form.get("login_csrf", ""))):
        return await _login_page(
            request, target, username, "The form had expired; please try again.", 403
        )
    password = str(form.get("password", ""))
    try:
        signed = await guarded_sign_in(
            request, username, lambda: sessions.sign_in(ctx, username, password)
        )
    except SignInRefused as refused:
        response = await _login_page(request, target, username, refused.message, refused.status)
        response.headers.update(refused.headers)
        return response
    if signed is None:
        return await _login_page(
            request, target, username, "The username or password is wrong.", 401
        )
    token, _ = signed
    raise signed_in_redirect(request, token, target)


def signed_in_redirect(request: web.Request, token: str, target: str) -> web.HTTPFound:
    """Go to target with the new session's cookie set (after a log-in or a sign-up)."""
    response = web.HTTPFound(target)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=sessions.SESSION_SECONDS,
        httponly=True,
        samesite="Lax",
        secure=ctx_of(request).config.server.scheme == "https",
        path="/",
    )
    return response


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    await checked_form(request)
    await sessions.sign_out(ctx_of(request), request.cookies[SESSION_COOKIE])
    response = web.HTTPFound("/")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response
