"""Hostile remote servers and oversized uploads: issue 10's faults in what other
servers send us (spoofed names, uncapped notes) and in what users upload (huge
images, photos past server.max_request_bytes).
"""

from __future__ import annotations

import json
import secrets
import unicodedata

import aiohttp
import pytest

from fedchirp.federation.vocab import InvalidDocument, parse_actor
from fedchirp.localnet import settle
from tests.test_signatures import sign_with_apsig

# -- spoofed names --------------------------------------------------------------------

SPOOFING = [
    *"\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c",
    *"\u200b\u200c\u200d\u2060\ufeff",
    "\x00",
    "\x07",
    "\x7f",
    "\u00ad",  # soft hyphen, another format character
]


def _actor(username: str, name: str = "") -> dict:
    return {
        "id": "https://remote.example/users/x",
        "type": "Person",
        "preferredUsername": username,
        "name": name,
        "inbox": "https://remote.example/users/x/inbox",
        "publicKey": {
            "id": "https://remote.example/users/x#main-key",
            "owner": "https://remote.example/users/x",
            "publicKeyPem": "-----BEGIN PUBLIC KEY-----",
        },
    }


@pytest.mark.parametrize("char", SPOOFING, ids=lambda c: f"U+{ord(c):04X}")
def test_usernames_with_bidi_zero_width_or_control_characters_are_refused(char):
    with pytest.raises(InvalidDocument, match="username"):
        parse_actor(_actor(f"ad{char}min"))
    # In a display name the same character is dropped instead.
    assert parse_actor(_actor("admin", f"Ad{char}min")).display_name == "Admin"


def test_names_are_normalised_to_nfc():
    decomposed = unicodedata.normalize("NFD", "zoé")
    actor = parse_actor(_actor(decomposed, f"Zoé {decomposed}"))
    assert actor.username == "zoé" and actor.display_name == "Zoé zoé"


def _follow(actor_id: str, target: str) -> bytes:
    return json.dumps(
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{actor_id}#follow-{secrets.token_hex(4)}",
            "type": "Follow",
            "actor": actor_id,
            "object": target,
        }
    ).encode()


async def test_spoofed_remote_names_never_reach_the_api(start, remote, http, client):
    a = await start("a")
    alice = await a.create_user("alice")
    url = f"{a.base_url}/inbox"
    # A username hiding bidi and zero-width characters: the actor is refused.
    spoof = remote.add_actor("spoof")
    remote.actors["spoof"]["preferredUsername"] = "ad\u202emin\u200b"
    body = _follow(spoof, alice.uri)
    async with http.post(url, data=body, headers=sign_with_apsig(remote, "spoof", url, body)) as r:
        assert r.status >= 400, await r.text()
    await settle(a)
    assert await a.ctx.store.get_account_by_uri(spoof) is None
    # A display name with them is kept without them; the username is kept in NFC.
    zoe = remote.add_actor("zoe")
    remote.actors["zoe"]["preferredUsername"] = unicodedata.normalize("NFD", "zoé")
    remote.actors["zoe"]["name"] = "Zo\u202eé\u200b \u2066admin\u2069\x07"
    body = _follow(zoe, alice.uri)
    async with http.post(url, data=body, headers=sign_with_apsig(remote, "zoe", url, body)) as r:
        assert r.status == 202, await r.text()
    await settle(a)
    account = await a.ctx.store.get_account_by_uri(zoe)
    api = await client(a, "alice")
    shown = await api.call("GET", f"/api/v1/accounts/{account.id}")
    assert shown["acct"] == f"zoé@{remote.domain}" and shown["username"] == "zoé"
    assert shown["display_name"] == "Zoé admin"
    followers = await api.call("GET", f"/api/v1/accounts/{alice.id}/followers")
    for entry in followers:
        for field in ("acct", "username", "display_name"):
            assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in entry[field])


# -- uncapped remote notes ------------------------------------------------------------


def test_capped_html_is_cut_cleanly():
    from fedchirp import html

    assert html.sanitize_capped("<p>short</p>") == "<p>short</p>"
    for huge in (
        "<p>" + "<a href='https://x.example/'>link</a> &amp; " * 40_000 + "</p>",
        "<blockquote>" * 5_000 + "deep" + "</blockquote>" * 5_000 + "x" * 200_000,
    ):
        capped = html.sanitize_capped(huge)
        assert len(capped) <= html.MAX_REMOTE_HTML and capped.endswith(html.TRUNCATED)
        assert html.sanitize(capped) == capped  # well-formed: nothing left half open


