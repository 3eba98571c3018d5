"""Abuse limits on real instances: sign-ins (web form and OAuth grants), the client address
behind trusted proxies, posting, uploads, sign-ups and the inbox, each refused with 429
and Retry-After past its limit, changing nothing. Limits are small here, so tests are fast.

The sign-in tests run on SQLite (counters in memory) and PostgreSQL (in the database).
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import time

import aiohttp
import pytest
from mastodon import Mastodon, MastodonRatelimitError
from PIL import Image
from sqlalchemy import func, select

from fedchirp.federation.httpsig import sign_request
from fedchirp.localnet import DEFAULT_PASSWORD, settle
from fedchirp.store.schema import rate_limits
from tests.stubs import like_activity

LOGIN_LIMITS = {"login_per_address": "5/minute", "login_per_account": "20/hour"}
PROXIED = {"server": {"trusted_proxies": ["127.0.0.1"]}, "limits": LOGIN_LIMITS}
ATTACKER, USER = "203.0.113.66", "198.51.100.7"
OOB = "urn:ietf:wg:oauth:2.0:oob"


def _retry_after(headers) -> int:
    value = int(headers["Retry-After"])
    assert 1 <= value <= 3600, value
    return value


async def _register_app(http: aiohttp.ClientSession, base: str) -> dict:
    async with http.post(
        f"{base}/api/v1/apps",
        json={"client_name": "t", "redirect_uris": OOB, "scopes": "read"},
    ) as resp:
        return await resp.json()


async def _password_grant(
    http: aiohttp.ClientSession, base: str, app: dict, password: str, forwarded: str | None
) -> tuple[int, dict, dict]:
    body = {
        "grant_type": "password",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "username": "alice",
        "password": password,
    }
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    async with http.post(f"{base}/oauth/token", json=body, headers=headers) as resp:
        return resp.status, dict(resp.headers), await resp.json()


# -- sign-ins ----------------------------------------------------------------------------


@pytest.mark.backends
async def test_a_thousand_wrong_passwords_by_oauth_from_one_address(start, http, backend):
    a = await start("a", settings=PROXIED)
    await a.create_user("alice")
    app = await _register_app(http, a.base_url)

    async def guess(n: int) -> tuple[int, dict, dict]:
        return await _password_grant(http, a.base_url, app, f"guess-{n}", ATTACKER)

    answers = []
    for batch in range(0, 1000, 50):  # 50 in flight at once: no burst slips past the limit
        answers += await asyncio.gather(*(guess(n) for n in range(batch, batch + 50)))
    statuses = [status for status, _, _ in answers]
    assert statuses.count(400) == 5 and statuses.count(429) == 995
    refused = next(answer for answer in answers if answer[0] == 429)
    _retry_after(refused[1])
    assert "Too many failed sign-ins from your address" in refused[2]["error"]

    # The real user, from another address, signs in; the guesses used 5 of the account's 20.
    status, _, body = await _password_grant(http, a.base_url, app, DEFAULT_PASSWORD, USER)
    assert status == 200 and body["access_token"]
    for n in range(15):  # 15 more failures, each from an address of its own
        status, _, _ = await _password_grant(http, a.base_url, app, "nope", f"192.0.2.{n}")
        assert status == 400
    status, headers, body = await _password_grant(http, a.base_url, app, "nope", "192.0.2.99")
    assert status == 429 and "to this account" in body["error"]
    _retry_after(headers)

    # Counted in memory on SQLite (one process), in the shared table on PostgreSQL.
    rows = await a.ctx.store.db.scalar(select(func.count()).select_from(rate_limits))
    assert (rows > 0) == (backend == "postgresql")


async def _login_form(web: aiohttp.ClientSession, base: str) -> str:
    async with web.get(f"{base}/login") as resp:
        return _csrf_of(await resp.text())


def _csrf_of(page: str) -> str:
    found = re.search(r'name="login_csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


@pytest.mark.backends
async def test_a_thousand_wrong_passwords_on_the_login_page_from_one_address(start, web):
    a = await start("a", settings=PROXIED)
    await a.create_user("alice")
    token = await _login_form(web, a.base_url)
    statuses = []
    for n in range(1000):
        form = {"username": "alice", "password": f"guess-{n}", "login_csrf": token}
        async with web.post(
            f"{a.base_url}/login", data=form, headers={"X-Forwarded-For": ATTACKER}
        ) as resp:
            statuses.append(resp.status)
            page = await resp.text()
            if resp.status == 429:
                _retry_after(resp.headers)
                assert "Too many failed sign-ins from your address" in page
        token = _csrf_of(page)
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429] * 995

    form = {"username": "alice", "password": DEFAULT_PASSWORD, "login_csrf": token}
    async with web.post(
        f"{a.base_url}/login", data=form, headers={"X-Forwarded-For": USER}, allow_redirects=False
    ) as resp:
        assert resp.status == 302 and "fedchirp_session" in resp.cookies


async def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(start, http):
    a = await start("a", settings={"limits": LOGIN_LIMITS})  # no trusted proxies
    await a.create_user("alice")
    app = await _register_app(http, a.base_url)
    statuses = [
        (await _password_grant(http, a.base_url, app, "nope", f"192.0.2.{n}"))[0] for n in range(6)
    ]
    assert statuses == [400] * 5 + [429]
    # Every claimed address is the peer's: the real user's request from there waits too.
    status, _, _ = await _password_grant(http, a.base_url, app, DEFAULT_PASSWORD, USER)
    assert status == 429


async def test_behind_proxies_the_client_is_the_rightmost_untrusted_address(start, http):
    a = await start(
        "a",
        settings={
            "server": {"trusted_proxies": ["127.0.0.1", "10.0.0.0/8"]},
            "limits": LOGIN_LIMITS,
        },
    )
    await a.create_user("alice")
    app = await _register_app(http, a.base_url)
    # The client writes whatever it likes on the left; the proxies append what they saw.
    chains = [f"198.51.100.{n}, {ATTACKER}, 10.1.2.3" for n in range(6)]
    statuses = [
        (await _password_grant(http, a.base_url, app, "nope", chain))[0] for chain in chains
    ]
    assert statuses == [400] * 5 + [429]
    status, _, _ = await _password_grant(http, a.base_url, app, DEFAULT_PASSWORD, "10.9.9.9")
    assert status == 200  # all of the chain is trusted: its left-most address counts


async def test_ipv6_clients_count_by_their_64_and_ports_are_read_off(start, http):
    a = await start("a", settings=PROXIED)
    await a.create_user("alice")
    app = await _register_app(http, a.base_url)
    # One /64 (one customer's usual allocation), written as proxies write addresses.
    same_64 = ["2001:db8::1", "[2001:db8::2]:4711", "2001:db8::3", "2001:db8::ff", "2001:db8::9"]
    statuses = [
        (await _password_grant(http, a.base_url, app, "nope", client))[0] for client in same_64
    ]
    assert statuses == [400] * 5
    status, _, _ = await _password_grant(http, a.base_url, app, "nope", "2001:db8::abcd")
    assert status == 429
    status, _, _ = await _password_grant(http, a.base_url, app, "nope", "2001:db8:0:1::1")
    assert status == 400  # the next /64 is someone else


async def test_the_authorize_page_counts_as_a_sign_in(start, http):
    a = await start("a", settings={"limits": LOGIN_LIMITS})
    await a.create_user("alice")
    app = await _register_app(http, a.base_url)
    query = {"client_id": app["client_id"], "redirect_uri": OOB, "response_type": "code"}
    async with http.get(f"{a.base_url}/oauth/authorize", params=query) as resp:
        page = await resp.text()
    form = dict(re.findall(r'<input type=hidden name="([^"]+)" value="([^"]*)"', page))
    form.update(username="alice", password="nope", decision="allow")
    statuses = []
    for _ in range(6):
        async with http.post(f"{a.base_url}/oauth/authorize", data=form) as resp:
            statuses.append(resp.status)
            page = await resp.text()
    assert statuses == [401] * 5 + [429]
    assert "Too many failed sign-ins" in page
    _retry_after(resp.headers)


# -- posting, uploads, sign-ups ----------------------------------------------------------


async def test_posting_past_the_limit_is_refused_and_posts_nothing(start, client):
    a = await start("a", settings={"limits": {"statuses_per_account": "3/minute"}})
    alice, _ = await a.create_user("alice"), await a.create_user("bob")
    api, bob = await client(a, "alice"), await client(a, "bob")
    for n in range(3):
        await api.call("POST", "/api/v1/statuses", json={"status": f"post {n}"})
    async with api.session.post(
        f"{a.base_url}/api/v1/statuses",
        json={"status": "one too many"},
        headers={"Authorization": f"Bearer {api.token}"},
    ) as resp:
        assert resp.status == 429
        _retry_after(resp.headers)
        assert (await resp.json())["error"].startswith("Too many posts")
    posted = await api.call("GET", f"/api/v1/accounts/{alice.id}/statuses")
    assert [s["content"] for s in posted] == [f"<p>post {n}</p>" for n in (2, 1, 0)]
    await bob.call("POST", "/api/v1/statuses", json={"status": "bob is fine"})


async def test_mastodon_py_reads_the_refusal_as_a_rate_limit(start):
    a = await start("a", settings={"limits": {"statuses_per_account": "1/minute"}})
    await a.create_user("alice")
    api = await asyncio.to_thread(_mastodon_py, a.base_url)
    await asyncio.to_thread(api.status_post, "the one post of the minute")
    with pytest.raises(MastodonRatelimitError):
        await asyncio.to_thread(api.status_post, "one too many")
    # It read X-RateLimit-Reset: "wait" mode would sleep until then, not hammer the server.
    assert time.time() < api.ratelimit_reset <= time.time() + 61


def _mastodon_py(base: str) -> Mastodon:
    client_id, secret = Mastodon.create_app("t", api_base_url=base, scopes=["write"])
    api = Mastodon(
        client_id=client_id, client_secret=secret, api_base_url=base, ratelimit_method="throw"
    )
    api.log_in("alice", DEFAULT_PASSWORD, scopes=["write"], allow_http=True)
    return api


async def test_the_compose_page_counts_against_the_same_limit(start, client, web):
    a = await start("a", settings={"limits": {"statuses_per_account": "1/minute"}})
    await a.create_user("alice")
    await (await client(a, "alice")).call("POST", "/api/v1/statuses", json={"status": "api"})
    token = await _login_form(web, a.base_url)
    form = {"username": "alice", "password": DEFAULT_PASSWORD, "login_csrf": token}
    async with web.post(f"{a.base_url}/login", data=form) as resp:
        csrf = re.search(r'name="csrf" value="([^"]+)"', await resp.text()).group(1)
    form = aiohttp.FormData({"csrf": csrf, "status": "from the page", "audience": "public"})
    async with web.post(f"{a.base_url}/compose", data=form, allow_redirects=False) as resp:
        assert resp.status == 429
        _retry_after(resp.headers)
        assert "Too many posts" in await resp.text()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


async def test_uploads_past_the_limit_are_refused_and_store_nothing(start, client):
    a = await start("a", settings={"limits": {"media_per_account": "2/minute"}})
    await a.create_user("alice")
    api = await client(a, "alice")

    async def upload() -> tuple[int, dict, dict]:
        form = aiohttp.FormData()
        form.add_field("file", _png(), filename="x.png", content_type="image/png")
        async with api.session.post(
            f"{a.base_url}/api/v2/media",
            data=form,
            headers={"Authorization": f"Bearer {api.token}"},
        ) as resp:
            return resp.status, dict(resp.headers), await resp.json()

    assert [(await upload())[0] for _ in range(2)] == [200, 200]
    files = sorted(a.config.media_dir.rglob("*"))
    status, headers, body = await upload()
    assert status == 429 and body["error"].startswith("Too many uploads")
    _retry_after(headers)
    assert sorted(a.config.media_dir.rglob("*")) == files


async def test_sign_ups_are_limited_per_address(start, http):
    a = await start("a", settings={"limits": {"sign_up_per_address": "2/minute"}})
    for _ in range(2):
        async with http.post(f"{a.base_url}/api/v1/accounts", data={"username": "x"}) as resp:
            assert resp.status != 429
    async with http.get(f"{a.base_url}/api/v1/accounts") as resp:
        assert resp.status != 429  # only sign-up attempts count
    async with http.post(f"{a.base_url}/api/v1/accounts", data={"username": "x"}) as resp:
        assert resp.status == 429
        _retry_after(resp.headers)
        assert "Too many sign-ups" in (await resp.json())["error"]
    # The sign-up page shares the address's allowance, and answers with a page.
    async with http.post(f"{a.base_url}/auth/sign_up", data={"username": "x"}) as resp:
        assert resp.status == 429 and resp.content_type == "text/html"
        _retry_after(resp.headers)
        assert "Too many sign-ups" in await resp.text()


# -- the inbox -------------------------------------------------------------------------


async def _deliver(http, instance, server, name: str, n: int, signer: str | None = None):
    """POST a Like by server's actor `name`, signed with the key of `signer` (default the
    actor's own); (status, headers, activity id)."""
    actor = f"{server.base}/users/{name}"
    activity = like_activity(actor, n)
    body = json.dumps(activity).encode()
    url = f"{instance.base_url}/inbox"
    headers = sign_request("POST", url, f"{actor}#main-key", server.keys[signer or name], body)
    headers["Content-Type"] = "application/activity+json"
    async with http.post(url, data=body, headers=headers) as resp:
        return resp.status, dict(resp.headers), activity["id"]


async def test_the_inbox_limits_each_remote_server(start, http, remote, evil):
    a = await start("a", settings={"limits": {"inbox_per_server": "3/minute"}})
    remote.add_actor("mallory")
    remote.add_actor("forger")
    evil.add_actor("eve")
    # Requests that only claim the server's key (signed with another) use up nothing.
    forged = [await _deliver(http, a, remote, "mallory", n, "forger") for n in range(5)]
    assert [status for status, _, _ in forged] == [401] * 5
    accepted = [await _deliver(http, a, remote, "mallory", n) for n in range(3)]
    assert [status for status, _, _ in accepted] == [202] * 3
    status, headers, refused_id = await _deliver(http, a, remote, "mallory", 99)
    assert status == 429
    _retry_after(headers)
    assert (await _deliver(http, a, evil, "eve", 1))[0] == 202  # other servers are not held
    await settle(a)
    assert all([await a.ctx.store.activity_seen(id_) for _, _, id_ in accepted])
    assert not await a.ctx.store.activity_seen(refused_id)
