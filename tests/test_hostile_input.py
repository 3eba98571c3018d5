"""Hostile input answers 4xx, never a 500: each case of issue 10's list of faults.

Every test also checks that nothing was logged at ERROR (a 500 logs its traceback).
"""

from __future__ import annotations

import base64
import json
import logging
import re

import aiohttp
import pytest
from aiohttp.web import Request, Response

from fedchirp.federation.http import FetchError
from fedchirp.federation.resolver import ResolveError
from fedchirp.jsonlimit import MAX_DEPTH, TooDeep, check_depth, nesting_depth
from fedchirp.localnet import DEFAULT_PASSWORD
from fedchirp.services import circles
from tests.stubs import StubServer
from tests.test_signatures import sign_with_apsig


@pytest.fixture
def no_errors_logged(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.ERROR)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


def _nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


# -- deep JSON ----------------------------------------------------------------------


def test_nesting_depth_counts_brackets_outside_strings():
    assert nesting_depth(b'{"a": [1, {"b": "[[[[\\"[["}]}') == 3
    assert nesting_depth(b"[[]][]") == 2
    assert nesting_depth(b'"[[[') == 0
    assert nesting_depth(b"[" * 10_000, stop_after=MAX_DEPTH) == MAX_DEPTH + 1
    assert nesting_depth(b'"a\\\\" [["x\\"]"]]') == 2  # "\\\\" ends its string; "\\"" does not


def test_check_depth_refuses_only_what_nests_too_deep():
    check_depth(_nested(MAX_DEPTH))
    with pytest.raises(TooDeep):
        check_depth(_nested(MAX_DEPTH + 1))
    # Many brackets, in strings or side by side, are not depth: the scan decides.
    check_depth(b'{"a": "' + b"[" * 1000 + b'"}')
    check_depth(b"[" + b"[], " * 1000 + b"[]]")
    with pytest.raises(TooDeep):
        check_depth(b'{"s": "[[[[", "a": ' + _nested(MAX_DEPTH) + b"}")


async def test_deep_json_in_the_inbox_is_refused_before_the_signature_check(
    start, remote, http, no_errors_logged
):
    a = await start("a")
    await a.create_user("alice")
    remote.add_actor("zed")
    url = f"{a.base_url}/inbox"
    for body in (b"[" * 10_000 + b"]" * 10_000, _nested(10_000), _nested(MAX_DEPTH + 1)):
        headers = sign_with_apsig(remote, "zed", url, body)
        async with http.post(url, data=body, headers=headers) as resp:
            assert resp.status == 400, await resp.text()
            assert "nested deeper" in (await resp.json())["error"]


async def test_deep_json_to_the_client_api_is_refused(start, client, http, no_errors_logged):
    a = await start("a")
    await a.create_user("alice")
    api = await client(a, "alice")
    url = f"{a.base_url}/api/v1/statuses"
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {api.token}"}
    for body in (b"[" * 10_000 + b"]" * 10_000, _nested(10_000)):
        async with http.post(url, data=body, headers=headers) as resp:
            assert resp.status == 400, await resp.text()
            assert "nested deeper" in (await resp.json())["error"]
    # Nesting within the limit is still read (and the post made).
    body = json.dumps({"status": "fine", "x": json.loads(_nested(MAX_DEPTH - 1))})
    async with http.post(url, data=body, headers=headers) as resp:
        assert resp.status == 200, await resp.text()


# -- huge ids -----------------------------------------------------------------------

HUGE = "99999999999999999999999"  # past 2**63


