"""The admins' invites page: create invite links, see their uses, revoke them."""

from __future__ import annotations

import time

from aiohttp import web

from fedchirp.services import invites
from fedchirp.services.errors import Invalid
from fedchirp.services.sessions import SignedIn
from fedchirp.store.signup import Invite
from fedchirp.web.pages.common import checked_form, render, require_signed_in
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()

PAGE = "/admin/invites"
# The choices Mastodon's invite form offers.
EXPIRY_CHOICES = (
    ("30m", "30 minutes"),
    ("1h", "1 hour"),
    ("6h", "6 hours"),
    ("12h", "12 hours"),
    ("1d", "1 day"),
    ("7d", "1 week"),
    ("", "Never"),
)
MAX_USES_CHOICES = ("1", "5", "10", "25", "50", "100", "")


async def _require_admin(request: web.Request, session: SignedIn) -> None:
    user = await ctx_of(request).store.get_local_user(session.account.id)
    if user is None or not user.is_admin:
        raise web.HTTPForbidden(reason="only admins can manage invites")


def _expiry(invite: Invite, now: float) -> str:
    if invite.max_uses is not None and invite.uses >= invite.max_uses:
        return "used up"
    if invite.expires_at is None:
        return "never"
    if invite.expires_at <= now:
        return "expired"
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(invite.expires_at))


@routes.get(PAGE)
async def invites_page(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    await _require_admin(request, await require_signed_in(request))
    now = time.time()
    rows = [
        {
            "code": invite.code,
            "url": invites.invite_url(ctx.urls.base, invite.code),
            "uses": invite.uses,
            "max_uses": invite.max_uses,
            "expires": _expiry(invite, now),
            "usable": invite.usable(now),
        }
        for invite in reversed(await invites.list_invites(ctx.store))
    ]
    return await render(
        request,
        "invites.html",
        invites=rows,
        expiry_choices=EXPIRY_CHOICES,
        max_uses_choices=MAX_USES_CHOICES,
    )


@routes.post(PAGE)
async def create_invite(request: web.Request) -> web.Response:
    session, form = await checked_form(request)
    await _require_admin(request, session)
    max_uses, expires_in = str(form.get("max_uses", "")), str(form.get("expires_in", ""))
    if max_uses not in MAX_USES_CHOICES or expires_in not in dict(EXPIRY_CHOICES):
        raise Invalid("choose the number of uses and the expiry from the lists")
    await invites.create_invite(
        ctx_of(request).store,
        session.account,
        int(max_uses) if max_uses else None,
        invites.parse_duration(expires_in) if expires_in else None,
    )
    raise web.HTTPFound(PAGE)


@routes.post(PAGE + "/{code}/revoke")
async def revoke_invite(request: web.Request) -> web.Response:
    session, _ = await checked_form(request)
    await _require_admin(request, session)
    await invites.revoke_invite(ctx_of(request).store, request.match_info["code"])
    raise web.HTTPFound(PAGE)
