"""masto.js (npm `masto`, the library behind Elk) against a real FedChirp instance.

Node runs tests/js/masto_check.mjs, which prints what masto hands back as JSON (in
masto's camelCase) for this test to check: the sign-in an app makes (app, authorization
code, token, then what Elk reads first), an upload with masto's v2 media call and posts
with it and with a poll, and a streaming subscription opened at the URL the instance
document names, which must hear a post made after subscribing.

`make test` installs masto into tests/js/node_modules (`npm ci`, from its lock file).
Without Node.js or masto this test is skipped on a developer machine and fails in CI
(CI=true).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from test_mastodon_api import _sign_in_through_the_authorize_page, sync
from test_streaming import _until

from fedchirp.localnet import DEFAULT_PASSWORD, ApiClient
from fedchirp.services import emojis

JS = Path(__file__).resolve().parent / "js"
SCRIPT = JS / "masto_check.mjs"
WAIT = 30.0  # seconds one Node run may take


@pytest.fixture
def node() -> str:
    path = shutil.which("node")
    if path is None:
        reason = "Node.js is not installed (Debian: apt-get install nodejs npm)"
    elif not (JS / "node_modules" / "masto" / "package.json").exists():
        reason = "masto.js is not installed: `make test` runs `npm ci` in tests/js"
    else:
        return path
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


class Masto:
    """masto_check.mjs commands, each a Node process answering one line of JSON."""

    def __init__(self, node: str, base_url: str) -> None:
        self.node = node
        self.env = {**os.environ, "MASTO_URL": base_url}

    async def start(self, command: str, **env: str) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            self.node, str(SCRIPT), command,
            cwd=JS,
            env={**self.env, **env},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )

    async def finish(self, process: asyncio.subprocess.Process, stdin: bytes = b"") -> Any:
        out, err = await asyncio.wait_for(process.communicate(stdin), WAIT)
        lines = out.decode().strip().splitlines()
        answer = json.loads(lines[-1]) if lines else {"error": err.decode()}
        assert process.returncode == 0 and "error" not in answer, (answer, err.decode())
        return answer

    async def run(self, command: str, **env: str) -> Any:
        return await self.finish(await self.start(command, **env))


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), "red").save(out, "PNG")
    return out.getvalue()


async def _something_to_read(a, http) -> dict[str, Any]:
    """Alice's list, filter, marker, followed tag, notifications and home, for the app to read."""
    await a.create_user("alice")
    await a.create_user("bob")
    ctx = a.ctx
    await emojis.add_local(ctx.store, ctx.media_storage, a.base_url, "blobcat", _png(), "Cats")
    alice, bob = ApiClient(http, a), ApiClient(http, a)
    await alice.sign_in("alice")
    await bob.sign_in("bob")
    bob_id = (await alice.call("GET", "/api/v1/accounts/lookup", params={"acct": "bob"}))["id"]
    await alice.call("POST", f"/api/v1/accounts/{bob_id}/follow")
    alice_id = (await bob.call("GET", "/api/v1/accounts/lookup", params={"acct": "alice"}))["id"]
    await bob.call("POST", f"/api/v1/accounts/{alice_id}/follow")
    bobs = await bob.call("POST", "/api/v1/statuses", json={"status": "hello @alice"})
    await alice.call("POST", "/api/v1/lists", json={"title": "close friends"})
    keywords = [{"keyword": "finale"}]
    spoilers = {"title": "spoilers", "context": ["home"], "keywords_attributes": keywords}
    await alice.call("POST", "/api/v2/filters", json=spoilers)
    await alice.call("POST", "/api/v1/markers", json={"home": {"last_read_id": bobs["id"]}})
    await alice.call("POST", "/api/v1/tags/tea/follow")
    return {"bobs": bobs, "alice": alice}