async def test_ids_past_the_store_range_are_not_found_or_refused(start, client, no_errors_logged):
    a = await start("a")
    alice = await a.create_user("alice")
    api = await client(a, "alice")
    for method, path in [
        ("GET", f"/api/v1/statuses/{HUGE}"),
        ("GET", f"/api/v1/statuses/{2**63}/context"),
        ("POST", f"/api/v1/statuses/{HUGE}/favourite"),
        ("GET", f"/api/v1/accounts/{HUGE}"),
        ("POST", f"/api/v1/accounts/{HUGE}/follow"),
        ("GET", f"/api/v1/media/{HUGE}"),
        ("GET", f"/api/v1/scheduled_statuses/{HUGE}"),
        ("GET", f"/api/v1/circles/{HUGE}"),
    ]:
        status, answer = await api.request(method, path)
        assert status == 404, (method, path, status, answer)
    for params in (
        {"status": "reply", "in_reply_to_id": HUGE},
        {"status": "reply", "in_reply_to_id": int(HUGE)},
        {"status": "media", "media_ids": [HUGE]},
        {"status": "media", "media_ids": [2**63]},
    ):
        status, answer = await api.request("POST", "/api/v1/statuses", json=params)
        assert status == 422 and "id" in answer["error"], (params, status, answer)
    status, answer = await api.request("GET", f"/api/v1/timelines/home?max_id={HUGE}")
    assert status == 422, answer
    status, answer = await api.request("GET", f"/api/v1/accounts/relationships?id[]={HUGE}")
    assert status == 200 and answer == []
    # The largest id the store can hold is still an id (of nothing).
    status, _ = await api.request("GET", f"/api/v1/statuses/{2**63 - 1}")
    assert status == 404
    status, answer = await api.request("GET", f"/api/v1/accounts/{alice.id}")
    assert status == 200 and answer["username"] == "alice"


# -- open redirect ------------------------------------------------------------------


async def _login_token(web, instance) -> str:
    async with web.get(f"{instance.base_url}/login") as resp:
        return re.search(r'name="login_csrf" value="([^"]+)"', await resp.text()).group(1)


OFF_SITE = [
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example/",
    "//evil.example",
    "/\\evil.example",
    "/\\/evil.example",
    "https://evil.example",
    "http:evil.example",
    " //evil.example",
    "/ /evil.example",
    "/\x00/evil.example",
    "/home\x7f",
    "evil.example",
]


async def test_login_next_is_a_path_on_this_site_only(start, web, no_errors_logged):
    a = await start("a")
    await a.create_user("alice")
    for target in [*OFF_SITE, "/@alice?x=1#top", "/statuses/1"]:
        form = {
            "username": "alice",
            "password": DEFAULT_PASSWORD,
            "next": target,
            "login_csrf": await _login_token(web, a),
        }
        async with web.post(f"{a.base_url}/login", data=form, allow_redirects=False) as resp:
            assert resp.status in (302, 303), target
            expected = "/home" if target in OFF_SITE else target
            assert resp.headers["Location"] == expected, target
        # The login page carries the same check into its form.
        async with web.get(f"{a.base_url}/login", params={"next": target}) as resp:
            page = await resp.text()
        assert "evil.example" not in page, target


# -- headers ------------------------------------------------------------------------

GUARD_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


async def test_every_response_carries_the_guard_headers(start, http, no_errors_logged):
    a = await start("a")
    await a.create_user("alice")
    for method, path, expected in [
        ("GET", "/", 200),
        ("GET", "/login", 200),
        ("GET", "/@alice", 200),
        ("GET", "/home", 302),  # a redirect raised by the handler
        ("GET", "/api/v1/instance", 200),
        ("GET", f"/api/v1/statuses/{HUGE}", 404),
        ("GET", "/no/such/page", 404),
        ("GET", "/users/alice", 302),  # to the profile page, for a browser
        ("GET", "/.well-known/webfinger?resource=acct:alice@" + a.domain, 200),
        ("POST", "/inbox", 401),
    ]:
        async with http.request(method, a.base_url + path, allow_redirects=False) as resp:
            assert resp.status == expected, (path, resp.status)
            for name, value in GUARD_HEADERS.items():
                assert resp.headers.get(name) == value, (path, name)
            policy = resp.headers["Content-Security-Policy"]
            for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                              "frame-ancestors 'none'"):
                assert directive in policy, (path, directive)


# -- notices ------------------------------------------------------------------------

