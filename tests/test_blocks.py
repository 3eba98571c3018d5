"""Blocks across two instances: the Block federates, follows end both ways, and from then
on nothing of bob's reaches alice and nothing of alice's new posts reaches bob."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from fedchirp.localnet import settle
from fedchirp.store.outbound_tables import outbound_activities
from fedchirp.store.schema import home_feed, notifications
from tests.test_pages import _sign_in
from tests.test_signatures import sign_with_apsig

# Run on SQLite and on PostgreSQL (see tests/conftest.py).
pytestmark = pytest.mark.backends


async def resolve(api, handle: str) -> str:
    """The id, on api's instance, of the account user@host (fetched if new)."""
    found = await api.call("GET", "/api/v2/search", params={"q": handle, "resolve": "true"})
    assert [acct["acct"] for acct in found["accounts"]] == [handle]
    return found["accounts"][0]["id"]


async def relationship(api, account_id: str) -> dict:
    return (await api.call("GET", "/api/v1/accounts/relationships", params={"id[]": account_id}))[0]


async def home_uris(api) -> set[str]:
    """uris of home statuses and of the posts they boost."""
    home = await api.call("GET", "/api/v1/timelines/home", params={"limit": 40})
    return {s["uri"] for s in home} | {s["reblog"]["uri"] for s in home if s["reblog"]}


async def local_id(instance, uri: str) -> int:
    status = await instance.ctx.store.get_status_by_uri(uri)
    assert status is not None, f"{uri} is not on {instance.domain}"
    return status.id


async def test_block_reaches_the_other_server_and_severs_both_follows(pair, client):
    a, b = pair
    await a.create_user("alice")
    await b.create_user("bob")
    alice, bob = await client(a, "alice"), await client(b, "bob")
    bob_id, alice_on_b = (
        await resolve(alice, b.handle("bob")),
        await resolve(bob, a.handle("alice")),
    )
    await alice.call("POST", f"/api/v1/accounts/{bob_id}/follow")
    await bob.call("POST", f"/api/v1/accounts/{alice_on_b}/follow")
    await settle(a, b)
    assert (await relationship(alice, bob_id))["followed_by"] is True
    bob_before = await bob.call("POST", "/api/v1/statuses", json={"status": "bob before"})
    await settle(a, b)
    assert bob_before["uri"] in await home_uris(alice)

    answer = await alice.call("POST", f"/api/v1/accounts/{bob_id}/block")
    assert answer["blocking"] is True
    assert answer["following"] is False and answer["followed_by"] is False
    await settle(a, b)

    # B recorded the Block: bob is blocked_by alice, and neither follows the other there.
    seen_by_bob = await relationship(bob, alice_on_b)
    assert seen_by_bob["blocked_by"] is True and seen_by_bob["blocking"] is False
    assert seen_by_bob["following"] is False and seen_by_bob["followed_by"] is False
    alice_b = await b.ctx.store.get_account(int(alice_on_b))
    bob_b = await b.ctx.store.find_account("bob", "")
    assert await b.ctx.store.get_block(alice_b.id, bob_b.id) is not None
    assert await b.ctx.store.get_follow(alice_b.id, bob_b.id) is None
    assert await b.ctx.store.get_follow(bob_b.id, alice_b.id) is None
    alice_a = await a.ctx.store.find_account("alice", "")
    assert await a.ctx.store.get_follow(alice_a.id, int(bob_id)) is None
    assert await a.ctx.store.get_follow(int(bob_id), alice_a.id) is None
    # A sent Block, Undo(Follow) and Reject(Follow), to bob's own inbox, and B took them.
    bob_a = await a.ctx.store.get_account(int(bob_id))
    activities = await a.ctx.store.db.scalars(
        select(outbound_activities.c.activity_uri).where(
            outbound_activities.c.inboxes.contains(bob_a.inbox_url)
        )
    )
    sent = [
        delivery
        for uri in activities
        for delivery in await a.ctx.store.outbound_deliveries(uri)
        if delivery.inbox_url == bob_a.inbox_url
    ]
    assert {(delivery.activity_type, delivery.state) for delivery in sent} >= {
        ("Block", "delivered"),
        ("Undo", "delivered"),
        ("Reject", "delivered"),
    }
    # bob's post left alice's home at once.
    assert bob_before["uri"] not in await home_uris(alice)

    # A Follow from the blocked account is refused, on both sides.
    status, _ = await bob.request("POST", f"/api/v1/accounts/{alice_on_b}/follow")
    assert status == 403

    # Unblocking sends Undo(Block): B forgets it.
    answer = await alice.call("POST", f"/api/v1/accounts/{bob_id}/unblock")
    assert answer["blocking"] is False
    await settle(a, b)
    assert await b.ctx.store.get_block(alice_b.id, bob_b.id) is None
    assert (await relationship(bob, alice_on_b))["blocked_by"] is False


