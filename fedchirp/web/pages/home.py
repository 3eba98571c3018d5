"""The signed-in pages: home timeline and compose box, following, likes and boosts,
follow requests, notifications and follower groups. Plain forms: no JavaScript."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from fedchirp.services import (
    circles,
    follows,
    interactions,
    media,
    notifications,
    posting,
    scheduling,
    timelines,
)
from fedchirp.services.accounts import account_by_id, resolve_account
from fedchirp.services.errors import Invalid, NotFound, ServiceError
from fedchirp.services.ratelimits import MEDIA_PER_ACCOUNT, STATUSES_PER_ACCOUNT, RateLimited
from fedchirp.store.models import Page
from fedchirp.web.api.entities import Renderer
from fedchirp.web.ids import id_in_path, id_in_query, parse_id
from fedchirp.web.pages.common import (
    checked_form,
    go,
    go_with_problem,
    render,
    require_signed_in,
)
from fedchirp.web.pages.refusals import refused_page
from fedchirp.web.ratelimit import per_account
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()


@routes.get("/home")
async def home(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    session = await require_signed_in(request)
    me = session.account
    page = Page(max_id=id_in_query(request, "max_id"), limit=20)
    statuses = await timelines.home(ctx, me, page)
    renderer = Renderer(ctx, me)
    return await render(
        request,
        "home.html",
        statuses=await renderer.statuses(statuses),
        older=statuses[-1].id if len(statuses) == page.limit else None,
        groups=await circles.list_circles(ctx, me),
        scheduled=[
            await renderer.scheduled_status(s) for s in await scheduling.list_scheduled(ctx, me)
        ],
        max_chars=ctx.config.posts.max_chars,
    )


@routes.post("/compose")
async def compose(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    session, form = await checked_form(request)
    me = session.account
    image = form.get("image")
    with_image = isinstance(image, web.FileField) and bool(image.filename)
    try:
        await per_account(request, STATUSES_PER_ACCOUNT, me)
        if with_image:
            await per_account(request, MEDIA_PER_ACCOUNT, me)
    except RateLimited as exc:
        return await refused_page(request, exc)
    reply_to = str(form.get("in_reply_to_id", ""))
    reply_id = parse_id(reply_to)
    back = f"/statuses/{reply_id}" if reply_id is not None else "/home"
    audience = str(form.get("audience", "public"))
    visibility, circle_id = audience, None
    if audience.startswith("group:") and parse_id(audience[6:]) is not None:
        visibility, circle_id = "limited", parse_id(audience[6:])
    try:
        if reply_to and reply_id is None:
            raise NotFound("the post replied to is not here")
        media_ids = []
        if isinstance(image, web.FileField) and with_image:
            data = image.file.read(ctx.config.media.max_upload_bytes + 1)
            uploaded = await media.upload(
                ctx, me, data, str(form.get("image_description", "")), None
            )
            media_ids.append(uploaded.id)
        params = {
            "text": str(form.get("status", "")),
            "visibility": visibility,
            "spoiler_text": str(form.get("spoiler_text", "")),
            "in_reply_to_id": reply_id,
            "circle_id": circle_id,
            "media_ids": media_ids,
        }
        when = str(form.get("scheduled_at", "")).strip()
        if when:
            await scheduling.schedule(ctx, me, _utc_from_form(when), params)
            raise go(back, "Scheduled")
        await posting.create_status(ctx, me, params.pop("text"), **params)
    except ServiceError as exc:
        raise go_with_problem(session, back, f"Not posted: {exc}") from exc
    raise go(back, "Posted")


def _utc_from_form(value: str) -> datetime:
    """<input type=datetime-local> sends 2026-11-23T18:30 (no zone); the form says UTC."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        raise Invalid("the publish time is not a date and time") from None


@routes.post("/scheduled/{id:\\d+}/cancel")
async def cancel_scheduled(request: web.Request) -> web.Response:
    session, _ = await checked_form(request)
    await scheduling.cancel(ctx_of(request), session.account, id_in_path(request))
    raise go("/home", "Cancelled")


