"""Status history and source, and pinned posts (the featured collection, federated),
driven by Mastodon.py against instances on 127.0.0.1."""

from __future__ import annotations

import json
import secrets

import pytest
from mastodon import MastodonAPIError, MastodonNotFoundError

from fedchirp.localnet import settle
from tests.test_mastodon_api import follow_remote, login, sync
from tests.test_signatures import sign_with_apsig

pytestmark = pytest.mark.backends


async def test_history_lists_the_original_and_each_edit_and_source_is_own_only(start):
    a = await start("a")
    await a.create_user("alice")
    await a.create_user("amy")
    alice, amy = await login(a, "alice"), await login(a, "amy")
    posted = await sync(alice.status_post, "first words", visibility="public")
    only = await sync(alice.status_history, posted)
    assert [v["content"] for v in only] == [posted["content"]]

    await sync(alice.status_update, posted, "second words", spoiler_text="cw")
    await sync(alice.status_update, posted, "third words")
    versions = await sync(alice.status_history, posted)
    assert [v["content"] for v in versions] == [
        "<p>first words</p>",
        "<p>second words</p>",
        "<p>third words</p>",
    ]
    assert [v["spoiler_text"] for v in versions] == ["", "cw", ""]
    assert versions[0]["created_at"] == posted["created_at"]
    assert all(v["account"]["id"] == posted["account"]["id"] for v in versions)
    assert (await sync(amy.status_history, posted))[-1]["content"] == "<p>third words</p>"

    source = await sync(alice.status_source, posted)
    assert source == {"id": posted["id"], "text": "third words", "spoiler_text": ""}
    with pytest.raises(MastodonNotFoundError):
        await sync(amy.status_source, posted)  # someone else's post
    hidden = await sync(alice.status_post, "followers only", visibility="private")
    with pytest.raises(MastodonNotFoundError):
        await sync(amy.status_history, hidden)  # amy does not follow alice


async def test_edit_history_reaches_the_other_instance(pair):
    a, b = pair
    await a.create_user("alice")
    await b.create_user("bob")
    alice, bob = await login(a, "alice"), await login(b, "bob")
    await follow_remote(bob, a.handle("alice"))
    await settle(a, b)
    posted = await sync(alice.status_post, "before the edit")
    await settle(a, b)
    await sync(alice.status_update, posted, "after the edit")
    await settle(a, b)
    arrived = (await sync(bob.timeline_home))[0]
    assert arrived["uri"] == posted["uri"]
    versions = await sync(bob.status_history, arrived)
    assert [v["content"] for v in versions] == ["<p>before the edit</p>", "<p>after the edit</p>"]
    with pytest.raises(MastodonNotFoundError):
        await sync(bob.status_source, arrived)  # not bob's post


async def test_pin_rules_and_pinned_listing(start):
    a = await start("a")
    await a.create_user("alice")
    await a.create_user("amy")
    alice, amy = await login(a, "alice"), await login(a, "amy")
    me = await sync(alice.me)
    posts = [await sync(alice.status_post, f"post {n}") for n in range(6)]
    quiet = await sync(alice.status_post, "unlisted one", visibility="unlisted")
    private = await sync(alice.status_post, "followers only", visibility="private")
    amys = await sync(amy.status_post, "amy's own")

    pinned = await sync(alice.status_pin, posts[0])
    assert pinned["pinned"] is True
    assert (await sync(alice.status_pin, posts[0]))["pinned"] is True  # again: no change
    assert (await sync(alice.status, posts[0]))["pinned"] is True
    assert (await sync(amy.status, posts[0]))["pinned"] is False  # only the owner's view
    await sync(alice.status_pin, quiet)
    for post in posts[1:4]:
        await sync(alice.status_pin, post)
    listed = await sync(amy.account_statuses, me, pinned=True)
    assert [s["id"] for s in listed] == [posts[3]["id"], posts[2]["id"], posts[1]["id"],
                                         quiet["id"], posts[0]["id"]]
    for refused in (posts[4], private, amys):  # a sixth; not public; not one's own
        with pytest.raises(MastodonAPIError) as caught:
            await sync(alice.status_pin, refused)
        assert caught.value.args[1] == 422
    unpinned = await sync(alice.status_unpin, posts[0])
    assert unpinned["pinned"] is False
    await sync(alice.status_pin, posts[4])
    listed = await sync(alice.account_statuses, me, pinned=True)
    assert posts[0]["id"] not in [s["id"] for s in listed] and len(listed) == 5
    assert listed[0]["id"] == posts[4]["id"] and listed[0]["pinned"] is True
    # Without pinned, the posts amy may see are all there as before (not the private one).
    assert len(await sync(amy.account_statuses, me, limit=40)) == 7


