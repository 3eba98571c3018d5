"""/api/v1/streaming: live events over WebSocket (one socket, many streams) and over
server-sent events (one stream per request), as Mastodon's streaming server serves
them. services/streaming.py decides who hears what; this module renders and sends."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

from aiohttp import WSMsgType, web

from fedchirp.clock import wait_at_most
from fedchirp.services import oauth, streaming
from fedchirp.services.context import Context
from fedchirp.store.models import Account
from fedchirp.web.api import conversations
from fedchirp.web.api.announcement_entities import announcement_payload
from fedchirp.web.api.auth import bearer_token, optional_user
from fedchirp.web.api.entities import Renderer
from fedchirp.web.errors import ApiError
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()

# The tasks answering open streams: a stopping server ends them at once instead of
# waiting for clients that never hang up.
OPEN_STREAMS = web.AppKey("open_streams", set[asyncio.Task[Any]])


def setup_streaming(app: web.Application) -> None:
    app[OPEN_STREAMS] = set()
    app.on_shutdown.append(_end_open_streams)


async def _end_open_streams(app: web.Application) -> None:
    for task in list(app[OPEN_STREAMS]):
        task.cancel()


@contextlib.contextmanager
def _open_stream(request: web.Request) -> Iterator[None]:
    task = asyncio.current_task()
    assert task is not None
    request.app[OPEN_STREAMS].add(task)
    try:
        yield
    finally:
        request.app[OPEN_STREAMS].discard(task)

HEARTBEAT_SECONDS = 15.0  # a comment line, so proxies keep an idle stream open
# /api/v1/streaming/<path> -> the stream it serves
SSE_STREAMS = {
    "user": "user",
    "user/notification": "user:notification",
    "public": "public",
    "public/local": "public:local",
    "public/remote": "public:remote",
    "hashtag": "hashtag",
    "hashtag/local": "hashtag:local",
    "list": "list",
    "direct": "direct",
}


@contextlib.asynccontextmanager
async def listening(ctx: Context) -> AsyncIterator[None]:
    """Hear the changes of other processes while the app runs (PostgreSQL)."""
    if not ctx.store.signals_between_processes:
        yield
        return
    stop = await streaming.listen(ctx)
    try:
        yield
    finally:
        await stop()  # type: ignore[operator]


@routes.get("/api/v1/streaming/health")
async def health(request: web.Request) -> web.Response:
    return web.Response(text="OK")


@routes.get("/api/v1/streaming")
async def websocket(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    protocol = request.headers.get("Sec-WebSocket-Protocol", "").strip()
    viewer = await _viewer(request, token=bearer_token(request) or protocol or None)
    socket = web.WebSocketResponse(
        heartbeat=HEARTBEAT_SECONDS, protocols=(protocol,) if protocol else ()
    )
    await socket.prepare(request)
    subscription = streaming.Subscription(viewer)
    ctx.streams.subscriptions.add(subscription)
    sender = asyncio.create_task(_send_events(ctx, subscription, socket))
    try:
        with _open_stream(request):
            first = request.query.get("stream")
            if first:
                await _change(ctx, socket, subscription, "subscribe", first, _tag(request.query))
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    await _command(ctx, socket, subscription, message.data)
    except asyncio.CancelledError:
        await socket.close(code=1001, message=b"server stopping")  # "going away"
    finally:
        streaming.unsubscribe(ctx, subscription)
        sender.cancel()
    return socket


async def _command(
    ctx: Context, socket: web.WebSocketResponse, subscription: streaming.Subscription, data: str
) -> None:
    """{"type": "subscribe" | "unsubscribe", "stream": ..., "tag": ...}"""
    try:
        command = json.loads(data)
        kind, stream = str(command["type"]), str(command["stream"])
    except (ValueError, KeyError, TypeError):
        await socket.send_json({"error": "send {\"type\": \"subscribe\", \"stream\": ...}"})
        return
    tag = command.get("tag") or command.get("list") or ""  # a list stream names its list
    await _change(ctx, socket, subscription, kind, stream, str(tag))


async def _change(
    ctx: Context,
    socket: web.WebSocketResponse,
    subscription: streaming.Subscription,
    kind: str,
    stream: str,
    tag: str,
) -> None:
    if kind == "unsubscribe":
        streaming.remove_stream(subscription, stream, tag)
        return
    if kind != "subscribe":
        await socket.send_json({"error": f"unknown type {kind!r}: subscribe or unsubscribe"})
        return
    try:
        await streaming.add_stream(ctx, subscription, stream, tag)
    except ValueError as exc:
        await socket.send_json({"error": str(exc), "status": 400})


async def _send_events(
    ctx: Context, subscription: streaming.Subscription, socket: web.WebSocketResponse
) -> None:
    while not socket.closed:
        event = await subscription.queue.get()
        payload = await _payload(ctx, subscription.viewer, event)
        if payload is None:
            continue
        message = {"stream": event.stream, "event": event.event}
        if event.event != "filters_changed":  # Mastodon sends that one without a payload
            message["payload"] = payload
        with contextlib.suppress(ConnectionResetError):
            await socket.send_str(json.dumps(message))


@routes.get("/api/v1/streaming/{path:.+}")
async def server_sent_events(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    stream = SSE_STREAMS.get(request.match_info["path"].strip("/"))
    if stream is None:
        raise ApiError(404, f"no stream {request.match_info['path']!r}")
    viewer = await _viewer(request, token=bearer_token(request))
    try:
        subscription = await streaming.subscribe(ctx, viewer, stream, _tag(request.query))
    except ValueError as exc:
        raise ApiError(401 if "token" in str(exc) else 400, str(exc)) from exc
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
    )
    try:
        with _open_stream(request):
            await response.prepare(request)
            await response.write(b":)\n\n")
            while True:
                event = await wait_at_most(HEARTBEAT_SECONDS, subscription.queue.get())
                if event is None:
                    await response.write(b":thump\n\n")
                    continue
                payload = await _payload(ctx, viewer, event)
                if payload is None:
                    continue
                await response.write(f"event: {event.event}\ndata: {payload}\n\n".encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        streaming.unsubscribe(ctx, subscription)
    return response


async def _viewer(request: web.Request, token: str | None) -> Account | None:
    """The token's account: from the header, the query, or the WebSocket protocol."""
    if token is None:
        return await optional_user(request, "read:statuses")
    found = await oauth.token_owner(ctx_of(request), token)
    if found is None:
        raise ApiError(401, "The access token is invalid")
    account, scopes = found
    if not oauth.scope_allows(scopes, "read:statuses"):
        raise ApiError(403, "This action is outside the authorized scopes")
    return account


def _tag(query: Any) -> str:
    """The stream's argument: a hashtag, or a list's id (`list`)."""
    return str(query.get("tag") or query.get("list") or "")


async def _payload(ctx: Context, viewer: Account | None, event: streaming.Event) -> str | None:
    """The event's payload as Mastodon sends it: an entity as a JSON string, or an id;
    None for a post the viewer's hide filters leave out of this stream."""
    if event.event == "filters_changed":
        return "undefined"  # what Mastodon's server-sent events say for no payload
    if event.announcement_id is not None:
        return await announcement_payload(ctx, event)
    context = "home" if event.stream[0] == "user" else "public"
    if event.notification is not None:
        context = "notifications"
    renderer = Renderer(ctx, viewer, context)
    if event.status is not None:
        rendered = await renderer.statuses([event.status])
        return json.dumps(rendered[0]) if rendered else None
    if event.notification is not None:
        rendered = await renderer.notifications([event.notification])
        return json.dumps(rendered[0]) if rendered else None
    if event.conversation is not None and viewer is not None:
        found = await conversations.render(ctx, viewer, [event.conversation])
        return json.dumps(found[0])
    return str(event.deleted_id)
