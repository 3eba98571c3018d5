"""Sign-up, continued: approval of pending accounts (command line and Mastodon's admin
API), invite links (uses, expiry, revocation), the admins' invites page, and the invite and
rule commands."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from mastodon import MastodonAPIError

from fedchirp.localnet import DEFAULT_PASSWORD
from fedchirp.services import invites
from fedchirp.store.schema import invites as store_invites
from tests.cliutil import run_main
from tests.signuputil import (
    APPROVAL,
    NEW_PASSWORD,
    api_sign_up,
    app_token,
    authorize_page,
    fedchirp,
    get_json,
    logged_in,
    page_form,
    page_sign_up,
    password_grant,
    sync,
    user_of,
    web_login,
)

# Run on SQLite and on PostgreSQL (see tests/conftest.py).
pytestmark = pytest.mark.backends


async def test_approval_mode_pending_until_the_cli_approves(start, http, web, capsys):
    a = await start("a", settings=APPROVAL)
    _, v2 = await get_json(http, f"{a.base_url}/api/v2/instance")
    assert v2["registrations"] == {
        "enabled": True,
        "approval_required": True,
        "reason_required": True,
        "message": "Tell us about yourself.",
        "url": None,
        "min_age": None,
    }
    token = await app_token(http, a)
    status, body = await api_sign_up(http, a, token)  # no reason
    assert status == 422 and body["details"]["reason"][0]["error"] == "ERR_BLANK"
    status, body = await api_sign_up(http, a, token, reason="I like birds")
    assert status == 200 and body["token_type"] == "Bearer"
    new_token = body["access_token"]
    user = await user_of(a, "newbie")
    assert not user.approved and user.sign_up_reason == "I like birds"
    # The token it got is refused until an admin approves, with Mastodon's reason.
    status, body = await get_json(
        http, f"{a.base_url}/api/v1/accounts/verify_credentials", new_token
    )
    assert status == 403 and body["error"] == "Your login is currently pending approval"
    status, body = await password_grant(http, a, "newbie", NEW_PASSWORD)
    assert status == 400 and "pending approval" in body["error_description"]
    status, path, html = await web_login(web, a, "newbie", NEW_PASSWORD)
    assert status == 403 and path == "/login" and "pending approval" in html
    status, html = await authorize_page(http, a, "newbie", NEW_PASSWORD)
    assert status == 403 and "pending approval" in html
    # The wrong password says nothing about the account.
    status, _, html = await web_login(web, a, "newbie", "a wrong password")
    assert status == 401 and "pending" not in html
    listed = await fedchirp(capsys, a, "user", "list")
    row = next(line.split() for line in listed.out.splitlines() if line.startswith("newbie "))
    assert row[1:4] == ["no", "no", "yes"]  # admin, disabled, pending
    approved = await fedchirp(capsys, a, "user", "approve", "newbie")
    assert approved.code == 0 and "newbie approved" in approved.out
    status, body = await get_json(
        http, f"{a.base_url}/api/v1/accounts/verify_credentials", new_token
    )
    assert status == 200 and body["username"] == "newbie"
    assert (await web_login(web, a, "newbie", NEW_PASSWORD))[:2] == (200, "/home")
    again = await fedchirp(capsys, a, "user", "approve", "newbie")
    assert again.code != 0 and "not waiting for approval" in again.err
    assert again.err.count("\n") == 1


async def test_approval_mode_page_and_cli_reject(start, web, capsys):
    a = await start("a", settings=APPROVAL)
    status, _, html = await page_sign_up(web, a)  # the reason is asked for
    assert status == 422 and "Reason can&#39;t be blank" in html
    status, path, html = await page_sign_up(web, a, reason="Because")
    assert status == 200 and path == "/auth/sign_up" and "pending approval" in html
    assert "fedchirp_session" not in {cookie.key for cookie in web.cookie_jar}
    assert not (await user_of(a, "pagey")).approved
    rejected = await fedchirp(capsys, a, "user", "reject", "pagey")
    assert rejected.code == 0 and "pagey rejected" in rejected.out
    assert await user_of(a, "pagey") is None
    # A rejected name is free again (Mastodon's reject does not reserve it).
    status, _, html = await page_sign_up(web, a, reason="Please")
    assert status == 200 and "pending approval" in html
    # Only pending accounts can be rejected: an approved one is not deleted this way.
    await a.create_user("settled")
    refused = await fedchirp(capsys, a, "user", "reject", "settled")
    assert refused.code != 0 and "settled is not waiting for approval" in refused.err
    assert refused.err.count("\n") == 1 and await user_of(a, "settled") is not None


async def test_admin_api_approves_and_rejects_with_mastodon_py(start, http):
    a = await start("a", settings=APPROVAL)
    await a.create_user("boss", admin=True)
    await a.create_user("pleb")
    token = await app_token(http, a)
    for name in ("first", "second"):
        status, _ = await api_sign_up(
            http, a, token, username=name, email=f"{name}@example.org", reason="hi"
        )
        assert status == 200
    first = await a.ctx.store.find_account("first", "")
    second = await a.ctx.store.find_account("second", "")
    admin_scopes = ["read", "write", "admin:read", "admin:write"]
    boss = await sync(logged_in, a.base_url, "boss", admin_scopes)
    # Admins were told of both sign-ups (Mastodon's admin.sign_up); others were not.
    told = await sync(boss.notifications)
    assert sorted((n["type"], n["account"]["username"]) for n in told) == [
        ("admin.sign_up", "first"),
        ("admin.sign_up", "second"),
    ]
    approved = await sync(boss.admin_account_approve, first.id)
    assert approved["approved"] is True and approved["username"] == "first"
    assert approved["email"] == "first@example.org" and approved["invite_request"] == "hi"
    assert (await user_of(a, "first")).approved
    rejected = await sync(boss.admin_account_reject, second.id)
    assert rejected["username"] == "second" and rejected["approved"] is False
    assert await user_of(a, "second") is None
    with pytest.raises(MastodonAPIError) as refused:  # no longer pending
        await sync(boss.admin_account_approve, first.id)
    assert refused.value.args[1] == 422
    # Not an admin, or a token without the admin scope: 403, and nothing changes.
    status, _ = await api_sign_up(
        http, a, token, username="third", email="third@example.org", reason="hi"
    )
    third = await a.ctx.store.find_account("third", "")
    pleb = await sync(logged_in, a.base_url, "pleb", admin_scopes)
    assert await sync(pleb.notifications) == []
    with pytest.raises(MastodonAPIError) as forbidden:
        await sync(pleb.admin_account_approve, third.id)
    assert forbidden.value.args[1] == 403
    plain = await sync(logged_in, a.base_url, "boss", ["read", "write"])
    with pytest.raises(MastodonAPIError) as out_of_scope:
        await sync(plain.admin_account_reject, third.id)
    assert out_of_scope.value.args[1] == 403
    assert not (await user_of(a, "third")).approved


# -- invites -----------------------------------------------------------------------------


async def test_invite_link_lets_people_in_while_closed_within_its_uses(start, http, web, capsys):
    a = await start("a")
    await a.create_user("boss", admin=True)
    created = await fedchirp(capsys, a, "invite", "create", "--max-uses", "2")
    assert created.code == 0, created.err
    link = created.out.strip()
    assert link.startswith(f"{a.base_url}/invite/")
    code = link.rsplit("/", 1)[1]
    status, path, html = await page_sign_up(web, a, link, username="invited1")
    assert status == 200 and path == "/home", html
    web.cookie_jar.clear()
    token = await app_token(http, a)
    status, body = await api_sign_up(
        http, a, token, username="invited2", email="i2@example.org", invite_code=code
    )
    assert status == 200, body
    for name in ("invited1", "invited2"):
        user = await user_of(a, name)
        assert user.approved and user.invite_id is not None
    # Used up: the link and the code are refused, and nobody else gets in.
    status, html, _ = await page_form(web, link)
    assert status == 403 and "used up or expired" in html
    status, body = await api_sign_up(
        http, a, token, username="invited3", email="i3@example.org", invite_code=code
    )
    assert status == 403 and "used up or expired" in body["error"]
    assert await user_of(a, "invited3") is None
    listed = await fedchirp(capsys, a, "invite", "list")
    row = next(line.split() for line in listed.out.splitlines() if line.startswith(code))
    assert row[1] == "2/2" and row[-1] == "no"


async def test_invite_expiry_revocation_and_failed_sign_ups(start, http, web, capsys):
    a = await start("a", settings=APPROVAL)
    boss = await a.create_user("boss", admin=True)
    token = await app_token(http, a)
    store = a.ctx.store
    expired = await invites.create_invite(store, boss, None, 60)
    await store.db.write(
        store_invites.update().where(store_invites.c.id == expired.id).values(expires_at=1.0)
    )
    status, html, _ = await page_form(web, invites.invite_url(a.base_url, expired.code))
    # Approval mode lets people ask without an invite, but an expired one skips nothing.
    assert status == 200 and 'name="invite_code" value=""' in html
    status, body = await api_sign_up(http, a, token, invite_code=expired.code)
    assert status == 422 and "reason" in body["details"]
    # A good invite skips approval, even in approval mode, and needs no reason.
    good = await invites.create_invite(store, boss, 1, 3600)
    # A sign-up that fails validation does not use the invite up.
    status, body = await api_sign_up(http, a, token, invite_code=good.code, agreement=False)
    assert status == 422
    assert (await store.get_invite(good.code)).uses == 0
    status, body = await api_sign_up(http, a, token, invite_code=good.code)
    assert status == 200, body
    assert (await user_of(a, "newbie")).approved
    status, body = await get_json(
        http, f"{a.base_url}/api/v1/accounts/verify_credentials", body["access_token"]
    )
    assert status == 200
    # Revoked: the link no longer works.
    spare = await invites.create_invite(store, boss, None, None)
    revoked = await fedchirp(capsys, a, "invite", "revoke", spare.code)
    assert revoked.code == 0 and spare.code in revoked.out
    assert not (await store.get_invite(spare.code)).usable(time.time())
    unknown = await fedchirp(capsys, a, "invite", "revoke", "nope")
    assert unknown.code != 0 and "no invite 'nope'" in unknown.err


# -- the command line --------------------------------------------------------------------


def test_rule_and_invite_commands(tmp_path: Path, capsys) -> None:
    config = tmp_path / "config.toml"

    def run(*argv: str):
        return run_main(capsys, ["--config", str(config), *argv])

    assert run("init", "--port", "18082").code == 0
    assert run("rule", "add", "Be kind").out == "rule 1 added\n"
    assert run("rule", "add", "No spam", "--hint", "Ads included").code == 0
    assert run("rule", "list").out.splitlines() == [
        "   1  Be kind",
        "   2  No spam  (Ads included)",
    ]
    assert run("rule", "remove", "1").code == 0
    assert [line.split()[0] for line in run("rule", "list").out.splitlines()] == ["2"]
    for argv, words in [
        (("rule", "remove", "1"), "no rule 1"),
        (("rule", "add", "   "), "a rule needs text"),
        (("rule", "add", "x" * 301), "at most 300 characters"),
        (("invite", "create", "--expires-in", "7x"), "not a duration"),
        (("invite", "create", "--by", "nobody"), "no local account 'nobody'"),
    ]:
        result = run(*argv)
        assert result.code != 0 and words in result.err and result.err.count("\n") == 1
        assert result.out == ""
    created = run("invite", "create", "--max-uses", "3", "--expires-in", "7d")
    assert created.code == 0 and "/invite/" in created.out
    code = created.out.strip().rsplit("/", 1)[1]
    assert code.isascii() and code.isalnum()  # never read as an --option by `invite revoke`
    row = next(line.split() for line in run("invite", "list").out.splitlines()[1:])
    assert row[0] == code and row[1] == "0/3" and row[-1] == "yes"
    with pytest.raises(SystemExit):
        run("invite", "create", "--max-uses", "0")


async def test_admins_invites_page(start, web, http):
    a = await start("a")
    await a.create_user("boss", admin=True)
    await a.create_user("pleb")
    for name in ("pleb", "boss"):
        web.cookie_jar.clear()
        status, path, _ = await web_login(web, a, name, DEFAULT_PASSWORD)
        assert (status, path) == (200, "/home")
        async with web.get(f"{a.base_url}/admin/invites") as resp:
            html = await resp.text()
        if name == "pleb":
            assert resp.status == 403
    assert "No invites yet" in html and "<script" not in html and "style=" not in html
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    form = {"csrf": csrf, "max_uses": "1", "expires_in": "1d"}
    async with web.post(f"{a.base_url}/admin/invites", data=form) as resp:
        html = await resp.text()
        assert resp.status == 200 and resp.url.path == "/admin/invites"
    link = re.search(r"<code>(http[^<]+/invite/([^<]+))</code>", html)
    assert link and "Revoke" in html
    # Posted without the page's token (from another site): refused, nothing made.
    async with web.post(f"{a.base_url}/admin/invites", data={**form, "csrf": "x"}) as resp:
        assert resp.status == 403
    assert len(await a.ctx.store.list_invites()) == 1
    status, _, _ = await page_form(http, link.group(1))
    assert status == 200
    revoke = f"{a.base_url}/admin/invites/{link.group(2)}/revoke"
    async with web.post(revoke, data={"csrf": csrf}) as resp:
        assert resp.status == 200 and "expired" in await resp.text()
    status, html, _ = await page_form(http, link.group(1))
    assert status == 403 and "used up or expired" in html