async def test_after_a_block_nothing_of_bob_reaches_alice_and_her_posts_skip_bob(pair, client):
    a, b = pair
    await a.create_user("alice")
    await b.create_user("bob")
    await b.create_user("carol")
    alice, bob, carol = await client(a, "alice"), await client(b, "bob"), await client(b, "carol")
    bob_id, carol_id = (
        await resolve(alice, b.handle("bob")),
        await resolve(alice, b.handle("carol")),
    )
    alice_on_b = await resolve(bob, a.handle("alice"))
    for follower, target in [(alice, bob_id), (alice, carol_id), (bob, alice_on_b)]:
        await follower.call("POST", f"/api/v1/accounts/{target}/follow")
    await settle(a, b)
    early = await alice.call("POST", "/api/v1/statuses", json={"status": "alice early"})
    await settle(a, b)
    early_on_b = await local_id(b, early["uri"])

    await alice.call("POST", f"/api/v1/accounts/{bob_id}/block")
    await settle(a, b)

    # Nobody else on B follows alice: her new posts, public or not, never reach B.
    public = await alice.call("POST", "/api/v1/statuses", json={"status": "public after"})
    private = await alice.call(
        "POST", "/api/v1/statuses", json={"status": "followers after", "visibility": "private"}
    )
    await settle(a, b)
    for post in (public, private):
        assert await b.ctx.store.get_status_by_uri(post["uri"]) is None

    # carol on B follows alice: B's shared inbox gets alice's posts again, for carol only.
    await carol.call("POST", f"/api/v1/accounts/{await resolve(carol, a.handle('alice'))}/follow")
    await settle(a, b)
    # Even naming bob does not address him: the post is for her followers (carol) only.
    shared = await alice.call(
        "POST",
        "/api/v1/statuses",
        json={"status": f"for followers, not @{b.handle('bob')}", "visibility": "private"},
    )
    assert shared["mentions"] == []
    await settle(a, b)
    assert shared["uri"] in await home_uris(carol)
    assert shared["uri"] not in await home_uris(bob)
    shared_on_b = await local_id(b, shared["uri"])
    bob_b = await b.ctx.store.find_account("bob", "")
    assert await b.ctx.store.status_recipients(shared_on_b) == []
    status, _ = await bob.request("GET", f"/api/v1/statuses/{shared_on_b}")
    assert status == 404
    assert await bob.call("GET", "/api/v1/notifications", params={"types[]": "mention"}) == []

    # Suppose B ignored the Block (as some servers do): A alone keeps bob out.
    alice_b = await b.ctx.store.get_account(int(alice_on_b))
    block = await b.ctx.store.get_block(alice_b.id, bob_b.id)
    await b.ctx.store.delete_block(block.id)
    reply = await bob.call(
        "POST",
        "/api/v1/statuses",
        json={"status": f"@{a.handle('alice')} a reply", "in_reply_to_id": str(early_on_b)},
    )
    mention = await bob.call(
        "POST", "/api/v1/statuses", json={"status": f"hey @{a.handle('alice')}"}
    )
    await bob.call("POST", f"/api/v1/statuses/{early_on_b}/reblog")
    await bob.call("POST", f"/api/v1/statuses/{early_on_b}/favourite")
    bob_post = await bob.call("POST", "/api/v1/statuses", json={"status": "bob's own"})
    await carol.call("POST", f"/api/v1/statuses/{bob_post['id']}/reblog")  # alice follows carol
    await bob.call("POST", f"/api/v1/accounts/{alice_on_b}/follow")
    await settle(a, b)

    # The reply and the boost of bob's post did arrive at A...
    reply_on_a = await local_id(a, reply["uri"])
    await local_id(a, mention["uri"])
    bob_post_on_a = await local_id(a, bob_post["uri"])
    assert await a.ctx.store.find_reblog(int(carol_id), bob_post_on_a) is not None
    # ...but alice sees none of it: not in home, notifications, threads or lookups.
    home = await alice.call("GET", "/api/v1/timelines/home", params={"limit": 40})
    authors = {s["account"]["id"] for s in home} | {
        s["reblog"]["account"]["id"] for s in home if s["reblog"]
    }
    assert bob_id not in authors
    uris = await home_uris(alice)
    assert not {reply["uri"], mention["uri"], bob_post["uri"]} & uris
    notifications = await alice.call("GET", "/api/v1/notifications")
    assert bob_id not in {n["account"]["id"] for n in notifications}
    context = await alice.call("GET", f"/api/v1/statuses/{early['id']}/context")
    assert context["descendants"] == []
    status, _ = await alice.request("GET", f"/api/v1/statuses/{reply_on_a}")
    assert status == 404
    assert (await alice.call("GET", f"/api/v1/statuses/{early['id']}"))["favourites_count"] == 0
    # bob's new Follow was rejected: no follow on either side.
    alice_a = await a.ctx.store.find_account("alice", "")
    assert await a.ctx.store.get_follow(int(bob_id), alice_a.id) is None
    assert await b.ctx.store.get_follow(bob_b.id, alice_b.id) is None
    # Nothing was notified from bob in the first place (hidden rows would still be rows).
    # Nor did fan-out put any of it in her feed to be filtered later.
    fed = await a.ctx.store.db.scalars(
        select(home_feed.c.status_id).where(home_feed.c.account_id == alice_a.id)
    )
    reached = await a.ctx.store.get_statuses(fed)
    originals = await a.ctx.store.get_statuses(
        s.reblog_of_id for s in reached.values() if s.reblog_of_id
    )
    assert int(bob_id) not in {s.account_id for s in [*reached.values(), *originals.values()]}
    stored = await _stored_notifications(a, alice_a)
    assert all(row["from_account_id"] != int(bob_id) for row in stored)