async def test_a_huge_remote_note_is_kept_only_up_to_the_cap(start, remote, http, client):
    from fedchirp import html
    from fedchirp.services import follows

    a = await start("a")
    alice = await a.create_user("alice")
    zed = remote.add_actor("zed")
    url = f"{a.base_url}/inbox"
    body = _follow(zed, alice.uri)
    async with http.post(url, data=body, headers=sign_with_apsig(remote, "zed", url, body)) as r:
        assert r.status == 202
    await settle(a)
    zed_account = await a.ctx.store.get_account_by_uri(zed)
    await follows.follow(a.ctx, alice, zed_account)
    await a.ctx.store.accept_follow((await a.ctx.store.get_follow(alice.id, zed_account.id)).id)
    content = "<p>" + "lorem ipsum " * 75_000 + "</p>"  # 900,000 characters
    note_id = f"{zed}/notes/huge"
    body = json.dumps(
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{note_id}/activity",
            "type": "Create",
            "actor": zed,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": {
                "id": note_id,
                "type": "Note",
                "attributedTo": zed,
                "content": content,
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
            },
        }
    ).encode()
    async with http.post(url, data=body, headers=sign_with_apsig(remote, "zed", url, body)) as r:
        assert r.status == 202, await r.text()
    await settle(a)
    stored = await a.ctx.store.get_status_by_uri(note_id)
    assert stored is not None
    assert len(stored.content) <= html.MAX_REMOTE_HTML
    assert stored.content.startswith("<p>lorem ipsum lorem")
    assert stored.content.endswith(html.TRUNCATED)
    api = await client(a, "alice")
    home = await api.call("GET", "/api/v1/timelines/home")
    assert [s["uri"] for s in home] == [note_id]
    assert len(home[0]["content"]) <= html.MAX_REMOTE_HTML


# -- huge images ----------------------------------------------------------------------


def _png(size: tuple[int, int], noisy: bool = False) -> bytes:
    import io
    import os

    from PIL import Image

    if noisy:
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.new("L", size, 200)  # one colour: 144 megapixels in a few hundred KB
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=9 if not noisy else 1)
    return out.getvalue()


async def _upload(api, data: bytes, name: str = "x.png") -> tuple[int, dict]:
    form = aiohttp.FormData()
    form.add_field("file", data, filename=name, content_type="image/png")
    return await api.request("POST", "/api/v2/media", data=form)


# Pillow warns on opening anything past its own bomb threshold (100 megapixels).
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
async def test_an_image_past_the_decode_limit_is_refused_before_decoding(start, client):
    import time

    a = await start("a")
    await a.create_user("alice")
    api = await client(a, "alice")
    huge = _png((12_000, 12_000))
    assert len(huge) < 1_000_000
    began = time.monotonic()
    status, answer = await _upload(api, huge)
    assert status == 422, answer
    assert "12000x12000" in answer["error"] and "50 megapixels" in answer["error"]
    assert time.monotonic() - began < 1.0  # decoding it took 2.5 s
    status, answer = await _upload(api, _png((300, 200)))
    assert status == 200, answer
    assert answer["meta"]["original"]["width"] == 300


# -- photos past server.max_request_bytes -----------------------------------------------


async def test_uploads_may_be_as_large_as_the_media_limit_and_nothing_else(start, client, http):
    a = await start("a")
    await a.create_user("alice")
    api = await client(a, "alice")
    assert a.config.server.max_request_bytes < 3_000_000 < a.config.media.max_upload_bytes
    photo = _png((1000, 1000), noisy=True)  # random pixels do not compress: ~3 MB
    assert len(photo) > 3_000_000
    for path in ("/api/v1/media", "/api/v2/media"):
        form = aiohttp.FormData()
        form.add_field("file", photo, filename="photo.png", content_type="image/png")
        form.add_field("description", "noise")
        status, answer = await api.request("POST", path, data=form)
        assert status == 200, (path, answer)
        assert answer["meta"]["original"]["width"] == 1000
    # Any other route still stops at server.max_request_bytes.
    body = json.dumps({"status": "x" * 3_000_000}).encode()
    headers = {"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"}
    async with http.post(f"{a.base_url}/api/v1/statuses", data=body, headers=headers) as resp:
        assert resp.status == 413
        reason = (await resp.json())["error"]  # JSON with a reason that names the limit
        assert str(a.config.server.max_request_bytes) in reason, reason
    # And an upload past the media limit is still refused.
    form = aiohttp.FormData()
    form.add_field("file", b"\0" * (a.config.media.max_upload_bytes + 2_000_000), filename="x")
    auth = {"Authorization": f"Bearer {api.token}"}
    async with http.post(f"{a.base_url}/api/v2/media", data=form, headers=auth) as resp:
        assert resp.status == 413
        upload_limit = a.config.media.max_upload_bytes + a.config.server.max_request_bytes
        assert str(upload_limit) in (await resp.json())["error"]


async def test_the_advertised_image_matrix_limit_is_the_one_enforced(start, client, http):
    a = await start("a", settings={"media": {"max_decode_pixels": 250_000}})
    await a.create_user("alice")
    api = await client(a, "alice")
    async with http.get(f"{a.base_url}/api/v2/instance") as resp:
        limits = (await resp.json())["configuration"]["media_attachments"]
    assert limits["image_matrix_limit"] == 250_000
    status, answer = await _upload(api, _png((500, 500)))  # exactly the limit
    assert status == 200, answer
    status, answer = await _upload(api, _png((501, 500)))
    assert status == 422 and "501x500" in answer["error"], answer
