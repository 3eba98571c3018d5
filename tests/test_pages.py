"""Web pages without a browser: feeds, sessions, CSRF, escaping, analytics numbers."""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

import pytest

from fedchirp.localnet import DEFAULT_PASSWORD, settle
from fedchirp.services import analytics, circles, follows, posting


async def _login_token(web, instance) -> str:
    """Open the login page, as a browser would, for the token its form carries."""
    async with web.get(f"{instance.base_url}/login") as resp:
        return re.search(r'name="login_csrf" value="([^"]+)"', await resp.text()).group(1)


async def _sign_in(web, instance, username: str) -> str:
    """Sign in; return the CSRF token the pages' forms carry."""
    token = await _login_token(web, instance)
    async with web.post(
        f"{instance.base_url}/login",
        data={
            "username": username,
            "password": DEFAULT_PASSWORD,
            "next": "/home",
            "login_csrf": token,
        },
    ) as resp:
        assert resp.status == 200 and resp.url.path == "/home"
        return re.search(r'name="csrf" value="([^"]+)"', await resp.text()).group(1)


async def test_feeds_list_public_posts_only(start, http):
    a = await start("a")
    alice = await a.create_user("alice", display_name="Alice <A>")
    await a.create_user("amy")
    amy_id = (await a.ctx.store.find_account("amy", "")).id
    await a.ctx.store.insert_follow(amy_id, alice.id, "x#f", "accepted")
    circle = await circles.create_circle(a.ctx, alice, "friends")
    await circles.add_members(a.ctx, alice, circle.id, [amy_id])
    public = await posting.create_status(a.ctx, alice, "public & <loud>")
    for visibility in ("unlisted", "private"):
        await posting.create_status(a.ctx, alice, f"{visibility} post", visibility=visibility)
    await posting.create_status(a.ctx, alice, "@amy secret", visibility="direct")
    await posting.create_status(a.ctx, alice, "group post", circle_id=circle.id)

    async with http.get(f"{a.base_url}/@alice.rss") as resp:
        assert resp.content_type == "application/rss+xml"
        channel = ET.fromstring(await resp.text()).find("channel")
    items = channel.findall("item")
    assert [i.findtext("link") for i in items] == [public.url]
    assert "public &amp; &lt;loud&gt;" in items[0].findtext("description")
    assert channel.findtext("title") == "Alice <A>"
    assert items[0].findtext("pubDate").endswith("GMT")

    async with http.get(f"{a.base_url}/@alice.atom") as resp:
        assert resp.content_type == "application/atom+xml"
        feed = ET.fromstring(await resp.text())
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert [e.findtext("a:id", namespaces=ns) for e in feed.findall("a:entry", ns)] == [public.uri]
    async with http.get(f"{a.base_url}/@nobody.rss") as resp:
        assert resp.status == 404


async def test_forms_need_the_session_csrf_token(start, web):
    a = await start("a")
    await a.create_user("alice")
    csrf = await _sign_in(web, a, "alice")
    for token in ("", "forged"):
        async with web.post(
            f"{a.base_url}/compose", data={"csrf": token, "status": "csrf?", "audience": "public"}
        ) as r:
            assert r.status == 403
    assert await a.ctx.store.count_statuses() == 0
    async with web.post(
        f"{a.base_url}/compose", data={"csrf": csrf, "status": "fine", "audience": "public"}
    ) as r:
        assert r.status == 200 and "notice=Posted" in str(r.url)
    assert await a.ctx.store.count_statuses() == 1


async def test_login_logout_and_safe_redirects(start, web, http):
    a = await start("a")
    await a.create_user("alice")
    async with http.get(f"{a.base_url}/home", allow_redirects=False) as resp:
        assert resp.status == 302 and resp.headers["Location"] == "/login?next=/home"
    wrong = {"username": "alice", "password": "wrong", "login_csrf": await _login_token(web, a)}
    async with web.post(f"{a.base_url}/login", data=wrong) as resp:
        assert resp.status == 401 and "wrong" in await resp.text()
    assert "fedchirp_session" not in {c.key for c in web.cookie_jar}
    # A login posted from elsewhere (without the token of our login page) is refused.
    forged = {"username": "alice", "password": DEFAULT_PASSWORD}
    async with http.post(f"{a.base_url}/login", data=forged, allow_redirects=False) as resp:
        assert resp.status == 403 and "fedchirp_session" not in resp.cookies
    good = {
        "username": "alice",
        "password": DEFAULT_PASSWORD,
        "next": "//evil.example/",
        "login_csrf": await _login_token(web, a),
    }
    async with web.post(f"{a.base_url}/login", allow_redirects=False, data=good) as r:
        assert r.headers["Location"] == "/home"  # never off-site
        cookie = r.cookies["fedchirp_session"]
        assert cookie["httponly"] and cookie["samesite"] == "Lax"
    page = await (await web.get(f"{a.base_url}/home")).text()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    async with web.post(f"{a.base_url}/logout", data={"csrf": csrf}) as resp:
        assert resp.url.path == "/"
    async with web.get(f"{a.base_url}/home", allow_redirects=False) as resp:
        assert resp.status == 302


