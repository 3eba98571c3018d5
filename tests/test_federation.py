"""Two and three instances on loopback, talking signed ActivityPub over real HTTP."""

from __future__ import annotations

import pytest

from fedchirp.localnet import settle
from fedchirp.services import follows, interactions, posting
from fedchirp.store.models import Page

# Run on SQLite and on PostgreSQL (see tests/conftest.py).
pytestmark = pytest.mark.backends


async def _follow_via_api(client, a, b, follower: str, followee: str) -> tuple:
    """follower@a follows followee@b using only the client API; returns (api, remote id)."""
    api = await client(a, follower)
    found = await api.call(
        "GET", "/api/v2/search", params={"q": b.handle(followee), "resolve": "true"}
    )
    assert [acct["acct"] for acct in found["accounts"]] == [b.handle(followee)]
    remote_id = found["accounts"][0]["id"]
    await api.call("POST", f"/api/v1/accounts/{remote_id}/follow")
    await settle(a, b)
    return api, remote_id


async def test_follow_post_unfollow_delete_across_two_instances(pair, client):
    a, b = pair
    await a.create_user("alice")
    await b.create_user("bob")
    alice, bob_id = await _follow_via_api(client, a, b, "alice", "bob")
    bob = await client(b, "bob")

    relation = await alice.call("GET", "/api/v1/accounts/relationships", params={"id[]": bob_id})
    assert relation[0]["following"] is True and relation[0]["requested"] is False
    me = await bob.call("GET", "/api/v1/accounts/verify_credentials")
    followers = await bob.call("GET", f"/api/v1/accounts/{me['id']}/followers")
    assert [f["acct"] for f in followers] == [a.handle("alice")]

    first = await bob.call("POST", "/api/v1/statuses", json={"status": "first from bob"})
    await settle(a, b)
    home = await alice.call("GET", "/api/v1/timelines/home")
    assert [s["uri"] for s in home] == [first["uri"]]
    assert home[0]["account"]["acct"] == b.handle("bob")
    assert "first from bob" in home[0]["content"]

    # Delete removes it from alice's timeline on the other server.
    await bob.call("DELETE", f"/api/v1/statuses/{first['id']}")
    await settle(a, b)
    assert await alice.call("GET", "/api/v1/timelines/home") == []

    # Unfollow stops new posts arriving.
    await alice.call("POST", f"/api/v1/accounts/{bob_id}/unfollow")
    await settle(a, b)
    assert await bob.call("GET", "/api/v1/follow_requests") == []
    assert await bob.call("GET", f"/api/v1/accounts/{me['id']}/followers") == []
    await bob.call("POST", "/api/v1/statuses", json={"status": "after the unfollow"})
    await settle(a, b)
    assert await alice.call("GET", "/api/v1/timelines/home") == []


async def test_home_timeline_merges_local_and_remote_posts_in_time_order(trio, client):
    a, b, c = trio
    await a.create_user("alice")
    await a.create_user("amy")
    await b.create_user("bob")
    await c.create_user("carol")
    alice, _ = await _follow_via_api(client, a, b, "alice", "bob")
    await _follow_via_api(client, a, c, "alice", "carol")
    await alice.call(
        "POST", f"/api/v1/accounts/{(await a.ctx.store.find_account('amy', '')).id}/follow"
    )
    bob, carol, amy = await client(b, "bob"), await client(c, "carol"), await client(a, "amy")

    written = []
    for api, text in [(bob, "b1"), (amy, "a1"), (carol, "c1"), (alice, "own"), (bob, "b2")]:
        written.append((await api.call("POST", "/api/v1/statuses", json={"status": text}))["uri"])
    await settle(a, b, c)

    home = await alice.call("GET", "/api/v1/timelines/home")
    assert [s["uri"] for s in home] == list(reversed(written))
    ids = [int(s["id"]) for s in home]
    assert ids == sorted(ids, reverse=True)

    # Paging follows Mastodon: limit, then max_id from the Link header.
    page1 = await alice.call("GET", "/api/v1/timelines/home", params={"limit": 2})
    assert [s["uri"] for s in page1] == list(reversed(written))[:2]
    page2 = await alice.call(
        "GET", "/api/v1/timelines/home", params={"limit": 2, "max_id": page1[-1]["id"]}
    )
    assert [s["uri"] for s in page2] == list(reversed(written))[2:4]
    newer = await alice.call(
        "GET", "/api/v1/timelines/home", params={"limit": 2, "min_id": page2[0]["id"]}
    )
    assert [s["uri"] for s in newer] == [s["uri"] for s in page1]


