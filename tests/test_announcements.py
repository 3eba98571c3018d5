"""Announcements (set by admins on /admin/announcements and from the command line, read
and reacted to by apps, told to the user stream) and featured hashtags (the client API,
the actor's toot:featuredTags collection, and another server reading it), driven with
Mastodon.py."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest
from mastodon import MastodonAPIError, MastodonNotFoundError

from fedchirp.services import announcements, emojis, refreshes
from fedchirp.store import Store
from fedchirp.urls import Urls
from tests.cliutil import Result, run_main
from tests.test_admin_pages import _page
from tests.test_custom_emojis import _png
from tests.test_mastodon_api import login, sync
from tests.test_pages import _sign_in

WAIT = 10.0


async def _event(events: aiohttp.StreamReader, name: str) -> str:
    """The data of the next server-sent event of that name."""
    while True:
        block = (await asyncio.wait_for(events.readuntil(b"\n\n"), WAIT)).decode()
        lines = dict(line.split(": ", 1) for line in block.strip().split("\n") if ": " in line)
        if lines.get("event") == name:
            return lines["data"]


async def test_admin_publishes_and_users_read_dismiss_and_react(start, web, http):
    a = await start("a")
    await a.create_user("root", admin=True)
    await a.create_user("alice")
    ctx = a.ctx
    await emojis.add_local(ctx.store, ctx.media_storage, a.base_url, "blobcat", _png())
    alice = await login(a, "alice")
    base = f"{a.base_url}/admin/announcements"

    # Not for alice: the page and its forms answer 403, and nothing is added.
    alice_csrf = await _sign_in(web, a, "alice")
    async with web.get(base) as refused:
        assert refused.status == 403
    async with web.post(base, data={"csrf": alice_csrf, "text": "x", "publish": "on"}) as no:
        assert no.status == 403
    web.cookie_jar.clear()

    csrf = await _sign_in(web, a, "root")
    assert 'href="/admin/announcements"' in await _page(web, f"{a.base_url}/admin/reports")
    async with web.post(base, data={"csrf": "forged", "text": "x"}) as forged:
        assert forged.status == 403
    async with web.post(base, data={"csrf": csrf, "text": "x", "ends_at": "soon"}) as bad:
        assert "ends_at must be a date" in await bad.text()
    assert await ctx.store.announcements_all() == []
    async with web.post(base, data={"csrf": csrf, "text": "A draft for later"}) as added:
        assert added.status == 200 and "A draft for later" in await added.text()
    assert await sync(alice.announcements) == []  # a draft is not shown

    # Published from the page: the user stream hears it, apps list it.
    url = f"{a.base_url}/api/v1/streaming/user?access_token={alice.access_token}"
    async with http.get(url, timeout=aiohttp.ClientTimeout(total=WAIT)) as stream:
        await stream.content.readuntil(b"\n\n")
        text = "Party on 2030-01-31 with @alice, see https://example.com #FediParty :blobcat:"
        form = {"csrf": csrf, "text": text, "starts_at": "2030-01-31", "all_day": "on",
                "publish": "on"}  # fmt: skip
        async with web.post(base, data=form) as published:
            assert published.status == 200
        data = await _event(stream.content, "announcement")
        assert "FediParty" in json.loads(data)["content"]

        [shown] = await sync(alice.announcements)
        assert shown["starts_at"].isoformat().startswith("2030-01-31T00:00:00")
        assert shown["all_day"] is True and shown["read"] is False
        assert 'href="https://example.com"' in shown["content"]
        assert [m["acct"] for m in shown["mentions"]] == ["alice"]
        assert [t["name"] for t in shown["tags"]] == ["fediparty"]
        assert [e["shortcode"] for e in shown["emojis"]] == ["blobcat"]

        await sync(alice.announcement_reaction_create, shown, "🎉")
        await sync(alice.announcement_reaction_create, shown, "🎉")  # twice counts once
        await sync(alice.announcement_reaction_create, shown, "blobcat")
        data = await _event(stream.content, "announcement.reaction")
        assert json.loads(data) == {"name": "🎉", "count": 1, "announcement_id": shown["id"]}
        for wrong in ("nonsense", "nocustomemoji", "🎉x"):
            with pytest.raises(MastodonAPIError) as refused:
                await sync(alice.announcement_reaction_create, shown, wrong)
            assert refused.value.args[1] == 422
        [shown] = await sync(alice.announcements)
        reactions = {r["name"]: r for r in shown["reactions"]}
        assert reactions["🎉"]["count"] == 1 and reactions["🎉"]["me"] is True
        assert reactions["blobcat"]["url"].endswith(".png") and "🎉x" not in reactions
        await sync(alice.announcement_reaction_delete, shown, "🎉")
        [shown] = await sync(alice.announcements)
        assert [r["name"] for r in shown["reactions"]] == ["blobcat"]

        await sync(alice.announcement_dismiss, shown)
        assert await sync(alice.announcements) == []
        query = {"with_dismissed": "true", "access_token": alice.access_token}
        async with http.get(f"{a.base_url}/api/v1/announcements", params=query) as answer:
            assert [d["read"] for d in await answer.json()] == [True]

        # Taken back from the page: the stream hears a delete, apps no longer see it.
        async with web.post(f"{base}/{shown['id']}/unpublish", data={"csrf": csrf}) as back:
            assert back.status == 200
        assert await _event(stream.content, "announcement.delete") == str(shown["id"])
    with pytest.raises(MastodonNotFoundError):
        await sync(alice.announcement_dismiss, shown)
    with pytest.raises(MastodonAPIError):
        await sync(alice.announcement_reaction_create, "999999", "🎉")


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    config = tmp_path / "instance" / "config.toml"

    def _run(*argv: str) -> Result:
        return run_main(capsys, ["--config", str(config), *argv])

    assert _run("init", "--port", "18083").code == 0
    return _run


def _one_line_error(result: Result, words: str) -> None:
    assert result.code == 2 and result.out == "" and words in result.err
    assert len(result.err.strip().splitlines()) == 1, result.err


def test_announcement_cli(cli):
    assert cli("announcement", "add", "Maintenance tonight #ops").out == (
        "announcement 1 added (draft)\n"
    )
    added = cli("announcement", "add", "Meetup", "--starts-at", "2030-05-01T18:00Z",
                "--ends-at", "2030-05-01T20:00Z", "--publish")  # fmt: skip
    assert added.out == "announcement 2 added (published)\n"
    listed = cli("announcement", "list").out.splitlines()
    assert listed[0].split()[:5] == ["2", "published", "from", "2030-05-01T18:00", "to"]
    assert listed[1].split() == ["1", "draft", "Maintenance", "tonight", "#ops"]
    assert cli("announcement", "publish", "1").out == "announcement 1 published\n"
    assert cli("announcement", "unpublish", "2").out == "announcement 2 unpublished\n"
    states = [line.split()[1] for line in cli("announcement", "list").out.splitlines()]
    assert states == ["draft", "published"]
    assert cli("announcement", "delete", "2").code == 0
    assert len(cli("announcement", "list").out.splitlines()) == 1

    _one_line_error(cli("announcement", "delete", "2"), "no announcement 2")
    _one_line_error(cli("announcement", "publish", "x"), "not an announcement id")
    _one_line_error(cli("announcement", "add", "  "), "blank")
    _one_line_error(
        cli("announcement", "add", "x", "--starts-at", "2030-02-02", "--ends-at", "2030-02-01"),
        "ends_at is before starts_at",
    )


async def test_featured_tags_in_the_api_the_actor_collection_and_elsewhere(pair, http):
    a, b = pair
    await a.create_user("alice")
    await a.create_user("bob")
    alice, bob = await login(a, "alice"), await login(a, "bob")
    for text, visibility in (("#Cats and #dogs", "public"), ("more #cats", "unlisted"),
                             ("secret #cats", "private"), ("#birds", "public")):  # fmt: skip
        await sync(alice.status_post, text, visibility=visibility)

    suggested = await sync(alice.featured_tag_suggestions)
    assert [t["name"] for t in suggested][:1] == ["cats"]  # the most used first
    assert {t["name"] for t in suggested} == {"cats", "dogs", "birds"}

    cats = await sync(alice.featured_tag_create, "#Cats")
    assert cats["name"] == "cats" and cats["statuses_count"] == "2"  # not the private one
    assert cats["last_status_at"] is not None
    news = await sync(alice.featured_tag_create, "news")
    assert news["statuses_count"] == "0" and news["last_status_at"] is None
    for wrong in ("cats", "not a tag!", "12345"):
        with pytest.raises(MastodonAPIError) as refused:
            await sync(alice.featured_tag_create, wrong)
        assert refused.value.args[1] == 422
    assert "cats" not in {t["name"] for t in await sync(alice.featured_tag_suggestions)}
    assert [t["name"] for t in await sync(alice.featured_tags)] == ["cats", "news"]

    for n in range(8):
        await sync(alice.featured_tag_create, f"tag{n}x")
    with pytest.raises(MastodonAPIError, match="more than 10"):
        await sync(alice.featured_tag_create, "eleventh")
    with pytest.raises(MastodonNotFoundError):
        await sync(bob.featured_tag_delete, news)  # not bob's
    await sync(alice.featured_tag_delete, news)
    me = await sync(alice.me)
    seen_by_bob = await sync(bob.account_featured_tags, me)
    assert [t["name"] for t in seen_by_bob][:1] == ["cats"] and len(seen_by_bob) == 9

    async with http.get(f"{a.base_url}/@alice") as profile:  # shown on the profile page
        assert '<a class="hashtag" href="/tags/cats">#cats</a>' in await profile.text()

    # Other servers read them from the actor's toot:featuredTags collection.
    headers = {"Accept": "application/activity+json"}
    async with http.get(f"{a.base_url}/users/alice", headers=headers) as answer:
        actor = await answer.json(content_type=None)
    assert actor["featuredTags"] == f"{a.base_url}/users/alice/collections/tags"
    assert any(
        isinstance(part, dict) and part.get("featuredTags", {}).get("@id") == "toot:featuredTags"
        for part in actor["@context"]
    )
    async with http.get(actor["featuredTags"], headers=headers) as answer:
        assert answer.status == 200
        collection = await answer.json(content_type=None)
    assert collection["type"] == "Collection" and collection["totalItems"] == 9
    assert collection["items"][0] == {
        "type": "Hashtag",
        "href": f"{a.base_url}/tags/cats",
        "name": "#cats",
    }

    # Another server reads the collection when it refreshes the actor.
    await b.create_user("carol")
    carol = await login(b, "carol")
    found = (await sync(carol.search_v2, a.handle("alice"), resolve=True))["accounts"][0]
    await refreshes.refresh_actor(b.ctx, {"uri": actor["id"]})
    remote = await sync(carol.account_featured_tags, found)
    assert [t["name"] for t in remote] == [t["name"] for t in seen_by_bob]
    for featured in seen_by_bob[1:]:
        await sync(alice.featured_tag_delete, featured["id"])
    await refreshes.refresh_actor(b.ctx, {"uri": actor["id"]})
    assert [t["name"] for t in await sync(carol.account_featured_tags, found)] == ["cats"]


def test_reactions_are_one_emoji_each():
    for emoji in ("👍", "👍🏽", "🇫🇷", "1️⃣", "👨‍👩‍👧", "❤️", "🏳️‍🌈", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "☕"):
        assert announcements.is_unicode_emoji(emoji), emoji
    for text in ("°", "a", "🎉🎉", "🎉x", "", "🇫", "\u200d", "1", "🎉\u200d", "🇫🇷🇫🇷"):
        assert not announcements.is_unicode_emoji(text), text


@pytest.mark.backends("postgresql")
async def test_an_announcement_from_the_command_line_reaches_a_server_stream(start, http):
    """The command line is another process: on PostgreSQL its NOTIFY reaches the server."""
    a = await start("a")
    await a.create_user("alice")
    alice = await login(a, "alice")
    store = Store(a.config.database_url)  # as `fedchirp announcement add` opens it
    await store.open()
    url = f"{a.base_url}/api/v1/streaming/user?access_token={alice.access_token}"
    try:
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=WAIT)) as stream:
            await stream.content.readuntil(b"\n\n")
            draft = announcements.Draft("From the shell", published=True)
            tell = announcements.announcer_outside(store)
            added = await announcements.add(store, Urls(a.base_url), "", draft, tell)
            data = await _event(stream.content, "announcement")
    finally:
        await store.close()
    assert json.loads(data)["id"] == str(added.id) and "read" not in json.loads(data)