async def _stored_notifications(instance, account) -> list[dict]:
    """Every notification row of the account except follows, read past the filters."""
    return await instance.ctx.store.db.all(
        select(notifications).where(
            notifications.c.account_id == account.id, notifications.c.type != "follow"
        )
    )


async def test_local_block_hides_both_ways_and_refuses_follows(start, client):
    a = await start("a")
    await a.create_user("alice")
    await a.create_user("dan")
    alice, dan = await client(a, "alice"), await client(a, "dan")
    dan_id = str((await a.ctx.store.find_account("dan", "")).id)
    alice_id = str((await a.ctx.store.find_account("alice", "")).id)
    await dan.call("POST", f"/api/v1/accounts/{alice_id}/follow")
    await alice.call("POST", f"/api/v1/accounts/{dan_id}/follow")
    hers = await alice.call("POST", "/api/v1/statuses", json={"status": "alice before"})
    assert hers["uri"] in await home_uris(dan)
    found = await dan.call("GET", "/api/v2/search", params={"q": "alic", "type": "accounts"})
    assert [acct["acct"] for acct in found["accounts"]] == ["alice"]

    await alice.call("POST", f"/api/v1/accounts/{dan_id}/block")
    seen_by_dan = await relationship(dan, alice_id)
    assert seen_by_dan["blocked_by"] is True and seen_by_dan["following"] is False
    assert (await relationship(alice, dan_id))["followed_by"] is False
    # Her post left his feed, and he can no longer open, reply to or like it.
    assert hers["uri"] not in await home_uris(dan)
    for method, path in [
        ("GET", f"/api/v1/statuses/{hers['id']}"),
        ("POST", f"/api/v1/statuses/{hers['id']}/favourite"),
    ]:
        status, _ = await dan.request(method, path)
        assert status == 404, path
    status, body = await dan.request("POST", f"/api/v1/accounts/{alice_id}/follow")
    assert status == 403 and body["error"]
    # His mention of her is not notified; her new posts are not in his home or public view.
    await dan.call("POST", "/api/v1/statuses", json={"status": "hey @alice"})
    assert await alice.call("GET", "/api/v1/notifications", params={"types[]": "mention"}) == []
    later = await alice.call("POST", "/api/v1/statuses", json={"status": "alice later"})
    assert later["uri"] not in await home_uris(dan)
    public = await dan.call("GET", "/api/v1/timelines/public")
    assert alice_id not in {s["account"]["id"] for s in public}
    assert await dan.call("GET", f"/api/v1/accounts/{alice_id}/statuses") == []
    # A partial name does not find her for him, nor him for her.
    found = await dan.call("GET", "/api/v2/search", params={"q": "alic", "type": "accounts"})
    assert found["accounts"] == []
    found = await alice.call("GET", "/api/v2/search", params={"q": "da", "type": "accounts"})
    assert found["accounts"] == []
    # His whole name does, as a handle would: she must find him to unblock him.
    found = await alice.call("GET", "/api/v2/search", params={"q": "dan", "type": "accounts"})
    assert [acct["acct"] for acct in found["accounts"]] == ["dan"]
    # Blocking oneself is refused.
    status, body = await alice.request("POST", f"/api/v1/accounts/{alice_id}/block")
    assert status == 422 and "yourself" in body["error"]


