"""The settings page (profile, password, deleting one's account) and account deletion
across servers: Delete(actor) reaches the servers that knew the account, which remove
it, and the name is never given to someone else."""

from __future__ import annotations

import io
import re
from importlib import resources
from pathlib import Path

import aiohttp
import pytest
from PIL import Image

from fedchirp.localnet import DEFAULT_PASSWORD, settle
from fedchirp.services import follows, media, posting, profiles
from fedchirp.services.errors import Conflict
from fedchirp.store.models import Page
from tests.test_pages import _sign_in
from tests.test_user_cli import _config_file, _fedchirp

pytestmark = pytest.mark.backends

NEW_PASSWORD = "a much better password"


def _png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "purple").save(out, "PNG")
    return out.getvalue()


async def _page(web, url: str) -> str:
    async with web.get(url) as answer:
        assert answer.status == 200, url
        return await answer.text()


def test_the_settings_template_has_no_inline_script_or_style():
    text = resources.files("fedchirp").joinpath("templates/settings.html").read_text()
    assert "<script" not in text and "style=" not in text and "<style" not in text


async def test_the_settings_page_edits_the_profile(start, web, client):
    a = await start("a")
    await a.create_user("alice")
    csrf = await _sign_in(web, a, "alice")
    page = await _page(web, f"{a.base_url}/settings/profile")
    assert 'action="/settings/profile"' in page and 'name="field_name_3"' in page
    form = aiohttp.FormData()
    for key, value in {
        "csrf": csrf,
        "display_name": "Alice Settings",
        "note": "Bio with #tags",
        "field_name_0": "Web",
        "field_value_0": "https://example.com/a",
        "bot": "on",
    }.items():
        form.add_field(key, value)
    form.add_field("avatar", _png((500, 300)), filename="me.png", content_type="image/png")
    async with web.post(f"{a.base_url}/settings/profile", data=form) as answer:
        assert answer.url.path == "/settings/profile"
        text = await answer.text()
    assert "Profile saved." in text and 'value="Alice Settings"' in text
    assert "Bio with #tags</textarea>" in text
    api = await client(a, "alice")
    me = await api.call("GET", "/api/v1/accounts/verify_credentials")
    assert me["display_name"] == "Alice Settings" and me["bot"] is True
    assert me["locked"] is False and me["discoverable"] is False  # unticked boxes
    assert [(f["name"], f["verified_at"]) for f in me["fields"]] == [("Web", None)]
    assert me["avatar"].startswith(f"{a.base_url}/media/")
    profile = await _page(web, f"{a.base_url}/@alice")
    assert me["avatar"] in profile and "<dt>Web</dt>" in profile

    # Too long a bio: told why, nothing changed.
    async with web.post(
        f"{a.base_url}/settings/profile",
        data={"csrf": csrf, "display_name": "Other", "note": "x" * 501},
    ) as answer:
        assert "Not saved: note is longer than 500 characters" in await answer.text()
    assert (await api.call("GET", "/api/v1/accounts/verify_credentials")) == me
    # Without the form's CSRF token nothing is done.
    async with web.post(
        f"{a.base_url}/settings/profile", data={"display_name": "Forged"}
    ) as answer:
        assert answer.status == 403


async def _token_for(client, instance, password: str):
    api = await client(instance)
    await api.sign_in("alice", password)
    return api


