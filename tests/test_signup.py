"""Sign-up: registration modes (closed, approval, open), invite links, server rules, the
sign-up page, POST /api/v1/accounts (driven by Mastodon.py) and approving sign-ups from
the command line and the admin API."""

from __future__ import annotations

import asyncio
import functools
import re
import time
from pathlib import Path
from typing import Any

import pytest
from mastodon import Mastodon, MastodonAPIError, MastodonIllegalArgumentError

from fedchirp.config import ConfigError, config_from_dict, render_toml
from fedchirp.localnet import DEFAULT_PASSWORD, LocalInstance
from fedchirp.services import invites
from fedchirp.store.schema import invites as store_invites
from tests.cliutil import run_main

# Run on SQLite and on PostgreSQL (see tests/conftest.py).
pytestmark = pytest.mark.backends

OOB = "urn:ietf:wg:oauth:2.0:oob"
SCOPES = ["read", "write", "follow", "push"]
NEW_PASSWORD = "a long enough password"


async def sync(fn, *args: Any, **kwargs: Any) -> Any:
    """A blocking Mastodon.py call, off the servers' event loop."""
    return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))


def _app(base: str, scopes: list[str] = SCOPES) -> Mastodon:
    client_id, secret = Mastodon.create_app(
        "sign-up tests", api_base_url=base, scopes=scopes, redirect_uris=OOB
    )
    return Mastodon(client_id=client_id, client_secret=secret, api_base_url=base)


async def app_token(http, instance: LocalInstance, scopes: str = "read write") -> str:
    """A token of an app alone (client_credentials grant), as apps sign people up with."""
    async with http.post(
        f"{instance.base_url}/api/v1/apps",
        json={"client_name": "t", "redirect_uris": OOB, "scopes": scopes},
    ) as resp:
        app = await resp.json()
    async with http.post(
        f"{instance.base_url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": scopes,
        },
    ) as resp:
        assert resp.status == 200
        return (await resp.json())["access_token"]


async def api_sign_up(http, instance: LocalInstance, token: str, **fields: Any):
    """(status, JSON) of POST /api/v1/accounts."""
    body = {
        "username": "newbie",
        "email": "newbie@example.org",
        "password": NEW_PASSWORD,
        "agreement": True,
        "locale": "en",
        **fields,
    }
    async with http.post(
        f"{instance.base_url}/api/v1/accounts",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    ) as resp:
        return resp.status, await resp.json()


