"""Trending hashtags and posts, and follow suggestions, driven with Mastodon.py against
real instances: what ranks how, and who and what is left out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from mastodon import Mastodon, MastodonNotFoundError
from test_mastodon_api import follow_remote, login, sync

from fedchirp.localnet import settle

ADMIN_SCOPES = ["read", "write", "follow", "admin:read", "admin:write"]


def _names(tags: list[dict]) -> list[str]:
    return [tag["name"] for tag in tags]


def _ids(items: list[dict]) -> list[str]:
    return [str(item["id"]) for item in items]


def _today(tag: dict) -> tuple[int, int]:
    """(uses, accounts) of the tag's newest history day."""
    day = tag["history"][0]
    return int(day["uses"]), int(day["accounts"])


@pytest.mark.backends
async def test_trends_rank_by_distinct_accounts_and_leave_out_what_may_not_trend(pair):
    a, b = pair
    for name in ("carol", "dave", "erin", "spammer", "shy", "vic"):
        await a.create_user(name)
    await a.create_user("root", admin=True)
    await b.create_user("bob")
    carol, dave, erin, spammer, shy, vic = [
        await login(a, name) for name in ("carol", "dave", "erin", "spammer", "shy", "vic")
    ]
    root, bob = await login(a, "root", ADMIN_SCOPES), await login(b, "bob")
    anonymous = Mastodon(api_base_url=a.base_url)
    await follow_remote(carol, b.handle("bob"))  # so bob's public posts come to A
    await settle(a, b)

    spam = [await sync(spammer.status_post, f"buy now #Solo {n}") for n in range(4)]
    dave_post = await sync(dave.status_post, "hello #duo #popular")
    erin_post = await sync(erin.status_post, "me too #duo #popular")
    carol_post = await sync(carol.status_post, "big news #popular")
    await sync(bob.status_post, "from afar #popular #fedi")
    await sync(dave.status_post, "not listed #unlisted", visibility="unlisted")
    await sync(shy.account_update_credentials, discoverable=False)
    shy_post = await sync(shy.status_post, "keep me out #secret #popular")
    await settle(a, b)

    # Engagement: each account once, the author never, replies and boosts of anything.
    for api in (dave, erin, vic):
        await sync(api.status_favourite, carol_post)
    await sync(dave.status_reblog, carol_post)
    await sync(carol.status_post, "and more", in_reply_to_id=carol_post)
    await sync(carol.status_favourite, dave_post)
    reply = await sync(erin.status_post, "agreed", in_reply_to_id=dave_post)
    await sync(carol.status_favourite, reply)  # replies never trend themselves
    await sync(spammer.status_favourite, spam[0])  # nor does liking one's own
    await sync(carol.status_favourite, shy_post)  # nor posts of non-discoverable accounts

    tags = await sync(anonymous.trending_tags)
    # Four accounts, then two, then one each: four posts of one account count as one.
    assert _names(tags)[:2] == ["popular", "duo"]
    assert sorted(_names(tags)[2:]) == ["fedi", "solo"]
    popular = tags[0]
    assert popular["url"] == f"{a.base_url}/tags/popular" and popular["following"] is None
    assert len(popular["history"]) == 7 and _today(popular) == (4, 4)
    assert [int(day["uses"]) for day in popular["history"][1:]] == [0] * 6
    # Mastodon.py reads the day's UNIX time ("1764028800") as a datetime.
    assert popular["history"][0]["day"] == datetime.now(UTC).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    assert _today(next(t for t in tags if t["name"] == "solo")) == (4, 1)
    assert _names(await sync(anonymous.trends)) == _names(tags)  # the old name
    first = await sync(anonymous.trending_tags, limit=1)
    assert _names(first) == ["popular"]
    assert _names(await sync(anonymous.fetch_next, first)) == ["duo"]  # by offset

    await sync(vic.tag_follow, "duo")
    await sync(vic.account_mute, await sync(vic.account_lookup, "spammer"))
    await sync(vic.account_block, await sync(vic.account_lookup, "erin"))
    seen_by_vic = await sync(vic.trending_tags)
    assert _names(seen_by_vic)[0] == "popular" and _today(seen_by_vic[0]) == (3, 3)
    assert sorted(_names(seen_by_vic)[1:]) == ["duo", "fedi"]  # not spammer's, nor erin's
    assert {t["name"]: t["following"] for t in seen_by_vic} == {
        "popular": False,
        "duo": True,
        "fedi": False,
    }

    statuses = await sync(anonymous.trending_statuses)
    assert _ids(statuses) == [str(carol_post["id"]), str(dave_post["id"])]  # 3 accounts, 2
    assert statuses[0]["favourites_count"] == 3 and statuses[0]["reblogs_count"] == 1
    assert _ids(await sync(anonymous.trending_statuses, limit=1, offset=1)) == [
        str(dave_post["id"])
    ]
    # vic blocks erin: erin's reply to dave's post is not there for vic, but counts.
    assert _ids(await sync(vic.trending_statuses)) == _ids(statuses)
    await sync(vic.account_mute, await sync(vic.account_lookup, "carol"))
    assert _ids(await sync(vic.trending_statuses)) == [str(dave_post["id"])]

    # A suspended account's posts leave every trend; so does its engagement.
    dave_id = (await sync(root.account_lookup, "dave"))["id"]
    await sync(root.admin_account_moderate, dave_id, "suspend")
    tags = await sync(anonymous.trending_tags)
    assert tags[0]["name"] == "popular" and _today(tags[0]) == (3, 3)
    assert _today(next(t for t in tags if t["name"] == "duo")) == (1, 1)  # erin's
    statuses = await sync(anonymous.trending_statuses)
    assert _ids(statuses) == [str(carol_post["id"])]
    # A silenced one's too: erin's was the last post with #duo.
    await sync(
        root.admin_account_moderate, (await sync(root.account_lookup, "erin"))["id"], "silence"
    )
    assert "duo" not in _names(await sync(anonymous.trending_tags))
    assert erin_post["account"]["acct"] == "erin"