async def test_locked_account_needs_approval_before_posts_flow(pair, client):
    a, b = pair
    await a.create_user("alice")
    await b.create_user("bob", locked=True)
    alice, bob_id = await _follow_via_api(client, a, b, "alice", "bob")
    bob = await client(b, "bob")

    relation = await alice.call("GET", "/api/v1/accounts/relationships", params={"id[]": bob_id})
    assert relation[0]["following"] is False and relation[0]["requested"] is True
    requests = await bob.call("GET", "/api/v1/follow_requests")
    assert [r["acct"] for r in requests] == [a.handle("alice")]

    await bob.call(
        "POST", "/api/v1/statuses", json={"status": "before approval", "visibility": "private"}
    )
    await settle(a, b)
    assert await alice.call("GET", "/api/v1/timelines/home") == []

    await bob.call("POST", f"/api/v1/follow_requests/{requests[0]['id']}/authorize")
    await settle(a, b)
    relation = await alice.call("GET", "/api/v1/accounts/relationships", params={"id[]": bob_id})
    assert relation[0]["following"] is True
    after = await bob.call(
        "POST", "/api/v1/statuses", json={"status": "after approval", "visibility": "private"}
    )
    await settle(a, b)
    home = await alice.call("GET", "/api/v1/timelines/home")
    assert [s["uri"] for s in home] == [after["uri"]]
    assert home[0]["visibility"] == "private"


async def test_rejected_follow_request_is_removed_on_both_sides(pair, client):
    a, b = pair
    await a.create_user("alice")
    await b.create_user("bob", locked=True)
    alice, bob_id = await _follow_via_api(client, a, b, "alice", "bob")
    bob = await client(b, "bob")
    requests = await bob.call("GET", "/api/v1/follow_requests")
    await bob.call("POST", f"/api/v1/follow_requests/{requests[0]['id']}/reject")
    await settle(a, b)
    relation = await alice.call("GET", "/api/v1/accounts/relationships", params={"id[]": bob_id})
    assert relation[0]["following"] is False and relation[0]["requested"] is False
    assert await bob.call("GET", "/api/v1/follow_requests") == []


async def test_three_instances_fan_out_and_shared_inbox_gets_one_delivery(trio, client):
    a, b, c = trio
    for name in ("alice", "amy", "ann"):
        await a.create_user(name)
    await c.create_user("cat")
    await b.create_user("bob")
    for name in ("alice", "amy", "ann"):
        await _follow_via_api(client, a, b, name, "bob")
    await _follow_via_api(client, c, b, "cat", "bob")
    bob = await client(b, "bob")
    post = await bob.call("POST", "/api/v1/statuses", json={"status": "to everyone"})

    # Three followers on A and one on C: one delivery per server, to its shared inbox.
    deliveries = await b.ctx.store.outbound_deliveries(f"{post['uri']}/activity")
    assert sorted(d.inbox_url for d in deliveries) == sorted(
        [f"{a.base_url}/inbox", f"{c.base_url}/inbox"]
    )
    await settle(a, b, c)
    for instance, name in [(a, "alice"), (a, "amy"), (a, "ann"), (c, "cat")]:
        home = await (await client(instance, name)).call("GET", "/api/v1/timelines/home")
        assert [s["uri"] for s in home] == [post["uri"]], name
    # The post is stored once on A, however many followers it has there.
    assert await a.ctx.store.count_statuses() == 1


