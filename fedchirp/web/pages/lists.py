"""The lists pages: your lists of followed accounts, their members, and each list's
timeline. Plain forms: no JavaScript."""

from __future__ import annotations

from aiohttp import web

from fedchirp.services import follows, lists
from fedchirp.services.errors import ServiceError
from fedchirp.store.models import Page
from fedchirp.web.api.entities import Renderer
from fedchirp.web.ids import id_in_path, id_in_query, parse_id
from fedchirp.web.pages.common import checked_form, go, go_with_problem, render, require_signed_in
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()

POLICIES = {
    "list": "Replies to list members",
    "followed": "Replies to anyone you follow",
    "none": "No replies",
}


@routes.get("/lists")
async def lists_page(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    me = (await require_signed_in(request)).account
    renderer = Renderer(ctx, me)
    shown = []
    for found in await lists.all_lists(ctx, me):
        members = await lists.members(ctx, me, found.id, None)
        shown.append({"list": found, "members": [await renderer.account(a) for _, a in members]})
    following = await follows.follow_list(ctx, me, "following", Page(limit=80))
    return await render(
        request,
        "lists.html",
        lists=shown,
        following=[await renderer.account(a) for _, a in following],
        policies=POLICIES,
    )


@routes.get("/lists/{id:\\d+}")
async def list_timeline(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    me = (await require_signed_in(request)).account
    list_id = id_in_path(request)
    found = await lists.owned_list(ctx, me, list_id)
    page = Page(max_id=id_in_query(request, "max_id"), limit=20)
    statuses = await lists.timeline(ctx, me, list_id, page)
    return await render(
        request,
        "list.html",
        list=found,
        statuses=await Renderer(ctx, me).statuses(statuses),
        older=statuses[-1].id if len(statuses) == page.limit else None,
    )


@routes.post("/lists")
async def create_list(request: web.Request) -> web.Response:
    session, form = await checked_form(request)
    try:
        await lists.create_list(
            ctx_of(request),
            session.account,
            str(form.get("title", "")),
            str(form.get("replies_policy", "list")),
            form.get("exclusive") == "on",
        )
    except ServiceError as exc:
        raise go_with_problem(session, "/lists", str(exc)) from exc
    raise go("/lists")


@routes.post("/lists/{id:\\d+}/{change:add|remove|delete}")
async def change_list(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    session, form = await checked_form(request)
    list_id = id_in_path(request)
    change = request.match_info["change"]
    try:
        if change == "delete":
            await lists.delete_list(ctx, session.account, list_id)
            raise go("/lists")
        account_id = parse_id(str(form.get("account_id", "")))
        if account_id is None:
            raise go_with_problem(session, "/lists", "choose an account")
        act = lists.add_members if change == "add" else lists.remove_members
        await act(ctx, session.account, list_id, [account_id])
    except ServiceError as exc:
        raise go_with_problem(session, "/lists", str(exc)) from exc
    raise go(f"/lists#list-{list_id}")
