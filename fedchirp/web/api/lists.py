"""/api/v1/lists: lists of followed accounts, their members and their timelines, as
Mastodon serves them."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedchirp.services import lists
from fedchirp.services.accounts import account_by_id
from fedchirp.store.models import Page, UserList
from fedchirp.web.api.auth import require_user
from fedchirp.web.api.entities import Renderer
from fedchirp.web.api.params import (
    flag,
    id_list,
    page_from,
    paged_response,
    path_id,
    read_params,
    text,
)
from fedchirp.web.errors import ApiError
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()


def _list(found: UserList) -> dict[str, Any]:
    return {
        "id": str(found.id),
        "title": found.title,
        "replies_policy": found.replies_policy,
        "exclusive": found.exclusive,
    }


def _optional(params: dict[str, Any], name: str) -> str | None:
    return text(params, name) if params.get(name) is not None else None


@routes.get("/api/v1/lists")
async def index(request: web.Request) -> web.Response:
    owner = await require_user(request, "read:lists")
    return web.json_response([_list(f) for f in await lists.all_lists(ctx_of(request), owner)])


@routes.post("/api/v1/lists")
async def create(request: web.Request) -> web.Response:
    owner = await require_user(request, "write:lists")
    params = await read_params(request)
    found = await lists.create_list(
        ctx_of(request),
        owner,
        text(params, "title"),
        text(params, "replies_policy", "list") or "list",
        flag(params, "exclusive"),
    )
    return web.json_response(_list(found))


@routes.get("/api/v1/lists/{id}")
async def show(request: web.Request) -> web.Response:
    owner = await require_user(request, "read:lists")
    return web.json_response(
        _list(await lists.owned_list(ctx_of(request), owner, path_id(request)))
    )


@routes.put("/api/v1/lists/{id}")
async def change(request: web.Request) -> web.Response:
    owner = await require_user(request, "write:lists")
    params = await read_params(request)
    exclusive = flag(params, "exclusive") if params.get("exclusive") is not None else None
    found = await lists.update_list(
        ctx_of(request),
        owner,
        path_id(request),
        _optional(params, "title"),
        _optional(params, "replies_policy"),
        exclusive,
    )
    return web.json_response(_list(found))


@routes.delete("/api/v1/lists/{id}")
async def delete(request: web.Request) -> web.Response:
    owner = await require_user(request, "write:lists")
    await lists.delete_list(ctx_of(request), owner, path_id(request))
    return web.json_response({})


@routes.get("/api/v1/lists/{id}/accounts")
async def accounts(request: web.Request) -> web.Response:
    """Members, 40 a page (80 at most); limit=0 gives them all, as on Mastodon."""
    ctx = ctx_of(request)
    owner = await require_user(request, "read:lists")
    page: Page | None = page_from(request, default_limit=40, max_limit=80)
    if request.query.get("limit") == "0":
        page = None
    pairs = await lists.members(ctx, owner, path_id(request), page)
    renderer = Renderer(ctx, owner)
    body = [await renderer.account(account) for _, account in pairs]
    if page is None:
        return web.json_response(body)
    return paged_response(request, body, [member_id for member_id, _ in pairs], page)


@routes.post("/api/v1/lists/{id}/accounts")
async def add_accounts(request: web.Request) -> web.Response:
    owner = await require_user(request, "write:lists")
    params = await read_params(request)
    account_ids = id_list(params, "account_ids")
    if not account_ids:
        raise ApiError(422, "account_ids can't be empty")
    await lists.add_members(ctx_of(request), owner, path_id(request), account_ids)
    return web.json_response({})


@routes.delete("/api/v1/lists/{id}/accounts")
async def remove_accounts(request: web.Request) -> web.Response:
    owner = await require_user(request, "write:lists")
    params = await read_params(request)
    await lists.remove_members(
        ctx_of(request), owner, path_id(request), id_list(params, "account_ids")
    )
    return web.json_response({})


@routes.get("/api/v1/accounts/{id:\\d+}/lists")
async def account_lists(request: web.Request) -> web.Response:
    """The viewer's lists that have this account in them."""
    ctx = ctx_of(request)
    owner = await require_user(request, "read:lists")
    account = await account_by_id(ctx, path_id(request))
    return web.json_response([_list(f) for f in await lists.lists_with(ctx, owner, account)])


@routes.get("/api/v1/timelines/list/{id}")
async def timeline(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    owner = await require_user(request, "read:lists")
    page = page_from(request)
    found = await lists.timeline(ctx, owner, path_id(request), page)
    body = await Renderer(ctx, owner).statuses(found)
    return paged_response(request, body, [s.id for s in found], page)
