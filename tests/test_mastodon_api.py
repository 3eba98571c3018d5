"""The client API, driven by the real Mastodon.py client against instances on 127.0.0.1.

Mastodon.py is synchronous, so its calls run in a worker thread while the
servers keep running in the test's event loop. Mastodon.py does not check the
entities it gets back, so these tests check the fields Mastodon documents
(docs.joinmastodon.org/entities/...).
"""

from __future__ import annotations

import asyncio
import functools
import io
import re
from datetime import datetime
from typing import Any

import blurhash
import pytest
import requests
from mastodon import Mastodon, MastodonAPIError, MastodonUnauthorizedError
from PIL import Image

from fedchirp.localnet import DEFAULT_PASSWORD, settle
from fedchirp.store.models import Page

# Run on SQLite and on PostgreSQL (see tests/conftest.py).
pytestmark = pytest.mark.backends

SCOPES = ["read", "write", "follow"]
OOB = "urn:ietf:wg:oauth:2.0:oob"


async def sync(fn, *args: Any, **kwargs: Any) -> Any:
    """Run a blocking Mastodon.py call without blocking the servers' event loop."""
    return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))


def _sign_in_through_the_authorize_page(url: str, username: str, password: str) -> str:
    """What a person does in their browser: open the page, sign in, copy the code."""
    browser = requests.Session()
    page = browser.get(url)
    assert page.status_code == 200 and "Authorize" in page.text
    form = dict(re.findall(r'<input type=hidden name="([^"]+)" value="([^"]*)"', page.text))
    form.update(username=username, password=password, decision="allow")
    answer = browser.post(url.split("?")[0], data=form)
    match = re.search(r"<code id=code>([^<]+)</code>", answer.text)
    assert match, answer.text
    return match.group(1)


def _login(base: str, username: str, scopes: list[str] = SCOPES) -> Mastodon:
    client_id, secret = Mastodon.create_app(
        "fedchirp tests", api_base_url=base, scopes=scopes, redirect_uris=OOB
    )
    api = Mastodon(client_id=client_id, client_secret=secret, api_base_url=base)
    url = api.auth_request_url(scopes=scopes, redirect_uris=OOB, allow_http=True)
    code = _sign_in_through_the_authorize_page(url, username, DEFAULT_PASSWORD)
    api.log_in(code=code, scopes=scopes, redirect_uri=OOB, allow_http=True)
    return api


async def login(instance, username: str, scopes: list[str] = SCOPES) -> Mastodon:
    return await sync(_login, instance.base_url, username, scopes)


async def follow_remote(api: Mastodon, handle: str) -> dict:
    """Find user@host (resolving it through WebFinger) and follow it; the account."""
    account = (await sync(api.search_v2, handle, resolve=True))["accounts"][0]
    await sync(api.account_follow, account)
    return account


# -- what Mastodon documents -----------------------------------------------------

ACCOUNT = {
    "id": str,
    "username": str,
    "acct": str,
    "url": str,
    "display_name": str,
    "note": str,
    "avatar": str,
    "avatar_static": str,
    "header": str,
    "header_static": str,
    "locked": bool,
    "fields": list,
    "emojis": list,
    "bot": bool,
    "group": bool,
    "created_at": datetime,
    "statuses_count": int,
    "followers_count": int,
    "following_count": int,
}
STATUS = {
    "id": str,
    "uri": str,
    "created_at": datetime,
    "account": dict,
    "content": str,
    "visibility": str,
    "sensitive": bool,
    "spoiler_text": str,
    "media_attachments": list,
    "mentions": list,
    "tags": list,
    "emojis": list,
    "reblogs_count": int,
    "favourites_count": int,
    "replies_count": int,
    "favourited": bool,
    "reblogged": bool,
    "muted": bool,
    "bookmarked": bool,
}
STATUS_NULLABLE = (
    "url",
    "in_reply_to_id",
    "in_reply_to_account_id",
    "reblog",
    "poll",
    "card",
    "language",
    "edited_at",
)
RELATIONSHIP = {
    "id": str,
    "following": bool,
    "showing_reblogs": bool,
    "notifying": bool,
    "followed_by": bool,
    "blocking": bool,
    "blocked_by": bool,
    "muting": bool,
    "muting_notifications": bool,
    "requested": bool,
    "requested_by": bool,
    "domain_blocking": bool,
    "endorsed": bool,
    "note": str,
}
NOTIFICATION = {"id": str, "type": str, "created_at": datetime, "account": dict}
MEDIA = {"id": str, "type": str, "url": str, "preview_url": str, "meta": dict, "blurhash": str}


