"""/api/v2/filters (with their keywords and posts) and the v1 filters over them."""

from __future__ import annotations

from aiohttp import web

from fedchirp.services import filter_edits, filters, filters_v1
from fedchirp.services.filter_edits import KeywordChange
from fedchirp.web.api.auth import require_user
from fedchirp.web.api.filter_entities import (
    filter_entity,
    keyword_entity,
    status_entity,
    v1_entity,
)
from fedchirp.web.api.filter_params import filter_changes, read_filter_params, v1_changes
from fedchirp.web.api.params import flag, id_from, path_id, read_params, text
from fedchirp.web.errors import ApiError
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()
ID = r"{id:\d+}"


@routes.get("/api/v2/filters")
async def index(request: web.Request) -> web.Response:
    owner = await require_user(request, "read:filters")
    found = await filters.list_filters(ctx_of(request), owner)
    return web.json_response([filter_entity(view) for view in found])


@routes.post("/api/v2/filters")
async def create(request: web.Request) -> web.Response:
    owner = await require_user(request, "write:filters")
    changes = filter_changes(await read_filter_params(request))
    view = await filter_edits.create_filter(ctx_of(request), owner, changes)
    return web.json_response(filter_entity(view))


@routes.get(f"/api/v2/filters/{ID}")
async def show(request: web.Request) -> web.Response:
    owner = await require_user(request, "read:filters")
    view = await filters.get_filter(ctx_of(request), owner, path_id(request))
    return web.json_response(filter_entity(view))


@routes.put(f"/api/v2/filters/{ID}")
async def update(request: web.Request) -> web.Response:
    owner = await require_user(request, "write:filters")
    changes = filter_changes(await read_filter_params(request))
    view = await filter_edits.update_filter(ctx_of(request), owner, path_id(request), changes)
    return web.json_response(filter_entity(view))


@routes.delete(f"/api/v2/filters/{ID}")
async def delete(request: web.Request) -> web.Response:
    owner = await require_user(request, "write:filters")
    await filter_edits.delete_filter(ctx_of(request), owner, path_id(request))
    return web.json_response({})


# -- keywords ------------------------------------------------------------------------


@routes.get(f"/api/v2/filters/{ID}/keywords")
async def keywords(request: web.Request) -> web.Response:
    owner = await require_user(request, "read:filters")
    found = await filter_edits.keywords(ctx_of(request), owner, path_id(request))
    return web.json_response([keyword_entity(k) for k in found])


@routes.post(f"/api/v2/filters/{ID}/keywords")
async def add_keyword(request: web.Request) -> web.Response:
    owner = await require_user(request, "write:filters")
    params = await read_params(request)
    added = await filter_edits.add_keyword(
        ctx_of(request),
        owner,
        path_id(request),
        text(params, "keyword"),
        flag(params, "whole_word", default=True),
    )
    return web.json_response(keyword_entity(added))


@routes.get(f"/api/v2/filters/keywords/{ID}")
async def show_keyword(request: web.Request) -> web.Response:
    owner = await require_user(request, "read:filters")
    keyword = await filters.own_keyword(ctx_of(request), owner, path_id(request))
    return web.json_response(keyword_entity(keyword))


@routes.put(f"/api/v2/filters/keywords/{ID}")
async def update_keyword(request: web.Request) -> web.Response:
    owner = await require_user(request, "write:filters")
    params = await read_params(request)
    change = KeywordChange(
        keyword=text(params, "keyword") if params.get("keyword") is not None else None,
        whole_word=flag(params, "whole_word") if "whole_word" in params else None,
    )
    updated = await filter_edits.update_keyword(ctx_of(request), owner, path_id(request), change)
    return web.json_response(keyword_entity(updated))


@routes.delete(f"/api/v2/filters/keywords/{ID}")
async def delete_keyword(request: web.Request) -> web.Response:
    owner = await require_user(request, "write:filters")
    await filter_edits.delete_keyword(ctx_of(request), owner, path_id(request))
    return web.json_response({})


# -- posts ---------------------------------------------------------------------------


@routes.get(f"/api/v2/filters/{ID}/statuses")
async def statuses(request: web.Request) -> web.Response:
    owner = await require_user(request, "read:filters")
    found = await filter_edits.filter_statuses(ctx_of(request), owner, path_id(request))
    return web.json_response([status_entity(s) for s in found])


@routes.post(f"/api/v2/filters/{ID}/statuses")
async def add_status(request: web.Request) -> web.Response:
    owner = await require_user(request, "write:filters")
    status_id = id_from((await read_params(request)).get("status_id"))
    if status_id is None:
        raise ApiError(422, "status_id must be the id of a post")
    added = await filter_edits.add_status(ctx_of(request), owner, path_id(request), status_id)
    return web.json_response(status_entity(added))


@routes.get(f"/api/v2/filters/statuses/{ID}")
async def show_status(request: web.Request) -> web.Response:
    owner = await require_user(request, "read:filters")
    item = await filters.own_filter_status(ctx_of(request), owner, path_id(request))
    return web.json_response(status_entity(item))


@routes.delete(f"/api/v2/filters/statuses/{ID}")
async def delete_status(request: web.Request) -> web.Response:
    owner = await require_user(request, "write:filters")
    await filter_edits.delete_status(ctx_of(request), owner, path_id(request))
    return web.json_response({})


# -- v1 ------------------------------------------------------------------------------


@routes.get("/api/v1/filters")
async def v1_index(request: web.Request) -> web.Response:
    owner = await require_user(request, "read:filters")
    found = await filters_v1.list_v1(ctx_of(request), owner)
    return web.json_response([v1_entity(f) for f in found])


@routes.post("/api/v1/filters")
async def v1_create(request: web.Request) -> web.Response:
    owner = await require_user(request, "write:filters")
    changes = v1_changes(await read_params(request))
    return web.json_response(v1_entity(await filters_v1.create_v1(ctx_of(request), owner, changes)))


@routes.get(f"/api/v1/filters/{ID}")
async def v1_show(request: web.Request) -> web.Response:
    owner = await require_user(request, "read:filters")
    found = await filters_v1.get_v1(ctx_of(request), owner, path_id(request))
    return web.json_response(v1_entity(found))


@routes.put(f"/api/v1/filters/{ID}")
async def v1_update(request: web.Request) -> web.Response:
    owner = await require_user(request, "write:filters")
    changes = v1_changes(await read_params(request))
    updated = await filters_v1.update_v1(ctx_of(request), owner, path_id(request), changes)
    return web.json_response(v1_entity(updated))


@routes.delete(f"/api/v1/filters/{ID}")
async def v1_delete(request: web.Request) -> web.Response:
    owner = await require_user(request, "write:filters")
    await filters_v1.delete_v1(ctx_of(request), owner, path_id(request))
    return web.json_response({})
