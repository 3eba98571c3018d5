"""Mutes (with notifications and expiry), a user's domain blocks, and the Mastodon.py
calls for blocks, mutes and domain blocks."""

from __future__ import annotations

import asyncio

import pytest

from fedchirp.localnet import settle
from tests.test_blocks import relationship, resolve
from tests.test_mastodon_api import login, sync

# Run on SQLite and on PostgreSQL (see tests/conftest.py).
pytestmark = pytest.mark.backends


async def _uris(api, path: str, **params) -> list[str]:
    return [s["uri"] for s in await api.call("GET", path, params={"limit": 40, **params})]


async def _boosted(api) -> list[str]:
    home = await api.call("GET", "/api/v1/timelines/home", params={"limit": 40})
    return [s["reblog"]["uri"] for s in home if s["reblog"]]


async def _notifiers(api) -> list[str]:
    return [n["account"]["acct"] for n in await api.call("GET", "/api/v1/notifications")]


async def test_mastodon_py_blocks_mutes_and_domain_blocks(pair):
    a, b = pair
    await a.create_user("alice")
    await a.create_user("dan")
    await b.create_user("bob")
    api = await login(a, "alice")
    bob = (await sync(api.search_v2, b.handle("bob"), resolve=True))["accounts"][0]
    dan = (await sync(api.search_v2, "dan"))["accounts"][0]

    answer = await sync(api.account_block, bob)
    assert answer["blocking"] is True and answer["id"] == bob["id"]
    await sync(api.account_block, dan)
    await settle(a, b)
    alice_b = await b.ctx.store.find_account("alice", a.domain)
    bob_b = await b.ctx.store.find_account("bob", "")
    assert await b.ctx.store.get_block(alice_b.id, bob_b.id) is not None
    assert [acct["acct"] for acct in await sync(api.blocks)] == ["dan", b.handle("bob")]
    first = await sync(api.blocks, limit=1)
    assert [acct["acct"] for acct in first] == ["dan"]
    assert [acct["acct"] for acct in await sync(api.fetch_next, first)] == [b.handle("bob")]
    assert (await sync(api.account_unblock, bob))["blocking"] is False
    await sync(api.account_unblock, dan)
    await settle(a, b)
    assert await sync(api.blocks) == []
    assert await b.ctx.store.get_block(alice_b.id, bob_b.id) is None

    answer = await sync(api.account_mute, dan, duration=3600)
    assert answer["muting"] is True and answer["muting_notifications"] is True
    muted = await sync(api.mutes)
    assert [acct["acct"] for acct in muted] == ["dan"]
    assert muted[0]["mute_expires_at"] is not None
    answer = await sync(api.account_mute, dan, notifications=False)
    assert answer["muting"] is True and answer["muting_notifications"] is False
    assert (await sync(api.mutes))[0]["mute_expires_at"] is None
    assert (await sync(api.account_unmute, dan))["muting"] is False
    assert await sync(api.mutes) == []

    await sync(api.domain_block, b.domain)
    assert await sync(api.domain_blocks) == [b.domain]
    assert (await sync(api.account_relationships, bob))[0]["domain_blocking"] is True
    await sync(api.domain_unblock, b.domain)
    assert await sync(api.domain_blocks) == []
    assert (await sync(api.account_relationships, bob))[0]["domain_blocking"] is False


