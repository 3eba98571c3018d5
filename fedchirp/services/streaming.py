"""Live events for apps (/api/v1/streaming): who hears of what, as it happens.

Services announce a change once its unit commits: a status stored or edited, a status
deleted, new notifications for an account (`announce`). On PostgreSQL the change goes
out as a NOTIFY sent inside the unit, so every process hears it and only committed
work is heard of; on SQLite (one process) it is handed over within the process after
the commit. Each process then decides, for its own subscribers only, who may see the
change, with the same rules as the timelines: home feed membership for `user` (less the
members of the viewer's exclusive lists), home feed and list membership and the list's
replies policy for `list` (its owner's only), the one visibility predicate for the
public and hashtag streams; for `direct`, the owner of the conversation a direct post
was filed in (services/conversations.py), as the one visibility rule lets them see it.
The web layer renders.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field

from fedchirp import html
from fedchirp.services.context import Context
from fedchirp.store import Store
from fedchirp.store.conversations import Conversation
from fedchirp.store.models import Account, Notification, Page, Status

log = logging.getLogger(__name__)

CHANNEL = "fedchirp_streams"
TIMELINE_STREAMS = (
    "user",
    "public",
    "public:local",
    "public:remote",
    "hashtag",
    "hashtag:local",
    "list",
)
STREAMS = (*TIMELINE_STREAMS, "user:notification", "direct")
NEEDS_USER = ("user", "user:notification", "list", "direct")
DELETE_STREAMS = (*TIMELINE_STREAMS, "direct")  # streams told of a deleted post
QUEUE_SIZE = 200  # events waiting for a slow client; past it the oldest are dropped


@dataclass(frozen=True)
class Change:
    # "status", "status.update", "delete", "notification", "filters_changed",
    # "conversation", or one of ANNOUNCEMENT_EVENTS
    kind: str
    # the status; the account ("notification", "filters_changed"); the conversation; the
    # announcement
    id: int
    name: str = ""  # the emoji of an "announcement.reaction"

    def encode(self) -> str:
        return json.dumps([self.kind, self.id, *([self.name] if self.name else [])])

    @classmethod
    def decode(cls, payload: str) -> Change:
        kind, number, *name = json.loads(payload)
        return cls(str(kind), int(number), str(name[0]) if name else "")


# Told to every user stream, as Mastodon tells every signed-in user's timeline.
ANNOUNCEMENT_EVENTS = ("announcement", "announcement.reaction", "announcement.delete")


@dataclass(frozen=True)
class Event:
    """One event for one subscriber, still as records: the web layer renders them."""

    stream: list[str]
    event: str  # update, status.update, delete, notification, filters_changed, conversation
    status: Status | None = None
    notification: Notification | None = None
    conversation: Conversation | None = None
    deleted_id: int | None = None
    announcement_id: int | None = None
    reaction: str = ""  # the emoji of an announcement.reaction


@dataclass(eq=False)
class Subscription:
    viewer: Account | None
    streams: set[tuple[str, str]] = field(default_factory=set)  # (stream, hashtag or list id or "")
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    last_notification_id: int = 0

    def put(self, event: Event) -> None:
        if self.queue.full():
            self.queue.get_nowait()  # a client this far behind loses the oldest
        self.queue.put_nowait(event)


class StreamHub:
    """This process's subscribers, and the changes it hears."""

    def __init__(self) -> None:
        self.subscriptions: set[Subscription] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def heard(self, ctx: Context, change: Change) -> None:
        if not self.subscriptions:
            return
        task = asyncio.get_running_loop().create_task(self._dispatch(ctx, change))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _dispatch(self, ctx: Context, change: Change) -> None:
        try:
            if change.kind == "notification":
                await _notifications(ctx, self.subscriptions, change.id)
            elif change.kind == "filters_changed":
                _filters_changed(self.subscriptions, change.id)
            elif change.kind == "conversation":
                await _conversation(ctx, self.subscriptions, change.id)
            elif change.kind == "delete":
                _deleted(self.subscriptions, change.id)
            elif change.kind in ANNOUNCEMENT_EVENTS:
                _announcement(self.subscriptions, change)
            else:
                await _status(ctx, self.subscriptions, change)
        except Exception:  # a failed event must not take the stream down
            log.exception("stream event %s failed", change)


