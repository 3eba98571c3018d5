"""Follows: the reader asks, the writer (or their locked account's owner) decides."""

from __future__ import annotations

import secrets

from fedchirp.federation import documents
from fedchirp.services.context import Context
from fedchirp.services.errors import Forbidden, Invalid, NotFound
from fedchirp.services.notifications import notify
from fedchirp.store.models import Account, Follow, Page


async def follow(ctx: Context, follower: Account, target: Account) -> Follow:
    """follower (local) asks to follow target. Remote targets answer with Accept/Reject."""
    if follower.id == target.id:
        raise Invalid("you cannot follow yourself")
    if target.suspended_at:
        raise Forbidden("this account is suspended")
    if await ctx.store.hidden_accounts(follower.id, [target.id]):
        raise Forbidden("a block between you (or of its domain) rules out following")
    existing = await ctx.store.get_follow(follower.id, target.id)
    if existing is not None:
        return existing
    uri = ctx.urls.activity(follower.username, "follows", secrets.token_hex(8))
    async with ctx.store.atomic():  # the follow with its notification or its delivery
        if target.is_local:
            state = "pending" if target.locked else "accepted"
            created = await ctx.store.insert_follow(follower.id, target.id, uri, state)
            await notify(ctx, [target], "follow_request" if target.locked else "follow", follower)
            return created
        created = await ctx.store.insert_follow(follower.id, target.id, uri, "pending")
        await ctx.delivery.enqueue(
            documents.follow_activity(created.uri, follower, target), follower, [target.inbox_url]
        )
    return created


async def unfollow(ctx: Context, follower: Account, target: Account) -> None:
    """Stop following (or withdraw a request); a remote target is sent Undo(Follow)."""
    existing = await ctx.store.get_follow(follower.id, target.id)
    if existing is None:
        return
    async with ctx.store.atomic():
        await ctx.store.delete_follow(existing.id)
        if not target.is_local:
            undo = documents.undo_activity(
                follower, documents.follow_activity(existing.uri, follower, target)
            )
            await ctx.delivery.enqueue(undo, follower, [target.inbox_url])


async def follow_list(
    ctx: Context, account: Account, direction: str, page: Page
) -> list[tuple[int, Account]]:
    """Accepted followers or followees of account as (follow id, account), newest first."""
    if direction not in ("followers", "following"):
        raise Invalid("direction must be followers or following")
    return await ctx.store.follow_page(account.id, direction, page)


async def counts(ctx: Context, account: Account) -> tuple[int, int]:
    """(followers, following), accepted follows only."""
    return await ctx.store.follow_counts(account.id)


async def pending_requests(ctx: Context, followee: Account) -> list[tuple[Follow, Account]]:
    follows = await ctx.store.pending_follows(followee.id)
    accounts = await ctx.store.get_accounts(f.follower_id for f in follows)
    return [(f, accounts[f.follower_id]) for f in follows if f.follower_id in accounts]


async def authorize(ctx: Context, followee: Account, follower: Account) -> Follow:
    """Approve a pending request to a locked account."""
    request = await _pending(ctx, followee, follower)
    async with ctx.store.atomic():
        await ctx.store.accept_follow(request.id)
        if not follower.is_local:
            await _respond(ctx, "Accept", followee, follower, request.uri)
        await notify(ctx, [followee], "follow", follower)
    accepted = await ctx.store.get_follow_by_id(request.id)
    assert accepted is not None
    return accepted


async def reject(ctx: Context, followee: Account, follower: Account) -> None:
    request = await _pending(ctx, followee, follower)
    async with ctx.store.atomic():
        await ctx.store.delete_follow(request.id)
        if not follower.is_local:
            await _respond(ctx, "Reject", followee, follower, request.uri)


async def remove_follower(ctx: Context, followee: Account, follower: Account) -> None:
    """Drop an accepted follower; a remote one is told with Reject(Follow), as Mastodon does."""
    existing = await ctx.store.get_follow(follower.id, followee.id)
    if existing is None:
        return
    async with ctx.store.atomic():
        await ctx.store.delete_follow(existing.id)
        if not follower.is_local:
            await _respond(ctx, "Reject", followee, follower, existing.uri)


async def _pending(ctx: Context, followee: Account, follower: Account) -> Follow:
    request = await ctx.store.get_follow(follower.id, followee.id)
    if request is None or request.state != "pending":
        raise NotFound("no pending follow request from this account")
    return request


async def _respond(
    ctx: Context, kind: str, followee: Account, follower: Account, follow_uri: str
) -> None:
    """Send Accept or Reject of the Follow with id follow_uri."""
    response_id = ctx.urls.activity(followee.username, f"{kind.lower()}s", secrets.token_hex(8))
    activity = documents.respond_to_follow(kind, response_id, followee, follow_uri, follower)
    await ctx.delivery.enqueue(activity, followee, [follower.inbox_url])


# -- incoming -----------------------------------------------------------------


async def receive_follow(ctx: Context, follower: Account, target: Account, uri: str) -> None:
    """A remote Follow of a local account: record it, then accept unless locked. One
    across a block (or the target's domain block) is rejected and not recorded."""
    if await ctx.store.hidden_accounts(target.id, [follower.id]):
        await _respond(ctx, "Reject", target, follower, uri)
        return
    existing = await ctx.store.get_follow(follower.id, target.id)
    if existing is not None:
        if existing.state == "accepted":
            # Asked again (maybe our Accept was lost): accept this Follow, change nothing.
            await _respond(ctx, "Accept", target, follower, uri)
        return  # a pending request still waits for the owner
    state = "pending" if target.locked else "accepted"
    async with ctx.store.atomic():
        created = await ctx.store.insert_follow(follower.id, target.id, uri, state)
        if created.state == "accepted":
            await _respond(ctx, "Accept", target, follower, created.uri)
            await notify(ctx, [target], "follow", follower)
        else:
            await notify(ctx, [target], "follow_request", follower)


async def receive_accept(ctx: Context, followee: Account, follow: Follow) -> None:
    if follow.followee_id == followee.id and follow.state == "pending":
        await ctx.store.accept_follow(follow.id)


async def receive_reject(ctx: Context, followee: Account, follow: Follow) -> None:
    """A Reject ends a request, or (from Mastodon's 'remove follower') a follow."""
    if follow.followee_id == followee.id:
        await ctx.store.delete_follow(follow.id)


async def receive_undo_follow(ctx: Context, follower: Account, target: Account) -> None:
    existing = await ctx.store.get_follow(follower.id, target.id)
    if existing is not None:
        await ctx.store.delete_follow(existing.id)