INJECTED = "Your account is suspended: call +1 555 0100 or visit evil.example"


async def _sign_in(web, instance, username: str) -> str:
    """Sign in; return the CSRF token the pages' forms carry."""
    form = {
        "username": username,
        "password": DEFAULT_PASSWORD,
        "next": "/home",
        "login_csrf": await _login_token(web, instance),
    }
    async with web.post(f"{instance.base_url}/login", data=form) as resp:
        assert resp.status == 200 and resp.url.path == "/home"
        return re.search(r'name="csrf" value="([^"]+)"', await resp.text()).group(1)


def _notice(page: str) -> str | None:
    found = re.search(r'<p class="notice" role="status">([^<]*)</p>', page)
    return found.group(1) if found else None


async def test_notices_come_from_our_own_words_not_the_url(start, web, no_errors_logged):
    a = await start("a")
    await a.create_user("alice")
    for path in ("/", "/login", "/@alice"):
        async with web.get(f"{a.base_url}{path}", params={"notice": INJECTED}) as resp:
            page = await resp.text()
        assert INJECTED not in page and _notice(page) is None, path
    async with web.get(f"{a.base_url}/", params={"notice": "Posted"}) as resp:
        assert _notice(await resp.text()) == "Posted."
    csrf = await _sign_in(web, a, "alice")
    async with web.get(f"{a.base_url}/home", params={"notice": INJECTED}) as resp:
        page = await resp.text()
    assert INJECTED not in page and _notice(page) is None
    # What went wrong with a form of one's own is still told, once, on the next page.
    form = {"csrf": csrf, "status": "x" * 100_000, "audience": "public"}
    async with web.post(f"{a.base_url}/compose", data=form) as resp:
        assert resp.url.path == "/home" and "notice" not in resp.url.query
        assert (_notice(await resp.text()) or "").startswith("Not posted: ")
    async with web.get(f"{a.base_url}/home") as resp:
        assert _notice(await resp.text()) is None


async def test_a_notice_cookie_not_signed_for_the_session_is_not_shown(
    start, web, no_errors_logged
):
    a = await start("a")
    await a.create_user("alice")
    await _sign_in(web, a, "alice")
    encoded = base64.urlsafe_b64encode(INJECTED.encode()).decode()
    for value in (encoded, f"{encoded}.{'0' * 64}", "%%%.abc", "."):
        web.cookie_jar.update_cookies({"fedchirp_flash": value})
        async with web.get(f"{a.base_url}/home") as resp:
            page = await resp.text()
        assert resp.status == 200 and INJECTED not in page, value


# -- huge ids in the pages and the ActivityPub routes -------------------------------

AS2_ACCEPT = {"Accept": "application/activity+json"}