def check_entity(entity: Any, fields: dict[str, type], nullable: tuple[str, ...] = ()) -> None:
    for name, kind in fields.items():
        assert name in entity, f"missing {name}"
        assert isinstance(entity[name], kind), f"{name} is {type(entity[name])}, not {kind}"
    for name in nullable:
        assert name in entity, f"missing {name}"


# -- OAuth ------------------------------------------------------------------------


async def test_code_flow_login_and_server_metadata(start):
    a = await start("a")
    await a.create_user("alice")
    api = await login(a, "alice")
    info = await sync(api.oauth_authorization_server_info)
    assert info["authorization_endpoint"] == f"{a.base_url}/oauth/authorize"
    assert {"authorization_code", "password"} <= set(info["grant_types_supported"])
    me = await sync(api.account_verify_credentials)
    check_entity(me, ACCOUNT)
    assert me["acct"] == "alice" and me["source"]["privacy"] == "public"
    assert await sync(api.verify_minimum_version, "4.0.0")
    assert api.mastodon_api_version == 2  # read from api_versions.mastodon
    assert not await sync(api.verify_minimum_version, "4.3.0")  # no grouped notifications


async def test_password_grant_and_pkce(start, http):
    a = await start("a")
    await a.create_user("alice")
    client_id, secret = await sync(
        Mastodon.create_app, "pw", api_base_url=a.base_url, scopes=SCOPES, redirect_uris=OOB
    )
    api = Mastodon(client_id=client_id, client_secret=secret, api_base_url=a.base_url)
    await sync(api.log_in, "alice", DEFAULT_PASSWORD, scopes=SCOPES, allow_http=True)
    assert (await sync(api.me))["username"] == "alice"
    with pytest.raises(Exception, match="Invalid user name"):
        await sync(api.log_in, "alice", "wrong password", scopes=SCOPES, allow_http=True)

    # PKCE (S256): the code only works with the verifier that made the challenge.
    verifier = "v" * 50
    import base64
    import hashlib

    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    url = (
        f"{a.base_url}/oauth/authorize?client_id={client_id}&response_type=code"
        f"&redirect_uri={OOB}&scope=read&code_challenge={challenge}"
        f"&code_challenge_method=S256"
    )
    code = await sync(_sign_in_through_the_authorize_page, url, "alice", DEFAULT_PASSWORD)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": OOB,
        "client_id": client_id,
        "client_secret": secret,
    }
    async with http.post(f"{a.base_url}/oauth/token", data={**form, "code_verifier": "x"}) as r:
        assert r.status == 400 and (await r.json())["error"] == "invalid_grant"
    code = await sync(_sign_in_through_the_authorize_page, url, "alice", DEFAULT_PASSWORD)
    async with http.post(
        f"{a.base_url}/oauth/token", data={**form, "code": code, "code_verifier": verifier}
    ) as r:
        token = await r.json()
        assert r.status == 200 and token["scope"] == "read"
    # A code works once.
    async with http.post(
        f"{a.base_url}/oauth/token", data={**form, "code": code, "code_verifier": verifier}
    ) as r:
        assert r.status == 400


