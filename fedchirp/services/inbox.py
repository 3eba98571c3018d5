"""What an incoming activity does: one dispatcher table, one handler per type.

Activities reach here already authenticated: the signer is the activity's actor
and the activity id is on the actor's server (federation/inbox.py). Handlers
must be idempotent; on top of that, an activity id seen before is not processed
again. Unknown types are recorded and ignored.

Two steps per activity. A fetcher (for the types that name remote objects)
gets what must come over the network first, outside any transaction, so no
write lock waits on another server. Then the handler's effects and the
activity's "seen" mark are written as one unit: after a crash either both are
there or neither is, and the sender's retry applies the activity again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fedchirp.clock import parse_iso
from fedchirp.federation.resolver import ResolveError
from fedchirp.federation.vocab import (
    NOTE_TYPES,
    Activity,
    InvalidDocument,
    Note,
    parse_activity,
    parse_embedded_activity,
    parse_note,
    same_origin,
)
from fedchirp.services import (
    audience,
    blocks,
    follows,
    inbox_follows,
    interactions,
    moderation,
    pins,
    polls,
    remote_posts,
    reports,
    streaming,
)
from fedchirp.services.accounts import local_account_by_uri
from fedchirp.services.context import Context
from fedchirp.store.models import Account, Status

log = logging.getLogger(__name__)

INBOX_QUEUE = "inbox"

Fetcher = Callable[[Context, Activity, Account], Awaitable[Any]]
Handler = Callable[[Context, Activity, Account, Any], Awaitable[str]]


async def accept(ctx: Context, activity: Activity, actor: Account, body: bytes) -> None:
    """Take an authenticated activity in (body: the JSON it was parsed from): queue it
    to be applied by a worker. It is committed when this returns (so the sender may be
    told 202), and an id queued already is dropped here."""
    # One lane per sender: its activities are applied in the order they came.
    await ctx.jobs.enqueue(INBOX_QUEUE, activity.id, _payload(actor, activity, body), actor.uri)


def _payload(actor: Account, activity: Activity, body: bytes) -> str:
    """The job's JSON, with the body as it came: it is valid JSON already (it was just
    parsed), and writing the parsed activity out again cost a tenth of the request. The
    id goes beside it: the edge names an Add or Remove that came without one."""
    try:
        text = body.decode(json.detect_encoding(body))  # as json.loads read it
    except (UnicodeDecodeError, LookupError):
        text = json.dumps(activity.raw, ensure_ascii=False)
    named = json.dumps(activity.id)
    return f'{{"actor": {int(actor.id)}, "id": {named}, "activity": {text}}}'


def register_jobs(ctx: Context) -> None:
    ctx.jobs.register(INBOX_QUEUE, lambda payload: apply(ctx, payload))


async def apply(ctx: Context, payload: dict[str, Any]) -> None:
    """A worker applies a queued activity (checked at the edge when it came in)."""
    document = payload["activity"]
    if isinstance(document, dict) and "id" not in document and "id" in payload:
        document["id"] = payload["id"]  # named at the edge (federation/inbox.py)
    activity = parse_activity(document)
    actor = await ctx.store.get_account(payload["actor"])
    if actor is None:
        log.info("inbox %s: its actor is gone, dropped", activity.id)
        return
    if moderation.is_suspended(actor):  # suspended after it was queued
        log.info("inbox %s: its actor is suspended, dropped", activity.id)
        return
    outcome = await dispatch(ctx, activity, actor)
    log.info("inbox %s from %s: %s", activity.type, actor.uri, outcome)
    for observer in ctx.observers:
        observer(activity, outcome)


async def dispatch(ctx: Context, activity: Activity, actor: Account) -> str:
    """Apply an activity once; return a short outcome for logs and the demo.

    The id is recorded in the unit that applies the activity: a concurrent
    repeat may apply it twice, which idempotent handlers make harmless.
    """
    if await ctx.store.activity_seen(activity.id):
        return "duplicate, ignored"
    fetcher = FETCHERS.get(activity.type)
    fetched = await fetcher(ctx, activity, actor) if fetcher is not None else None
    handler = HANDLERS.get(activity.type)
    async with ctx.store.atomic():
        outcome = (
            await handler(ctx, activity, actor, fetched)
            if handler is not None
            else f"{activity.type} is not handled, ignored"
        )
        await ctx.store.mark_activity_seen(activity.id, activity.type, actor.uri)
    return outcome


# -- helpers ------------------------------------------------------------------


async def _embedded_or_fetched(ctx: Context, activity: Activity) -> dict[str, Any] | None:
    """The activity's object: the embedded copy if it comes from the actor's server,
    otherwise fetched from its origin (we believe an origin only about itself)."""
    if (
        activity.object is not None
        and activity.object_id
        and same_origin(activity.object_id, activity.actor)
    ):
        return activity.object
    if activity.object_id is None or ctx.urls.is_local(activity.object_id):
        return None
    try:
        return await ctx.resolver.fetch(activity.object_id)
    except ResolveError as exc:
        if exc.transient:
            raise  # the job is tried again later
        log.info("could not fetch %s: %s", activity.object_id, exc)
        return None


def _note_or_none(document: dict[str, Any] | None) -> Note | None:
    if document is None:
        return None
    try:
        return parse_note(document)
    except InvalidDocument:
        return None


async def _is_relevant(ctx: Context, note: Note, author: Account) -> bool:
    """Only keep remote posts someone here asked for: by a followed account, addressed
    to or mentioning a local account, or replying to a local post."""
    if await ctx.store.has_local_follower(author.id):
        return True
    if any(ctx.urls.is_local(uri) for uri in (*note.audience, *note.mentions)):
        return True
    return note.in_reply_to is not None and ctx.urls.is_local(note.in_reply_to)


# -- handlers -----------------------------------------------------------------


async def on_undo(ctx: Context, activity: Activity, actor: Account, _: Any) -> str:
    inner = _undone_activity(activity)
    if inner is None:
        return await _undo_by_id(ctx, activity.object_id, actor)
    if inner.actor != actor.uri:
        return "Undo of someone else's activity, ignored"
    if inner.type == "Follow":
        target = await local_account_by_uri(ctx, inner.object_id)
        if target is not None:
            await follows.receive_undo_follow(ctx, actor, target)
        return f"{actor.acct()} unfollowed"
    if inner.type == "Block":
        return await blocks.receive_undo_block(ctx, actor, inner.id, inner.object_id)
    return await _undo_by_id(ctx, inner.id, actor, inner)


def _undone_activity(activity: Activity) -> Activity | None:
    if activity.object is None:
        return None
    try:
        return parse_embedded_activity(activity.object)
    except InvalidDocument:
        return None


async def _undo_by_id(
    ctx: Context, uri: str | None, actor: Account, inner: Activity | None = None
) -> str:
    if uri is None:
        return "Undo without an object, ignored"
    boost = await ctx.store.get_status_by_uri(uri)
    if boost is not None and boost.reblog_of_id is not None:
        await interactions.receive_unannounce(ctx, actor, boost)
        return f"{actor.acct()} undid a boost"
    like = await ctx.store.get_favourite_by_uri(uri)
    if like is None and inner is not None and inner.type == "Like":
        status = await _local_status(ctx, inner.object_id)
        like = await ctx.store.get_favourite(actor.id, status.id) if status else None
    if like is not None and like.account_id == actor.id:
        status = await ctx.store.get_status(like.status_id)
        if status is not None:
            await interactions.receive_unlike(ctx, actor, status)
        return f"{actor.acct()} undid a like"
    follow = await ctx.store.get_follow_by_uri(uri)
    if follow is not None and follow.follower_id == actor.id:
        await ctx.store.delete_follow(follow.id)
        return f"{actor.acct()} unfollowed"
    if await ctx.store.get_block_by_uri(uri) is not None:
        return await blocks.receive_undo_block(ctx, actor, uri, None)
    return "Undo of something unknown, ignored"


async def _local_status(ctx: Context, uri: str | None) -> Status | None:
    if uri is None:
        return None
    status = await ctx.store.get_status_by_uri(uri)
    return status if status is not None and status.local else None


async def fetch_created(ctx: Context, activity: Activity, actor: Account) -> Any:
    if activity.object_type is not None and activity.object_type not in NOTE_TYPES:
        return None
    return await _embedded_or_fetched(ctx, activity)


async def on_create(ctx: Context, activity: Activity, actor: Account, document: Any) -> str:
    if activity.object_type is not None and activity.object_type not in NOTE_TYPES:
        return f"Create of a {activity.object_type}, ignored"
    note = _note_or_none(document)
    if note is None:
        return "Create without a readable note, ignored"
    if note.attributed_to != actor.uri or not same_origin(note.id, actor.uri):
        return "Create of a note by someone else, ignored"
    if voted := await polls.vote_target(ctx, note.in_reply_to, note.name):  # not a reply
        return await polls.receive_vote(ctx, actor, voted, note.name, note.id)
    if not await _is_relevant(ctx, note, actor):
        return "Create of a post nobody here follows, ignored"
    status = await remote_posts.store_remote_note(ctx, note, actor)
    if status is None:
        return "Create of a deleted post, ignored"
    return f"stored {status.visibility} post {note.id}"


async def fetch_updated(ctx: Context, activity: Activity, actor: Account) -> Any:
    """The updated note, or for a profile update the outcome of refreshing the actor."""
    if activity.object_id == actor.uri:
        try:
            await ctx.resolver.actor(actor.uri, refresh=True)
        except ResolveError as exc:
            return f"profile update could not be fetched: {exc}"
        return f"refreshed profile of {actor.acct()}"
    return await _embedded_or_fetched(ctx, activity)


async def on_update(ctx: Context, activity: Activity, actor: Account, fetched: Any) -> str:
    if isinstance(fetched, str):
        return fetched
    note = _note_or_none(fetched)
    if note is None:
        return "Update of an unknown object type, ignored"
    status = await ctx.store.get_status_by_uri(note.id)
    if status is None or status.account_id != actor.id or note.attributed_to != actor.uri:
        return "Update of an unknown post, ignored"
    await remote_posts.update_remote_note(ctx, note, status)
    return f"updated post {note.id}"


async def on_delete(ctx: Context, activity: Activity, actor: Account, _: Any) -> str:
    uri = activity.object_id
    if uri is None or not same_origin(uri, actor.uri):
        return "Delete of something on another server, ignored"
    if uri == actor.uri:
        await ctx.store.delete_account(actor.id)
        return f"deleted account {actor.acct()}"
    status = await ctx.store.get_status_by_uri(uri)
    if status is not None and status.account_id != actor.id:
        return "Delete of someone else's post, ignored"
    if status is None:
        # Remember the id anyway, so a Create that arrives late cannot revive it.
        await ctx.store.remember_tombstone(uri)
        return "Delete of an unknown post, remembered"
    async with ctx.store.atomic():
        await ctx.store.delete_status(status)
        await streaming.announce(ctx, "delete", status.id)
    return f"deleted post {uri}"


async def fetch_announced(
    ctx: Context, activity: Activity, actor: Account
) -> tuple[Note, Account] | str | None:
    """The boosted post and its author, fetched from its origin if it is new here; or why
    the Announce is ignored."""
    uri = activity.object_id
    if uri is None:
        return "Announce without an object, ignored"
    # Decided before fetching anything: a stranger's boosts are nobody's business here
    # (and must not make us fetch whatever URL they name).
    if not ctx.urls.is_local(uri) and not await ctx.store.has_local_follower(actor.id):
        return "Announce by an account nobody here follows, ignored"
    if ctx.urls.is_local(uri) or await ctx.store.get_status_by_uri(uri) is not None:
        return None
    try:
        # Never trust an embedded copy of someone else's post: ask its origin.
        return await ctx.resolver.fetch_note(uri)
    except ResolveError as exc:
        if exc.transient:
            raise  # the job is tried again later
        log.info("could not fetch announced %s: %s", uri, exc)
        return "Announce of an unknown or unavailable post, ignored"


async def on_announce(ctx: Context, activity: Activity, actor: Account, fetched: Any) -> str:
    if isinstance(fetched, str):
        return fetched
    assert activity.object_id is not None
    original = await _announced_status(ctx, activity.object_id, fetched)
    if original is None:
        return "Announce of an unknown or unavailable post, ignored"
    published = activity.raw.get("published")
    visibility = audience.visibility_from_addressing(activity.to, activity.cc, actor.followers_url)
    await interactions.receive_announce(
        ctx,
        actor,
        original,
        activity.id,
        visibility,
        parse_iso(published) if isinstance(published, str) else None,
    )
    return f"{actor.acct()} boosted {original.uri}"


async def _announced_status(
    ctx: Context, uri: str, fetched: tuple[Note, Account] | None
) -> Status | None:
    known = await ctx.store.get_status_by_uri(uri)
    if known is not None or fetched is None:
        return known
    note, author = fetched
    return await remote_posts.store_remote_note(ctx, note, author)


async def on_like(ctx: Context, activity: Activity, actor: Account, _: Any) -> str:
    status = await _local_status(ctx, activity.object_id)
    if status is None:
        return "Like of a post not from here, ignored"
    await interactions.receive_like(ctx, actor, status, activity.id)
    return f"{actor.acct()} liked {status.uri}"


FETCHERS: dict[str, Fetcher] = {
    "Create": fetch_created,
    "Update": fetch_updated,
    "Announce": fetch_announced,
    "Add": pins.fetch_added,
}

HANDLERS: dict[str, Handler] = {
    "Follow": inbox_follows.on_follow,
    "Accept": inbox_follows.on_accept,
    "Reject": inbox_follows.on_reject,
    "Undo": on_undo,
    "Create": on_create,
    "Update": on_update,
    "Delete": on_delete,
    "Announce": on_announce,
    "Like": on_like,
    "Flag": reports.on_flag,
    "Block": blocks.on_block,
    "Add": pins.on_add_or_remove,
    "Remove": pins.on_add_or_remove,
}