async def test_pins_federate_with_add_and_remove_and_the_featured_collection(pair, http):
    a, b = pair
    await a.create_user("alice")
    await b.create_user("bob")
    alice, bob = await login(a, "alice"), await login(b, "bob")
    alice_on_b = await follow_remote(bob, a.handle("alice"))
    await settle(a, b)
    first = await sync(alice.status_post, "pin me")
    second = await sync(alice.status_post, "and me")
    await settle(a, b)
    await sync(alice.status_pin, first)
    await sync(alice.status_pin, second)
    await settle(a, b)
    shown = await sync(bob.account_statuses, alice_on_b, pinned=True)
    assert [s["uri"] for s in shown] == [second["uri"], first["uri"]]

    actor_url = a.base_url + "/users/alice"
    headers = {"Accept": "application/activity+json"}
    async with http.get(actor_url, headers=headers) as response:
        featured_url = (await response.json())["featured"]
    async with http.get(featured_url, headers=headers) as response:
        collection = await response.json()
    assert collection["type"] == "OrderedCollection" and collection["totalItems"] == 2
    assert [n["id"] for n in collection["orderedItems"]] == [second["uri"], first["uri"]]
    assert collection["orderedItems"][0]["type"] == "Note"

    await sync(alice.status_unpin, second)
    await settle(a, b)
    shown = await sync(bob.account_statuses, alice_on_b, pinned=True)
    assert [s["uri"] for s in shown] == [first["uri"]]


async def test_an_add_of_someone_elses_post_or_to_another_collection_pins_nothing(
    start, remote, http
):
    a = await start("a")
    await a.create_user("alice")
    alice = await login(a, "alice")
    post = await sync(alice.status_post, "alice's own words")
    mallory = remote.add_actor("mallory")
    url = f"{a.base_url}/inbox"

    async def send(kind: str, obj: str, target: str) -> None:
        body = json.dumps(
            {
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": f"{mallory}#{kind}/{secrets.token_hex(4)}",
                "type": kind,
                "actor": mallory,
                "object": obj,
                "target": target,
            }
        ).encode()
        headers = sign_with_apsig(remote, "mallory", url, body)
        async with http.post(url, data=body, headers=headers) as response:
            assert response.status == 202, await response.text()
        await settle(a)

    await send("Add", post["uri"], f"{mallory}/collections/featured")  # not mallory's post
    await send("Add", post["uri"], a.base_url + "/users/alice/collections/featured")
    account = await a.ctx.store.get_account_by_uri(mallory)
    me = await a.ctx.store.get_account_by_uri(a.base_url + "/users/alice")
    for someone in (account, me):  # nobody pins it, for mallory or for alice
        assert await a.ctx.store.pinned_among(someone.id, [int(post["id"])]) == set()


@pytest.mark.backends("sqlite")
async def test_mastodons_id_less_add_and_remove_pin_and_unpin(start, remote, http):
    """Mastodon's Add and Remove of a pin carry no id (its AddSerializer names none)."""
    a = await start("a")
    alice = await a.create_user("alice")
    mallory = remote.add_actor("mallory")
    url = f"{a.base_url}/inbox"
    note = f"{mallory}/statuses/1"

    async def send(document: dict) -> int:
        body = json.dumps({"@context": "https://www.w3.org/ns/activitystreams", **document})
        headers = sign_with_apsig(remote, "mallory", url, body.encode())
        async with http.post(url, data=body.encode(), headers=headers) as response:
            await settle(a)
            return response.status

    created = {
        "id": f"{note}/activity",
        "type": "Create",
        "actor": mallory,
        "object": {
            "id": note,
            "type": "Note",
            "attributedTo": mallory,
            "content": "<p>pinned soon</p>",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [alice.uri],
            "tag": [{"type": "Mention", "href": alice.uri}],
        },
    }
    assert await send(created) == 202
    status = await a.ctx.store.get_status_by_uri(note)
    account = await a.ctx.store.get_account_by_uri(mallory)
    featured = {"actor": mallory, "object": note, "target": f"{mallory}/collections/featured"}
    assert await send({"type": "Add", **featured}) == 202
    assert await a.ctx.store.pinned_among(account.id, [status.id]) == {status.id}
    assert await send({"type": "Remove", **featured}) == 202
    assert await a.ctx.store.pinned_among(account.id, [status.id]) == set()
    # Other activities still need their id.
    assert await send({"type": "Like", "actor": mallory, "object": note}) == 400