async def test_profile_page_block_and_mute_buttons(start, web):
    a = await start("a")
    await a.create_user("alice")
    dan = await a.create_user("dan")
    csrf = await _sign_in(web, a, "alice")
    async with web.get(f"{a.base_url}/@dan") as resp:
        page = await resp.text()
    assert f'action="/accounts/{dan.id}/block"' in page
    assert f'action="/accounts/{dan.id}/mute"' in page
    # Without the session's token nothing happens.
    async with web.post(f"{a.base_url}/accounts/{dan.id}/block", data={"csrf": "x"}) as resp:
        assert resp.status == 403
    alice = await a.ctx.store.find_account("alice", "")
    assert await a.ctx.store.get_block(alice.id, dan.id) is None

    for action in ("block", "mute"):
        async with web.post(
            f"{a.base_url}/accounts/{dan.id}/{action}", data={"csrf": csrf}
        ) as resp:
            assert resp.status == 200 and resp.url.path == "/@dan"
            page = await resp.text()
    assert f'action="/accounts/{dan.id}/unblock"' in page
    assert f'action="/accounts/{dan.id}/unmute"' in page
    assert await a.ctx.store.get_block(alice.id, dan.id) is not None
    standing = await a.ctx.store.standing(alice.id, dan.id, time.time())
    assert standing.blocking and standing.muting

    for action in ("unblock", "unmute"):
        async with web.post(
            f"{a.base_url}/accounts/{dan.id}/{action}", data={"csrf": csrf}
        ) as resp:
            assert resp.status == 200
    standing = await a.ctx.store.standing(alice.id, dan.id, time.time())
    assert not standing.blocking and not standing.muting


async def _send(http, instance, remote, name: str, activity: dict) -> None:
    url = f"{instance.base_url}/inbox"
    body = json.dumps({"@context": "https://www.w3.org/ns/activitystreams", **activity}).encode()
    headers = sign_with_apsig(remote, name, url, body)
    async with http.post(url, data=body, headers=headers) as resp:
        assert resp.status == 202, await resp.text()
    await settle(instance)


def _received(remote, kind: str) -> list[dict]:
    return [doc for doc in (json.loads(r.body) for r in remote.inbox) if doc["type"] == kind]


async def test_block_and_undo_from_a_mastodon_shaped_server(start, remote, http, client):
    """Mastodon sends Block with the object as a bare id, and may Undo by the id alone."""
    a = await start("a")
    alice = await a.create_user("alice")
    api = await client(a, "alice")
    mal = remote.add_actor("mal")
    await _send(
        http,
        a,
        remote,
        "mal",
        {"id": f"{mal}#f1", "type": "Follow", "actor": mal, "object": alice.uri},
    )
    mal_account = await a.ctx.store.get_account_by_uri(mal)
    assert (await relationship(api, str(mal_account.id)))["followed_by"] is True

    block_id = f"{mal}#blocks/1"
    await _send(
        http, a, remote, "mal", {"id": block_id, "type": "Block", "actor": mal, "object": alice.uri}
    )
    seen = await relationship(api, str(mal_account.id))
    assert seen["blocked_by"] is True and seen["followed_by"] is False
    status, _ = await api.request("POST", f"/api/v1/accounts/{mal_account.id}/follow")
    assert status == 403

    await _send(
        http,
        a,
        remote,
        "mal",
        {"id": f"{block_id}/undo", "type": "Undo", "actor": mal, "object": block_id},
    )
    assert (await relationship(api, str(mal_account.id)))["blocked_by"] is False

    # Blocked by alice, mal's Follow is answered with Reject and not recorded.
    await api.call("POST", f"/api/v1/accounts/{mal_account.id}/block")
    await _send(
        http,
        a,
        remote,
        "mal",
        {"id": f"{mal}#f2", "type": "Follow", "actor": mal, "object": alice.uri},
    )
    assert (await relationship(api, str(mal_account.id)))["followed_by"] is False
    rejected = [r["object"]["id"] for r in _received(remote, "Reject")]
    assert f"{mal}#f2" in rejected
    blocks_sent = _received(remote, "Block")
    assert [(b["actor"], b["object"]) for b in blocks_sent] == [(alice.uri, mal)]