async def test_masto_js_signs_in_posts_and_streams_as_elk_does(start, http, node, tmp_path):
    a = await start("a")
    seeded = await _something_to_read(a, http)
    masto = Masto(node, a.base_url)

    # The sign-in: masto registers the app; the person signs in on our authorize page.
    registered = await masto.run("register")
    app = registered["app"]
    assert app["clientId"] and app["clientSecret"] and app["vapidKey"]
    assert app["redirectUri"] == "urn:ietf:wg:oauth:2.0:oob"
    code = await sync(
        _sign_in_through_the_authorize_page, registered["authorizeUrl"], "alice", DEFAULT_PASSWORD
    )
    first = await masto.run(
        "signin", MASTO_CLIENT_ID=app["clientId"], MASTO_CLIENT_SECRET=app["clientSecret"],
        MASTO_CODE=code,
    )
    token = first["token"]
    assert token["accessToken"] and token["tokenType"] == "Bearer"
    assert token["scope"] == "read write follow push"
    account = first["account"]
    assert account["acct"] == "alice" and account["username"] == "alice"
    assert account["source"]["privacy"] == "public" and account["source"]["sensitive"] is False
    assert account["source"]["note"] == "" and account["source"]["fields"] == []
    assert first["app"]["name"] == "masto.js check" and "clientSecret" not in first["app"]
    assert first["app"]["scopes"] == ["read", "write", "follow", "push"]
    headers = {"Authorization": "Bearer not-a-token"}
    async with http.get(f"{a.base_url}/api/v1/apps/verify_credentials", headers=headers) as resp:
        assert resp.status == 401
    streaming_url = f"ws://{a.domain}"
    v2 = first["instanceV2"]
    assert v2["domain"] == a.domain and v2["version"].startswith("4.")
    assert v2["configuration"]["urls"]["streaming"] == streaming_url
    assert isinstance(v2["apiVersions"]["mastodon"], int)
    assert v2["configuration"]["statuses"]["maxCharacters"] > 0
    assert v2["configuration"]["polls"]["maxOptions"] >= 2
    assert "image/png" in v2["configuration"]["mediaAttachments"]["supportedMimeTypes"]
    v1 = first["instanceV1"]
    assert v1["uri"] == a.domain and v1["urls"]["streamingApi"] == streaming_url
    assert first["preferences"]["posting:default:visibility"] == "public"
    assert [e["shortcode"] for e in first["emojis"]] == ["blobcat"]
    assert first["emojis"][0]["staticUrl"] and first["emojis"][0]["category"] == "Cats"
    [spoilers] = first["filters"]
    assert spoilers["title"] == "spoilers" and spoilers["context"] == ["home"]
    assert [k["keyword"] for k in spoilers["keywords"]] == ["finale"]
    assert [entry["title"] for entry in first["lists"]] == ["close friends"]
    assert first["markers"]["home"]["lastReadId"] == seeded["bobs"]["id"]
    kinds = {(n["type"], n["account"]["acct"]) for n in first["notifications"]}
    assert kinds == {("follow", "bob"), ("mention", "bob")}
    bob_id = first["notifications"][0]["account"]["id"]
    # Asked with bob's id once per notification, it answers once.
    relationships = [(r["id"], r["following"], r["followedBy"]) for r in first["relationships"]]
    assert relationships == [(bob_id, True, True)]
    assert first["pushSubscription"] == {"missing": 404}
    assert [(t["name"], t["following"]) for t in first["search"]["hashtags"]] == [("tea", True)]
    assert seeded["bobs"]["id"] in [s["id"] for s in first["home"]]
    assert [t["name"] for t in first["followedTags"]] == ["tea"]

    # Posting: masto's v2 upload, then a post with the picture and one with a poll.
    image = tmp_path / "red.png"
    image.write_bytes(_png())
    alice_env = {"MASTO_TOKEN": token["accessToken"]}
    posted = await masto.run("post", **alice_env, MASTO_IMAGE=str(image))
    media = posted["media"]
    assert media["type"] == "image" and media["description"] == "a small red square"
    assert media["meta"]["original"]["width"] == 8 and media["meta"]["original"]["height"] == 6
    assert [m["id"] for m in posted["withMedia"]["mediaAttachments"]] == [media["id"]]
    poll = posted["withPoll"]["poll"]
    assert [o["title"] for o in poll["options"]] == ["Tea", "Coffee"] and not poll["expired"]
    # As Mastodon does, one post may not carry both; masto reports our 422 and its reason.
    assert posted["both"]["refused"] == 422 and "poll" in posted["both"]["message"]
    alice = seeded["alice"]
    seen = await alice.call("GET", f"/api/v1/statuses/{posted['withMedia']['id']}")
    assert seen["media_attachments"][0]["url"] == media["url"]
    seen = await alice.call("GET", f"/api/v1/statuses/{posted['withPoll']['id']}")
    assert [o["title"] for o in seen["poll"]["options"]] == ["Tea", "Coffee"]

    # Streaming: subscribe to `user` at the instance's streaming URL, then post.
    process = await masto.start("stream", **alice_env)
    assert process.stdout is not None
    ready = json.loads(await asyncio.wait_for(process.stdout.readline(), WAIT) or b"{}")
    assert ready.get("subscribed") is True, ready
    assert ready["streamingApiUrl"] == streaming_url

    def subscribed() -> bool:
        return any(
            ("user", "") in s.streams and s.viewer is not None and s.viewer.username == "alice"
            for s in a.ctx.streams.subscriptions
        )

    await _until(subscribed)
    heard = await masto.finish(process, b"go\n")
    assert heard["event"]["event"] == "update" and heard["event"]["stream"] == ["user"]
    assert heard["event"]["payload"]["id"] == heard["status"]["id"]
    assert "live from masto.js" in heard["event"]["payload"]["content"]
