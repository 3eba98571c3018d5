"""Profiles: editing one's own with Mastodon.py, the actor document other servers read,
and the Update(Person) that carries a change to another FedChirp instance.

Two real instances on 127.0.0.1; Mastodon.py drives the client API (in a thread, as in
tests/test_mastodon_api.py).
"""

from __future__ import annotations

import asyncio
import io
import time

import pytest
import requests
from mastodon import MastodonAPIError
from PIL import Image

from fedchirp.federation.jsonld import undefined_terms
from fedchirp.localnet import settle
from tests.test_mastodon_api import follow_remote, login, sync

pytestmark = pytest.mark.backends


def image_bytes(size: tuple[int, int], color: str = "red", kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, kind)
    return out.getvalue()


def fetched_image(url: str) -> Image.Image:
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200, url
    return Image.open(io.BytesIO(answer.content))


async def _poll(check, timeout: float = 15.0):
    """check() until it returns something truthy, or fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = await check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.1)


async def test_update_credentials_round_trips_and_the_other_instance_shows_it(pair, client):
    a, b = pair
    await a.create_user("alice")
    await b.create_user("bob")
    alice_api, bob_api = await login(a, "alice"), await login(b, "bob")
    alice_there = await follow_remote(bob_api, a.handle("alice"))
    await settle(a, b)

    updated = await sync(
        alice_api.account_update_credentials,
        display_name="Alice A.",
        note="Hello @bob@" + b.domain + " and #Fediverse, see https://example.com/x",
        avatar=image_bytes((800, 600), "blue"),
        avatar_mime_type="image/png",
        header=image_bytes((3000, 1500), "green", "JPEG"),
        header_mime_type="image/jpeg",
        fields=[("Home", "https://example.com/alice"), ("Pronouns", "she/her")],
        bot=True,
        locked=True,
        discoverable=False,
    )
    me = await sync(alice_api.account_verify_credentials)
    for shown in (updated, me, await sync(alice_api.account, me["id"])):
        assert shown["display_name"] == "Alice A."
        assert 'class="mention hashtag"' in shown["note"] and "h-card" in shown["note"]
        assert '<a href="https://example.com/x"' in shown["note"]
        assert shown["bot"] is True and shown["locked"] is True
        assert shown["discoverable"] is False
        assert shown["avatar"].startswith(f"{a.base_url}/media/")
        assert shown["avatar_static"] == shown["avatar"]
        assert shown["header"].startswith(f"{a.base_url}/media/")
        assert [(f["name"], f["verified_at"]) for f in shown["fields"]] == [
            ("Home", None),
            ("Pronouns", None),
        ]
        assert 'href="https://example.com/alice"' in shown["fields"][0]["value"]
        assert shown["fields"][1]["value"] == "she/her"
    source = me["source"]
    assert source["note"].startswith("Hello @bob@")
    assert [(f["name"], f["value"]) for f in source["fields"]] == [
        ("Home", "https://example.com/alice"),
        ("Pronouns", "she/her"),
    ]
    # Re-encoded and cropped to Mastodon's shapes.
    avatar = await asyncio.to_thread(fetched_image, me["avatar"])
    assert avatar.size == (400, 400) and avatar.format == "PNG"
    header = await asyncio.to_thread(fetched_image, me["header"])
    assert header.size == (1500, 500) and header.format == "JPEG"

    # The other instance hears of it (Update(Person) to the follower's server).
    async def seen_there():
        await settle(a, b)
        shown = await sync(bob_api.account, alice_there["id"])
        return shown if shown["avatar"] == me["avatar"] else None

    shown = await _poll(seen_there)
    assert shown["header"] == me["header"]
    assert shown["display_name"] == "Alice A." and shown["bot"] is True
    assert shown["locked"] is True and shown["discoverable"] is False
    assert [f["name"] for f in shown["fields"]] == ["Home", "Pronouns"]
    assert 'href="https://example.com/alice"' in shown["fields"][0]["value"]
    assert "Fediverse" in shown["note"]

    # A new avatar replaces the old file.
    old_name = me["avatar"].rsplit("/", 1)[1]
    again = await sync(
        alice_api.account_update_credentials,
        avatar=image_bytes((100, 50)),
        avatar_mime_type="image/png",
    )
    assert again["avatar"] != me["avatar"]
    assert not (a.config.media_dir / old_name).exists()
    small = await asyncio.to_thread(fetched_image, again["avatar"])
    assert small.size == (50, 50)  # cropped square, never scaled up
    assert again["display_name"] == "Alice A."  # what was not sent stays


async def test_the_actor_document_carries_the_profile(start, client, http):
    a = await start("a")
    alice = await a.create_user("alice")
    api = await client(a, "alice")
    form = {
        "note": "I post about #cats",
        "locked": "true",
        "bot": "true",
        "discoverable": "true",
        "fields_attributes[0][name]": "Site",
        "fields_attributes[0][value]": "https://example.com/",
        "fields_attributes[1][name]": "Likes",
        "fields_attributes[1][value]": "<b>tea</b> & cake",
    }
    await api.call("PATCH", "/api/v1/accounts/update_credentials", expect=200, data=form)
    data = _multipart({"avatar": image_bytes((64, 64))})
    await api.call("PATCH", "/api/v1/accounts/update_credentials", expect=200, data=data)
    headers = {"Accept": "application/activity+json"}
    async with http.get(alice.uri, headers=headers) as answer:
        assert answer.status == 200
        actor = await answer.json(content_type=None)
    assert actor["type"] == "Service"
    assert actor["manuallyApprovesFollowers"] is True and actor["discoverable"] is True
    assert 'class="mention hashtag"' in actor["summary"] and "cats" in actor["summary"]
    assert actor["icon"]["type"] == "Image" and actor["icon"]["mediaType"] == "image/png"
    assert actor["icon"]["url"].startswith(f"{a.base_url}/media/")
    assert "image" not in actor  # no header uploaded
    assert [(p["type"], p["name"]) for p in actor["attachment"]] == [
        ("PropertyValue", "Site"),
        ("PropertyValue", "Likes"),
    ]
    assert 'rel="nofollow noopener noreferrer me"' in actor["attachment"][0]["value"]
    assert actor["attachment"][1]["value"] == "&lt;b&gt;tea&lt;/b&gt; &amp; cake"  # typed text
    context = actor["@context"][-1]
    assert context["PropertyValue"] == "schema:PropertyValue"
    assert context["value"] == "schema:value"
    assert undefined_terms(actor) == []
    # Turning bot off makes it a Person again.
    await api.call("PATCH", "/api/v1/accounts/update_credentials", expect=200, json={"bot": False})
    async with http.get(alice.uri, headers=headers) as answer:
        assert (await answer.json(content_type=None))["type"] == "Person"


def _multipart(files: dict[str, bytes]):
    import aiohttp

    form = aiohttp.FormData()
    for name, data in files.items():
        form.add_field(name, data, filename=f"{name}.png", content_type="image/png")
    return form


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"display_name": "x" * 31}, "display_name is longer than 30"),
        ({"note": "x" * 501}, "note is longer than 500"),
        (
            {f"fields_attributes[{i}][{k}]": "v" for i in range(5) for k in ("name", "value")},
            "at most 4 fields",
        ),
        ({"fields_attributes[0][name]": "n" * 256}, "at most 255"),
        ({"locked": "maybe"}, "locked must be a boolean"),
        ({"avatar": "not a file"}, "avatar must be an image file"),
    ],
)
async def test_bad_profile_input_is_refused_with_a_reason(start, client, params, reason):
    a = await start("a")
    await a.create_user("alice")
    api = await client(a, "alice")
    before = await api.call("GET", "/api/v1/accounts/verify_credentials")
    status, body = await api.request("PATCH", "/api/v1/accounts/update_credentials", data=params)
    assert status == 422 and reason in body["error"], body
    assert await api.call("GET", "/api/v1/accounts/verify_credentials") == before


async def test_a_file_that_is_not_an_image_changes_nothing(start, client):
    a = await start("a")
    await a.create_user("alice")
    api = await client(a, "alice")
    # A good avatar and a bad header: neither is kept.
    form = _multipart({"avatar": image_bytes((10, 10)), "header": b"GIF89a but not really"})
    form.add_field("display_name", "Changed")
    status, body = await api.request("PATCH", "/api/v1/accounts/update_credentials", data=form)
    assert status == 422 and "not an image" in body["error"], body
    me = await api.call("GET", "/api/v1/accounts/verify_credentials")
    assert me["display_name"] == "" and me["avatar"].endswith("/static/avatar.png")
    assert list(a.config.media_dir.iterdir()) == []


async def test_update_credentials_needs_a_token(start, http):
    a = await start("a")
    async with http.patch(
        f"{a.base_url}/api/v1/accounts/update_credentials", data={"display_name": "x"}
    ) as answer:
        assert answer.status == 401


async def test_mastodon_py_reports_a_refusal(start):
    a = await start("a")
    await a.create_user("alice")
    api = await login(a, "alice")
    with pytest.raises(MastodonAPIError, match="at most 4 fields"):
        await sync(api.account_update_credentials, fields=[("n", "v")] * 5)


async def test_unlocking_accepts_waiting_follow_requests(start, client):
    a = await start("a")
    alice = await a.create_user("alice", locked=True)
    await a.create_user("bob")
    alice_api, bob_api = await client(a, "alice"), await client(a, "bob")
    await bob_api.call("POST", f"/api/v1/accounts/{alice.id}/follow")
    assert [r["acct"] for r in await alice_api.call("GET", "/api/v1/follow_requests")] == ["bob"]
    form = {"locked": "false"}
    await alice_api.call("PATCH", "/api/v1/accounts/update_credentials", expect=200, data=form)
    await settle(a)
    assert await alice_api.call("GET", "/api/v1/follow_requests") == []
    relationship = await bob_api.call("GET", f"/api/v1/accounts/relationships?id[]={alice.id}")
    assert relationship[0]["following"] is True


async def test_the_avatar_and_header_can_be_taken_away(start, client):
    a = await start("a")
    await a.create_user("alice")
    api = await client(a, "alice")
    form = _multipart({"avatar": image_bytes((20, 20)), "header": image_bytes((30, 10))})
    me = await api.call("PATCH", "/api/v1/accounts/update_credentials", expect=200, data=form)
    assert len(list(a.config.media_dir.iterdir())) == 2
    after = await api.call("DELETE", "/api/v1/profile/avatar", expect=200)
    assert after["avatar"].endswith("/static/avatar.png") and after["header"] == me["header"]
    after = await api.call("DELETE", "/api/v1/profile/header", expect=200)
    assert after["header"].endswith("/static/header.png")
    assert list(a.config.media_dir.iterdir()) == []
    assert (await api.call("DELETE", "/api/v1/profile/header", expect=200)) == after


async def test_update_credentials_takes_json_fields_as_a_list_or_an_object(start, client):
    a = await start("a")
    await a.create_user("alice")
    api = await client(a, "alice")
    path = "/api/v1/accounts/update_credentials"
    body = {"display_name": "J", "fields_attributes": [{"name": "A", "value": "1"}]}
    me = await api.call("PATCH", path, expect=200, json=body)
    assert me["display_name"] == "J" and [f["name"] for f in me["fields"]] == ["A"]
    body = {"fields_attributes": {"1": {"name": "C", "value": "3"}, "0": {"name": "B"}}}
    me = await api.call("PATCH", path, expect=200, json=body)
    assert [(f["name"], f["value"]) for f in me["fields"]] == [("B", ""), ("C", "3")]
    me = await api.call("PATCH", path, expect=200, json={"fields_attributes": []})
    assert me["fields"] == []
    status, answer = await api.request("PATCH", path, json={"fields_attributes": "nope"})
    assert status == 422 and "fields_attributes" in answer["error"]