async def test_remote_reply_like_boost_and_edit_reach_the_author(pair, client):
    a, b = pair
    alice_account = await a.create_user("alice")
    bob_account = await b.create_user("bob")
    alice, bob_id = await _follow_via_api(client, a, b, "alice", "bob")
    bob, _ = await _follow_via_api(client, b, a, "bob", "alice")
    post = await bob.call("POST", "/api/v1/statuses", json={"status": "original"})
    await settle(a, b)
    on_a = (await alice.call("GET", "/api/v1/timelines/home"))[0]

    await alice.call("POST", f"/api/v1/statuses/{on_a['id']}/favourite")
    await alice.call("POST", f"/api/v1/statuses/{on_a['id']}/reblog")
    reply = await alice.call(
        "POST",
        "/api/v1/statuses",
        json={"status": f"@{b.handle('bob')} a reply", "in_reply_to_id": on_a["id"]},
    )
    await settle(a, b)

    seen = await bob.call("GET", f"/api/v1/statuses/{post['id']}")
    assert seen["favourites_count"] == 1
    assert seen["reblogs_count"] == 1
    assert seen["replies_count"] == 1
    context = await bob.call("GET", f"/api/v1/statuses/{post['id']}/context")
    assert [s["uri"] for s in context["descendants"]] == [reply["uri"]]
    kinds = sorted(n["type"] for n in await bob.call("GET", "/api/v1/notifications"))
    assert kinds == ["favourite", "follow", "mention", "reblog"]
    # bob's home shows alice's boost of his post and her reply (he follows her).
    home = await bob.call("GET", "/api/v1/timelines/home")
    assert reply["uri"] in [s["uri"] for s in home]
    assert any(s["reblog"] and s["reblog"]["uri"] == post["uri"] for s in home)

    # Undo both: counts go back to zero on bob's server.
    await alice.call("POST", f"/api/v1/statuses/{on_a['id']}/unfavourite")
    await alice.call("POST", f"/api/v1/statuses/{on_a['id']}/unreblog")
    await settle(a, b)
    seen = await bob.call("GET", f"/api/v1/statuses/{post['id']}")
    assert (seen["favourites_count"], seen["reblogs_count"]) == (0, 0)

    # An edit on B updates alice's copy on A.
    await bob.call("PUT", f"/api/v1/statuses/{post['id']}", json={"status": "edited text"})
    await settle(a, b)
    refreshed = await alice.call("GET", f"/api/v1/statuses/{on_a['id']}")
    assert "edited text" in refreshed["content"] and refreshed["edited_at"]
    assert alice_account.id and bob_account.id and bob_id


async def test_boost_from_third_server_brings_the_original(trio, client):
    a, b, c = trio
    await a.create_user("alice")
    await b.create_user("bob")
    await c.create_user("carol")
    alice, _ = await _follow_via_api(client, a, b, "alice", "bob")
    carol = await client(c, "carol")
    post = await carol.call("POST", "/api/v1/statuses", json={"status": "carol's words"})
    bob_ctx = b.ctx
    bob = await bob_ctx.store.find_account("bob", "")
    found = await (await client(b, "bob")).call(
        "GET", "/api/v2/search", params={"q": post["uri"], "resolve": "true"}
    )
    assert [s["uri"] for s in found["statuses"]] == [post["uri"]]
    status = await bob_ctx.store.get_status_by_uri(post["uri"])
    await interactions.reblog(bob_ctx, bob, status)
    await settle(a, b, c)
    home = await alice.call("GET", "/api/v1/timelines/home")
    assert home[0]["reblog"]["uri"] == post["uri"]
    assert home[0]["reblog"]["account"]["acct"] == c.handle("carol")
    assert home[0]["account"]["acct"] == b.handle("bob")


