"""ActivityPub endpoints: actors, inboxes, outbox, follower collections, objects."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from fedchirp.federation import documents
from fedchirp.federation.documents import ordered_collection, ordered_collection_page
from fedchirp.federation.http import ACTIVITY_JSON
from fedchirp.federation.inbox import (
    IgnoredActivity,
    InboxError,
    SignedRequest,
    authenticate,
    receive,
)
from fedchirp.services import (
    audience,
    emojis,
    featured_tags,
    follows,
    inbox,
    moderation,
    pins,
    posting,
    timelines,
)
from fedchirp.services.accounts import instance_signer, local_account
from fedchirp.services.context import Context
from fedchirp.services.errors import NotFound
from fedchirp.store.models import Account, Page, Status
from fedchirp.web.errors import ApiError
from fedchirp.web.ids import id_in_path, id_in_query
from fedchirp.web.ratelimit import rate_limits
from fedchirp.web.state import ctx_of

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

COLLECTION_PAGE_SIZE = 40
OUTBOX_PAGE_SIZE = 20


def wants_activity_json(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "").lower()
    return "application/activity+json" in accept or "application/ld+json" in accept


def activity_response(document: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(document, ensure_ascii=False),
        status=status,
        content_type=ACTIVITY_JSON,
        headers={"Vary": "Accept", "Access-Control-Allow-Origin": "*"},
    )


async def _account(request: web.Request) -> Account:
    account = await local_account(ctx_of(request), request.match_info["username"])
    if moderation.is_suspended(account):
        raise ApiError(410, "this account is suspended")  # as Mastodon answers
    return account


# -- actors -------------------------------------------------------------------


@routes.get("/users/{username}")
async def actor(request: web.Request) -> web.Response:
    account = await _account(request)
    if not wants_activity_json(request):
        raise web.HTTPFound(account.url)
    ctx = ctx_of(request)
    document = documents.actor_document(account, ctx.urls)
    # Our emoji its name and bio use, as Mastodon tags them, so other servers show them.
    document["tag"] = await emojis.note_tags(ctx, account.display_name, account.note)
    return activity_response(document)


@routes.get("/actor")
async def instance_actor(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    _, public_pem = await instance_signer(ctx.store, ctx.urls)
    return activity_response(
        documents.instance_actor_document(ctx.urls, ctx.config.server.domain, public_pem)
    )


# -- inboxes ------------------------------------------------------------------


@routes.post("/users/{username}/inbox")
async def personal_inbox(request: web.Request) -> web.Response:
    await _account(request)  # 404 for an inbox nobody has
    return await _receive(request)


@routes.post("/inbox")
async def shared_inbox(request: web.Request) -> web.Response:
    return await _receive(request)


async def _receive(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    body = await request.read()  # aiohttp answers 413 past server.max_request_bytes
    signed = SignedRequest("POST", request.path_qs, request.headers, body)
    try:
        activity, signer = await receive(
            ctx.resolver,
            ctx.config,
            signed,
            request.headers.get("Content-Type", ""),
            rate_limits(request).inbox,
        )
    except IgnoredActivity:
        return web.Response(status=202)
    if moderation.is_suspended(signer):  # as the key cache has it: see resolver._cached_key
        return web.Response(status=202)  # dropped: nothing stored, nothing queued
    await inbox.accept(ctx, activity, signer, body)  # applied by a worker (services/jobs.py)
    # The sender's server is up: if deliveries to it had stopped (unavailable), they resume.
    await ctx.delivery.availability.heard_from(signer)
    return web.Response(status=202)


# -- collections --------------------------------------------------------------


@routes.get("/users/{username}/outbox")
async def outbox(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    account = await _account(request)
    base = account.outbox_url
    if "page" not in request.query:
        total = await timelines.post_count(ctx, account)
        return activity_response(ordered_collection(base, total, f"{base}?page=true"))
    max_id = _int_query(request, "max_id")
    items, next_max_id = await timelines.outbox_page(
        ctx, account, Page(max_id=max_id, limit=OUTBOX_PAGE_SIZE)
    )
    next_page = f"{base}?page=true&max_id={next_max_id}" if next_max_id else None
    page_id = f"{base}?page=true" + (f"&max_id={max_id}" if max_id else "")
    return activity_response(ordered_collection_page(page_id, base, items, next_page, None))


@routes.get("/users/{username}/collections/featured")
async def featured(request: web.Request) -> web.Response:
    """The pinned posts, embedded whole, as Mastodon serves toot:featured."""
    ctx = ctx_of(request)
    account = await _account(request)
    notes = await pins.featured_documents(ctx, account)
    collection = ordered_collection(ctx.urls.featured(account.username), len(notes), None)
    # The full context: the embedded Notes use its extension terms.
    document = documents.with_context(documents.strip_context(collection))
    document["orderedItems"] = notes
    return activity_response(document)


@routes.get("/users/{username}/collections/tags")
async def featured_tags_collection(request: web.Request) -> web.Response:
    """The hashtags the account features (toot:featuredTags)."""
    ctx = ctx_of(request)
    account = await _account(request)
    names = [f.tag.tag for f in await featured_tags.of_account(ctx, account)]
    uri = ctx.urls.featured_tags(account.username)
    return activity_response(documents.hashtag_collection(uri, names, ctx.urls))


@routes.get("/users/{username}/followers")
async def followers(request: web.Request) -> web.Response:
    return await _follow_collection(request, "followers")


@routes.get("/users/{username}/following")
async def following(request: web.Request) -> web.Response:
    return await _follow_collection(request, "following")


async def _follow_collection(request: web.Request, direction: str) -> web.Response:
    ctx = ctx_of(request)
    account = await _account(request)
    base = account.followers_url if direction == "followers" else account.following_url
    follower_count, following_count = await follows.counts(ctx, account)
    total = follower_count if direction == "followers" else following_count
    if "page" not in request.query:
        return activity_response(ordered_collection(base, total, f"{base}?page=true"))
    max_id = _int_query(request, "max_id")
    page = Page(max_id=max_id, limit=COLLECTION_PAGE_SIZE)
    pairs = await follows.follow_list(ctx, account, direction, page)
    next_page = f"{base}?page=true&max_id={pairs[-1][0]}" if len(pairs) == page.limit else None
    page_id = f"{base}?page=true" + (f"&max_id={max_id}" if max_id else "")
    document = ordered_collection_page(page_id, base, [a.uri for _, a in pairs], next_page, None)
    document["totalItems"] = total
    return activity_response(document)


def _int_query(request: web.Request, name: str) -> int | None:
    if request.query.get(name) == "true":
        return None
    return id_in_query(request, name)


# -- objects ------------------------------------------------------------------


@routes.get("/users/{username}/statuses/{status_id}")
async def status_object(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    account, status = await _local_status(request)
    if not wants_activity_json(request):
        # Browsers go to the post's page, which applies the visibility rules for
        # whoever is signed in; a 302 here must not reveal that a hidden post exists.
        if status.visibility not in audience.PUBLICLY_LISTED:
            raise NotFound("post not found")
        raise web.HTTPFound(status.url)
    await require_visible(request, ctx, status)
    return activity_response(await posting.note_document(ctx, status, account))


@routes.get("/users/{username}/statuses/{status_id}/activity")
async def status_activity(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    account, status = await _local_status(request)
    await require_visible(request, ctx, status)
    note = await posting.note_document(ctx, status, account)
    return activity_response(documents.create_activity(note))


async def _local_status(request: web.Request) -> tuple[Account, Status]:
    account = await _account(request)
    status_id = id_in_path(request, "status_id")
    return account, await timelines.local_post(ctx_of(request), account, status_id)


async def require_visible(request: web.Request, ctx: Context, status: Status) -> None:
    """Restricted posts are served only to a signed fetch from someone in the audience;
    to anyone else they do not exist (404, so their existence is not revealed)."""
    if status.visibility in audience.PUBLICLY_LISTED:
        return
    if "Signature" not in request.headers and "Authorization" not in request.headers:
        raise NotFound("post not found")
    try:
        viewer = await authenticate(
            ctx.resolver, ctx.config, SignedRequest("GET", request.path_qs, request.headers)
        )
    except InboxError as exc:
        raise ApiError(exc.status, exc.reason) from exc
    if not await audience.can_see(ctx, viewer, status):
        raise NotFound("post not found")
