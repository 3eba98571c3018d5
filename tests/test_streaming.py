"""/api/v1/streaming: Mastodon.py's stream listener, a WebSocket client subscribing as
Elk does, server-sent events, and events crossing processes through PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import threading

import aiohttp
import pytest
from mastodon import StreamListener
from test_mastodon_api import follow_remote, login, sync

from fedchirp.localnet import settle
from fedchirp.web.api import streaming as streaming_api

pytestmark = pytest.mark.backends

WAIT = 10.0  # seconds an event may take to arrive


class Collector(StreamListener):
    """Mastodon.py calls these from its own thread."""

    def __init__(self) -> None:
        self.updates: list[dict] = []
        self.notifications: list[dict] = []
        self.arrived = threading.Event()

    def on_update(self, status: dict) -> None:
        self.updates.append(status)
        self.arrived.set()

    def on_notification(self, notification: dict) -> None:
        self.notifications.append(notification)
        self.arrived.set()


async def _until(check, seconds: float = WAIT) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the event did not arrive")


async def test_mastodon_py_stream_user_hears_a_post_and_a_mention_in_seconds(pair, monkeypatch):
    # Mastodon.py's close() waits for its reader, which wakes at the next heartbeat.
    monkeypatch.setattr(streaming_api, "HEARTBEAT_SECONDS", 0.5)
    a, b = pair
    await a.create_user("alice")
    await a.create_user("carol")
    await b.create_user("bob")
    alice, carol, bob = await login(a, "alice"), await login(a, "carol"), await login(b, "bob")
    await follow_remote(alice, b.handle("bob"))
    await settle(a, b)
    heard = Collector()
    handle = await sync(alice.stream_user, heard, run_async=True, reconnect_async=False)
    try:
        await asyncio.sleep(0.5)  # let the stream open
        await sync(bob.status_post, "from another server")
        await sync(carol.status_post, "not followed, not heard")
        # Unlisted: a private mention from an account alice does not follow would wait
        # in her notification requests (Mastodon 4.3's default policy), unstreamed.
        await sync(carol.status_post, "@alice hello", visibility="unlisted")
        await settle(a, b)
        await _until(lambda: len(heard.updates) >= 2 and heard.notifications)
    finally:
        await sync(handle.close)  # it waits for its thread: not on the servers' loop
    texts = [status["content"] for status in heard.updates]
    assert any("from another server" in text for text in texts)
    assert not any("not followed" in text for text in texts)
    assert heard.notifications[0]["type"] == "mention"
    assert heard.notifications[0]["account"]["acct"] == "carol"


async def _socket(http, instance, token: str | None, protocol: bool = False, **query):
    url = f"ws://{instance.config.server.domain}/api/v1/streaming"
    params = dict(query)
    if token and not protocol:
        params["access_token"] = token
    protocols = (token,) if token and protocol else ()
    return await http.ws_connect(url, params=params, protocols=protocols)


async def _next(socket) -> dict:
    message = await asyncio.wait_for(socket.receive_json(), WAIT)
    return message


async def test_a_websocket_subscribes_to_streams_and_hears_only_what_it_may_see(start, http):
    a = await start("a")
    await a.create_user("alice")
    await a.create_user("dave")
    alice, dave = await login(a, "alice"), await login(a, "dave")
    socket = await _socket(http, a, dave.access_token, protocol=True)
    await socket.send_json({"type": "subscribe", "stream": "public:local"})
    await socket.send_json({"type": "subscribe", "stream": "hashtag", "tag": "News"})
    await socket.send_json({"type": "subscribe", "stream": "nonsense"})
    assert "unknown stream" in (await _next(socket))["error"]
    await asyncio.sleep(0.2)

    await sync(alice.status_post, "followers only", visibility="private")
    public = await sync(alice.status_post, "hello everyone")
    message = await _next(socket)
    assert message["event"] == "update" and message["stream"] == ["public:local"]
    payload = json.loads(message["payload"])
    assert payload["id"] == public["id"] and "hello everyone" in payload["content"]

    await sync(alice.status_post, "big #news today")
    message = await _next(socket)
    assert message["stream"] in (["hashtag", "news"], ["public:local"])

    await sync(alice.status_delete, public)
    message = await _next(socket)
    assert message == {"stream": ["hashtag"], "event": "delete", "payload": public["id"]} or (
        message["event"] == "delete" and message["payload"] == public["id"]
    )
    await socket.close()


async def test_streams_refuse_what_they_cannot_serve(start, http):
    a = await start("a")
    await a.create_user("alice")
    anonymous = await _socket(http, a, None, stream="user")
    assert "needs an access token" in (await _next(anonymous))["error"]
    await anonymous.close()
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await _socket(http, a, "not-a-token")
    assert refused.value.status == 401
    async with http.get(f"{a.base_url}/api/v1/streaming/user") as resp:
        assert resp.status == 401
    async with http.get(f"{a.base_url}/api/v1/streaming/nowhere") as resp:
        assert resp.status == 404
    async with http.get(f"{a.base_url}/api/v1/streaming/health") as resp:
        assert resp.status == 200 and await resp.text() == "OK"


async def test_instance_documents_name_the_streaming_url(start, http):
    a = await start("a")
    async with http.get(f"{a.base_url}/api/v1/instance") as resp:
        assert (await resp.json())["urls"]["streaming_api"] == f"ws://{a.config.server.domain}"
    async with http.get(f"{a.base_url}/api/v2/instance") as resp:
        urls = (await resp.json())["configuration"]["urls"]
        assert urls["streaming"] == f"ws://{a.config.server.domain}"


async def test_server_sent_events_carry_a_post(start, http):
    a = await start("a")
    await a.create_user("alice")
    alice = await login(a, "alice")
    url = f"{a.base_url}/api/v1/streaming/public/local"
    async with http.get(url, timeout=aiohttp.ClientTimeout(total=WAIT)) as resp:
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        await resp.content.readuntil(b"\n\n")  # the opening comment
        posted = await sync(alice.status_post, "over SSE")
        event = await resp.content.readuntil(b"\n\n")
    lines = dict(line.split(": ", 1) for line in event.decode().strip().split("\n"))
    assert lines["event"] == "update"
    assert json.loads(lines["data"])["id"] == posted["id"]


@pytest.mark.backends("postgresql")
async def test_an_event_reaches_a_client_of_another_process(start, http):
    a = await start("a")
    await a.create_user("alice")
    await a.create_user("bea")
    alice = await login(a, "alice")
    bea = await login(a, "bea")
    await sync(bea.account_follow, (await sync(bea.account_lookup, "alice"))["id"])
    # A second web process on the same database, without workers.
    other = await start("a-web", settings={"database": {"url": a.config.database_url}},
                        run_workers=False)
    socket = await _socket(http, other, bea.access_token, stream="user")
    await asyncio.sleep(0.3)
    posted = await sync(alice.status_post, "heard elsewhere")
    message = await _next(socket)
    assert message["stream"] == ["user"] and message["event"] == "update"
    assert json.loads(message["payload"])["id"] == posted["id"]
    await socket.close()
