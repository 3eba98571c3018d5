"""What we believe about remote documents: only what their origin says, served as AS2."""

from __future__ import annotations

import json

import pytest

from fedchirp.federation.httpsig import sign_request
from fedchirp.federation.resolver import ResolveError
from fedchirp.localnet import settle
from fedchirp.services import posting
from fedchirp.services.search import search

AS2 = "application/activity+json"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def _note(note_id: str, author: str) -> dict:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": note_id,
        "type": "Note",
        "attributedTo": author,
        "content": "<p>words</p>",
        "to": [PUBLIC],
    }


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "text/html",
        "application/ld+json",
        'application/ld+json; profile="https://example.com/other"',
    ],
)
async def test_documents_not_served_as_activitystreams_are_refused(start, remote, content_type):
    a = await start("a")
    zed = remote.add_actor("zed")
    remote.documents["/users/zed"] = (remote.actors["zed"], content_type)
    with pytest.raises(ResolveError, match="not ActivityStreams"):
        await a.ctx.resolver.actor(zed)
    assert await a.ctx.store.get_account_by_uri(zed) is None


@pytest.mark.parametrize(
    "content_type",
    [
        AS2,
        'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
        'application/ld+json;profile="https://www.w3.org/ns/activitystreams https://x.example/p"',
    ],
)
async def test_activitystreams_media_types_are_believed(start, remote, content_type):
    a = await start("a")
    zed = remote.add_actor("zed")
    remote.documents["/users/zed"] = (remote.actors["zed"], content_type)
    assert (await a.ctx.resolver.actor(zed)).uri == zed


async def test_document_must_carry_the_id_it_was_fetched_by(start, remote):
    a = await start("a")
    zed = remote.add_actor("zed")
    remote.documents["/users/impostor"] = (remote.actors["zed"], AS2)
    with pytest.raises(ResolveError, match="serves a document with id"):
        await a.ctx.resolver.fetch(f"{remote.base}/users/impostor")
    assert (await a.ctx.resolver.actor(zed)).uri == zed


async def test_search_refuses_a_note_attributed_to_another_server(start, remote, evil):
    """evil serves a note claiming remote's zed wrote it: nothing is stored."""
    a = await start("a")
    alice = await a.create_user("alice")
    zed = remote.add_actor("zed")
    url = f"{evil.base}/notes/1"
    evil.documents["/notes/1"] = (_note(url, zed), AS2)
    found = await search(a.ctx, alice, url, "statuses", resolve=True, limit=5)
    assert found.statuses == []
    assert await a.ctx.store.get_status_by_uri(url) is None
    assert remote.fetches == []  # we never even asked zed's server about it

    # The honest version of the same lookup works.
    honest = f"{remote.base}/notes/1"
    remote.documents["/notes/1"] = (_note(honest, zed), AS2)
    found = await search(a.ctx, alice, honest, "statuses", resolve=True, limit=5)
    assert [s.uri for s in found.statuses] == [honest]


async def test_search_by_page_url_follows_to_the_object_id(start, remote):
    a = await start("a")
    alice = await a.create_user("alice")
    zed = remote.add_actor("zed")
    note_id = f"{remote.base}/users/zed/statuses/7"
    remote.documents["/@zed/7"] = (_note(note_id, zed), AS2)
    remote.documents["/users/zed/statuses/7"] = (_note(note_id, zed), AS2)
    found = await search(a.ctx, alice, f"{remote.base}/@zed/7", "statuses", True, 5)
    assert [s.uri for s in found.statuses] == [note_id]


async def test_gotosocial_style_key_documents_are_understood(start, remote, http):
    """GoToSocial's keyId is actor/main-key, serving a minimal actor without an inbox."""
    a = await start("a")
    alice = await a.create_user("alice")
    zed = remote.add_actor("zed")
    actor = remote.actors["zed"]
    actor["publicKey"]["id"] = f"{zed}/main-key"
    minimal = {k: actor[k] for k in ("@context", "id", "type", "preferredUsername", "publicKey")}
    remote.documents["/users/zed/main-key"] = (minimal, AS2)
    body = json.dumps(
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{zed}#follow-1",
            "type": "Follow",
            "actor": zed,
            "object": alice.uri,
        }
    ).encode()
    url = f"{a.base_url}/inbox"
    headers = sign_request("POST", url, f"{zed}/main-key", remote.keys["zed"], body)
    headers["Content-Type"] = AS2
    async with http.post(url, data=body, headers=headers) as resp:
        assert resp.status == 202, await resp.text()
    await settle(a)
    account = await a.ctx.store.get_account_by_uri(zed)
    assert account.inbox_url == f"{zed}/inbox"  # the full actor was fetched by its id
    assert await a.ctx.store.get_follow(account.id, alice.id) is not None