async def test_huge_ids_in_page_and_activitypub_urls_are_not_found_or_refused(
    start, web, no_errors_logged
):
    a = await start("a")
    alice = await a.create_user("alice")
    csrf = await _sign_in(web, a, "alice")
    for path, headers, expected in [
        (f"/statuses/{HUGE}", {}, 404),
        (f"/@alice/{HUGE}", {}, 404),
        (f"/@alice/{HUGE}", AS2_ACCEPT, 404),
        (f"/statuses/{HUGE}/analytics", {}, 404),
        (f"/users/alice/statuses/{HUGE}", {}, 404),
        (f"/users/alice/statuses/{HUGE}", AS2_ACCEPT, 404),
        (f"/users/alice/statuses/{HUGE}/activity", AS2_ACCEPT, 404),
        (f"/home?max_id={HUGE}", {}, 400),
        (f"/@alice?max_id={HUGE}", {}, 400),
        (f"/users/alice/outbox?page=true&max_id={HUGE}", AS2_ACCEPT, 400),
        (f"/users/alice/followers?page=true&max_id={HUGE}", AS2_ACCEPT, 400),
        (f"/users/alice/following?page=true&max_id={HUGE}", AS2_ACCEPT, 400),
        (f"/users/alice/outbox?page={HUGE}&max_id={HUGE}", AS2_ACCEPT, 400),
    ]:
        url = a.base_url + path
        async with web.get(url, headers=headers, allow_redirects=False) as resp:
            assert resp.status == expected, (path, headers, resp.status, await resp.text())
    for path in [
        f"/statuses/{HUGE}/favourite",
        f"/statuses/{HUGE}/delete",
        f"/accounts/{HUGE}/follow",
        f"/scheduled/{HUGE}/cancel",
        f"/follow_requests/{HUGE}/authorize",
        f"/groups/{HUGE}/add",
    ]:
        form = {"csrf": csrf, "account_id": str(alice.id)}
        async with web.post(a.base_url + path, data=form, allow_redirects=False) as resp:
            assert resp.status == 404, (path, resp.status, await resp.text())
    # Ids in the pages' forms: told as a problem on the next page, not a 500.
    for form in (
        {"status": "reply", "in_reply_to_id": HUGE, "audience": "public"},
        {"status": "group", "audience": f"group:{HUGE}"},
    ):
        form["csrf"] = csrf
        async with web.post(f"{a.base_url}/compose", data=form, allow_redirects=False) as resp:
            assert resp.status in (302, 303) and resp.headers["Location"] == "/home", form
        async with web.get(f"{a.base_url}/home") as resp:
            assert (_notice(await resp.text()) or "").startswith("Not posted: "), form
    async with web.post(f"{a.base_url}/groups", data={"csrf": csrf, "title": "g"}) as resp:
        assert resp.status == 200
    circle_id = (await circles.list_circles(a.ctx, alice))[0].id
    form = {"csrf": csrf, "account_id": HUGE}
    url = f"{a.base_url}/groups/{circle_id}/add"
    async with web.post(url, data=form, allow_redirects=False) as resp:
        assert resp.headers["Location"] == "/groups?notice=ChooseAccount", resp.status


# -- deep JSON from remote servers --------------------------------------------------


@pytest.fixture
async def deep_server():
    """Serves 10,000 levels of nesting as ActivityStreams, at /array and /object."""
    server = StubServer()
    bodies = {"/array": b"[" * 10_000 + b"]" * 10_000, "/object": _nested(10_000)}

    async def serve(request: Request) -> Response:
        return Response(
            body=bodies[request.path], headers={"Content-Type": "application/activity+json"}
        )

    server.app.router.add_get("/{name}", serve)
    await server.start()
    yield server
    await server.stop()


async def test_deep_json_fetched_from_a_remote_server_is_refused(
    start, deep_server, no_errors_logged
):
    a = await start("a")
    for path in ("/array", "/object"):
        url = deep_server.base + path
        with pytest.raises(FetchError, match="nested deeper") as fetched:
            await a.ctx.resolver.http.get_json(url)
        assert not fetched.value.transient
        with pytest.raises(ResolveError, match="nested deeper") as resolved:
            await a.ctx.resolver.fetch(url)
        assert not resolved.value.transient


async def test_a_picture_past_the_upload_limit_gets_a_page_that_names_the_limit(
    start, web, no_errors_logged
):
    a = await start(
        "a", settings={"server": {"max_request_bytes": 100_000},
                       "media": {"max_upload_bytes": 1_048_576}}
    )
    await a.create_user("alice")
    csrf = await _sign_in(web, a, "alice")
    form = aiohttp.FormData()
    form.add_field("csrf", csrf)
    form.add_field("status", "a big picture")
    form.add_field("image", b"\0" * 1_300_000, filename="big.png", content_type="image/png")
    headers = {"Referer": f"{a.base_url}/home", "Accept": "text/html"}
    async with web.post(f"{a.base_url}/compose", data=form, headers=headers) as resp:
        assert resp.status == 200 and resp.url.path == "/home"  # back on the form's page
        assert resp.content_type == "text/html"
        assert "larger than 1 MB, our limit" in await resp.text()
    async with web.get(f"{a.base_url}/api/v1/timelines/public") as resp:
        assert await resp.json() == []  # nothing was posted
