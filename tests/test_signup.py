"""Sign-up: registration modes (closed, approval, open), server rules, the sign-up page
and POST /api/v1/accounts (driven by Mastodon.py), and Mastodon's checks of a new account.
Approval and invites are in test_signup_approval.py."""

from __future__ import annotations

import re

import pytest
from mastodon import MastodonIllegalArgumentError

from fedchirp.config import ConfigError, config_from_dict
from fedchirp.services import invites
from tests.signuputil import (
    NEW_PASSWORD,
    OPEN,
    api_sign_up,
    app_token,
    fedchirp,
    get_json,
    mastodon_app,
    page_form,
    page_sign_up,
    sync,
    user_count,
    user_of,
)

# Run on SQLite and on PostgreSQL (see tests/conftest.py).
pytestmark = pytest.mark.backends


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
    api = await sync(mastodon_app, a.base_url)
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
    other = await sync(mastodon_app, a.base_url)
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
        ({"username": "\u212aelvin"}, "username", "ERR_INVALID"),  # the Kelvin sign, not K
        ({"username": "caf\u00e9"}, "username", "ERR_INVALID"),
        ({"username": ""}, "username", "ERR_BLANK"),
        ({"username": "Admin"}, "username", "ERR_RESERVED"),
        ({"username": "GONE"}, "username", "ERR_RESERVED"),  # a deleted account's name
        ({"username": "TAKEN"}, "username", "ERR_TAKEN"),
        ({"email": "not-an-email"}, "email", "ERR_INVALID"),
        ({"password": "short"}, "password", "ERR_TOO_SHORT"),
        ({"password": "x" * 73}, "password", "ERR_TOO_LONG"),
        ({"agreement": False}, "agreement", "ERR_ACCEPTED"),
        ({"agreement": "maybe"}, "agreement", "ERR_ACCEPTED"),
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