async def test_the_settings_page_changes_the_password(start, web, client):
    a = await start("a")
    await a.create_user("alice")
    csrf = await _sign_in(web, a, "alice")
    old_token = await client(a, "alice")
    url = f"{a.base_url}/settings/password"
    wrong = {"csrf": csrf, "password": "not it at all", "new_password": NEW_PASSWORD}
    async with web.post(url, data={**wrong, "confirm_password": NEW_PASSWORD}) as answer:
        assert "Password not changed: the current password is wrong" in await answer.text()
    mismatch = {"csrf": csrf, "password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    async with web.post(url, data={**mismatch, "confirm_password": "typo"}) as answer:
        assert "do not match" in await answer.text()
    short = {"csrf": csrf, "password": DEFAULT_PASSWORD, "new_password": "short"}
    async with web.post(url, data={**short, "confirm_password": "short"}) as answer:
        assert "at least 8" in await answer.text()
    await old_token.call("GET", "/api/v1/accounts/verify_credentials")  # nothing changed

    async with web.post(url, data={**mismatch, "confirm_password": NEW_PASSWORD}) as answer:
        assert answer.url.path == "/login"
        assert "Password changed" in await answer.text()
    status, _ = await old_token.request("GET", "/api/v1/accounts/verify_credentials")
    assert status == 401  # signed out everywhere
    with pytest.raises(RuntimeError, match="/oauth/token: 400"):
        await _token_for(client, a, DEFAULT_PASSWORD)
    new = await _token_for(client, a, NEW_PASSWORD)
    assert (await new.call("GET", "/api/v1/accounts/verify_credentials"))["username"] == "alice"


async def _alice_known_on_b(a, b):
    """alice@a with a post, an avatar, bob@b following her and her following carol@b."""
    alice = await a.create_user("alice")
    bob = await b.create_user("bob")
    carol = await b.create_user("carol")
    await follows.follow(b.ctx, bob, await b.ctx.resolver.actor(alice.uri))
    await follows.follow(a.ctx, alice, await a.ctx.resolver.actor(carol.uri))
    await settle(a, b)
    await profiles.update_profile(a.ctx, alice, profiles.ProfileChanges(avatar=_png((50, 50))))
    picture = await media.upload(a.ctx, alice, _png((20, 20)), "a picture", None)
    status = await posting.create_status(a.ctx, alice, "hello", media_ids=[picture.id])
    assert len(list(a.config.media_dir.iterdir())) == 3  # avatar, picture, its preview
    await settle(a, b)
    alice_on_b = await b.ctx.store.get_account_by_uri(alice.uri)
    assert alice_on_b is not None
    assert await b.ctx.store.follow_counts(bob.id) == (0, 1)
    assert await b.ctx.store.follow_counts(carol.id) == (1, 0)
    assert await b.ctx.store.get_status_by_uri(status.uri) is not None
    assert [n.type for n in await b.ctx.store.notifications(carol.id, Page())] == ["follow"]
    return alice, status, bob, carol


async def _gone_everywhere(a, b, alice, status, bob, carol) -> None:
    # On the other server: the account, its post and its follows are gone.
    assert await b.ctx.store.get_account_by_uri(alice.uri) is None
    assert await b.ctx.store.get_status_by_uri(status.uri) is None
    assert await b.ctx.store.follow_counts(bob.id) == (0, 0)
    assert await b.ctx.store.follow_counts(carol.id) == (0, 0)
    assert await b.ctx.store.notifications(carol.id, Page()) == []
    # Here: posts and follows gone, the name kept so nobody else can take it.
    assert await a.ctx.store.get_status_by_uri(status.uri) is None
    assert await a.ctx.store.follow_counts(alice.id) == (0, 0)
    with pytest.raises(Conflict, match="taken"):
        await a.create_user("alice")
    assert await a.ctx.store.search_accounts("alice", 5) == []
    assert list(a.config.media_dir.iterdir()) == []  # uploads and avatar removed
    sent = await a.ctx.store.outbound_deliveries(f"{alice.uri}#delete")
    assert {(d.activity_type, d.inbox_url) for d in sent} == {("Delete", b.ctx.urls.shared_inbox)}
    assert all(d.state == "delivered" for d in sent)


async def test_deleting_ones_account_federates_and_removes_the_data(pair, web, http):
    a, b = pair
    alice, status, bob, carol = await _alice_known_on_b(a, b)
    csrf = await _sign_in(web, a, "alice")
    url = f"{a.base_url}/settings/delete"
    async with web.post(
        url, data={"csrf": csrf, "username": "alice", "password": "wrong password"}
    ) as answer:
        assert "Account not deleted: the password is wrong" in await answer.text()
    async with web.post(
        url, data={"csrf": csrf, "username": "bob", "password": DEFAULT_PASSWORD}
    ) as answer:
        assert "type your username" in await answer.text()
    assert await a.ctx.store.get_status_by_uri(status.uri) is not None

    async with web.post(
        url, data={"csrf": csrf, "username": "alice", "password": DEFAULT_PASSWORD}
    ) as answer:
        assert answer.url.path == "/" and "Your account is deleted." in await answer.text()
    await settle(a, b)
    await _gone_everywhere(a, b, alice, status, bob, carol)
    # Nobody can sign in as alice, and her actor and profile are gone.
    async with web.get(f"{a.base_url}/settings/profile", allow_redirects=False) as answer:
        assert answer.status == 302 and answer.headers["Location"].startswith("/login")
    headers = {"Accept": "application/activity+json"}
    async with http.get(alice.uri, headers=headers) as answer:
        assert answer.status == 410  # gone, as Mastodon answers: servers stop asking
    async with http.get(f"{a.base_url}/.well-known/webfinger?resource=acct:alice@{a.domain}") as r:
        assert r.status == 404
    # Asked for by name, the account is gone; by id, there is none (ids are never reused).
    for path, status in (
        (f"/api/v1/accounts/{alice.id}", 404),
        ("/@alice", 410),
        ("/api/v1/accounts/lookup?acct=alice", 410),
    ):
        async with http.get(f"{a.base_url}{path}") as answer:
            assert answer.status == status, path


async def test_cli_user_delete_federates_the_deletion(pair, tmp_path: Path):
    a, b = pair
    alice, status, bob, carol = await _alice_known_on_b(a, b)
    result = await _fedchirp(_config_file(a, tmp_path), "user", "delete", "alice", "--yes")
    assert result.code == 0, result.err
    assert re.search(r"alice deleted", result.out)
    await settle(a, b)  # the running server sends what the command queued
    await _gone_everywhere(a, b, alice, status, bob, carol)
