"""The sign-up page (/auth/sign_up, and /invite/<code> for an invite link).

Like the login form it carries its own CSRF token (a cookie and a form field that must
match): nobody is signed in yet, so there is no session token to check."""

from __future__ import annotations

import secrets

from aiohttp import web

from fedchirp.services import invites, registrations, sessions
from fedchirp.services.errors import Forbidden
from fedchirp.web.pages.common import render
from fedchirp.web.pages.signin import signed_in_redirect
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()

SIGN_UP_PATH = "/auth/sign_up"
SIGN_UP_CSRF_COOKIE = "fedchirp_sign_up_csrf"
FIELDS = ("username", "email", "reason", "invite_code")


async def _page(
    request: web.Request,
    values: dict[str, str],
    problems: dict[str, list[str]] | None = None,
    status: int = 200,
) -> web.Response:
    ctx = ctx_of(request)
    token = secrets.token_urlsafe(24)
    response = await render(
        request,
        "signup.html",
        status=status,
        values={name: values.get(name, "") for name in FIELDS},
        problems=problems or {},
        rules=await invites.list_rules(ctx.store),
        invited=bool(values.get("invite_code")),
        reason_required=registrations.approval_required(ctx.config),
        registration_message=ctx.config.registrations.message,
        sign_up_csrf=token,
    )
    response.set_cookie(
        SIGN_UP_CSRF_COOKIE, token, httponly=True, samesite="Lax", path=SIGN_UP_PATH
    )
    return response


async def _refused(request: web.Request, reason: str) -> web.Response:
    message = ctx_of(request).config.registrations.message
    return await render(
        request,
        "message.html",
        status=403,
        heading="Sign-up is closed",
        message=f"{reason}. {message}".strip() if message else f"{reason}.",
        code="",
    )


async def _form_or_refusal(request: web.Request, invite_code: str) -> web.Response:
    ctx = ctx_of(request)
    try:
        invite = await registrations.may_sign_up(ctx.store, ctx.config, invite_code)
    except Forbidden as exc:
        return await _refused(request, str(exc))
    return await _page(request, {"invite_code": invite.code if invite else ""})


@routes.get(SIGN_UP_PATH)
async def sign_up_form(request: web.Request) -> web.Response:
    return await _form_or_refusal(request, request.query.get("invite", "").strip())


@routes.get("/invite/{code}")
async def invite_link(request: web.Request) -> web.Response:
    return await _form_or_refusal(request, request.match_info["code"])


@routes.post(SIGN_UP_PATH)
async def sign_up(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    form = await request.post()
    values = {name: str(form.get(name, "")).strip() for name in FIELDS}
    expected = request.cookies.get(SIGN_UP_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, str(form.get("sign_up_csrf", ""))):
        problems = {"form": ["The form had expired; please try again."]}
        return await _page(request, values, problems, 403)
    password = str(form.get("password", ""))
    asked = registrations.SignUp(
        username=values["username"],
        email=values["email"],
        password=password,
        password_confirmation=str(form.get("password_confirmation", "")),
        agreement=form.get("agreement") == "1",
        reason=values["reason"],
        invite_code=values["invite_code"],
    )
    try:
        account, approved = await registrations.sign_up(ctx.store, ctx.config, asked)
    except Forbidden as exc:
        return await _refused(request, str(exc))
    except registrations.SignUpInvalid as exc:
        problems = {name: [words for _, words in found] for name, found in exc.details.items()}
        return await _page(request, values, problems, 422)
    if not approved:
        return await render(
            request,
            "message.html",
            heading="Thanks for signing up",
            message=f"Your account {account.username} is pending approval: you can log in"
            " once an admin of this server has approved it.",
            code="",
        )
    signed = await sessions.sign_in(ctx, account.username, password)
    if signed is None:  # disabled in the meantime
        raise web.HTTPFound("/login")
    raise signed_in_redirect(request, signed[0], "/home")
