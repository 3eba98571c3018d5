"""What other servers read about us: WebFinger, NodeInfo, host-meta, actors,
collections and object permalinks, and that our JSON-LD means what it says."""

from __future__ import annotations

import json
import re
import time

import pytest
from cryptography.hazmat.primitives import serialization

from fedchirp.federation import documents
from fedchirp.federation.httpsig import sign_request
from fedchirp.federation.jsonld import undefined_terms
from fedchirp.services import posting
from fedchirp.services.audience import addressing_for

AS2 = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


async def _get(http, url: str, accept: str = AS2, headers: dict | None = None, **kwargs):
    headers = {"Accept": accept, **(headers or {})}
    async with http.get(url, headers=headers, allow_redirects=False, **kwargs) as resp:
        body = await resp.read()
        return resp.status, resp.headers, body


async def test_webfinger_finds_local_accounts(start, http):
    a = await start("a")
    alice = await a.create_user("alice")
    for resource in (
        f"acct:alice@{a.domain}",
        f"acct:ALICE@{a.domain.upper()}",
        alice.uri,
        alice.url,
    ):
        status, headers, body = await _get(
            http, f"{a.base_url}/.well-known/webfinger", params={"resource": resource}
        )
        assert status == 200, resource
        assert headers["Content-Type"].startswith("application/jrd+json")
        jrd = json.loads(body)
        assert jrd["subject"] == f"acct:alice@{a.domain}"
        self_link = next(link for link in jrd["links"] if link["rel"] == "self")
        assert self_link == {"rel": "self", "type": AS2, "href": alice.uri}
        assert alice.uri in jrd["aliases"]

    for resource, expected in (
        (f"acct:nobody@{a.domain}", 404),
        ("acct:alice@elsewhere", 404),
        ("", 400),
    ):
        status, _, body = await _get(
            http, f"{a.base_url}/.well-known/webfinger", params={"resource": resource}
        )
        assert status == expected and json.loads(body)["error"]

    status, _, body = await _get(
        http,
        f"{a.base_url}/.well-known/webfinger",
        params={"resource": f"acct:{a.domain}@{a.domain}"},
    )
    assert status == 200
    assert json.loads(body)["links"][1]["href"] == f"{a.base_url}/actor"


async def test_nodeinfo_2_1(start, client, http):
    a = await start("a", settings={"server": {"name": "Test Node"}})
    await a.create_user("alice")
    await a.create_user("bob")
    alice = await client(a, "alice")
    await alice.call("POST", "/api/v1/statuses", json={"status": "one"})
    await alice.call("POST", "/api/v1/statuses", json={"status": "two"})
    status, _, body = await _get(http, f"{a.base_url}/.well-known/nodeinfo", "application/json")
    link = json.loads(body)["links"][0]
    assert link["rel"] == "http://nodeinfo.diaspora.software/ns/schema/2.1"
    status, headers, body = await _get(http, link["href"], "application/json")
    assert status == 200 and "schema/2.1#" in headers["Content-Type"]
    info = json.loads(body)
    assert info["version"] == "2.1"
    assert re.fullmatch(r"[a-z0-9-]+", info["software"]["name"])
    assert info["protocols"] == ["activitypub"]
    assert info["services"] == {"inbound": [], "outbound": []}
    assert isinstance(info["openRegistrations"], bool)
    assert info["usage"] == {
        "users": {"total": 2, "activeMonth": 1, "activeHalfyear": 1},
        "localPosts": 2,
    }
    assert info["metadata"]["nodeName"] == "Test Node"


async def test_nodeinfo_2_0_for_readers_that_know_only_it(start, http):
    a = await start("a")
    await a.create_user("alice")
    status, _, body = await _get(http, f"{a.base_url}/.well-known/nodeinfo", "application/json")
    links = {link["rel"]: link["href"] for link in json.loads(body)["links"]}
    href = links["http://nodeinfo.diaspora.software/ns/schema/2.0"]
    status, headers, body = await _get(http, href, "application/json")
    assert status == 200 and "schema/2.0#" in headers["Content-Type"]
    info = json.loads(body)
    assert info["version"] == "2.0"
    assert set(info["software"]) == {"name", "version"}  # 2.0 allows no homepage
    assert info["usage"]["users"]["total"] == 1


