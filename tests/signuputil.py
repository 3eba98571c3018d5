"""What the sign-up tests share: apps and their tokens, the sign-up page and API, and the
command line against a running instance."""

from __future__ import annotations

import asyncio
import functools
import re
from pathlib import Path
from typing import Any

from mastodon import Mastodon

from fedchirp.config import render_toml
from fedchirp.localnet import DEFAULT_PASSWORD, LocalInstance
from tests.cliutil import run_main

OOB = "urn:ietf:wg:oauth:2.0:oob"
SCOPES = ["read", "write", "follow", "push"]
NEW_PASSWORD = "a long enough password"


async def sync(fn, *args: Any, **kwargs: Any) -> Any:
    """A blocking Mastodon.py call, off the servers' event loop."""
    return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))


def mastodon_app(base: str, scopes: list[str] = SCOPES) -> Mastodon:
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


OPEN = {"registrations": {"mode": "open"}}
APPROVAL = {"registrations": {"mode": "approval", "message": "Tell us about yourself."}}


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


def logged_in(base: str, username: str, scopes: list[str]) -> Mastodon:
    api = mastodon_app(base, scopes)
    api.log_in(username, DEFAULT_PASSWORD, scopes=scopes, allow_http=True)
    return api