async def announce(ctx: Context, kind: str, id_: int, name: str = "") -> None:
    """Tell every process's subscribers of a change, once the current unit commits."""
    change = Change(kind, id_, name)
    if ctx.store.signals_between_processes:
        await ctx.store.send_signal(CHANNEL, change.encode())
    else:
        ctx.store.db.on_commit(lambda: ctx.streams.heard(ctx, change))


async def announce_from_outside(store: Store, kind: str, id_: int) -> None:
    """announce() for a process that serves no streams (the command line): servers on
    PostgreSQL hear it; a SQLite server is another process and cannot."""
    if store.signals_between_processes:
        await store.send_signal(CHANNEL, Change(kind, id_).encode())


async def subscribe(
    ctx: Context, viewer: Account | None, stream: str, tag: str = ""
) -> Subscription:
    subscription = Subscription(viewer)
    await add_stream(ctx, subscription, stream, tag)
    ctx.streams.subscriptions.add(subscription)
    return subscription


async def add_stream(ctx: Context, subscription: Subscription, stream: str, tag: str) -> None:
    """Add a stream to a subscription; ValueError names what is wrong with it."""
    if stream not in STREAMS:
        raise ValueError(f"unknown stream {stream!r}; known: {', '.join(STREAMS)}")
    if stream in NEEDS_USER and subscription.viewer is None:
        raise ValueError(f"the {stream} stream needs an access token")
    if stream.startswith("hashtag") and not html.tag_key(tag):
        raise ValueError("the hashtag stream needs a tag")
    if stream == "list":
        await _check_list_owner(ctx, subscription.viewer, tag)
    if stream in NEEDS_USER and subscription.viewer is not None and not subscription.streams:
        newest = await ctx.store.notifications(subscription.viewer.id, Page(limit=1))
        subscription.last_notification_id = newest[0].id if newest else 0
    subscription.streams.add((stream, html.tag_key(tag)))


async def _check_list_owner(ctx: Context, viewer: Account | None, list_id: str) -> None:
    """Only a list's owner may hear its stream; ValueError says why not."""
    number = int(list_id) if list_id.isdigit() and len(list_id) <= 18 else None
    found = await ctx.store.get_list(number) if number is not None else None
    if viewer is None or found is None or found.account_id != viewer.id:
        raise ValueError("the list stream needs the id of one of your lists")


def remove_stream(subscription: Subscription, stream: str, tag: str = "") -> None:
    subscription.streams.discard((stream, html.tag_key(tag)))


def unsubscribe(ctx: Context, subscription: Subscription) -> None:
    ctx.streams.subscriptions.discard(subscription)


async def listen(ctx: Context) -> object:
    """Hear other processes' changes (PostgreSQL); the result stops listening."""

    def heard(payload: str) -> None:
        ctx.streams.heard(ctx, Change.decode(payload))

    return await ctx.store.listen(CHANNEL, heard)


def _deleted(subscriptions: set[Subscription], status_id: int) -> None:
    for subscription in subscriptions:
        names = sorted({name for name, _ in subscription.streams if name in DELETE_STREAMS})
        if names:
            subscription.put(Event(names[:1], "delete", deleted_id=status_id))


def _announcement(subscriptions: set[Subscription], change: Change) -> None:
    for subscription in subscriptions:
        if subscription.viewer is not None and ("user", "") in subscription.streams:
            event = Event(["user"], change.kind, announcement_id=change.id, reaction=change.name)
            subscription.put(event)


