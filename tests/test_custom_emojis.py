"""Custom emoji: `fedchirp emoji add/list/remove`, /api/v1/custom_emojis, `emojis` in
statuses, and emoji federated as Emoji tags on Notes (Mastodon's shape)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from fedchirp.localnet import settle
from fedchirp.services import emojis
from fedchirp.services.errors import Invalid
from fedchirp.store.schema import custom_emojis
from tests.cliutil import Result, run_main
from tests.test_mastodon_api import follow_remote, login, sync


def _png(side: int = 64, colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (side, side), colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    config = tmp_path / "instance" / "config.toml"

    def _run(*argv: str) -> Result:
        return run_main(capsys, ["--config", str(config), *argv])

    assert _run("init", "--port", "18083").code == 0
    return _run


def test_emoji_cli_adds_lists_and_removes(cli, tmp_path: Path):
    big = tmp_path / "big.png"
    big.write_bytes(_png(1000))
    added = cli("emoji", "add", "blobcat", str(big), "--category", "Cats")
    assert added.code == 0 and ":blobcat: added" in added.out
    stored = next((tmp_path / "instance").rglob("media/*.png"))
    with Image.open(stored) as image:
        assert image.format == "PNG" and max(image.size) == 400  # scaled down
    assert cli("emoji", "list").out.splitlines() == [":blobcat:  [Cats]"]

    again = cli("emoji", "add", "blobcat", str(big))
    assert again.code != 0 and "exists" in again.err and again.err.count("\n") == 1
    bad_name = cli("emoji", "add", "no way", str(big))
    assert bad_name.code != 0 and "shortcode" in bad_name.err
    not_image = tmp_path / "x.png"
    not_image.write_bytes(b"hello")
    assert "not an image" in cli("emoji", "add", "hello", str(not_image)).err
    assert cli("emoji", "add", "gone", str(tmp_path / "missing.png")).code != 0

    assert cli("emoji", "remove", "blobcat").code == 0
    assert cli("emoji", "list").out == "" and not stored.exists()
    assert cli("emoji", "remove", "blobcat").code != 0


def test_reencoding_refuses_images_that_stay_too_large():
    noisy = Image.effect_noise((400, 400), 100).convert("RGBA")
    out = io.BytesIO()
    noisy.save(out, "PNG")
    with pytest.raises(Invalid, match="KB"):
        emojis.reencode(out.getvalue())


@pytest.mark.backends
async def test_custom_emojis_endpoint_statuses_and_federation(pair, http):
    a, b = pair
    await a.create_user("alice")
    await b.create_user("bob")
    ctx = a.ctx
    await emojis.add_local(ctx.store, ctx.media_storage, a.base_url, "blobcat", _png(), "Cats")
    hidden = await emojis.add_local(ctx.store, ctx.media_storage, a.base_url, "secret", _png())
    await ctx.store.db.write(
        custom_emojis.update().where(custom_emojis.c.id == hidden.id).values(visible_in_picker=0)
    )
    alice, bob = await login(a, "alice"), await login(b, "bob")
    listed = await sync(alice.custom_emojis)
    assert [(e["shortcode"], e["category"], e["visible_in_picker"]) for e in listed] == [
        ("blobcat", "Cats", True)
    ]
    async with http.get(listed[0]["url"]) as response:
        assert response.status == 200 and (await response.read())[:4] == b"\x89PNG"

    await emojis.add_local(b.ctx.store, b.ctx.media_storage, b.base_url, "bobmoji", _png())
    me = await sync(bob.account_update_credentials, display_name="Bob :bobmoji:")
    assert [e["shortcode"] for e in me["emojis"]] == ["bobmoji"]
    await follow_remote(bob, a.handle("alice"))
    await settle(a, b)
    posted = await sync(alice.status_post, "I like :blobcat: and :nosuch:")
    assert [e["shortcode"] for e in posted["emojis"]] == ["blobcat"]
    plain = await sync(alice.status_post, "no emoji here")
    assert plain["emojis"] == []

    async with http.get(posted["uri"], headers={"Accept": "application/activity+json"}) as got:
        note = await got.json()
    tags = [t for t in note["tag"] if t["type"] == "Emoji"]
    assert [(t["name"], t["icon"]["url"]) for t in tags] == [(":blobcat:", listed[0]["url"])]

    await settle(a, b)
    arrived = {s["uri"]: s for s in await sync(bob.timeline_home)}[posted["uri"]]
    assert [(e["shortcode"], e["url"]) for e in arrived["emojis"]] == [
        ("blobcat", listed[0]["url"])
    ]
    assert arrived["emojis"][0]["visible_in_picker"] is False
    # Another server's emoji are not b's to offer: only its own.
    assert [e["shortcode"] for e in await sync(bob.custom_emojis)] == ["bobmoji"]

    # A profile's emoji travel on the actor's tags (a fetched bob's when his Follow came).
    bob_on_a = (await sync(alice.search_v2, b.handle("bob"), resolve=True))["accounts"][0]
    assert [(e["shortcode"], e["url"]) for e in bob_on_a["emojis"]] == [
        ("bobmoji", me["emojis"][0]["url"])
    ]