async def test_authorize_page_refuses_bad_requests_and_wrong_passwords(start, http):
    a = await start("a")
    await a.create_user("alice")
    client_id, _ = await sync(
        Mastodon.create_app,
        "x",
        api_base_url=a.base_url,
        scopes=["read"],
        redirect_uris="https://app.example/cb",
    )
    base = f"{a.base_url}/oauth/authorize?client_id={client_id}&response_type=code"
    for query, reason in [
        ("&redirect_uri=https://evil.example/cb", "redirect_uri"),
        ("&redirect_uri=https://app.example/cb&scope=write", "scope"),
        ("&redirect_uri=https://app.example/cb&scope=bogus", "unknown scope"),
    ]:
        async with http.get(base + query) as resp:
            assert resp.status == 400 and reason in await resp.text()
    ok = base + "&redirect_uri=https://app.example/cb&scope=read&state=xyz"
    async with http.post(
        f"{a.base_url}/oauth/authorize",
        data={
            "client_id": client_id,
            "redirect_uri": "https://app.example/cb",
            "response_type": "code",
            "scope": "read",
            "username": "alice",
            "password": "nope",
            "decision": "allow",
        },
    ) as resp:
        assert resp.status == 401 and "wrong" in await resp.text()
    async with http.post(
        f"{a.base_url}/oauth/authorize",
        allow_redirects=False,
        data={
            "client_id": client_id,
            "redirect_uri": "https://app.example/cb",
            "response_type": "code",
            "scope": "read",
            "state": "xyz",
            "username": "alice",
            "password": DEFAULT_PASSWORD,
            "decision": "allow",
        },
    ) as resp:
        assert resp.status == 302
        location = resp.headers["Location"]
        assert location.startswith("https://app.example/cb?code=") and "state=xyz" in location
    async with http.get(ok) as resp:
        assert resp.status == 200


async def test_bad_tokens_and_missing_scopes_are_refused(start, http):
    a = await start("a")
    await a.create_user("alice")
    reader = await login(a, "alice", ["read"])
    with pytest.raises(MastodonAPIError) as caught:
        await sync(reader.status_post, "not allowed")
    assert caught.value.args[1] == 403
    assert "outside the authorized scopes" in str(caught.value)
    broken = Mastodon(
        access_token="not-a-token", api_base_url=a.base_url, version_check_mode="none"
    )
    with pytest.raises(MastodonUnauthorizedError):
        await sync(broken.account_verify_credentials)
    async with http.get(
        f"{a.base_url}/api/v1/timelines/home", headers={"Authorization": "Bearer nope"}
    ) as resp:
        assert resp.status == 401 and (await resp.json()) == {
            "error": "The access token is invalid"
        }
    async with http.get(f"{a.base_url}/api/v1/timelines/home") as resp:
        assert resp.status == 401 and "error" in await resp.json()
    # Another app cannot revoke alice's token...
    other_id, other_secret = await sync(
        Mastodon.create_app, "other", api_base_url=a.base_url, scopes=["read"], redirect_uris=OOB
    )
    async with http.post(
        f"{a.base_url}/oauth/revoke",
        data={"client_id": other_id, "client_secret": other_secret, "token": reader.access_token},
    ) as resp:
        assert resp.status == 200
    assert (await sync(reader.me))["username"] == "alice"
    # ...but her own app can: a revoked token stops working.
    token = reader.access_token
    await sync(reader.revoke_access_token, allow_http=True)
    async with http.get(
        f"{a.base_url}/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {token}"},
    ) as resp:
        assert resp.status == 401


# -- instance -----------------------------------------------------------------------


async def test_instance_v1_and_v2(start, http):
    a = await start("a", settings={"server": {"name": "Chirpy"}, "posts": {"max_chars": 321}})
    api = Mastodon(api_base_url=a.base_url)
    v1 = await sync(api.instance_v1)
    assert v1["uri"] == a.domain and v1["title"] == "Chirpy"
    assert v1["configuration"]["statuses"]["max_characters"] == 321
    v2 = await sync(api.instance_v2)
    assert v2["domain"] == a.domain and v2["api_versions"]["mastodon"] == 2
    assert v2["version"].startswith("4.2.0 ")
    for path in ("/api/v1/instance", "/api/v1/instance/", "/api/v2/instance", "/api/v2/instance/"):
        async with http.get(a.base_url + path) as resp:
            assert resp.status == 200, path