async def test_paths_with_a_trailing_slash_answer_as_mastodon_does(start, http):
    a = await start("a")
    await a.create_user("alice")
    query = "?response_type=code&client_id=x&redirect_uri=urn:ietf:wg:oauth:2.0:oob"
    async with http.get(f"{a.base_url}/oauth/authorize/{query}") as resp:
        assert resp.url.path == "/oauth/authorize" and resp.url.query_string == query[1:]
        assert resp.history[0].status == 308
    async with http.get(f"{a.base_url}/api/v1/accounts/lookup/?acct=alice") as resp:
        assert resp.status == 200 and (await resp.json())["username"] == "alice"
    async with http.get(f"{a.base_url}/api/v1/no_such_thing/") as resp:
        assert resp.status == 404


async def test_host_meta_points_at_webfinger(start, http):
    a = await start("a")
    status, headers, body = await _get(http, f"{a.base_url}/.well-known/host-meta", "*/*")
    assert status == 200 and headers["Content-Type"].startswith("application/xrd+xml")
    assert f'template="{a.base_url}/.well-known/webfinger?resource={{uri}}"' in body.decode()


@pytest.mark.parametrize("accept", [AS2, LD])
async def test_actor_document(start, http, accept):
    a = await start("a")
    alice = await a.create_user("alice", locked=True, display_name="Alice A")
    status, headers, body = await _get(http, alice.uri, accept)
    assert status == 200 and headers["Content-Type"].startswith(AS2)
    actor = json.loads(body)
    assert actor["id"] == alice.uri and actor["type"] == "Person"
    assert actor["preferredUsername"] == "alice" and actor["name"] == "Alice A"
    for key in ("inbox", "outbox", "followers", "following"):
        assert actor[key].startswith(alice.uri + "/")
    assert actor["endpoints"]["sharedInbox"] == f"{a.base_url}/inbox"
    assert actor["manuallyApprovesFollowers"] is True
    key = actor["publicKey"]
    assert key["id"] == f"{alice.uri}#main-key" and key["owner"] == alice.uri
    public = serialization.load_pem_public_key(key["publicKeyPem"].encode())
    assert public.key_size == 2048
    assert undefined_terms(actor) == []


async def test_actor_url_sends_browsers_to_the_profile_page(start, http):
    a = await start("a")
    alice = await a.create_user("alice")
    status, headers, _ = await _get(http, alice.uri, "text/html")
    assert status == 302 and headers["Location"] == alice.url
    status, headers, body = await _get(http, alice.url, "text/html")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"@alice" in body
    status, _, _ = await _get(http, f"{a.base_url}/users/nobody")
    assert status == 404


async def test_our_documents_survive_json_ld_expansion(start):
    """Every property we emit is defined by our @context (pyld, bundled contexts)."""
    a = await start("a")
    alice = await a.create_user("alice")
    bob = await a.create_user("bob")
    status = await posting.create_status(
        a.ctx, alice, "hi @bob #tag https://example.com", spoiler_text="cw"
    )
    note = await posting.note_document(a.ctx, status, alice)
    assert [t["type"] for t in note["tag"]] == ["Mention", "Hashtag"]
    docs = [
        documents.actor_document(alice, a.ctx.urls),
        note,
        documents.create_activity(note),
        documents.delete_activity(status, alice, addressing_for(alice, "public", [])),
        documents.follow_activity(f"{alice.uri}#f/1", alice, bob),
        documents.respond_to_follow("Accept", f"{bob.uri}#a/1", bob, f"{alice.uri}#f/1", alice),
        documents.like_activity(f"{alice.uri}#l/1", alice, status.uri),
        documents.undo_activity(
            alice, documents.like_activity(f"{alice.uri}#l/1", alice, status.uri)
        ),
    ]
    for document in docs:
        assert undefined_terms(document) == [], document["type"]
    # The check itself notices an undefined property.
    assert undefined_terms({**note, "madeUpProperty": 1}) == ["madeUpProperty"]


