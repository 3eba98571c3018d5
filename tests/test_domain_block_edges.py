"""Domain blocks at the edges, against stub servers whose keys the test holds: the inbox
drops a suspended server's POSTs before fetching its key, signed GETs from it are
refused, and a server blocked with reject_media keeps its posts but not its media."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fedchirp.federation.httpsig import sign_request
from fedchirp.localnet import settle
from fedchirp.services import domain_blocks
from fedchirp.services.domain_blocks import BlockRequest
from fedchirp.services.posting import create_status
from tests.instance_processes import inbox_signer

# Run on SQLite and on PostgreSQL (see tests/conftest.py).
pytestmark = pytest.mark.backends

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def _create_mentioning(actor: str, n: int, mentioned: str) -> dict[str, Any]:
    """A Create of a public note by actor mentioning a local account, with an image."""
    note = {
        "id": f"{actor}/statuses/{n}",
        "type": "Note",
        "attributedTo": actor,
        "content": f"<p>note {n}</p>",
        "published": f"2026-01-02T03:04:{n:02d}Z",
        "to": [PUBLIC],
        "cc": [mentioned],
        "tag": [{"type": "Mention", "href": mentioned}],
        "attachment": [
            {"type": "Document", "mediaType": "image/png", "url": f"{actor}/media/{n}.png"}
        ],
    }
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{note['id']}/activity",
        "type": "Create",
        "actor": actor,
        "to": note["to"],
        "cc": note["cc"],
        "object": note,
    }


async def _post(http, instance, server, name: str, activity: dict[str, Any]) -> int:
    body = json.dumps(activity).encode()
    url = f"{instance.base_url}/inbox"
    headers = inbox_signer(server, name)(url, body)
    async with http.post(url, data=body, headers=headers) as resp:
        return resp.status


async def _block(instance, domain: str, **settings: Any) -> None:
    ctx = instance.ctx
    request = BlockRequest(domain=domain, **settings)
    await domain_blocks.block(ctx.store, request, ctx.domain_blocks.invalidate)


async def test_a_suspended_server_gets_202_and_no_key_fetch(start, remote, evil, http):
    a = await start("a")
    alice = await a.create_user("alice")
    for server in (remote, evil):
        server.add_actor("zed")
        server.actors["zed"]["icon"] = {"type": "Image", "url": f"{server.base}/zed.png"}
    # Both stubs are on 127.0.0.1: the block names remote's port, so evil is not blocked.
    await _block(a, remote.domain, severity="suspend")
    for n, server in enumerate((remote, evil)):
        activity = _create_mentioning(f"{server.base}/users/zed", n, alice.uri)
        assert await _post(http, a, server, "zed", activity) == 202
    await settle(a)
    assert remote.fetches == []  # the key was never fetched
    assert [f.path_qs for f in evil.fetches] == ["/users/zed"]  # the control: it was
    assert await a.ctx.store.get_status_by_uri(f"{remote.base}/users/zed/statuses/0") is None
    assert await a.ctx.store.get_status_by_uri(f"{evil.base}/users/zed/statuses/1") is not None
    assert await a.ctx.store.get_account_by_uri(f"{remote.base}/users/zed") is None

    # A signed fetch of a followers-only post by one of its actors is refused unfetched.
    post = await create_status(a.ctx, alice, "for followers", visibility="private")
    url = f"{a.base_url}/users/alice/statuses/{post.id}"
    key_id = f"{remote.base}/users/zed#main-key"
    headers = sign_request("GET", url, key_id, remote.keys["zed"])
    async with http.get(url, headers={**headers, "Accept": "application/activity+json"}) as resp:
        assert resp.status == 401 and "blocked" in (await resp.json())["error"]
    assert remote.fetches == []


async def test_reject_media_keeps_posts_but_not_media_or_avatars(start, remote, evil, http):
    a = await start("a")
    alice = await a.create_user("alice")
    store = a.ctx.store
    for server in (remote, evil):
        server.add_actor("zed")
        server.actors["zed"]["icon"] = {"type": "Image", "url": f"{server.base}/zed.png"}
    zed_uri = f"{remote.base}/users/zed"
    before = _create_mentioning(zed_uri, 0, alice.uri)
    assert await _post(http, a, remote, "zed", before) == 202
    await settle(a)
    first = await store.get_status_by_uri(before["object"]["id"])
    assert len((await store.media_of([first.id]))[first.id]) == 1
    assert (await store.get_account_by_uri(zed_uri)).avatar_url == f"{remote.base}/zed.png"

    # The block forgets what was kept, and nothing more is kept.
    await _block(a, remote.domain, severity="noop", reject_media=True)
    assert await store.media_of([first.id]) in ({}, {first.id: []})
    assert (await store.get_account_by_uri(zed_uri)).avatar_url == ""
    for n, server in enumerate((remote, evil), start=1):
        activity = _create_mentioning(f"{server.base}/users/zed", n, alice.uri)
        assert await _post(http, a, server, "zed", activity) == 202
    await settle(a)
    kept = await store.get_status_by_uri(f"{remote.base}/users/zed/statuses/1")
    control = await store.get_status_by_uri(f"{evil.base}/users/zed/statuses/2")
    assert kept is not None and control is not None  # noop: posts still come in
    media = await store.media_of([kept.id, control.id])
    assert media.get(kept.id, []) == [] and len(media[control.id]) == 1
    other = await store.get_account_by_uri(f"{evil.base}/users/zed")
    assert other.avatar_url == f"{evil.base}/zed.png"
    # A refreshed profile keeps no avatar either.
    refreshed = await a.ctx.resolver.actor(zed_uri, refresh=True)
    assert refreshed.avatar_url == ""