# -- following and posting across instances ---------------------------------------


async def test_cross_instance_follow_post_like_boost_using_only_the_client_api(pair):
    a, b = pair
    await a.create_user("alice")
    await b.create_user("bob")
    alice, bob = await login(a, "alice"), await login(b, "bob")

    found = await sync(alice.search_v2, b.handle("bob"), resolve=True)
    assert [acct["acct"] for acct in found["accounts"]] == [b.handle("bob")]
    bob_on_a = found["accounts"][0]
    check_entity(bob_on_a, ACCOUNT)
    relationship = await sync(alice.account_follow, bob_on_a)
    check_entity(relationship, RELATIONSHIP)
    await settle(a, b)
    relationship = (await sync(alice.account_relationships, bob_on_a))[0]
    assert relationship["following"] is True and relationship["requested"] is False
    assert (await sync(alice.account_lookup, b.handle("bob")))["id"] == bob_on_a["id"]

    posted = await sync(
        bob.status_post,
        "Hello #Fediverse from bob",
        visibility="public",
        spoiler_text="greeting",
        language="en",
    )
    check_entity(posted, STATUS, STATUS_NULLABLE)
    assert posted["tags"][0]["name"] == "fediverse" and posted["language"] == "en"
    await settle(a, b)
    home = await sync(alice.timeline_home)
    assert [s["uri"] for s in home] == [posted["uri"]]
    arrived = home[0]
    check_entity(arrived, STATUS, STATUS_NULLABLE)
    check_entity(arrived["account"], ACCOUNT)
    assert arrived["spoiler_text"] == "greeting" and arrived["sensitive"] is True
    assert arrived["tags"][0]["name"] == "fediverse"

    await sync(alice.status_favourite, arrived)
    boost = await sync(alice.status_reblog, arrived)
    assert boost["reblog"]["uri"] == posted["uri"]
    reply = await sync(alice.status_post, f"@{b.handle('bob')} hi!", in_reply_to_id=arrived)
    assert (await sync(alice.status, arrived))["favourited"] is True
    await settle(a, b)

    mine = await sync(bob.status, posted)
    assert (mine["favourites_count"], mine["reblogs_count"], mine["replies_count"]) == (1, 1, 1)
    context = await sync(bob.status_context, posted)
    assert [s["uri"] for s in context["descendants"]] == [reply["uri"]]
    notifications = await sync(bob.notifications)
    for item in notifications:
        check_entity(item, NOTIFICATION)
    assert sorted(n["type"] for n in notifications) == ["favourite", "follow", "mention", "reblog"]
    followers = await sync(bob.account_followers, await sync(bob.me))
    assert [f["acct"] for f in followers] == [a.handle("alice")]
    statuses = await sync(alice.account_statuses, bob_on_a)
    assert posted["uri"] in [s["uri"] for s in statuses]

    await sync(alice.account_unfollow, bob_on_a)
    await settle(a, b)
    assert await sync(bob.account_followers, await sync(bob.me)) == []


async def test_follow_requests_for_a_locked_account(pair):
    a, b = pair
    await a.create_user("alice")
    await b.create_user("bob", locked=True)
    alice, bob = await login(a, "alice"), await login(b, "bob")
    bob_on_a = (await sync(alice.search_v2, b.handle("bob"), resolve=True))["accounts"][0]
    assert bob_on_a["locked"] is True
    relationship = await sync(alice.account_follow, bob_on_a)
    assert relationship["requested"] is True and relationship["following"] is False
    await settle(a, b)
    requests_ = await sync(bob.follow_requests)
    assert [r["acct"] for r in requests_] == [a.handle("alice")]
    await sync(bob.follow_request_authorize, requests_[0])
    await settle(a, b)
    relationship = (await sync(alice.account_relationships, bob_on_a))[0]
    assert relationship["following"] is True
    assert [n["type"] for n in await sync(bob.notifications)] == ["follow", "follow_request"]


