"""Instance-wide domain blocks across real instances on loopback: an admin of `a`
suspends (or silences) the server `b` runs on, through the admin API or an imported
Mastodon CSV blocklist, and `a` stops taking, showing, fetching and sending."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from fedchirp.config import render_toml
from fedchirp.federation import domain_blocks as block_cache
from fedchirp.federation.delivery import DOMAIN_SUSPENDED
from fedchirp.federation.documents import create_activity_id
from fedchirp.localnet import DEFAULT_PASSWORD, ApiClient, settle
from tests.cliutil import run_main
from tests.stubs import like_activity

# Run on SQLite and on PostgreSQL (see tests/conftest.py).
pytestmark = pytest.mark.backends

ADMIN_SCOPES = "read write follow admin:read admin:write"


async def admin_client(http, instance, username: str = "root") -> ApiClient:
    """An API client signed in as a (new) admin of instance, with admin scopes."""
    await instance.create_user(username, admin=True)
    api = ApiClient(http, instance)
    app = await api.call(
        "POST",
        "/api/v1/apps",
        json={"client_name": "t", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
              "scopes": ADMIN_SCOPES},
    )  # fmt: skip
    token = await api.call(
        "POST",
        "/oauth/token",
        json={"grant_type": "password", "client_id": app["client_id"],
              "client_secret": app["client_secret"], "username": username,
              "password": DEFAULT_PASSWORD, "scope": ADMIN_SCOPES},
    )  # fmt: skip
    api.token = token["access_token"]
    return api


async def _friends(pair, client):
    """alice@a and bob@b follow each other; bob has posted. (alice, bob, bob's post)."""
    a, b = pair
    await a.create_user("alice")
    await b.create_user("bob")
    alice, bob = await client(a, "alice"), await client(b, "bob")
    found = await alice.call(
        "GET", "/api/v2/search", params={"q": b.handle("bob"), "resolve": "true"}
    )
    bob_id = found["accounts"][0]["id"]
    await alice.call("POST", f"/api/v1/accounts/{bob_id}/follow")
    found = await bob.call(
        "GET", "/api/v2/search", params={"q": a.handle("alice"), "resolve": "true"}
    )
    await bob.call("POST", f"/api/v1/accounts/{found['accounts'][0]['id']}/follow")
    await settle(a, b)
    post = await bob.call("POST", "/api/v1/statuses", json={"status": "hello from b"})
    await settle(a, b)
    assert [s["uri"] for s in await alice.call("GET", "/api/v1/timelines/home")] == [post["uri"]]
    public = await alice.call("GET", "/api/v1/timelines/public")
    assert post["uri"] in [s["uri"] for s in public]
    return alice, bob, post


async def _assert_cut_off(pair, alice, bob, post) -> None:
    """What a suspension of b's domain must have done at a."""
    a, b = pair
    store = a.ctx.store
    # bob's posts vanish from the timelines, his account from search, follows are severed.
    assert await alice.call("GET", "/api/v1/timelines/home") == []
    public = await alice.call("GET", "/api/v1/timelines/public")
    assert post["uri"] not in [s["uri"] for s in public]
    await alice.call(
        "GET", f"/api/v1/statuses/{(await store.get_status_by_uri(post['uri'])).id}", expect=404
    )
    found = await alice.call("GET", "/api/v2/search", params={"q": "bob"})
    assert found["accounts"] == []
    alice_account = await store.find_account("alice", "")
    assert await a.ctx.store.follow_counts(alice_account.id) == (0, 0)

    # b's activities get 202 and nothing is stored.
    later = await bob.call("POST", "/api/v1/statuses", json={"status": "still there?"})
    await settle(a, b)
    [sent] = await b.ctx.store.outbound_deliveries(create_activity_id(later["uri"]))
    assert (sent.state, sent.job_id) == ("delivered", None)
    assert await store.get_status_by_uri(later["uri"]) is None
    assert await store.count_jobs() == 0

    # Nothing goes to b: not a post mentioning bob, not a reply to him.
    mine = await alice.call(
        "POST", "/api/v1/statuses", json={"status": f"@{b.handle('bob')} can you hear me?"}
    )
    await settle(a, b)
    assert await a.ctx.store.outbound_deliveries(create_activity_id(mine["uri"])) == []
    assert await b.ctx.store.get_status_by_uri(mine["uri"]) is None

    # Nor is anything fetched from it.
    found = await alice.call(
        "GET", "/api/v2/search", params={"q": f"{b.base_url}/users/nobody", "resolve": "true"}
    )
    assert found["accounts"] == []


async def test_suspending_a_domain_through_the_admin_api(pair, client, http):
    a, b = pair
    alice, bob, post = await _friends(pair, client)
    admin = await admin_client(http, a)

    made = await admin.call(
        "POST",
        "/api/v1/admin/domain_blocks",
        json={"domain": b.domain, "severity": "suspend", "public_comment": "spam"},
    )
    assert (made["domain"], made["severity"], made["public_comment"]) == (
        b.domain,
        "suspend",
        "spam",
    )
    await _assert_cut_off(pair, alice, bob, post)

    # Lifting the block brings the accounts back (the severed follows stay severed).
    await admin.call("DELETE", f"/api/v1/admin/domain_blocks/{made['id']}")
    public = await alice.call("GET", "/api/v1/timelines/public")
    assert post["uri"] in [s["uri"] for s in public]


async def test_importing_a_mastodon_csv_blocklist_has_the_same_effect(
    pair, client, tmp_path: Path, capsys, monkeypatch
):
    # The command runs beside the server (as on a real host) and writes the database;
    # the server reads the blocks again when its copy is REFRESH_SECONDS old: here always.
    monkeypatch.setattr(block_cache, "REFRESH_SECONDS", 0.0)
    a, b = pair
    alice, bob, post = await _friends(pair, client)
    config = tmp_path / "a.toml"
    config.write_text(render_toml(a.config), encoding="utf-8")
    blocklist = tmp_path / "blocklist.csv"
    blocklist.write_text(
        "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n"
        f"{b.domain},suspend,true,true,Harassment,false\n"
        "other.example,silence,false,false,,true\n",
        encoding="utf-8",
    )
    result = await asyncio.to_thread(
        run_main, capsys, ["--config", str(config), "domain-block", "import", str(blocklist)]
    )
    assert (result.code, result.out.strip()) == (
        0,
        f"imported {blocklist}: 2 blocks added, 0 updated",
    )
    await _assert_cut_off(pair, alice, bob, post)
    assert await a.ctx.domain_blocks.rejects_reports(b.domain)
    assert not await a.ctx.domain_blocks.suspended("127.0.0.1:1")  # the block names a port
    assert await a.ctx.domain_blocks.silenced("a.b.other.example")


async def test_queued_deliveries_to_a_suspended_domain_are_dropped(start, inbox, http):
    a = await start("a", run_workers=False)
    alice = await a.create_user("alice")
    queued = like_activity(alice.uri, 1)
    assert await a.ctx.delivery.enqueue(queued, alice, [inbox.url]) == 1

    admin = await admin_client(http, a)
    await admin.call(
        "POST", "/api/v1/admin/domain_blocks", json={"domain": inbox.domain, "severity": "suspend"}
    )
    [dropped] = await a.ctx.store.outbound_deliveries(queued["id"])
    assert (dropped.state, dropped.last_error, dropped.attempts) == ("failed", DOMAIN_SUSPENDED, 0)
    # New ones are not even queued, and the worker sends nothing.
    assert await a.ctx.delivery.enqueue(like_activity(alice.uri, 2), alice, [inbox.url]) == 0
    assert await a.ctx.delivery.run_due() == 0
    assert inbox.received == []


async def test_a_block_from_another_process_drops_leased_deliveries(start, inbox):
    """A delivery queued before this process heard of the block is dropped unsent."""
    a = await start("a", run_workers=False)
    alice = await a.create_user("alice")
    queued = like_activity(alice.uri, 1)
    await a.ctx.delivery.enqueue(queued, alice, [inbox.url])
    await a.ctx.domain_blocks.suspended("warm.example")  # the copy is read: fresh for 30 s
    # Another process writes the block (not seen here until the copy is refreshed).
    await a.ctx.store.insert_domain_block(
        {"domain": inbox.domain, "severity": "suspend", "created_at": "2026-01-01T00:00:00.000Z"}
    )
    assert not await a.ctx.domain_blocks.suspended(inbox.domain)
    a.ctx.domain_blocks.invalidate()  # what the 30 s refresh does
    assert await a.ctx.delivery.run_due() == 1
    [dropped] = await a.ctx.store.outbound_deliveries(queued["id"])
    assert (dropped.state, dropped.last_error) == ("failed", DOMAIN_SUSPENDED)
    assert inbox.received == []


async def test_silencing_a_domain_hides_it_from_public_timelines_only(pair, client, http):
    a, b = pair
    alice, bob, post = await _friends(pair, client)
    await a.create_user("amy")
    amy = await client(a, "amy")
    admin = await admin_client(http, a)
    await admin.call(
        "POST", "/api/v1/admin/domain_blocks", json={"domain": b.domain, "severity": "silence"}
    )
    for reader in (alice, amy):
        public = await reader.call("GET", "/api/v1/timelines/public")
        assert post["uri"] not in [s["uri"] for s in public]
    # A follower still gets bob's posts; the follows stay; b is still talked to.
    later = await bob.call("POST", "/api/v1/statuses", json={"status": "limited but here"})
    await settle(a, b)
    home = await alice.call("GET", "/api/v1/timelines/home")
    assert [s["uri"] for s in home] == [later["uri"], post["uri"]]
    alice_account = await a.ctx.store.find_account("alice", "")
    assert await a.ctx.store.follow_counts(alice_account.id) == (1, 1)


async def test_boosts_of_a_suspended_servers_posts_vanish_too(trio, client, http):
    """bob@b boosts carol@c; alice@a follows bob. Suspending c hides the boost from alice."""
    a, b, c = trio
    await a.create_user("alice")
    await b.create_user("bob")
    await c.create_user("carol")
    alice, bob = await client(a, "alice"), await client(b, "bob")
    found = await alice.call(
        "GET", "/api/v2/search", params={"q": b.handle("bob"), "resolve": "true"}
    )
    await alice.call("POST", f"/api/v1/accounts/{found['accounts'][0]['id']}/follow")
    post = await (await client(c, "carol")).call(
        "POST", "/api/v1/statuses", json={"status": "c says"}
    )
    found = await bob.call("GET", "/api/v2/search", params={"q": post["uri"], "resolve": "true"})
    await bob.call("POST", f"/api/v1/statuses/{found['statuses'][0]['id']}/reblog")
    own = await bob.call("POST", "/api/v1/statuses", json={"status": "b says"})
    await settle(a, b, c)
    home = await alice.call("GET", "/api/v1/timelines/home")
    assert [s["reblog"]["uri"] if s["reblog"] else s["uri"] for s in home] == [
        own["uri"],
        post["uri"],
    ]

    admin = await admin_client(http, a)
    await admin.call(
        "POST", "/api/v1/admin/domain_blocks", json={"domain": c.domain, "severity": "suspend"}
    )
    home = await alice.call("GET", "/api/v1/timelines/home")
    assert [s["uri"] for s in home] == [own["uri"]]


async def test_silenced_accounts_notify_only_their_followers(pair, client, http):
    a, b = pair
    alice, bob, _ = await _friends(pair, client)
    await a.create_user("amy")
    amy = await client(a, "amy")
    admin = await admin_client(http, a)
    await admin.call(
        "POST", "/api/v1/admin/domain_blocks", json={"domain": b.domain, "severity": "silence"}
    )
    text = f"@{a.handle('alice')} @{a.handle('amy')} hello both"
    await bob.call("POST", "/api/v1/statuses", json={"status": text})
    await settle(a, b)
    mentions = await alice.call("GET", "/api/v1/notifications", params={"types[]": "mention"})
    assert [n["account"]["acct"] for n in mentions] == [b.handle("bob")]  # she follows him
    assert await amy.call("GET", "/api/v1/notifications") == []
