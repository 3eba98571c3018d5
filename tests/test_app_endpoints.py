"""The client API endpoints apps call beside the core ones (issue 11), driven with
Mastodon.py as an app would drive them."""

from __future__ import annotations

import pytest
from mastodon import MastodonAPIError, MastodonNotFoundError
from test_mastodon_api import follow_remote, login, sync

from fedchirp.localnet import settle

pytestmark = pytest.mark.backends


async def test_account_search_completes_mentions(pair):
    a, b = pair
    for name in ("alice", "albert", "bo"):
        await a.create_user(name)
    await b.create_user("bob")
    alice = await login(a, "alice")
    await follow_remote(alice, b.handle("bob"))
    await settle(a, b)

    found = await sync(alice.account_search, "al")
    assert [account["acct"] for account in found] == ["albert", "alice"]
    found = await sync(alice.account_search, "bo")
    assert [account["acct"] for account in found] == ["bo", b.handle("bob")]  # local first
    found = await sync(alice.account_search, "bo", following=True)
    assert [account["acct"] for account in found] == [b.handle("bob")]
    found = await sync(alice.account_search, "al", limit=1)
    assert [account["acct"] for account in found] == ["albert"]
    found = await sync(alice.account_search, f"@{b.handle('bob')}")
    assert [account["acct"] for account in found] == [b.handle("bob")]
    assert await sync(alice.account_search, "nobody") == []


async def test_bookmarks_and_the_favourites_list_page_by_when_they_were_made(start):
    a = await start("a")
    await a.create_user("alice")
    await a.create_user("bob")
    alice, bob = await login(a, "alice"), await login(a, "bob")
    posts = [await sync(bob.status_post, f"post {n}") for n in range(3)]
    secret = await sync(bob.status_post, "followers only", visibility="private")

    # Marked in another order than posted: lists go by when the mark was made.
    for post in (posts[1], posts[0], posts[2]):
        marked = await sync(alice.status_bookmark, post)
        assert marked["bookmarked"] is True
        await sync(alice.status_favourite, post)
    assert [s["id"] for s in await sync(alice.bookmarks)] == [posts[i]["id"] for i in (2, 0, 1)]
    first = await sync(alice.bookmarks, limit=2)
    older = await sync(alice.fetch_next, first)
    assert [s["id"] for s in older] == [posts[1]["id"]]
    assert [s["id"] for s in await sync(alice.favourites)] == [posts[i]["id"] for i in (2, 0, 1)]
    assert (await sync(alice.status, posts[0]))["bookmarked"] is True
    assert (await sync(bob.status, posts[0]))["bookmarked"] is False  # marks are one's own
    assert await sync(bob.bookmarks) == []

    await sync(alice.status_unbookmark, posts[0])
    assert [s["id"] for s in await sync(alice.bookmarks)] == [posts[i]["id"] for i in (2, 1)]
    with pytest.raises(MastodonNotFoundError):  # a post alice may not see
        await sync(alice.status_bookmark, secret)


async def test_markers_keep_where_each_timeline_was_read(start):
    a = await start("a")
    await a.create_user("alice")
    alice = await login(a, "alice")
    assert await sync(alice.markers_get) == {}
    await sync(alice.markers_set, ["home", "notifications"], ["111", "222"])
    saved = await sync(alice.markers_set, ["home"], ["333"])
    assert saved["home"]["last_read_id"] == "333" and saved["home"]["version"] == 2
    found = await sync(alice.markers_get, ["home", "notifications"])
    assert found["home"]["last_read_id"] == "333"
    assert found["notifications"]["last_read_id"] == "222"
    assert found["notifications"]["version"] == 1
    with pytest.raises(MastodonAPIError):
        await sync(alice.markers_set, ["home"], ["not-an-id"])
    assert (await sync(alice.markers_get, ["home"]))["home"]["last_read_id"] == "333"


async def test_preferences_answer_with_the_defaults(start):
    a = await start("a")
    await a.create_user("alice")
    alice = await login(a, "alice")
    prefs = await sync(alice.preferences)
    assert prefs["posting:default:visibility"] == "public"
    assert prefs["reading:expand:spoilers"] is False


async def test_followed_hashtags_bring_public_posts_home(pair):
    a, b = pair
    await a.create_user("alice")
    await a.create_user("carol")
    await b.create_user("bob")
    alice, carol, bob = await login(a, "alice"), await login(a, "carol"), await login(b, "bob")
    await follow_remote(carol, b.handle("bob"))  # so bob's posts come to A; alice follows nobody
    await settle(a, b)

    followed = await sync(alice.tag_follow, "FediNews")
    assert followed["name"] == "fedinews" and followed["following"] is True
    assert (await sync(alice.tag, "fedinews"))["following"] is True
    assert [t["name"] for t in await sync(alice.followed_tags)] == ["fedinews"]
    assert (await sync(carol.tag, "fedinews"))["following"] is False

    tagged = await sync(carol.status_post, "out now #fedinews")
    await sync(carol.status_post, "unlisted #fedinews", visibility="unlisted")
    await sync(carol.status_post, "untagged news")
    assert [s["id"] for s in await sync(alice.timeline_home)] == [tagged["id"]]

    await sync(bob.status_post, "from afar #FediNews")
    await settle(a, b)
    newest = (await sync(alice.timeline_home))[0]
    assert "from afar" in newest["content"] and newest["account"]["acct"] == b.handle("bob")

    await sync(alice.tag_unfollow, "fedinews")
    assert await sync(alice.followed_tags) == []
    await sync(carol.status_post, "later #fedinews")
    assert "later" not in (await sync(alice.timeline_home))[0]["content"]
    with pytest.raises(MastodonAPIError):
        await sync(alice.tag_follow, "not a tag!")
