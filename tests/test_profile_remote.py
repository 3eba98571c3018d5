"""Profiles from other servers (Update(Person), sanitised on the way in), and rel="me"
verification of our own profile fields against pages served on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
from aiohttp import web

from fedchirp.localnet import settle
from tests.stubs import StubServer
from tests.test_hostile_remote import _follow
from tests.test_signatures import sign_with_apsig

pytestmark = pytest.mark.backends


async def _post(http, remote, name: str, url: str, body: bytes) -> None:
    async with http.post(url, data=body, headers=sign_with_apsig(remote, name, url, body)) as r:
        assert r.status == 202, await r.text()


def _hostile_profile(base: str) -> dict:
    return {
        "type": "Service",
        "name": "Zed the bot",
        "summary": '<p>bio <script>alert(1)</script><a href="javascript:alert(2)">x</a>'
        '<img src="https://evil.example/track.png"> <b>bold</b></p>',
        "icon": {"type": "Image", "mediaType": "image/png", "url": f"{base}/avatar.png"},
        "image": [{"type": "Image", "url": f"{base}/header.jpg"}],
        "manuallyApprovesFollowers": True,
        "discoverable": True,
        "attachment": [
            {
                "type": "PropertyValue",
                "name": "Site<script>x</script>",
                "value": '<a href="https://zed.example" rel="me" onclick="steal()">zed.example</a>'
                "<script>alert(3)</script>",
            },
            {"type": "Note", "content": "not a field"},
            {"type": "PropertyValue", "name": "Plain", "value": "words"},
        ],
    }


async def test_a_remote_profile_update_is_stored_sanitised_and_shown(start, remote, http, client):
    a = await start("a")
    alice = await a.create_user("alice")
    zed = remote.add_actor("zed")
    url = f"{a.base_url}/inbox"
    await _post(http, remote, "zed", url, _follow(zed, alice.uri))
    await settle(a)
    before = await a.ctx.store.get_account_by_uri(zed)
    assert before is not None and before.header_url == "" and before.fields == "[]"

    remote.actors["zed"].update(_hostile_profile(remote.base))
    update = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{zed}#updates/1",
        "type": "Update",
        "actor": zed,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": remote.actors["zed"],
    }
    await _post(http, remote, "zed", url, json.dumps(update).encode())
    await settle(a)

    stored = await a.ctx.store.get_account_by_uri(zed)
    assert stored.actor_type == "Service" and stored.locked and stored.discoverable
    assert stored.avatar_url == f"{remote.base}/avatar.png"
    assert stored.header_url == f"{remote.base}/header.jpg"
    for bad in ("<script", "javascript:", "<img", "onclick", "alert(1)"):
        assert bad not in stored.note and bad not in stored.fields
    assert "<b>bold</b>" in stored.note

    api = await client(a, "alice")
    shown = await api.call("GET", f"/api/v1/accounts/{stored.id}")
    assert shown["bot"] is True and shown["locked"] is True and shown["discoverable"] is True
    assert shown["avatar"] == f"{remote.base}/avatar.png"
    assert shown["header"] == f"{remote.base}/header.jpg"
    assert [f["name"] for f in shown["fields"]] == ["Site", "Plain"]
    assert 'href="https://zed.example"' in shown["fields"][0]["value"]
    assert shown["fields"][1] == {"name": "Plain", "value": "words", "verified_at": None}

    async with http.get(f"{a.base_url}/@zed@{remote.domain}") as page:
        text = await page.text()
    assert f'src="{remote.base}/header.jpg"' in text and f'src="{remote.base}/avatar.png"' in text
    assert "<dt>Site</dt>" in text and "<dt>Plain</dt>" in text
    assert "alert(" not in text


# -- rel="me" ----------------------------------------------------------------------------


class PageServer(StubServer):
    """Web pages on 127.0.0.1, by path."""

    def __init__(self) -> None:
        super().__init__()
        self.pages: dict[str, str] = {}
        self.requested: list[str] = []
        self.app.router.add_get("/{path:.*}", self._serve)

    async def _serve(self, request: web.Request) -> web.Response:
        self.requested.append(request.path)
        page = self.pages.get(request.path)
        if page is None:
            return web.Response(status=404)
        return web.Response(text=page, content_type="text/html")


@pytest.fixture
async def pages():
    server = PageServer()
    await server.start()
    yield server
    await server.stop()


async def _fields(api) -> dict[str, str | None]:
    me = await api.call("GET", "/api/v1/accounts/verify_credentials")
    return {f["name"]: f["verified_at"] for f in me["fields"]}


async def test_a_link_that_links_back_with_rel_me_is_verified(start, client, pages):
    a = await start("a")
    alice = await a.create_user("alice")
    pages.pages["/good"] = f'<html><head><link rel="me" href="{alice.url}"></head></html>'
    pages.pages["/anchor"] = f'<p><a href="{alice.uri}" rel="nofollow me">me</a></p>'
    pages.pages["/no-rel"] = f'<p><a href="{alice.url}">no rel</a></p>'
    pages.pages["/other"] = '<a rel="me" href="https://elsewhere.example/@alice">x</a>'
    api = await client(a, "alice")
    fields = [
        ("Good", f"{pages.base}/good"),
        ("Anchor", f"{pages.base}/anchor"),
        ("NoRel", f"{pages.base}/no-rel"),
        ("Other", f"{pages.base}/other"),
    ]
    form = {
        f"fields_attributes[{i}][{key}]": value
        for i, field in enumerate(fields)
        for key, value in zip(("name", "value"), field, strict=True)
    }
    await api.call("PATCH", "/api/v1/accounts/update_credentials", expect=200, data=form)
    await settle(a)
    assert sorted(pages.requested) == ["/anchor", "/good", "/no-rel", "/other"]
    verified = await _fields(api)
    assert verified["Good"] and verified["Anchor"]
    assert verified["NoRel"] is None and verified["Other"] is None

    # Saving again keeps a verification whose link did not change, and drops it with
    # the link.
    form["fields_attributes[1][value]"] = f"{pages.base}/no-rel"
    await api.call("PATCH", "/api/v1/accounts/update_credentials", expect=200, data=form)
    verified_again = await _fields(api)
    assert verified_again["Good"] == verified["Good"] and verified_again["Anchor"] is None

    async with api.session.get(f"{a.base_url}/@alice") as page:
        assert "Verified" in await page.text()


async def test_rel_me_pages_are_fetched_through_the_ssrf_guard(start, client, pages):
    # The production setting: loopback and private addresses are never fetched.
    settings = {"federation": {"allow_private_addresses": False}}
    a = await start("a", settings=settings, run_workers=False)
    alice = await a.create_user("alice")
    pages.pages["/good"] = f'<link rel="me" href="{alice.url}">'
    api = await client(a, "alice")
    form = {
        "fields_attributes[0][name]": "Site",
        "fields_attributes[0][value]": f"{pages.base}/good",
    }
    await api.call("PATCH", "/api/v1/accounts/update_credentials", expect=200, data=form)
    assert await a.ctx.store.count_jobs() == 1  # the check is queued...
    await settle(a)
    assert await a.ctx.store.count_jobs() == 0  # ...refused for good, not retried
    assert pages.requested == []
    assert await _fields(api) == {"Site": None}


# -- reading the profile parts of an actor ------------------------------------------------


def test_avatar_and_header_urls_in_the_shapes_servers_send():
    from fedchirp.federation.profile import image_url

    url = "https://remote.example/a.png"
    assert image_url({"type": "Image", "url": url}) == url
    assert image_url([{"type": "Image", "url": url}, {"url": "https://x.example/b"}]) == url
    assert image_url({"type": "Image", "url": [{"type": "Link", "href": url}]}) == url
    assert image_url(url) == url
    for bad in ("javascript:alert(1)", {"url": "data:image/png;base64,AAAA"}, 7, None, []):
        assert image_url(bad) == ""
    assert image_url("https://remote.example/" + "a" * 3000) == ""


def test_only_property_values_become_fields_and_they_are_capped():
    from fedchirp.federation.profile import MAX_REMOTE_FIELDS, remote_fields

    many = [{"type": "PropertyValue", "name": f"n{i}", "value": "v" * 5000} for i in range(40)]
    fields = remote_fields([{"type": "Link", "href": "https://x"}, *many])
    assert len(fields) == MAX_REMOTE_FIELDS and fields[0].name == "n0"
    assert all(len(f.value) == 2048 for f in fields)
    assert remote_fields({"type": "PropertyValue", "name": "one", "value": "x"})[0].name == "one"
    assert remote_fields([{"type": "PropertyValue", "name": 1, "value": "x"}]) == ()
