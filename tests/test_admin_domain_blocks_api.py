"""The admin API for domain blocks driven by Mastodon.py's admin calls, the public list
of blocks, and the admin page with its forms."""

from __future__ import annotations

import re

import pytest
from mastodon import Mastodon, MastodonAPIError

from fedchirp.localnet import DEFAULT_PASSWORD
from tests.test_domain_blocks import ADMIN_SCOPES, admin_client
from tests.test_mastodon_api import OOB, sync
from tests.test_pages import _sign_in

# Run on SQLite and on PostgreSQL (see tests/conftest.py).
pytestmark = pytest.mark.backends

SCOPES = ADMIN_SCOPES.split()


async def _mastodon(instance, username: str) -> Mastodon:
    client_id, secret = await sync(
        Mastodon.create_app, "t", api_base_url=instance.base_url, scopes=SCOPES, redirect_uris=OOB
    )
    api = Mastodon(client_id=client_id, client_secret=secret, api_base_url=instance.base_url)
    await sync(api.log_in, username, DEFAULT_PASSWORD, scopes=SCOPES, allow_http=True)
    return api


async def test_mastodon_py_admin_domain_block_calls(start):
    a = await start("a")
    await a.create_user("root", admin=True)
    await a.create_user("alice")
    admin = await _mastodon(a, "root")

    made = await sync(
        admin.admin_create_domain_block,
        "Spam.Example",
        severity="suspend",
        reject_media=True,
        private_comment="seen in #abuse",
        public_comment="spam",
        obfuscate=True,
    )
    assert made["domain"] == "spam.example" and made["severity"] == "suspend"
    assert (made["reject_media"], made["reject_reports"], made["obfuscate"]) == (True, False, True)
    assert (made["private_comment"], made["public_comment"]) == ("seen in #abuse", "spam")
    assert re.fullmatch(r"[0-9a-f]{64}", made["digest"])
    assert made["created_at"].year >= 2024  # Mastodon.py parsed it as a datetime

    other = await sync(admin.admin_create_domain_block, "quiet.example")
    assert other["severity"] == "silence"  # Mastodon's default
    listed = await sync(admin.admin_domain_blocks)
    assert [b["domain"] for b in listed] == ["quiet.example", "spam.example"]
    assert (await sync(admin.admin_domain_blocks, id=made["id"]))["domain"] == "spam.example"

    changed = await sync(admin.admin_update_domain_block, made["id"], severity="silence")
    assert (changed["severity"], changed["reject_media"], changed["public_comment"]) == (
        "silence",
        True,  # what the update did not name stays
        "spam",
    )
    await sync(admin.admin_delete_domain_block, other["id"])
    assert [b["domain"] for b in await sync(admin.admin_domain_blocks)] == ["spam.example"]
    with pytest.raises(MastodonAPIError):
        await sync(admin.admin_domain_blocks, id=other["id"])  # 404

    # Bad input: 422 with a reason, nothing changed.
    with pytest.raises(MastodonAPIError, match="severity must be one of"):
        await sync(admin.admin_create_domain_block, "x.example", severity="ban")
    with pytest.raises(MastodonAPIError, match="not a domain"):
        await sync(admin.admin_create_domain_block, "x.example/path", severity="suspend")
    with pytest.raises(MastodonAPIError, match="already blocked"):
        await sync(admin.admin_create_domain_block, "spam.example", severity="suspend")
    assert len(await sync(admin.admin_domain_blocks)) == 1

    # Not an admin: 403, even with admin scopes.
    alice = await _mastodon(a, "alice")
    with pytest.raises(MastodonAPIError, match="only to admins"):
        await sync(alice.admin_domain_blocks)
    with pytest.raises(MastodonAPIError, match="only to admins"):
        await sync(alice.admin_create_domain_block, "good.example", severity="suspend")
    assert len(await sync(admin.admin_domain_blocks)) == 1


async def test_the_public_list_masks_obfuscated_domains(start, http):
    a = await start("a")
    admin = await admin_client(http, a)
    for domain, obfuscate in [("mastodon.social", True), ("open.example", False)]:
        await admin.call(
            "POST",
            "/api/v1/admin/domain_blocks",
            json={"domain": domain, "severity": "suspend", "obfuscate": obfuscate,
                  "public_comment": f"about {domain}", "private_comment": "admins only"},
        )  # fmt: skip
    async with http.get(f"{a.base_url}/api/v1/instance/domain_blocks") as resp:
        shown = await resp.json()
    assert [(b["domain"], b["severity"], b["comment"]) for b in shown] == [
        ("mast****.***ial", "suspend", "about mastodon.social"),
        ("open.example", "suspend", "about open.example"),
    ]
    assert "admins only" not in str(shown)
    # Without an admin token the admin API is closed.
    async with http.get(f"{a.base_url}/api/v1/admin/domain_blocks") as resp:
        assert resp.status == 401


async def test_the_admin_page_adds_and_lifts_blocks(start, web):
    a = await start("a")
    await a.create_user("root", admin=True)
    await a.create_user("alice")

    async def sign_in(username: str) -> None:
        web.cookie_jar.clear()
        await _sign_in(web, a, username)

    async def page() -> tuple[int, str]:
        async with web.get(f"{a.base_url}/admin/domain_blocks") as resp:
            return resp.status, await resp.text()

    await sign_in("alice")
    assert (await page())[0] == 403

    await sign_in("root")
    status, text = await page()
    assert status == 200 and "No domains are blocked." in text
    assert "style=" not in text and "<script" not in text
    csrf = re.search(r'name="csrf" value="([^"]+)"', text).group(1)
    url = f"{a.base_url}/admin/domain_blocks"
    form = {"csrf": csrf, "domain": "bad.example", "severity": "suspend", "reject_media": "on"}
    async with web.post(url, data={**form, "csrf": "forged"}) as resp:
        assert resp.status == 403
    async with web.post(url, data={**form, "severity": "ban"}) as resp:
        assert "severity must be one of" in await resp.text()
    assert await a.ctx.store.domain_blocks() == []

    async with web.post(url, data=form) as resp:
        assert resp.status == 200
        assert "bad.example" in await resp.text()
    [block] = await a.ctx.store.domain_blocks()
    assert (block.domain, block.severity, block.reject_media) == ("bad.example", "suspend", True)
    assert await a.ctx.domain_blocks.suspended("www.bad.example")  # this process: at once

    async with web.post(f"{url}/{block.id}/remove", data={"csrf": csrf}) as resp:
        assert resp.status == 200 and "No domains are blocked." in await resp.text()
    assert not await a.ctx.domain_blocks.suspended("www.bad.example")