async def test_timelines_and_link_header_paging(start):
    a = await start("a")
    await a.create_user("alice")
    await a.create_user("amy")
    alice, amy = await login(a, "alice"), await login(a, "amy")
    await sync(amy.account_follow, await sync(alice.me))
    written = [await sync(alice.status_post, f"post {n} #counting") for n in range(5)]
    await sync(alice.status_post, "quiet", visibility="unlisted")

    page = await sync(amy.timeline_home, limit=2)
    seen = []
    while page:
        seen += [s["id"] for s in page]
        page = await sync(amy.fetch_next, page)  # follows the Link rel="next" header
    assert seen[1:] == [s["id"] for s in reversed(written)]
    newest = await sync(amy.timeline_home, limit=2)
    older = await sync(amy.fetch_next, newest)
    back = await sync(amy.fetch_previous, older)
    assert [s["id"] for s in back] == [s["id"] for s in newest]

    local = await sync(amy.timeline_local)
    assert "quiet" not in [s["content"] for s in local]
    assert len(local) == 5
    tagged = await sync(amy.timeline_hashtag, "Counting")
    assert [s["id"] for s in tagged] == [s["id"] for s in reversed(written)]
    public = await sync(Mastodon(api_base_url=a.base_url).timeline_public)
    assert len(public) == 5


async def test_boolean_parameters_accept_mastodon_spellings(start, http):
    a = await start("a")
    await a.create_user("alice")
    api = await login(a, "alice")
    headers = {"Authorization": f"Bearer {api.access_token}"}
    for value, expected in [
        ("1", True),
        ("0", False),
        ("true", True),
        ("false", False),
        ("True", True),
        ("FALSE", False),
    ]:
        async with http.post(
            f"{a.base_url}/api/v1/statuses",
            headers=headers,
            data={"status": f"flag {value}", "sensitive": value},
        ) as resp:
            assert (await resp.json())["sensitive"] is expected, value
    async with http.post(
        f"{a.base_url}/api/v1/statuses",
        headers=headers,
        json={"status": "json bool", "sensitive": True},
    ) as resp:
        assert (await resp.json())["sensitive"] is True
    async with http.post(
        f"{a.base_url}/api/v1/statuses",
        headers=headers,
        data={"status": "bad", "sensitive": "maybe"},
    ) as resp:
        assert resp.status == 422 and "boolean" in (await resp.json())["error"]


# -- media ----------------------------------------------------------------------------


