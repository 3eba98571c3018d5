"""The block and mute buttons of a profile page. Plain forms: no JavaScript."""

from __future__ import annotations

from aiohttp import web

from fedchirp.services import blocks, mutes
from fedchirp.services.accounts import account_by_id
from fedchirp.services.errors import ServiceError
from fedchirp.web.ids import id_in_path
from fedchirp.web.pages.common import checked_form, go, go_with_problem
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()

NOTICE_OF = {"block": "Blocked", "unblock": "Unblocked", "mute": "Muted", "unmute": "Unmuted"}


@routes.post("/accounts/{id:\\d+}/{action:block|unblock|mute|unmute}")
async def moderation_button(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    session, _ = await checked_form(request)
    me = session.account
    target = await account_by_id(ctx, id_in_path(request))
    action = request.match_info["action"]
    back = f"/@{target.acct()}"
    try:
        if action == "block":
            await blocks.block(ctx, me, target)
        elif action == "unblock":
            await blocks.unblock(ctx, me, target)
        elif action == "mute":
            await mutes.mute(ctx, me, target, notifications=True, duration=0)
        else:
            await mutes.unmute(ctx, me, target)
    except ServiceError as exc:
        raise go_with_problem(session, back, str(exc)) from exc
    raise go(back, NOTICE_OF[action])
