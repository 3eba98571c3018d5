"""Admin pages without a browser: the reports queue, a report's actions, the accounts
list; admins only, forms with the session's CSRF token, no inline script or style."""

from __future__ import annotations

import re

import aiohttp

from fedchirp.services import posting, reports
from tests.test_pages import _sign_in

INLINE = re.compile(r"<script|\sstyle=|\son[a-z]+=", re.IGNORECASE)


async def _page(web: aiohttp.ClientSession, url: str) -> str:
    async with web.get(url) as answer:
        assert answer.status == 200, url
        text = await answer.text()
    assert not INLINE.search(text.split("</head>", 1)[1]), "inline script or style"
    return text


async def test_report_queue_and_account_actions(start, web, http):
    a = await start("a")
    root = await a.create_user("root", admin=True)
    alice = await a.create_user("alice")
    bob = await a.create_user("bob")
    ctx = a.ctx
    post = await posting.create_status(ctx, bob, "rude words", visibility="public")
    report = await reports.file_report(ctx, alice, bob, [post.id], "he is rude", category="spam")

    # Not for alice: 403 on pages and forms alike, and nothing changes.
    alice_csrf = await _sign_in(web, a, "alice")
    base = a.base_url
    async with web.get(f"{base}/admin/reports") as refused:
        assert refused.status == 403
    async with web.post(
        f"{base}/admin/accounts/{bob.id}/suspend", data={"csrf": alice_csrf}
    ) as refused:
        assert refused.status == 403
    assert (await ctx.store.get_account(bob.id)).suspended_at is None

    async with web.get(f"{base}/home") as home:  # alice's menu has no admin link
        assert 'href="/admin/reports"' not in await home.text()
    web.cookie_jar.clear()

    csrf = await _sign_in(web, a, "root")
    home = await _page(web, f"{base}/home")
    assert '<a href="/admin/reports">Admin</a>' in home  # the admin's menu has one
    queue = await _page(web, f"{base}/admin/reports")
    assert f'href="/admin/reports/{report.id}"' in queue and "@bob" in queue
    pages = ("/admin/accounts", "/admin/domain_blocks", "/admin/invites", "/admin/announcements")
    for page in pages:
        assert f'href="{page}"' in queue  # the admin pages link to each other
    detail = await _page(web, f"{base}/admin/reports/{report.id}")
    assert "he is rude" in detail and "rude words" in detail and "spam" in detail

    # Forms need the session's CSRF token.
    async with web.post(f"{base}/admin/reports/{report.id}/assign", data={"csrf": "x"}) as bad:
        assert bad.status == 403
    assert (await ctx.store.get_report(report.id)).assigned_account_id is None
    async with web.post(f"{base}/admin/reports/{report.id}/assign", data={"csrf": csrf}) as ok:
        assert ok.status == 200 and ok.url.path == f"/admin/reports/{report.id}"
    assert (await ctx.store.get_report(report.id)).assigned_account_id == root.id

    data = {"csrf": csrf, "type": "suspend"}
    async with web.post(f"{base}/admin/reports/{report.id}/action", data=data) as acted:
        assert "suspended" in await acted.text()
    assert (await ctx.store.get_account(bob.id)).suspended_at is not None
    resolved = await ctx.store.get_report(report.id)
    assert resolved.action_taken_at is not None and resolved.action_taken_by_id == root.id
    assert f"/admin/reports/{report.id}" not in await _page(web, f"{base}/admin/reports")
    done = await _page(web, f"{base}/admin/reports?resolved=1")
    assert f"/admin/reports/{report.id}" in done

    listed = await _page(web, f"{base}/admin/accounts?status=suspended")
    assert f'id="account-{bob.id}"' in listed and f'id="account-{alice.id}"' not in listed
    back = "/admin/accounts?status=suspended"
    form = {"csrf": csrf, "back": back}
    async with web.post(f"{base}/admin/accounts/{bob.id}/unsuspend", data=form) as undone:
        assert undone.url.path_qs == back
    async with web.post(f"{base}/admin/accounts/{alice.id}/silence", data=form) as silenced:
        assert silenced.status == 200
    assert (await ctx.store.get_account(bob.id)).suspended_at is None
    assert (await ctx.store.get_account(alice.id)).silenced_at is not None

    # A refusal is shown on the next page and changes nothing.
    mine = {"csrf": csrf, "back": "/admin/accounts"}
    async with web.post(f"{base}/admin/accounts/{root.id}/suspend", data=mine) as own:
        assert "cannot moderate their own account" in await own.text()
    assert (await ctx.store.get_account(root.id)).suspended_at is None
    async with web.get(f"{base}/admin/accounts?status=bogus") as bogus:
        assert "status must be one of" in await bogus.text()
