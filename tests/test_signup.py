"""Sign-up: registration modes (closed, approval, open), invite links, server rules, the
sign-up page, POST /api/v1/accounts (driven by Mastodon.py) and approving sign-ups from
the command line and the admin API."""

from __future__ import annotations

import asyncio
import functools
import re
from pathlib import Path
from typing import Any

import pytest
from mastodon import Mastodon, MastodonAPIError, MastodonIllegalArgumentError

from fedchirp.config import ConfigError, config_from_dict, render_toml
from fedchirp.localnet import DEFAULT_PASSWORD, LocalInstance
from fedchirp.services import invites
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


def fedchirp(capsys, instance: LocalInstance, *argv: str):
    return run_main(capsys, ["--config", str(config_file(instance)), *argv])


# -- config ------------------------------------------------------------------------------


def test_registration_mode_is_closed_by_default_and_checked():
    assert config_from_dict({}).registrations.mode == "closed"
    assert config_from_dict({"registrations": {"mode": "approval"}}).registrations.mode == (
        "approval"
    )
    with pytest.raises(ConfigError, match="registrations.mode must be one of closed, approval"):
        config_from_dict({"registrations": {"mode": "invite-only"}})
    with pytest.raises(ConfigError, match="registrations.message must be str"):
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
        True,
    )
    _, v2 = await get_json(http, f"{a.base_url}/api/v2/instance")
    assert v2["registrations"]["enabled"] is False
    assert v2["registrations"]["approval_required"] is False
    _, nodeinfo = await get_json(http, f"{a.base_url}/nodeinfo/2.1")
    assert nodeinfo["openRegistrations"] is False