async def test_key_on_another_server_is_refused_before_any_fetch(start, remote, evil, http):
    a = await start("a")
    alice = await a.create_user("alice")
    zed = remote.add_actor("zed")
    evil.add_actor("zed")
    body = json.dumps(
        {"id": f"{zed}#follow-2", "type": "Follow", "actor": zed, "object": alice.uri}
    ).encode()
    url = f"{a.base_url}/inbox"
    headers = sign_request("POST", url, f"{evil.base}/users/zed#main-key", evil.keys["zed"], body)
    headers["Content-Type"] = AS2
    async with http.post(url, data=body, headers=headers) as resp:
        assert resp.status == 401
        assert "not on the server of" in (await resp.json())["error"]
    assert evil.fetches == [] and remote.fetches == []


async def test_signed_get_with_query_signed_without_it_is_accepted(start, http):
    """Older Mastodon signed (request-target) without the query string."""
    a = await start("a")
    b = await start("b")
    alice = await a.create_user("alice")
    bob = await b.create_user("bob")
    private = await posting.create_status(a.ctx, alice, "shh", visibility="private")
    bob_on_a = await a.ctx.resolver.actor(bob.uri)
    await a.ctx.store.insert_follow(bob_on_a.id, alice.id, f"{bob.uri}#f", "accepted")
    bob_key = (await b.ctx.store.get_local_user(bob.id)).private_key_pem
    headers = sign_request("GET", private.uri, bob.public_key_id, bob_key)
    async with http.get(f"{private.uri}?x=1", headers={**headers, "Accept": AS2}) as resp:
        assert resp.status == 200


async def test_public_reply_reaches_the_parent_author_without_a_mention(trio, client):
    a, b, c = trio
    await a.create_user("alice")
    bob = await b.create_user("bob")
    await c.create_user("carol")
    carol = await client(c, "carol")
    # carol found bob's post (e.g. through a boost) but does not follow him or mention him.
    post = await posting.create_status(b.ctx, bob, "a question")
    found = await carol.call("GET", "/api/v2/search", params={"q": post.uri, "resolve": "true"})
    reply = await carol.call(
        "POST",
        "/api/v1/statuses",
        json={"status": "an answer", "in_reply_to_id": found["statuses"][0]["id"]},
    )
    await settle(a, b, c)
    stored = await b.ctx.store.get_status_by_uri(reply["uri"])
    assert stored is not None and stored.in_reply_to_id == post.id
    counts = await b.ctx.store.status_counts(post.id)
    assert counts["replies"] == 1
    # And her delete reaches bob's server too.
    await carol.call("DELETE", f"/api/v1/statuses/{reply['id']}")
    await settle(a, b, c)
    assert await b.ctx.store.get_status_by_uri(reply["uri"]) is None


async def test_delete_reaches_remote_accounts_that_liked_it(pair, client):
    a, b = pair
    alice = await a.create_user("alice")
    await b.create_user("bob")
    post = await posting.create_status(a.ctx, alice, "like me")
    bob = await client(b, "bob")
    found = await bob.call("GET", "/api/v2/search", params={"q": post.uri, "resolve": "true"})
    await bob.call("POST", f"/api/v1/statuses/{found['statuses'][0]['id']}/favourite")
    await settle(a, b)
    await posting.delete_status(a.ctx, alice, post)
    await settle(a, b)
    assert await b.ctx.store.get_status_by_uri(post.uri) is None


async def test_a_strangers_boost_is_ignored_without_fetching_anything(start, remote, evil, http):
    a = await start("a")
    await a.create_user("alice")
    mallory = remote.add_actor("mallory")
    spam = f"{evil.base}/notes/1"
    evil.documents["/notes/1"] = (_note(spam, f"{evil.base}/users/x"), AS2)
    body = json.dumps(
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{mallory}#boost-1",
            "type": "Announce",
            "actor": mallory,
            "object": spam,
            "to": [PUBLIC],
        }
    ).encode()
    url = f"{a.base_url}/inbox"
    headers = sign_request("POST", url, f"{mallory}#main-key", remote.keys["mallory"], body)
    headers["Content-Type"] = AS2
    async with http.post(url, data=body, headers=headers) as resp:
        assert resp.status == 202
    assert evil.fetches == []
    assert await a.ctx.store.count_statuses() == 0