def _filters_changed(subscriptions: set[Subscription], account_id: int) -> None:
    """The account's filters changed: its user streams hear it (no payload), so its
    apps fetch them again."""
    for subscription in subscriptions:
        viewer = subscription.viewer
        names = sorted(name for name, _ in subscription.streams if name in NEEDS_USER)
        if viewer is not None and viewer.id == account_id and names:
            subscription.put(Event(names[:1], "filters_changed"))


async def _status(ctx: Context, subscriptions: set[Subscription], change: Change) -> None:
    status = await ctx.store.get_status(change.id)
    if status is None:
        return
    event = "update" if change.kind == "status" else "status.update"
    users = {s.viewer.id for s in subscriptions if s.viewer and ("user", "") in s.streams}
    home = await ctx.store.home_feed_owners(status.id, users)
    home -= await ctx.store.exclusive_list_owners(status.account_id, home)
    wanted = {int(tag) for s in subscriptions for name, tag in s.streams if name == "list"}
    in_lists = {str(i) for i in await ctx.store.lists_showing(status.id, wanted)}
    tags = set((await ctx.store.tags_of([status.id])).get(status.id, []))
    for subscription in list(subscriptions):
        stream = _stream_for(subscription, status, home, tags, in_lists)
        if stream and await _may_see(ctx, subscription.viewer, status):
            subscription.put(Event(stream, event, status=status))


def _stream_for(
    subscription: Subscription,
    status: Status,
    home: set[int],
    tags: set[str],
    in_lists: set[str],
) -> list[str] | None:
    """The first of the subscription's streams the status belongs in, as Mastodon names
    it (["hashtag", "tag"] for a hashtag stream, ["list", "id"] for a list's)."""
    public = status.visibility == "public" and status.reblog_of_id is None
    for name, tag in sorted(subscription.streams):
        viewer = subscription.viewer
        if name == "user" and viewer is not None and viewer.id in home:
            return [name]
        if name == "list" and tag in in_lists:
            return [name, tag]
        if not public:
            continue
        if name == "public" or name == ("public:local" if status.local else "public:remote"):
            return [name]
        if name.startswith("hashtag") and tag in tags and (name == "hashtag" or status.local):
            return [name, tag]
    return None


async def _may_see(ctx: Context, viewer: Account | None, status: Status) -> bool:
    """The one visibility rule (moderation and blocks included), asked for this viewer:
    a home feed entry may predate a block or a suspension."""
    viewer_id = viewer.id if viewer is not None else None
    return status.id in await ctx.store.visible_status_ids(viewer_id, [status.id])


async def _notifications(ctx: Context, subscriptions: set[Subscription], account_id: int) -> None:
    for subscription in list(subscriptions):
        viewer = subscription.viewer
        if viewer is None or viewer.id != account_id:
            continue
        if not subscription.streams & {("user", ""), ("user:notification", "")}:
            continue
        page = Page(min_id=subscription.last_notification_id, limit=40)
        found = await ctx.store.notifications(viewer.id, page)
        for item in sorted(found, key=lambda n: n.id):
            stream = "user" if ("user", "") in subscription.streams else "user:notification"
            subscription.put(Event([stream], "notification", notification=item))
            subscription.last_notification_id = item.id


async def _conversation(
    ctx: Context, subscriptions: set[Subscription], conversation_id: int
) -> None:
    """A direct post was filed in a conversation: its owner's direct streams hear it,
    read through the visibility rule (a post the owner may not see is not sent)."""
    owner = await ctx.store.conversation_owner(conversation_id)
    listeners = [
        s
        for s in subscriptions
        if s.viewer is not None and s.viewer.id == owner and ("direct", "") in s.streams
    ]
    if owner is None or not listeners:
        return
    found = await ctx.store.conversation_of(owner, conversation_id)
    if found is None or found.last_status_id is None:
        return
    for subscription in listeners:
        subscription.put(Event(["direct"], "conversation", conversation=found))
