"""Moderation at the inbox and in deliveries, with a stand-in remote server whose keys the
test holds: an incoming Flag lands in the admins' queue; a suspended remote actor is
answered 202 and nothing is kept, and nothing is delivered to it."""

from __future__ import annotations

import json
import secrets

import pytest

from fedchirp.federation.vocab import host_of
from fedchirp.localnet import settle
from fedchirp.services import domain_blocks, follows, moderation, posting
from fedchirp.services.domain_blocks import BlockRequest
from fedchirp.services.errors import Forbidden
from fedchirp.store.models import Page
from tests.test_signatures import sign_with_apsig

pytestmark = pytest.mark.backends


def _activity(actor: str, kind: str, obj, **extra) -> bytes:
    return json.dumps(
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{actor}#{kind.lower()}-{secrets.token_hex(4)}",
            "type": kind,
            "actor": actor,
            "object": obj,
            **extra,
        }
    ).encode()


async def _post(http, remote, name: str, url: str, body: bytes) -> int:
    async with http.post(url, data=body, headers=sign_with_apsig(remote, name, url, body)) as r:
        return r.status


async def test_incoming_flag_lands_in_the_admin_queue(start, remote, http):
    a = await start("a")
    alice = await a.create_user("alice")
    bob = await a.create_user("bob")
    ctx, store = a.ctx, a.ctx.store
    hers = await posting.create_status(ctx, alice, "a post of alice", visibility="public")
    his = await posting.create_status(ctx, bob, "a post of bob", visibility="public")
    reporter = remote.add_actor("reporter")
    inbox = f"{a.base_url}/inbox"
    named = [alice.uri, hers.uri, his.uri, f"{remote.base}/statuses/1", f"{a.base_url}/nope"]
    flag = _activity(reporter, "Flag", named, content="<p>she is <b>rude</b></p>")

    assert await _post(http, remote, "reporter", inbox, flag) == 202
    assert await _post(http, remote, "reporter", inbox, flag) == 202  # a retry
    await settle(a)
    (report,) = await store.list_reports(False, Page())
    sender = await store.get_account(report.account_id)
    assert sender.uri == reporter and report.target_account_id == alice.id
    assert json.loads(report.status_ids) == [hers.id]  # bob's post is not about alice
    assert report.comment == "she is rude" and report.uri == json.loads(flag)["id"]

    # A Flag that names nobody here, or one object alone, queues nothing more / one more.
    elsewhere = _activity(reporter, "Flag", [f"{remote.base}/users/x"], content="?")
    assert await _post(http, remote, "reporter", inbox, elsewhere) == 202
    single = _activity(reporter, "Flag", bob.uri, content="bob too")
    assert await _post(http, remote, "reporter", inbox, single) == 202
    await settle(a)
    found = await store.list_reports(None, Page())
    assert [(r.target_account_id, r.comment) for r in found] == [
        (bob.id, "bob too"),
        (alice.id, "she is rude"),
    ]

    # Once the instance rejects reports from that server, its Flags queue nothing.
    rejecting = BlockRequest(domain=host_of(remote.base), severity="noop", reject_reports=True)
    await domain_blocks.block(store, rejecting, ctx.domain_blocks.invalidate)
    again = _activity(reporter, "Flag", alice.uri, content="and again")
    assert await _post(http, remote, "reporter", inbox, again) == 202
    await settle(a)
    assert len(await store.list_reports(None, Page())) == 2


async def test_suspended_remote_actor_is_dropped_and_sent_nothing(start, remote, http):
    a = await start("a", run_workers=False)  # jobs run only when settle drives them
    alice = await a.create_user("alice")
    store = a.ctx.store
    spammer = remote.add_actor("spammer")
    inbox = f"{a.base_url}/inbox"
    assert (
        await _post(http, remote, "spammer", inbox, _activity(spammer, "Follow", alice.uri)) == 202
    )
    note = {
        "id": f"{spammer}/notes/1",
        "type": "Note",
        "attributedTo": spammer,
        "content": "<p>first</p>",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [alice.uri],  # addressed to alice, so it is kept here
        "published": "2026-01-01T00:00:00Z",
    }
    create = _activity(spammer, "Create", note, to=note["to"])
    assert await _post(http, remote, "spammer", inbox, create) == 202
    await settle(a)
    assert await store.get_status_by_uri(note["id"]) is not None
    assert [json.loads(r.body)["type"] for r in remote.inbox] == ["Accept"]
    remote.inbox.clear()
    public = await store.public_timeline(False, Page())
    assert [s.uri for s in public] == [note["id"]]
    assert [s.uri for s in await store.home_timeline(alice.id, Page())] == [note["id"]]

    account = await store.get_account_by_uri(spammer)
    await moderation.take_action(store, None, account, "suspend")
    assert await store.public_timeline(False, Page()) == []
    assert await store.home_timeline(alice.id, Page()) == []

    later = {**note, "id": f"{spammer}/notes/2", "content": "<p>again</p>"}
    again = _activity(spammer, "Create", later, to=note["to"])
    assert await _post(http, remote, "spammer", inbox, again) == 202
    assert await store.count_jobs("queued") == 0  # dropped at the edge: nothing queued
    await settle(a)
    assert await store.get_status_by_uri(later["id"]) is None
    assert not await store.activity_seen(json.loads(again)["id"])

    # alice cannot follow it, and though her followers include it, nothing is sent to it.
    with pytest.raises(Forbidden, match="suspended"):
        await follows.follow(a.ctx, alice, await store.get_account(account.id))
    await posting.create_status(a.ctx, alice, "news for followers", visibility="public")
    await settle(a)
    assert remote.inbox == []

    await moderation.undo_action(store, None, account, "unsuspend")
    assert note["id"] in [s.uri for s in await store.public_timeline(False, Page())]