async def get_json(http, url: str, token: str | None = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.get(url, headers=headers) as resp:
        return resp.status, await resp.json()


async def page_form(web, url: str) -> tuple[int, str, str]:
    """(status, HTML, CSRF token of its form) of a sign-up page."""
    async with web.get(url) as resp:
        html = await resp.text()
        found = re.search(r'name="sign_up_csrf" value="([^"]+)"', html)
        return resp.status, html, found.group(1) if found else ""


async def page_sign_up(web, instance: LocalInstance, url: str | None = None, **fields: str):
    """Open the sign-up page (or an invite link) and post its form: (status, final URL, HTML)."""
    status, html, token = await page_form(web, url or f"{instance.base_url}/auth/sign_up")
    assert status == 200, html
    invite = re.search(r'name="invite_code" value="([^"]*)"', html).group(1)
    form = {
        "sign_up_csrf": token,
        "invite_code": invite,
        "username": "pagey",
        "email": "pagey@example.org",
        "password": NEW_PASSWORD,
        "password_confirmation": NEW_PASSWORD,
        "agreement": "1",
        **fields,
    }
    async with web.post(f"{instance.base_url}/auth/sign_up", data=form) as resp:
        return resp.status, resp.url.path, await resp.text()


async def user_count(instance: LocalInstance) -> int:
    return await instance.ctx.store.count_local_users()


async def user_of(instance: LocalInstance, username: str):
    account = await instance.ctx.store.find_account(username, "")
    return None if account is None else await instance.ctx.store.get_local_user(account.id)


def config_file(instance: LocalInstance) -> Path:
    """The running instance's config as a file, for the command line."""
    path = instance.config.base_dir / "config.toml"
    path.write_text(render_toml(instance.config), encoding="utf-8")
    return path


async def fedchirp(capsys, instance: LocalInstance, *argv: str):
    """The command line against a running instance's database (in a thread: it runs its
    own event loop)."""
    argv = ("--config", str(config_file(instance)), *argv)
    return await asyncio.to_thread(run_main, capsys, argv)


# -- config ------------------------------------------------------------------------------


def test_registration_mode_is_closed_by_default_and_checked():
    assert config_from_dict({}).registrations.mode == "closed"
    assert config_from_dict({"registrations": {"mode": "approval"}}).registrations.mode == (
        "approval"
    )
    with pytest.raises(ConfigError, match=r"registrations\.mode must be one of closed, approval"):
        config_from_dict({"registrations": {"mode": "invite-only"}})
    with pytest.raises(ConfigError, match=r"registrations\.message must be str"):
        config_from_dict({"registrations": {"message": 3}})


# -- closed ------------------------------------------------------------------------------


async def test_closed_by_default_refuses_page_and_api(start, http, web):
    a = await start("a")
    before = await user_count(a)
    status, html, _ = await page_form(web, f"{a.base_url}/auth/sign_up")
    assert status == 403 and "Registrations are closed" in html and "<form" not in html
    token = await app_token(http, a)
    status, body = await api_sign_up(http, a, token)
    assert status == 403 and "Registrations are closed" in body["error"]
    # Without a token there is no sign-up at all, whatever the mode.
    status, body = await api_sign_up(http, a, "not-a-token")
    assert status == 401
    # A made-up invite is no way in either.
    status, body = await api_sign_up(http, a, token, invite_code="made-up")
    assert status == 403 and "invite is not valid" in body["error"]
    status, html, _ = await page_form(web, f"{a.base_url}/invite/made-up")
    assert status == 403 and "invite is not valid" in html
    assert await user_count(a) == before
    _, v1 = await get_json(http, f"{a.base_url}/api/v1/instance")
    assert (v1["registrations"], v1["approval_required"], v1["invites_enabled"]) == (
        False,
        False,
        False,  # only admins hand out invites
    )
    _, v2 = await get_json(http, f"{a.base_url}/api/v2/instance")
    assert v2["registrations"]["enabled"] is False
    assert v2["registrations"]["approval_required"] is False
    _, nodeinfo = await get_json(http, f"{a.base_url}/nodeinfo/2.1")
    assert nodeinfo["openRegistrations"] is False


# -- open --------------------------------------------------------------------------------

OPEN = {"registrations": {"mode": "open"}}
APPROVAL = {"registrations": {"mode": "approval", "message": "Tell us about yourself."}}


async def test_open_sign_up_page_lists_rules_and_signs_the_new_user_in(start, web, capsys):
    a = await start("a", settings=OPEN)
    added = await fedchirp(capsys, a, "rule", "add", "Be kind to <everyone>", "--hint", "No abuse")
    assert added.code == 0, added.err
    await invites.add_rule(a.ctx.store, "No spam")
    status, html, _ = await page_form(web, f"{a.base_url}/auth/sign_up")
    assert status == 200
    assert "Be kind to &lt;everyone&gt;" in html and "No abuse" in html and "No spam" in html
    assert "<script" not in html and "style=" not in html
    status, path, html = await page_sign_up(web, a)
    assert status == 200 and path == "/home", html
    assert "pagey" in html  # signed in as the new account
    user = await user_of(a, "pagey")
    assert user.approved and user.email == "pagey@example.org" and not user.is_admin
    # ...and can log in again later with the password chosen.
    web.cookie_jar.clear()
    async with web.get(f"{a.base_url}/login") as resp:
        login = re.search(r'name="login_csrf" value="([^"]+)"', await resp.text()).group(1)
    form = {"username": "pagey", "password": NEW_PASSWORD, "next": "/home", "login_csrf": login}
    async with web.post(f"{a.base_url}/login", data=form) as resp:
        assert resp.status == 200 and resp.url.path == "/home"


async def test_sign_up_form_posted_from_elsewhere_is_refused(start, http):
    a = await start("a", settings=OPEN)
    form = {
        "username": "forged",
        "email": "forged@example.org",
        "password": NEW_PASSWORD,
        "password_confirmation": NEW_PASSWORD,
        "agreement": "1",
    }
    async with http.post(f"{a.base_url}/auth/sign_up", data=form) as resp:
        assert resp.status == 403 and "expired" in await resp.text()
    assert await user_of(a, "forged") is None


async def test_open_mastodon_py_create_account_and_instance_rules(start, http):
    a = await start("a", settings=OPEN)
    await invites.add_rule(a.ctx.store, "Be kind", "Really")
    api = await sync(_app, a.base_url)
    token = await sync(api.create_account, "mappy", NEW_PASSWORD, "mappy@example.org", True)
    assert token and api.access_token == token
    me = await sync(api.account_verify_credentials)
    assert me["username"] == "mappy" and me["acct"] == "mappy"
    await sync(api.status_post, "hello from a new account")
    rules = await sync(api.instance_rules)
    assert [(r["text"], r["hint"]) for r in rules] == [("Be kind", "Really")]
    assert isinstance(rules[0]["id"], str)
    _, v2 = await get_json(http, f"{a.base_url}/api/v2/instance")
    assert v2["registrations"]["enabled"] is True
    assert v2["registrations"]["approval_required"] is False
    assert [r["text"] for r in v2["rules"]] == ["Be kind"]
    _, v1 = await get_json(http, f"{a.base_url}/api/v1/instance")
    assert v1["registrations"] is True and [r["text"] for r in v1["rules"]] == ["Be kind"]
    # The same agreement refused: Mastodon.py reports the server's reason.
    other = await sync(_app, a.base_url)
    with pytest.raises(MastodonIllegalArgumentError, match="Agreement must be accepted"):
        await sync(other.create_account, "nope", NEW_PASSWORD, "nope@example.org", False)


@pytest.mark.sqlite_only
async def test_validation_errors_are_422_with_details_and_create_nothing(start, http, web):
    a = await start("a", settings=OPEN)
    await a.create_user("taken")
    gone = await a.create_user("gone")
    await a.ctx.store.delete_account(gone.id)
    token = await app_token(http, a)
    before = await user_count(a)
    cases = [
        ({"username": "bad name!"}, "username", "ERR_INVALID"),
        ({"username": "x" * 31}, "username", "ERR_TOO_LONG"),
        ({"username": ""}, "username", "ERR_BLANK"),
        ({"username": "Admin"}, "username", "ERR_RESERVED"),
        ({"username": "GONE"}, "username", "ERR_RESERVED"),  # a deleted account's name
        ({"username": "TAKEN"}, "username", "ERR_TAKEN"),
        ({"email": "not-an-email"}, "email", "ERR_INVALID"),
        ({"password": "short"}, "password", "ERR_TOO_SHORT"),
        ({"password": "x" * 73}, "password", "ERR_TOO_LONG"),
        ({"agreement": False}, "agreement", "ERR_ACCEPTED"),
        ({"locale": "not a locale"}, "locale", "ERR_INCLUSION"),
    ]
    for fields, field, code in cases:
        status, body = await api_sign_up(http, a, token, **fields)
        assert status == 422, (fields, body)
        assert body["error"].startswith("Validation failed")
        assert body["details"][field][0]["error"] == code, (fields, body)
        assert body["details"][field][0]["description"]
    # Every problem at once, each under its field.
    status, body = await api_sign_up(
        http, a, token, username="", email="", password="", agreement=False
    )
    assert status == 422
    assert set(body["details"]) == {"username", "email", "password", "agreement"}
    # A second account with the same email is refused too (case-insensitively).
    assert (await api_sign_up(http, a, token))[0] == 200
    status, body = await api_sign_up(http, a, token, username="other", email="NEWBIE@example.org")
    assert status == 422 and body["details"]["email"][0]["error"] == "ERR_TAKEN"
    # The page says the same in words, next to the fields, with what was typed kept.
    status, _, html = await page_sign_up(
        web, a, username="bad name!", password_confirmation="something else"
    )
    assert status == 422
    assert "Username must contain only letters" in html
    assert "Password confirmation doesn&#39;t match" in html
    assert 'value="pagey@example.org"' in html
    assert await user_count(a) == before + 1  # only newbie
    # A token without write:accounts may not sign anyone up.
    read_only = await app_token(http, a, scopes="read")
    status, body = await api_sign_up(http, a, read_only, username="readonly")
    assert status == 403 and "scopes" in body["error"]


# -- approval ----------------------------------------------------------------------------


async def password_grant(http, instance: LocalInstance, username: str, password: str):
    async with http.post(
        f"{instance.base_url}/api/v1/apps",
        json={"client_name": "t", "redirect_uris": OOB, "scopes": "read write"},
    ) as resp:
        app = await resp.json()
    grant = {
        "grant_type": "password",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "username": username,
        "password": password,
    }
    async with http.post(f"{instance.base_url}/oauth/token", data=grant) as resp:
        return resp.status, await resp.json()


async def web_login(web, instance: LocalInstance, username: str, password: str):
    async with web.get(f"{instance.base_url}/login") as resp:
        login = re.search(r'name="login_csrf" value="([^"]+)"', await resp.text()).group(1)
    form = {"username": username, "password": password, "next": "/home", "login_csrf": login}
    async with web.post(f"{instance.base_url}/login", data=form) as resp:
        return resp.status, resp.url.path, await resp.text()


async def authorize_page(http, instance: LocalInstance, username: str, password: str):
    """(status, HTML) of signing in on the OAuth authorize page, as a person in a browser."""
    async with http.post(
        f"{instance.base_url}/api/v1/apps",
        json={"client_name": "t", "redirect_uris": OOB, "scopes": "read"},
    ) as resp:
        app = await resp.json()
    query = {"client_id": app["client_id"], "redirect_uri": OOB, "response_type": "code"}
    async with http.get(f"{instance.base_url}/oauth/authorize", params=query) as resp:
        hidden = re.findall(r'<input type=hidden name="([^"]+)" value="([^"]*)"', await resp.text())
    form = {**dict(hidden), "username": username, "password": password, "decision": "allow"}
    async with http.post(f"{instance.base_url}/oauth/authorize", data=form) as resp:
        return resp.status, await resp.text()


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
    boss = await sync(_logged_in, a.base_url, "boss", admin_scopes)
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
    pleb = await sync(_logged_in, a.base_url, "pleb", admin_scopes)
    with pytest.raises(MastodonAPIError) as forbidden:
        await sync(pleb.admin_account_approve, third.id)
    assert forbidden.value.args[1] == 403
    plain = await sync(_logged_in, a.base_url, "boss", ["read", "write"])
    with pytest.raises(MastodonAPIError) as out_of_scope:
        await sync(plain.admin_account_reject, third.id)
    assert out_of_scope.value.args[1] == 403
    assert not (await user_of(a, "third")).approved


def _logged_in(base: str, username: str, scopes: list[str]) -> Mastodon:
    api = _app(base, scopes)
    api.log_in(username, DEFAULT_PASSWORD, scopes=scopes, allow_http=True)
    return api


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