async def test_service_level_follow_is_idempotent(pair):
    a, b = pair
    alice = await a.create_user("alice")
    await b.create_user("bob")
    bob_on_a = await a.ctx.resolver.webfinger("bob", b.domain)
    first = await follows.follow(a.ctx, alice, bob_on_a)
    again = await follows.follow(a.ctx, alice, bob_on_a)
    assert first.id == again.id
    assert len(await a.ctx.store.outbound_deliveries(first.uri)) == 1
    await settle(a, b)
    assert (await a.ctx.store.get_follow(alice.id, bob_on_a.id)).state == "accepted"


async def test_post_length_limit_is_configurable(start, client):
    a = await start("short", settings={"posts": {"max_chars": 10}})
    await a.create_user("alice")
    alice = await client(a, "alice")
    ok = await alice.call("POST", "/api/v1/statuses", json={"status": "0123456789"})
    assert ok["content"] == "<p>0123456789</p>"
    refused = await alice.call(
        "POST", "/api/v1/statuses", expect=422, json={"status": "01234567890"}
    )
    assert "longer than 10" in refused["error"]
    # Links count 23 characters however long they are (so a short URL is over 10 too).
    await alice.call("POST", "/api/v1/statuses", expect=422, json={"status": "http://x.y"})
    instance = await alice.call("GET", "/api/v2/instance")
    assert instance["configuration"]["statuses"]["max_characters"] == 10
    assert (
        len(
            await a.ctx.store.home_timeline(
                (await a.ctx.store.find_account("alice", "")).id, Page()
            )
        )
        == 1
    )


@pytest.mark.parametrize("visibility", ["public", "unlisted", "private"])
async def test_addressing_on_the_wire_matches_mastodon(start, visibility):
    a = await start("a")
    alice = await a.create_user("alice")
    status = await posting.create_status(a.ctx, alice, "hello", visibility=visibility)
    note = await posting.note_document(a.ctx, status, alice)
    public = "https://www.w3.org/ns/activitystreams#Public"
    expected = {
        "public": ([public], [alice.followers_url]),
        "unlisted": ([alice.followers_url], [public]),
        "private": ([alice.followers_url], []),
    }[visibility]
    assert (note["to"], note["cc"]) == expected
    assert "bto" not in note and "bcc" not in note


async def test_concurrent_inbox_deliveries_are_all_stored(pair, http):
    """Many signed Creates at once: each is queued and then stored exactly once (reads
    must see fresh commits even while other requests hold the read connection busy)."""
    import asyncio
    import json

    from fedchirp.federation.httpsig import sign_request

    a, b = pair
    alice = await a.create_user("alice")
    bob = await b.create_user("bob")
    bob_key = (await b.ctx.store.get_local_user(bob.id)).private_key_pem
    bob_on_a = await a.ctx.resolver.actor(bob.uri)
    await a.ctx.store.accept_follow((await follows.follow(a.ctx, alice, bob_on_a)).id)
    public = "https://www.w3.org/ns/activitystreams#Public"

    async def send(n: int) -> int:
        note = f"{bob.uri}/statuses/{n}"
        body = json.dumps(
            {
                "id": f"{note}/activity",
                "type": "Create",
                "actor": bob.uri,
                "to": [public],
                "object": {
                    "id": note,
                    "type": "Note",
                    "attributedTo": bob.uri,
                    "content": f"n{n}",
                    "to": [public],
                },
            }
        )
        url = f"{a.base_url}/inbox"
        headers = sign_request("POST", url, bob.public_key_id, bob_key, body.encode())
        headers["Content-Type"] = "application/activity+json"
        async with http.post(url, data=body, headers=headers) as resp:
            return resp.status

    statuses = await asyncio.gather(*(send(n) for n in range(200)))
    assert statuses == [202] * 200
    await settle(a, b)  # the inbox queues; workers apply
    home = await a.ctx.store.home_timeline(alice.id, Page(limit=500))
    assert sorted(s.content for s in home) == sorted(f"n{n}" for n in range(200))