def _photo_with_exif(width: int, height: int) -> bytes:
    """A JPEG with GPS position and camera make in EXIF, stored sideways (orientation 6)."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    for x in range(width // 2):
        for y in range(height // 4):
            image.putpixel((x, y), (20, 20, 220))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 0.0), 3: "E", 4: (13.0, 24.0, 0.0)}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


async def test_media_upload_strips_exif_resizes_and_federates(start, http):
    a = await start("a", settings={"media": {"max_pixels": 20_000, "preview_pixels": 2_000}})
    b = await start("b")
    await a.create_user("alice")
    await b.create_user("bob")
    alice, bob = await login(a, "alice"), await login(b, "bob")
    await follow_remote(bob, a.handle("alice"))
    await settle(a, b)

    original = _photo_with_exif(400, 200)
    assert b"SpyCam" in original
    media = await sync(
        alice.media_post,
        original,
        mime_type="image/jpeg",
        description="a red and blue flag",
        focus=(0.5, -0.25),
        file_name="flag.jpg",
    )
    check_entity(media, MEDIA)
    assert media["type"] == "image" and media["description"] == "a red and blue flag"
    assert media["meta"]["focus"] == {"x": 0.5, "y": -0.25}
    async with http.get(media["url"]) as resp:
        assert resp.status == 200 and resp.content_type == "image/jpeg"
        stored = await resp.read()
    assert b"SpyCam" not in stored and b"GPS" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif()  # no EXIF at all
        # Turned upright (orientation 6: 400x200 becomes 200x400), then scaled to the
        # instance's 20,000-pixel limit.
        assert image.height > image.width
        assert image.width * image.height <= 20_000
        assert (media["meta"]["original"]["width"], media["meta"]["original"]["height"]) == (
            image.width,
            image.height,
        )
    async with http.get(media["preview_url"]) as resp:
        with Image.open(io.BytesIO(await resp.read())) as preview:
            assert preview.width * preview.height <= 2_000
    assert len(blurhash.decode(media["blurhash"], 4, 4)) == 4

    updated = await sync(alice.media_update, media, description="the flag")
    assert updated["description"] == "the flag"
    post = await sync(alice.status_post, "look", media_ids=[media])
    assert [m["id"] for m in post["media_attachments"]] == [media["id"]]
    with pytest.raises(MastodonAPIError):  # one upload, one post
        await sync(alice.status_post, "again", media_ids=[media])
    await settle(a, b)

    arrived = (await sync(bob.timeline_home))[0]
    attachment = arrived["media_attachments"][0]
    assert attachment["remote_url"] == media["url"] and attachment["url"] == media["url"]
    assert attachment["description"] == "the flag" and attachment["blurhash"] == media["blurhash"]
    assert attachment["meta"]["focus"] == {"x": 0.5, "y": -0.25}

    # Deleting the post deletes the files.
    await sync(alice.status_delete, post)
    async with http.get(media["url"]) as resp:
        assert resp.status == 404


async def test_bad_uploads_are_refused_with_a_reason(start, http):
    a = await start("a", settings={"media": {"max_upload_bytes": 5000}})
    await a.create_user("alice")
    api = await login(a, "alice")
    with pytest.raises(MastodonAPIError, match="not an image"):
        await sync(
            api.media_post, b"%PDF-1.4 not an image", mime_type="image/png", file_name="x.png"
        )
    with pytest.raises(MastodonAPIError, match="larger than 5000"):
        await sync(api.media_post, b"\xff" * 6000, mime_type="image/jpeg", file_name="x.jpg")
    with pytest.raises(MastodonAPIError, match="focus"):
        await sync(api.media_post, _photo_with_exif(10, 10), mime_type="image/jpeg", focus=(2, 0))
    assert not any(a.config.media_dir.iterdir())


# -- follower groups through the client library ---------------------------------------


async def test_group_post_through_mastodon_py(pair):
    """Posting to a follower group is our extension (circle_id); Mastodon.py's own
    request machinery carries it, and the answer parses as a Status."""
    a, b = pair
    await a.create_user("alice")
    await b.create_user("bob")
    await b.create_user("bea")
    alice, bob, bea = await login(a, "alice"), await login(b, "bob"), await login(b, "bea")
    for api in (bob, bea):
        await follow_remote(api, a.handle("alice"))
    await settle(a, b)
    followers = {f["acct"]: f for f in await sync(alice.account_followers, await sync(alice.me))}
    request = alice._Mastodon__api_request  # generic call: same auth and entity parsing
    circle = await sync(request, "POST", "/api/v1/circles", {"title": "customers"})
    await sync(
        request,
        "POST",
        f"/api/v1/circles/{circle['id']}/accounts",
        {"account_ids": [followers[b.handle("bob")]["id"]]},
    )
    post = await sync(
        request, "POST", "/api/v1/statuses", {"status": "for customers", "circle_id": circle["id"]}
    )
    assert post["visibility"] == "private" and post["circle_id"] == circle["id"]
    await settle(a, b)
    assert [s["uri"] for s in await sync(bob.timeline_home)] == [post["uri"]]
    assert await sync(bea.timeline_home) == []


async def test_account_statuses_filters(start):
    a = await start("a")
    await a.create_user("alice")
    await a.create_user("amy")
    alice, amy = await login(a, "alice"), await login(a, "amy")
    by_amy = await sync(amy.status_post, "amy's post")
    plain = await sync(alice.status_post, "plain #cats")
    thread = await sync(alice.status_post, "more", in_reply_to_id=plain)
    reply = await sync(alice.status_post, "@amy replying", in_reply_to_id=by_amy)
    boost = await sync(alice.status_reblog, by_amy)
    media = await sync(alice.media_post, _photo_with_exif(8, 8), mime_type="image/jpeg")
    pictured = await sync(alice.status_post, "picture", media_ids=[media])
    me = await sync(alice.me)

    async def ids(**filters) -> list[str]:
        return [s["id"] for s in await sync(alice.account_statuses, me, **filters)]

    assert await ids() == [pictured["id"], boost["id"], reply["id"], thread["id"], plain["id"]]
    assert await ids(pinned=True) == []
    assert await ids(only_media=True) == [pictured["id"]]
    assert await ids(exclude_reblogs=True) == [
        pictured["id"],
        reply["id"],
        thread["id"],
        plain["id"],
    ]
    assert await ids(exclude_replies=True) == [
        pictured["id"],
        boost["id"],
        thread["id"],
        plain["id"],
    ]
    assert await ids(tagged="Cats") == [plain["id"]]


async def publish_due(instance, author_id: int, now: datetime | None = None) -> int:
    """Run the jobs due at `now` (the job runner's clock set there; real time if None);
    how many posts the author got (scheduled posts are published by jobs)."""
    before = await instance.ctx.store.count_statuses(author_id)
    if now is not None:
        instance.ctx.jobs.clock = lambda: now.timestamp()
    await instance.ctx.jobs.drain()
    return await instance.ctx.store.count_statuses(author_id) - before


async def test_scheduled_posts_publish_once_when_due(pair):
    from datetime import UTC, timedelta

    a, b = pair
    alice_account = await a.create_user("alice")
    await b.create_user("bob")
    alice, bob = await login(a, "alice"), await login(b, "bob")
    await follow_remote(bob, a.handle("alice"))
    await settle(a, b)
    when = datetime.now(UTC) + timedelta(hours=1)
    scheduled = await sync(alice.status_post, "from the past", scheduled_at=when)
    assert scheduled["params"]["text"] == "from the past"
    assert [s["id"] for s in await sync(alice.scheduled_statuses)] == [scheduled["id"]]
    with pytest.raises(MastodonAPIError, match="5 minutes"):
        await sync(alice.status_post, "too soon", scheduled_at=datetime.now(UTC))
    with pytest.raises(MastodonAPIError, match="longer than"):
        await sync(alice.status_post, "x" * 600, scheduled_at=when)

    assert await publish_due(a, alice_account.id) == 0  # not yet
    assert await publish_due(a, alice_account.id, now=when + timedelta(seconds=1)) == 1
    assert await publish_due(a, alice_account.id, now=when + timedelta(seconds=2)) == 0
    assert await sync(alice.scheduled_statuses) == []
    await settle(a, b)
    assert [s["content"] for s in await sync(bob.timeline_home)] == ["<p>from the past</p>"]


async def test_scheduled_post_is_not_doubled_by_a_second_run(start):
    """A publish job run again (its worker died after publishing, before it finished the
    job) writes no second post; nor does an entry put back with the post's idempotency
    key (as a crash between posting and removing the entry once left it)."""
    from datetime import UTC, timedelta

    from fedchirp.services import scheduling

    a = await start("a")
    alice_account = await a.create_user("alice")
    when = datetime.now(UTC) + timedelta(hours=1)
    scheduled = await scheduling.schedule(a.ctx, alice_account, when, {"text": "once"})
    assert await publish_due(a, alice_account.id, now=when) == 1
    await scheduling.publish(a.ctx, scheduling.job_payload(scheduled))
    # Put the entry back, as if the process died before deleting it.
    again = await a.ctx.store.insert_scheduled(
        alice_account.id, scheduled.scheduled_at, scheduled.params, scheduled.idempotency_key
    )
    entry = await a.ctx.store.get_scheduled(again)
    assert entry is not None
    await scheduling.publish(a.ctx, scheduling.job_payload(entry))
    assert await a.ctx.store.count_statuses(alice_account.id) == 1
    assert await a.ctx.store.get_scheduled(again) is None


async def test_scheduled_posts_are_not_confused_when_ids_are_reused(start):
    """SQLite hands the id of a deleted newest row to the next insert; two scheduled posts
    published one after the other must both appear."""
    from datetime import UTC, timedelta

    from fedchirp.services import scheduling

    a = await start("a")
    alice = await a.create_user("alice")
    for text in ("first", "second"):
        when = datetime.now(UTC) + timedelta(minutes=10)
        await scheduling.schedule(a.ctx, alice, when, {"text": text})
        assert await publish_due(a, alice.id, now=when + timedelta(seconds=1)) == 1
    statuses = await a.ctx.store.account_statuses(alice.id, None, Page())
    assert sorted(s.source_text for s in statuses) == ["first", "second"]


async def test_idempotency_key_makes_a_retried_post_a_no_op(start):
    a = await start("a")
    await a.create_user("alice")
    alice = await login(a, "alice")
    first = await sync(alice.status_post, "only once", idempotency_key="abc-123")
    again = await sync(alice.status_post, "only once", idempotency_key="abc-123")
    other = await sync(alice.status_post, "only once", idempotency_key="def-456")
    assert first["id"] == again["id"] != other["id"]


async def test_retry_after_a_failed_queueing_federates_the_post(pair):
    """Queueing the post's delivery failed (500), so nothing of the post was kept: it is
    written with its deliveries in one unit. The client retries with the same
    Idempotency-Key: the post is made once, and delivered."""
    a, b = pair
    await a.create_user("alice")
    await b.create_user("bob")
    alice, bob = await login(a, "alice"), await login(b, "bob")
    await follow_remote(bob, a.handle("alice"))
    await settle(a, b)
    real_enqueue = a.ctx.delivery.enqueue
    calls = []

    async def failing_once(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise RuntimeError("database is locked")
        return await real_enqueue(*args, **kwargs)

    a.ctx.delivery.enqueue = failing_once
    with pytest.raises(MastodonAPIError):
        await sync(alice.status_post, "made it", idempotency_key="k1")
    posted = await sync(alice.status_post, "made it", idempotency_key="k1")
    assert len(await sync(alice.account_statuses, await sync(alice.me))) == 1
    await settle(a, b)
    assert [s["uri"] for s in await sync(bob.timeline_home)] == [posted["uri"]]


async def test_a_boost_cannot_be_edited(start):
    a = await start("a")
    await a.create_user("alice")
    alice = await login(a, "alice")
    post = await sync(alice.status_post, "original")
    boost = await sync(alice.status_reblog, post)
    with pytest.raises(MastodonAPIError, match="boost"):
        await sync(alice.status_update, boost, "rewritten")


async def test_notification_type_filters(start):
    a = await start("a")
    await a.create_user("alice")
    await a.create_user("amy")
    alice, amy = await login(a, "alice"), await login(a, "amy")
    await sync(amy.account_follow, await sync(alice.me))
    post = await sync(alice.status_post, "hello")
    await sync(amy.status_favourite, post)
    await sync(amy.status_post, "@alice hi")
    kinds = [n["type"] for n in await sync(alice.notifications)]
    assert sorted(kinds) == ["favourite", "follow", "mention"]
    assert [n["type"] for n in await sync(alice.notifications, types=["mention"])] == ["mention"]
    assert sorted(
        n["type"] for n in await sync(alice.notifications, exclude_types=["mention", "follow"])
    ) == ["favourite"]


async def test_search_finds_a_local_post_by_its_page_address(start):
    a = await start("a")
    await a.create_user("alice")
    alice = await login(a, "alice")
    post = await sync(alice.status_post, "find me")
    found = await sync(alice.search_v2, post["url"], resolve=True)
    assert [s["id"] for s in found["statuses"]] == [post["id"]]