async def test_mute_hides_posts_boosts_and_notifications_until_it_expires(start, client):
    a = await start("a")
    for name in ("alice", "dan", "erin"):
        await a.create_user(name)
    alice, dan, erin = [await client(a, name) for name in ("alice", "dan", "erin")]
    dan_id = str((await a.ctx.store.find_account("dan", "")).id)
    erin_id = str((await a.ctx.store.find_account("erin", "")).id)
    for target in (dan_id, erin_id):
        await alice.call("POST", f"/api/v1/accounts/{target}/follow")
    post = await dan.call("POST", "/api/v1/statuses", json={"status": "dan speaks"})
    await erin.call("POST", f"/api/v1/statuses/{post['id']}/reblog")
    await dan.call("POST", "/api/v1/statuses", json={"status": "hi @alice"})
    assert post["uri"] in await _uris(alice, "/api/v1/timelines/home")
    assert "dan" in await _notifiers(alice)

    # Muted, notifications still on: posts and boosts leave home and public timelines.
    await alice.call("POST", f"/api/v1/accounts/{dan_id}/mute", json={"notifications": False})
    assert post["uri"] not in await _uris(alice, "/api/v1/timelines/home")
    assert post["uri"] not in await _boosted(alice)
    assert post["uri"] not in await _uris(alice, "/api/v1/timelines/public")
    assert post["uri"] in await _uris(dan, "/api/v1/timelines/public")  # others still see it
    assert post["uri"] in await _uris(alice, f"/api/v1/accounts/{dan_id}/statuses")
    assert "dan" in await _notifiers(alice)

    # Muting notifications too hides them.
    await alice.call("POST", f"/api/v1/accounts/{dan_id}/mute", json={"notifications": True})
    assert "dan" not in await _notifiers(alice)

    # A mute with a duration stops applying when it expires.
    await alice.call("POST", f"/api/v1/accounts/{dan_id}/mute", json={"duration": 1})
    assert post["uri"] not in await _uris(alice, "/api/v1/timelines/home")
    await asyncio.sleep(1.2)
    assert post["uri"] in await _uris(alice, "/api/v1/timelines/home")
    assert post["uri"] in await _boosted(alice)
    assert "dan" in await _notifiers(alice)
    assert await alice.call("GET", "/api/v1/mutes") == []
    assert (await relationship(alice, dan_id))["muting"] is False

    # Bad input: a clear 422, nothing changes.
    status, body = await alice.request(
        "POST", f"/api/v1/accounts/{dan_id}/mute", json={"duration": "soon"}
    )
    assert status == 422 and "duration" in body["error"]
    status, _ = await alice.request(
        "POST", f"/api/v1/accounts/{dan_id}/mute", json={"duration": -5}
    )
    assert status == 422
    own = (await alice.call("GET", "/api/v1/accounts/verify_credentials"))["id"]
    status, _ = await alice.request("POST", f"/api/v1/accounts/{own}/mute")
    assert status == 422
    assert await alice.call("GET", "/api/v1/mutes") == []


async def test_domain_block_hides_the_domain_and_ends_follows(pair, client):
    a, b = pair
    await a.create_user("alice")
    await b.create_user("bob")
    alice, bob = await client(a, "alice"), await client(b, "bob")
    bob_id = await resolve(alice, b.handle("bob"))
    alice_on_b = await resolve(bob, a.handle("alice"))
    await alice.call("POST", f"/api/v1/accounts/{bob_id}/follow")
    await bob.call("POST", f"/api/v1/accounts/{alice_on_b}/follow")
    await settle(a, b)
    before = await bob.call("POST", "/api/v1/statuses", json={"status": "bob before"})
    await settle(a, b)
    assert before["uri"] in await _uris(alice, "/api/v1/timelines/home")

    await alice.call("POST", "/api/v1/domain_blocks", data={"domain": b.domain.upper()})
    await settle(a, b)
    seen = await relationship(alice, bob_id)
    assert seen["domain_blocking"] is True
    assert seen["following"] is False and seen["followed_by"] is False
    # The other server was told both ways (Undo Follow, Reject Follow).
    seen_by_bob = await relationship(bob, alice_on_b)
    assert seen_by_bob["following"] is False and seen_by_bob["followed_by"] is False
    assert before["uri"] not in await _uris(alice, "/api/v1/timelines/home")

    mention = await bob.call("POST", "/api/v1/statuses", json={"status": f"@{a.handle('alice')}"})
    await settle(a, b)
    anonymous = await client(a)
    assert mention["uri"] in await _uris(anonymous, "/api/v1/timelines/public")  # it is here
    assert mention["uri"] not in await _uris(alice, "/api/v1/timelines/public")
    assert mention["uri"] not in await _uris(alice, "/api/v1/timelines/home")
    assert b.handle("bob") not in await _notifiers(alice)
    status, _ = await alice.request("POST", f"/api/v1/accounts/{bob_id}/follow")
    assert status == 403

    # Bad domains are refused with a reason.
    for bad in ("", "not a domain", "http://x/y", a.domain):
        status, body = await alice.request("POST", "/api/v1/domain_blocks", data={"domain": bad})
        assert status == 422 and body["error"], bad
    assert await alice.call("GET", "/api/v1/domain_blocks") == [b.domain]

    await alice.call("DELETE", "/api/v1/domain_blocks", params={"domain": b.domain})
    assert mention["uri"] in await _uris(alice, "/api/v1/timelines/public")
    mentions = await alice.call("GET", "/api/v1/notifications", params={"types[]": "mention"})
    assert mentions == []  # none was made while the domain was blocked
    assert b.handle("bob") in await _notifiers(alice)  # the follow from before shows again
