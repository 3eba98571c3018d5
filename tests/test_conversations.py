"""Conversations (/api/v1/conversations) and the direct stream, driven by Mastodon.py and
a WebSocket client against instances on 127.0.0.1; locally and across two servers."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from mastodon import MastodonNotFoundError, StreamListener

from fedchirp.localnet import settle
from fedchirp.web.api import streaming as streaming_api
from tests.test_mastodon_api import follow_remote, login, sync

WAIT = 10.0  # seconds an event may take to arrive


class Heard(StreamListener):
    """Mastodon.py calls this from its own thread."""

    def __init__(self) -> None:
        self.conversations: list[dict] = []
        self.arrived = threading.Event()

    def on_conversation(self, conversation: dict) -> None:
        self.conversations.append(conversation)
        self.arrived.set()


def _summary(found: list[dict]) -> list[tuple[str, bool, list[str], str]]:
    """(id, unread, other accounts, last post's id) of each conversation, in order."""
    return [
        (c["id"], c["unread"], [a["acct"] for a in c["accounts"]], c["last_status"]["id"])
        for c in found
    ]


async def test_conversations_list_read_delete_and_the_direct_stream(start, monkeypatch):
    monkeypatch.setattr(streaming_api, "HEARTBEAT_SECONDS", 0.5)  # lets close() return soon
    a = await start("a")
    for name in ("alice", "bob", "carol"):
        await a.create_user(name)
    alice, bob, carol = [await login(a, name) for name in ("alice", "bob", "carol")]
    heard = Heard()
    stream = await sync(alice.stream_direct, heard, run_async=True, reconnect_async=False)
    try:
        await asyncio.sleep(0.5)  # let the stream open
        await sync(bob.status_post, "a public post is no conversation")
        first = await sync(bob.status_post, "@alice psst", visibility="direct")
        assert await asyncio.to_thread(heard.arrived.wait, WAIT)
    finally:
        await sync(stream.close)
    [event] = heard.conversations
    assert event["unread"] is True and event["last_status"]["id"] == first["id"]
    assert [account["acct"] for account in event["accounts"]] == ["bob"]

    [(thread, unread, others, last)] = _summary(await sync(alice.conversations))
    assert (thread, unread, others, last) == (str(event["id"]), True, ["bob"], first["id"])
    # The author's own post does not make it unread for them; a reply joins the thread.
    assert _summary(await sync(bob.conversations))[0][1:] == (False, ["alice"], first["id"])
    reply = await sync(
        alice.status_post, "@bob tell me", visibility="direct", in_reply_to_id=first["id"]
    )
    assert _summary(await sync(alice.conversations)) == [(thread, False, ["bob"], reply["id"])]
    [(bobs, unread, _, last)] = _summary(await sync(bob.conversations))
    assert unread is True and last == reply["id"]
    read = await sync(bob.conversations_read, bobs)
    assert read["unread"] is False and read["last_status"]["id"] == reply["id"]

    # Newest last post first, one a page, the next page through the Link header.
    other = await sync(carol.status_post, "@alice hello", visibility="direct")
    page = await sync(alice.conversations, limit=1)
    assert _summary(page)[0][2:] == (["carol"], other["id"])
    older = await sync(alice.fetch_next, page)
    assert [c["id"] for c in older] == [thread]
    assert await sync(alice.conversations, since_id=reply["id"]) == page

    # A block hides the blocked account's conversation, as it hides their posts.
    await sync(alice.account_block, (await sync(alice.account_lookup, "carol"))["id"])
    assert [c["id"] for c in await sync(alice.conversations)] == [thread]

    # Deleting is for its owner only; someone else's conversation is not found.
    with pytest.raises(MastodonNotFoundError):
        await sync(alice.conversations_read, bobs)
    await sync(alice._Mastodon__api_request, "DELETE", f"/api/v1/conversations/{thread}")
    assert await sync(alice.conversations) == []
    assert [c["id"] for c in await sync(bob.conversations)] == [bobs]
    with pytest.raises(MastodonNotFoundError):
        await sync(alice._Mastodon__api_request, "DELETE", f"/api/v1/conversations/{thread}")
    # A note to oneself names oneself, as on Mastodon.
    own = await sync(alice.status_post, "@alice remember", visibility="direct")
    assert [c[1:] for c in _summary(await sync(alice.conversations))] == [
        (False, ["alice"], own["id"])
    ]


@pytest.mark.backends("postgresql")  # the stream hears it through NOTIFY, as other processes do
async def test_a_direct_message_from_another_server_is_an_unread_conversation(pair, http):
    a, b = pair
    await a.create_user("alice")
    await b.create_user("bob")
    alice, bob = await login(a, "alice"), await login(b, "bob")
    await follow_remote(alice, b.handle("bob"))  # alice@a knows bob@b's account
    await settle(a, b)
    url = f"ws://{b.config.server.domain}/api/v1/streaming"
    socket = await http.ws_connect(url, params={"access_token": bob.access_token})
    await socket.send_json({"type": "subscribe", "stream": "direct"})
    await asyncio.sleep(0.3)

    sent = await sync(alice.status_post, f"@{b.handle('bob')} between servers", visibility="direct")
    await settle(a, b)
    message = await asyncio.wait_for(socket.receive_json(), WAIT)
    await socket.close()
    assert message["stream"] == ["direct"] and message["event"] == "conversation"
    event = json.loads(message["payload"])
    [conversation] = await sync(bob.conversations)
    assert conversation["id"] == event["id"] and conversation["unread"] is True
    assert [account["acct"] for account in conversation["accounts"]] == [a.handle("alice")]
    assert conversation["last_status"]["uri"] == sent["uri"]
    assert conversation["last_status"]["visibility"] == "direct"

    answer = await sync(
        bob.status_post,
        f"@{a.handle('alice')} got it",
        visibility="direct",
        in_reply_to_id=conversation["last_status"]["id"],
    )
    await settle(a, b)
    [(_, unread, others, last)] = _summary(await sync(alice.conversations))
    last_post = await sync(alice.status, last)
    assert unread is True and others == [b.handle("bob")] and last_post["uri"] == answer["uri"]