async def test_pages_refuse_to_be_framed(start, http):
    a = await start("a")
    for path in ("/", "/login", "/api/v1/instance"):
        async with http.get(f"{a.base_url}{path}") as resp:
            assert resp.headers["X-Frame-Options"] == "DENY"
            assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]


async def test_pages_escape_what_people_write(start, http):
    a = await start("a")
    await a.create_user("mallory", display_name="<script>alert(1)</script>")
    await posting.create_status(
        a.ctx, await a.ctx.store.find_account("mallory", ""), "<img src=x onerror=alert(2)>"
    )
    for path in ("/", "/@mallory"):
        async with http.get(f"{a.base_url}{path}") as resp:
            page = await resp.text()
        assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
        assert "<img src=x" not in page


async def test_follow_box_follows_a_remote_address(pair, web):
    a, b = pair
    await a.create_user("alice")
    await b.create_user("bob")
    csrf = await _sign_in(web, a, "alice")
    async with web.post(
        f"{a.base_url}/follow", data={"csrf": csrf, "handle": b.handle("bob")}
    ) as resp:
        assert resp.url.path == f"/@{b.handle('bob')}"
    await settle(a, b)
    bob = await b.ctx.store.find_account("bob", "")
    assert await b.ctx.store.follow_counts(bob.id) == (1, 0)
    async with web.post(
        f"{a.base_url}/follow", data={"csrf": csrf, "handle": "nobody@127.0.0.1:1"}
    ) as resp:
        assert "Could not follow" in (await resp.text())


async def test_follower_history_and_delivery_numbers(pair):
    a, b = pair
    alice = await a.create_user("alice")
    fans = [await b.create_user(f"fan{n}") for n in range(3)]
    for fan in fans:
        await follows.follow(b.ctx, fan, await b.ctx.resolver.actor(alice.uri))
    await settle(a, b)
    await follows.unfollow(b.ctx, fans[0], await b.ctx.store.get_account_by_uri(alice.uri))
    await settle(a, b)
    post = await posting.create_status(a.ctx, alice, "numbers")
    await settle(a, b)
    report = await analytics.account_report(a.ctx, alice)
    assert [count for _, count in report.followers_by_day] == [2]  # +3 -1 today
    assert report.deliveries["delivered"] >= 1
    post_report = await analytics.post_report(a.ctx, alice, post)
    assert post_report.deliveries == {"delivered": 1, "failed": 0, "queued": 0}
    other = await a.create_user("other")
    with pytest.raises(Exception, match="not found"):
        await analytics.post_report(a.ctx, other, post)


async def test_compose_form_schedules_and_cancels(start, web):
    from datetime import UTC, datetime, timedelta

    a = await start("a")
    alice = await a.create_user("alice")
    csrf = await _sign_in(web, a, "alice")
    later = (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    async with web.post(
        f"{a.base_url}/compose",
        data={
            "csrf": csrf,
            "status": "see you later",
            "audience": "unlisted",
            "scheduled_at": later,
        },
    ) as resp:
        assert "notice=Scheduled" in str(resp.url)
        assert "see you later" in await resp.text()  # listed under Scheduled on the home page
    [scheduled] = await a.ctx.store.scheduled_of(alice.id)
    assert scheduled.scheduled_at.startswith(later)
    assert await a.ctx.store.count_statuses() == 0
    async with web.post(
        f"{a.base_url}/compose",
        data={
            "csrf": csrf,
            "status": "too soon",
            "audience": "public",
            "scheduled_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
        },
    ) as resp:
        assert "5 minutes" in await resp.text()
    async with web.post(
        f"{a.base_url}/scheduled/{scheduled.id}/cancel", data={"csrf": csrf}
    ) as resp:
        assert "notice=Cancelled" in str(resp.url)
    assert await a.ctx.store.scheduled_of(alice.id) == []
