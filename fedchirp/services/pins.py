"""Pinned posts: one's own public or unlisted posts on one's profile (at most five, as on
Mastodon), federated as the actor's featured collection with Add and Remove."""

from __future__ import annotations

import secrets
from typing import Any

from fedchirp.federation import documents
from fedchirp.federation.resolver import ResolveError
from fedchirp.federation.vocab import Activity, id_of, same_origin
from fedchirp.services import posting, remote_posts
from fedchirp.services.context import Context
from fedchirp.services.errors import Invalid
from fedchirp.store.models import Account, Status

MAX_PINS = 5
PINNABLE = ("public", "unlisted")


async def pin(ctx: Context, account: Account, status: Status) -> Status:
    """Pin a post (again: nothing changes) and tell the followers' servers."""
    if status.account_id != account.id:
        raise Invalid("you can only pin your own posts")
    if status.reblog_of_id is not None:
        raise Invalid("a boost cannot be pinned")
    if status.visibility not in PINNABLE:
        raise Invalid("only public and unlisted posts can be pinned")
    if await ctx.store.pinned_among(account.id, [status.id]):
        return status
    if await ctx.store.pin_count(account.id) >= MAX_PINS:
        raise Invalid(f"you can pin at most {MAX_PINS} posts")
    async with ctx.store.atomic():
        await ctx.store.insert_pin(account.id, status.id)
        await _federate(ctx, "Add", account, status)
    return status


async def unpin(ctx: Context, account: Account, status: Status) -> Status:
    if status.account_id != account.id:
        raise Invalid("you can only unpin your own posts")
    async with ctx.store.atomic():
        if await ctx.store.delete_pin(account.id, status.id):
            await _federate(ctx, "Remove", account, status)
    return status


async def _federate(ctx: Context, kind: str, account: Account, status: Status) -> None:
    # A fresh token per activity: pinning again after an unpin is a new activity.
    activity_id = ctx.urls.activity(account.username, kind.lower(), secrets.token_hex(8))
    target = ctx.urls.featured(account.username)
    document = documents.featured_activity(kind, activity_id, account, status, target)
    inboxes = await ctx.store.remote_follower_inboxes(account.id)
    await ctx.delivery.enqueue(document, account, inboxes)


async def pinned(ctx: Context, viewer: Account | None, account: Account) -> list[Status]:
    """The account's pinned posts this viewer may see, most recently pinned first."""
    return await ctx.store.pinned_statuses(account.id, viewer.id if viewer else None)


async def featured_documents(ctx: Context, account: Account) -> list[dict[str, Any]]:
    """A local account's pinned posts as Notes, for its featured collection."""
    found = await ctx.store.pinned_statuses(account.id, None)  # public and unlisted only
    return [documents.strip_context(await posting.note_document(ctx, s, account)) for s in found]


# -- incoming Add and Remove ----------------------------------------------------------


def _target_is_featured(activity: Activity, actor: Account) -> bool:
    """The target is a collection of the actor's own server other than those we know it
    by (we keep no featured URL for remote actors; Add also serves featured tags)."""
    # Older Mastodon named the collection of a Remove `origin`.
    target = id_of(activity.raw.get("target")) or id_of(activity.raw.get("origin"))
    known = {actor.followers_url, actor.following_url, actor.outbox_url, actor.inbox_url}
    return bool(target) and same_origin(target, actor.uri) and target not in known


async def fetch_added(ctx: Context, activity: Activity, actor: Account) -> Any:
    """The pinned post, fetched from its origin if it is new here; or why it is ignored."""
    uri = activity.object_id
    if activity.type != "Add" or uri is None or not _target_is_featured(activity, actor):
        return None
    if not same_origin(uri, actor.uri) or await ctx.store.get_status_by_uri(uri):
        return None
    if not await ctx.store.has_local_follower(actor.id):
        return "Add by an account nobody here follows, ignored"
    try:
        return await ctx.resolver.fetch_note(uri)
    except ResolveError as exc:
        if exc.transient:
            raise
        return f"Add of an unavailable post, ignored: {exc}"


async def on_add_or_remove(ctx: Context, activity: Activity, actor: Account, fetched: Any) -> str:
    if isinstance(fetched, str):
        return fetched
    if activity.object_id is None or not _target_is_featured(activity, actor):
        return f"{activity.type} to a collection we do not keep, ignored"
    status = await ctx.store.get_status_by_uri(activity.object_id)
    if status is None and fetched is not None:
        note, author = fetched
        if author.id == actor.id:
            status = await remote_posts.store_remote_note(ctx, note, author)
    if status is None or status.account_id != actor.id:
        return f"{activity.type} of a post not by its actor, ignored"
    if activity.type == "Add":
        await ctx.store.insert_pin(actor.id, status.id)
        return f"{actor.acct()} pinned {status.uri}"
    await ctx.store.delete_pin(actor.id, status.id)
    return f"{actor.acct()} unpinned {status.uri}"