async def test_follow_suggestions_with_their_sources_and_exclusions(start):
    a = await start("a", settings={"trends": {"enabled": False}})
    names = ("me", "friend", "fof", "pop", "liked", "shy", "sus", "blockee", "mutee", "already")
    for name in names:
        await a.create_user(name)
    await a.create_user("locked", locked=True)
    await a.create_user("root", admin=True)
    me, friend, fof, liked, shy = [
        await login(a, name) for name in ("me", "friend", "fof", "liked", "shy")
    ]
    root = await login(a, "root", ADMIN_SCOPES)
    ids = {name: (await sync(me.account_lookup, name))["id"] for name in (*names, "locked")}

    # Everyone friend follows is a friend of a friend of me (me included).
    for name in ("me", "fof", "pop", "shy", "sus", "blockee", "mutee", "already", "locked"):
        await sync(friend.account_follow, ids[name])
    await sync(fof.account_follow, ids["pop"])
    await sync(me.account_follow, ids["friend"])
    await sync(me.account_follow, ids["already"])
    await sync(me.account_follow, ids["locked"])  # a request, still pending
    post = await sync(liked.status_post, "like me #popular")
    another = await sync(liked.status_post, "and boost me")
    await sync(me.status_favourite, post)
    await sync(me.status_reblog, another)
    await sync(me.account_block, ids["blockee"])
    await sync(me.account_mute, ids["mutee"])
    await sync(shy.account_update_credentials, discoverable=False)
    await sync(root.admin_account_moderate, ids["sus"], "suspend")

    found = await sync(me.suggestions_v2)
    # Two interactions with liked; pop and fof are each followed by friend, and pop by
    # two people in all.
    assert [s["account"]["acct"] for s in found] == ["liked", "pop", "fof"]
    assert [s["sources"] for s in found] == [
        ["most_interactions"],
        ["friends_of_friends", "most_followed"],
        ["friends_of_friends", "most_followed"],
    ]
    assert [s["source"] for s in found] == ["global", "past_interactions", "past_interactions"]
    accounts = await sync(me.suggestions_v1)
    assert [account["acct"] for account in accounts] == ["liked", "pop", "fof"]
    assert _ids(await sync(me.suggestions_v1)) == [str(ids[n]) for n in ("liked", "pop", "fof")]

    await sync(me.suggestion_delete, ids["pop"])
    await sync(me.account_follow, ids["fof"])
    assert [account["acct"] for account in await sync(me.suggestions)] == ["liked"]
    await sync(friend.status_favourite, post)
    assert [s["acct"] for s in await sync(friend.suggestions)] == ["liked"]  # not pop
    with pytest.raises(MastodonNotFoundError):
        await sync(me.suggestion_delete, 999_999_999)

    # [trends] enabled = false: nothing trends, however much is going on.
    assert await sync(me.trending_tags) == []
    assert await sync(me.trending_statuses) == []