async def test_outbox_is_paged_and_lists_only_public_posts(start, http):
    a = await start("a")
    alice = await a.create_user("alice")
    for n in range(23):
        await posting.create_status(a.ctx, alice, f"post {n}")
    await posting.create_status(a.ctx, alice, "just followers", visibility="private")
    status, _, body = await _get(http, alice.outbox_url)
    outbox = json.loads(body)
    assert status == 200
    assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == 24
    _, _, body = await _get(http, outbox["first"])
    first = json.loads(body)
    assert first["type"] == "OrderedCollectionPage" and len(first["orderedItems"]) == 20
    assert first["orderedItems"][0]["object"]["content"] == "<p>post 22</p>"
    assert {item["type"] for item in first["orderedItems"]} == {"Create"}
    _, _, body = await _get(http, first["next"])
    second = json.loads(body)
    assert [i["object"]["content"] for i in second["orderedItems"]] == [
        "<p>post 2</p>",
        "<p>post 1</p>",
        "<p>post 0</p>",
    ]
    assert "next" not in second


async def test_followers_collection_is_paged(start, http):
    a = await start("a")
    alice = await a.create_user("alice")
    for n in range(45):
        fan = await a.ctx.store.upsert_remote_account(
            {
                "username": f"fan{n}",
                "domain": "fans.example",
                "uri": f"https://fans.example/u/{n}",
                "inbox_url": f"https://fans.example/u/{n}/inbox",
                "public_key_id": f"https://fans.example/u/{n}#k",
                "public_key_pem": "x",
                "created_at": "2026-01-01T00:00:00.000Z",
                "fetched_at": time.time(),
            }
        )
        await a.ctx.store.insert_follow(fan.id, alice.id, f"https://fans.example/f/{n}", "accepted")
    _, _, body = await _get(http, alice.followers_url)
    collection = json.loads(body)
    assert collection["totalItems"] == 45
    seen = []
    url = collection["first"]
    while url:
        _, _, body = await _get(http, url)
        page = json.loads(body)
        seen += page["orderedItems"]
        url = page.get("next")
    assert len(seen) == 45 == len(set(seen))
    assert seen[0] == "https://fans.example/u/44"


async def test_post_permalink_negotiates_and_hides_restricted_posts(start, http):
    a = await start("a")
    b = await start("b")
    alice = await a.create_user("alice")
    bob = await b.create_user("bob")
    eve = await b.create_user("eve")
    public = await posting.create_status(a.ctx, alice, "for all")
    private = await posting.create_status(a.ctx, alice, "followers only", visibility="private")

    status, headers, body = await _get(http, public.uri)
    assert status == 200 and json.loads(body)["content"] == "<p>for all</p>"
    status, headers, _ = await _get(http, public.uri, "text/html")
    assert status == 302 and headers["Location"] == public.url
    status, _, body = await _get(http, public.url, "text/html")
    assert status == 200 and b"for all" in body
    status, _, body = await _get(http, public.url, AS2)
    assert status == 200 and json.loads(body)["id"] == public.uri

    # Unsigned, or signed by someone outside the audience: as if it did not exist,
    # also for a browser (no tell-tale redirect).
    assert (await _get(http, private.uri))[0] == 404
    assert (await _get(http, private.uri, "text/html"))[0] == 404
    assert (await _get(http, private.url, "text/html"))[0] == 404

    async def signed_get(user, pem):
        headers = sign_request("GET", private.uri, user.public_key_id, pem)
        return await _get(http, private.uri, headers=headers)

    bob_on_a = await a.ctx.resolver.actor(bob.uri)
    eve_key = (await b.ctx.store.get_local_user(eve.id)).private_key_pem
    bob_key = (await b.ctx.store.get_local_user(bob.id)).private_key_pem
    assert (await signed_get(eve, eve_key))[0] == 404
    await a.ctx.store.insert_follow(bob_on_a.id, alice.id, f"{bob.uri}#f", "accepted")
    status, _, body = await signed_get(bob, bob_key)
    assert status == 200 and json.loads(body)["content"] == "<p>followers only</p>"
    # A signature by bob's key does not work for a tampered path.
    headers = sign_request("GET", private.uri + "/activity", bob.public_key_id, bob_key)
    assert (await _get(http, private.uri, headers=headers))[0] == 401
