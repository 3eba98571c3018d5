"""Likes and boosts, made here or received from other servers."""

from __future__ import annotations

import secrets
from datetime import datetime

from fedchirp.clock import now_iso, to_iso, utcnow
from fedchirp.federation import documents
from fedchirp.services import audience, streaming
from fedchirp.services.context import Context
from fedchirp.services.errors import Forbidden, NotFound
from fedchirp.services.notifications import notify
from fedchirp.store.models import Account, Status


async def _author(ctx: Context, status: Status) -> Account:
    author = await ctx.store.get_account(status.account_id)
    assert author is not None
    return author


async def _visible(ctx: Context, viewer: Account, status: Status) -> Status:
    """The boosted post behind a boost, checked visible to the viewer."""
    if status.reblog_of_id is not None:
        original = await ctx.store.get_status(status.reblog_of_id)
        if original is None:
            raise NotFound("post not found")
        status = original
    if not await audience.can_see(ctx, viewer, status):
        raise NotFound("post not found")
    return status


async def favourite(ctx: Context, account: Account, status: Status) -> Status:
    status = await _visible(ctx, account, status)
    uri = ctx.urls.activity(account.username, "likes", secrets.token_hex(8))
    author = await _author(ctx, status)
    async with ctx.store.atomic():
        if not await ctx.store.insert_favourite(account.id, status.id, uri):
            return status  # already liked
        await notify(ctx, [author], "favourite", account, status)
        if not author.is_local:
            like = documents.like_activity(uri, account, status.uri)
            await ctx.delivery.enqueue(like, account, [author.delivery_inbox])
    return status


async def unfavourite(ctx: Context, account: Account, status: Status) -> Status:
    status = await _visible(ctx, account, status)
    existing = await ctx.store.get_favourite(account.id, status.id)
    if existing is None:
        return status
    author = await _author(ctx, status)
    async with ctx.store.atomic():
        await ctx.store.delete_favourite(existing.id)
        if not author.is_local:
            undo = documents.undo_activity(
                account, documents.like_activity(existing.uri, account, status.uri)
            )
            await ctx.delivery.enqueue(undo, account, [author.delivery_inbox])
    return status


async def reblog(ctx: Context, account: Account, status: Status) -> Status:
    """Boost a post to one's followers. Only public and unlisted posts can be boosted."""
    original = await _visible(ctx, account, status)
    if original.visibility not in audience.PUBLICLY_LISTED:
        raise Forbidden("only public or unlisted posts can be boosted")
    existing = await ctx.store.find_reblog(account.id, original.id)
    if existing is not None:
        return existing
    username = account.username
    author = await _author(ctx, original)
    async with ctx.store.atomic():  # the boost, its notification and its deliveries
        boost = await ctx.store.insert_status(
            {
                "account_id": account.id,
                "local": 1,
                "visibility": "public",
                "reblog_of_id": original.id,
                "created_at": now_iso(),
            },
            utcnow(),
            uris_for=lambda sid: {
                "uri": f"{ctx.urls.status(username, sid)}/activity",
                "url": ctx.urls.status_page(username, sid),
            },
        )
        await notify(ctx, [author], "reblog", account, original)
        await streaming.announce(ctx, "status", boost.id)
        addressing = audience.addressing_for(account, "public", [author])
        inboxes = await audience.delivery_inboxes(ctx, account, "public", [author])
        announce = documents.announce_activity(boost, account, original.uri, addressing)
        await ctx.delivery.enqueue(announce, account, inboxes, boost.id)
    return boost


async def unreblog(ctx: Context, account: Account, status: Status) -> Status:
    original = await _visible(ctx, account, status)
    boost = await ctx.store.find_reblog(account.id, original.id)
    if boost is None:
        return original
    author = await _author(ctx, original)
    addressing = audience.addressing_for(account, "public", [author])
    inboxes = await audience.delivery_inboxes(ctx, account, "public", [author])
    announce = documents.announce_activity(boost, account, original.uri, addressing)
    async with ctx.store.atomic():
        await ctx.store.delete_status(boost)
        await ctx.delivery.enqueue(documents.undo_activity(account, announce), account, inboxes)
        await streaming.announce(ctx, "delete", boost.id)
    return original


# -- incoming -----------------------------------------------------------------


async def receive_like(ctx: Context, liker: Account, status: Status, uri: str) -> None:
    if not await audience.can_see(ctx, liker, status):
        return  # a like of a post they were never shown changes nothing
    author = await _author(ctx, status)
    async with ctx.store.atomic():
        if await ctx.store.insert_favourite(liker.id, status.id, uri):
            await notify(ctx, [author], "favourite", liker, status)


async def receive_unlike(ctx: Context, liker: Account, status: Status) -> None:
    existing = await ctx.store.get_favourite(liker.id, status.id)
    if existing is not None:
        await ctx.store.delete_favourite(existing.id)


async def receive_announce(
    ctx: Context,
    booster: Account,
    original: Status,
    uri: str,
    visibility: str,
    published: datetime | None,
) -> None:
    """A remote boost. Boosts of posts that are not publicly listed are refused."""
    if original.visibility not in audience.PUBLICLY_LISTED:
        return
    if await ctx.store.find_reblog(booster.id, original.id) is not None:
        return
    if await ctx.store.get_status_by_uri(uri) is not None:
        return
    moment = published if published is not None and published <= utcnow() else utcnow()
    author = await _author(ctx, original)
    async with ctx.store.atomic():
        boost = await ctx.store.insert_status(
            {
                "uri": uri,
                "url": uri,
                "account_id": booster.id,
                "local": 0,
                "visibility": visibility if visibility in audience.PUBLICLY_LISTED else "private",
                "reblog_of_id": original.id,
                "created_at": to_iso(moment),
            },
            moment,
        )
        await notify(ctx, [author], "reblog", booster, original)
        await streaming.announce(ctx, "status", boost.id)


async def receive_unannounce(ctx: Context, booster: Account, boost: Status) -> None:
    if boost.account_id == booster.id and boost.reblog_of_id is not None:
        async with ctx.store.atomic():
            await ctx.store.delete_status(boost)
            await streaming.announce(ctx, "delete", boost.id)


# The four reversible actions on a post, by the names the API and the pages use.
ACTIONS = {
    "favourite": favourite,
    "unfavourite": unfavourite,
    "reblog": reblog,
    "unreblog": unreblog,
}