@routes.post("/follow")
async def follow_by_handle(request: web.Request) -> web.Response:
    """Follow user@host: WebFinger finds them, wherever they are."""
    ctx = ctx_of(request)
    session, form = await checked_form(request)
    handle = str(form.get("handle", "")).strip()
    try:
        target = await resolve_account(ctx, handle)
        follow = await follows.follow(ctx, session.account, target)
    except ServiceError as exc:
        raise go_with_problem(session, "/home", f"Could not follow {handle}: {exc}") from exc
    raise go(f"/@{target.acct()}", "Requested" if follow.state == "pending" else "Following")


@routes.post("/accounts/{id:\\d+}/{action:follow|unfollow}")
async def follow_button(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    session, _ = await checked_form(request)
    target = await account_by_id(ctx, id_in_path(request))
    if request.match_info["action"] == "follow":
        follow = await follows.follow(ctx, session.account, target)
        notice = "Requested" if follow.state == "pending" else "Following"
    else:
        await follows.unfollow(ctx, session.account, target)
        notice = "Unfollowed"
    raise go(f"/@{target.acct()}", notice)


@routes.post("/statuses/{id:\\d+}/{action:favourite|unfavourite|reblog|unreblog|delete}")
async def status_action(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    session, _ = await checked_form(request)
    status = await timelines.visible_status(ctx, session.account, id_in_path(request))
    action = request.match_info["action"]
    referer = request.headers.get("Referer", "")
    back = referer if referer.startswith(ctx.urls.base + "/") else f"/statuses/{status.id}"
    try:
        if action == "delete":
            await posting.delete_status(ctx, session.account, status)
            raise go("/home", "Deleted")
        await interactions.ACTIONS[action](ctx, session.account, status)
    except ServiceError as exc:
        raise go_with_problem(session, back, str(exc)) from exc
    raise go(back)


@routes.get("/follow_requests")
async def requests_page(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    session = await require_signed_in(request)
    renderer = Renderer(ctx, session.account)
    pending = await follows.pending_requests(ctx, session.account)
    return await render(
        request, "requests.html", requesters=[await renderer.account(a) for _, a in pending]
    )


@routes.post("/follow_requests/{id:\\d+}/{decision:authorize|reject}")
async def decide_request(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    session, _ = await checked_form(request)
    requester = await account_by_id(ctx, id_in_path(request))
    if request.match_info["decision"] == "authorize":
        await follows.authorize(ctx, session.account, requester)
        raise go("/follow_requests", "Accepted")
    await follows.reject(ctx, session.account, requester)
    raise go("/follow_requests", "Rejected")


@routes.get("/notifications")
async def notifications_page(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    session = await require_signed_in(request)
    found = await notifications.list_notifications(ctx, session.account, Page(limit=40))
    rendered = await Renderer(ctx, session.account).notifications(found)
    return await render(request, "notifications.html", notifications=rendered)


@routes.get("/groups")
async def groups_page(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    session = await require_signed_in(request)
    me = session.account
    renderer = Renderer(ctx, me)
    groups = []
    for circle in await circles.list_circles(ctx, me):
        members = await circles.members(ctx, me, circle.id)
        groups.append(
            {
                "id": circle.id,
                "title": circle.title,
                "members": [await renderer.account(a) for a in members],
            }
        )
    followers = await follows.follow_list(ctx, me, "followers", Page(limit=80))
    return await render(
        request,
        "groups.html",
        groups=groups,
        followers=[await renderer.account(a) for _, a in followers],
    )


@routes.post("/groups")
async def create_group(request: web.Request) -> web.Response:
    session, form = await checked_form(request)
    try:
        await circles.create_circle(ctx_of(request), session.account, str(form.get("title", "")))
    except ServiceError as exc:
        raise go_with_problem(session, "/groups", str(exc)) from exc
    raise go("/groups", "GroupCreated")


@routes.post("/groups/{id:\\d+}/{change:add|remove}")
async def change_group(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    session, form = await checked_form(request)
    circle_id = id_in_path(request)
    account_id = parse_id(str(form.get("account_id", "")))
    if account_id is None:
        raise go("/groups", "ChooseAccount")
    change = (
        circles.add_members if request.match_info["change"] == "add" else (circles.remove_members)
    )
    try:
        await change(ctx, session.account, circle_id, [account_id])
    except ServiceError as exc:
        raise go_with_problem(session, "/groups", str(exc)) from exc
    raise go(f"/groups#group-{circle_id}", "GroupUpdated")
