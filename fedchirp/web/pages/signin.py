"""Logging in and out of the web pages."""

from __future__ import annotations

from aiohttp import web

from fedchirp.services import sessions
from fedchirp.web.pages.common import SESSION_COOKIE, checked_form, render, safe_next
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()


@routes.get("/login")
async def login_form(request: web.Request) -> web.Response:
    return await render(
        request, "login.html", next=safe_next(request.query.get("next")), username="", error=""
    )


@routes.post("/login")
async def login(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    form = await request.post()
    username, target = str(form.get("username", "")), safe_next(str(form.get("next", "")))
    signed = await sessions.sign_in(ctx, username, str(form.get("password", "")))
    if signed is None:
        return await render(
            request,
            "login.html",
            status=401,
            next=target,
            username=username,
            error="The username or password is wrong.",
        )
    token, _ = signed
    response = web.HTTPFound(target)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=sessions.SESSION_SECONDS,
        httponly=True,
        samesite="Lax",
        secure=ctx.config.server.scheme == "https",
        path="/",
    )
    raise response


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    await checked_form(request)
    await sessions.sign_out(ctx_of(request), request.cookies[SESSION_COOKIE])
    response = web.HTTPFound("/")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response
