"""Grouped notifications (/api/v2/notifications) and the notification policy with its
requests, as Mastodon 4.3 serves them, driven by Mastodon.py."""

from __future__ import annotations

import asyncio
import json

import pytest
from alembic import command
from mastodon import MastodonAPIError, MastodonNotFoundError
from sqlalchemy import inspect
from test_mastodon_api import login, sync
from test_streaming import _next, _socket

from fedchirp.store.migrate import _config

NEW_TABLES = {"notification_policies", "notification_requests", "notification_permissions"}


@pytest.mark.backends  # the group reads rank rows with window functions
async def test_favourites_group_and_a_group_can_be_read_paged_and_dismissed(start, http):
    a = await start("a")
    for name in ("alice", "fan1", "fan2", "fan3"):
        await a.create_user(name)
    alice, *fans = [await login(a, n) for n in ("alice", "fan1", "fan2", "fan3")]
    fan_ids = [(await sync(f.me))["id"] for f in fans]
    post = await sync(alice.status_post, "like me")
    for fan in fans:
        await sync(fan.status_favourite, post)
    await sync(fans[0].account_follow, await sync(alice.me))
    await sync(fans[1].status_post, "@alice hello")

    results = await sync(alice.grouped_notifications, expand_accounts="full")
    groups = results["notification_groups"]
    assert [g["type"] for g in groups] == ["mention", "follow", "favourite"]
    liked = groups[2]
    assert liked["group_key"].startswith(f"favourite-{post['id']}-")
    assert liked["notifications_count"] == 3 and liked["status_id"] == post["id"]
    assert liked["sample_account_ids"] == fan_ids[::-1]  # newest first
    assert int(liked["page_min_id"]) < int(liked["page_max_id"])
    assert liked["latest_page_notification_at"]
    assert groups[0]["group_key"].startswith("ungrouped-")  # mentions are never grouped
    assert {x["id"] for x in results["accounts"]} == set(fan_ids)
    assert {s["id"] for s in results["statuses"]} == {post["id"], groups[0]["status_id"]}
    partial = await sync(alice.grouped_notifications)  # Mastodon.py asks for partial avatars
    assert {x["id"] for x in partial["accounts"]} == {fan_ids[0], fan_ids[1], fan_ids[2]}
    assert len(partial["accounts"]) + len(partial["partial_accounts"]) == 3
    ungrouped = await sync(alice.grouped_notifications, grouped_types=["follow"])
    assert [g["type"] for g in ungrouped["notification_groups"]].count("favourite") == 3

    one = await sync(alice.grouped_notification, liked["group_key"])
    assert one["notification_groups"][0]["notifications_count"] == 3
    senders = await sync(alice.grouped_notification_accounts, liked["group_key"])
    assert [x["id"] for x in senders] == fan_ids[::-1]
    assert await sync(alice.unread_grouped_notifications_count) == 3
    assert (await sync(alice.notifications_unread_count))["count"] == 5

    headers = {"Authorization": f"Bearer {alice.access_token}"}
    url = f"{a.base_url}/api/v2/notifications?limit=2&types[]=favourite&types[]=mention"
    async with http.get(url, headers=headers) as resp:
        first = await resp.json()
        next_link = resp.links["next"]["url"]
    assert [g["type"] for g in first["notification_groups"]] == ["mention", "favourite"]
    assert "types%5B%5D=favourite" in str(next_link) and "types%5B%5D=mention" in str(next_link)
    bad = f"{a.base_url}/api/v2/notifications?expand_accounts=all"
    async with http.get(bad, headers=headers) as resp:
        assert resp.status == 422 and "expand_accounts" in (await resp.json())["error"]
    async with http.get(next_link, headers=headers) as resp:
        [rest] = (await resp.json())["notification_groups"]
    # As Mastodon pages groups: the older part of the group comes again, counted to there.
    assert (rest["group_key"], rest["notifications_count"]) == (liked["group_key"], 2)

    await sync(alice.dismiss_grouped_notification, liked["group_key"])
    kinds = [n["type"] for n in await sync(alice.notifications)]
    assert sorted(kinds) == ["follow", "mention"]
    with pytest.raises(MastodonNotFoundError):
        await sync(alice.grouped_notification, liked["group_key"])
    mention = next(n for n in await sync(alice.notifications) if n["type"] == "mention")
    assert (await sync(alice.notifications, id=mention["id"]))["type"] == "mention"
    await sync(alice.notifications_dismiss, mention["id"])
    assert [n["type"] for n in await sync(alice.notifications)] == ["follow"]
    await sync(alice.notifications_clear)
    assert await sync(alice.notifications) == []


async def test_policy_filters_strangers_into_requests_until_accepted(start, http):
    a = await start("a")
    names = ("alice", "pal", "stranger", "pest", "spammer", "whisperer")
    for name in names:
        await a.create_user(name)
    alice, pal, stranger, pest, spammer, whisperer = [await login(a, n) for n in names]
    policy = await sync(alice.notifications_policy)
    assert (policy["for_not_following"], policy["for_private_mentions"]) == ("accept", "filter")
    assert policy["summary"] == {"pending_requests_count": 0, "pending_notifications_count": 0}
    # The defaults: a private mention from an account alice does not follow waits.
    await sync(whisperer.status_post, "@alice psst", visibility="direct")
    await sync(whisperer.status_post, "@alice in the open")
    [public] = await sync(alice.notifications)
    assert public["status"]["visibility"] == "public"
    await sync(alice.notifications_dismiss, public["id"])
    with pytest.raises(MastodonAPIError, match="accept, filter, drop"):
        await sync(alice.update_notifications_policy, for_not_following="maybe")
    policy = await sync(alice.update_notifications_policy, for_not_following="filter")
    assert policy["for_not_following"] == "filter" and policy["for_private_mentions"] == "filter"

    await sync(alice.account_follow, await sync(pal.me))
    socket = await _socket(http, a, alice.access_token, stream="user:notification")
    await asyncio.sleep(0.3)  # let the stream open
    hello = await sync(stranger.status_post, "@alice hello from a stranger")
    ad = await sync(pest.status_post, "@alice buy things")
    await sync(pal.status_post, "@alice from a pal")
    streamed = json.loads((await _next(socket))["payload"])  # filtered ones are not streamed
    assert streamed["account"]["username"] == "pal"
    await socket.close()
    assert [n["account"]["username"] for n in await sync(alice.notifications)] == ["pal"]
    grouped = await sync(alice.grouped_notifications)
    assert len(grouped["notification_groups"]) == 1
    with_filtered = await sync(alice.grouped_notifications, include_filtered=True)
    assert len(with_filtered["notification_groups"]) == 4  # pal, stranger, pest, whisperer

    requests = await sync(alice.notification_requests)
    by_sender = {r["account"]["username"]: r for r in requests}
    assert set(by_sender) == {"stranger", "pest", "whisperer"}
    assert by_sender["stranger"]["notifications_count"] == "1"
    assert by_sender["stranger"]["last_status"]["id"] == hello["id"]
    summary = (await sync(alice.notifications_policy))["summary"]
    assert summary == {"pending_requests_count": 3, "pending_notifications_count": 3}

    await sync(alice.accept_notification_request, by_sender["stranger"]["id"])
    assert await sync(alice.notifications_merged) is True
    await sync(stranger.status_post, "@alice again")  # accepted: never filtered again
    senders = [n["account"]["username"] for n in await sync(alice.notifications)]
    assert sorted(senders) == ["pal", "stranger", "stranger"]
    pest_id = (await sync(pest.me))["id"]
    held = await sync(alice.notifications, account_id=pest_id)  # a request's own list
    assert [(n["type"], n["status"]["id"]) for n in held] == [("mention", ad["id"])]
    await sync(
        alice.dismiss_multiple_notification_requests,
        [by_sender["pest"]["id"], by_sender["whisperer"]["id"]],
    )
    assert await sync(alice.notification_requests) == []
    assert await sync(alice.notifications, account_id=pest_id) == []  # dismissed: deleted

    await sync(alice.update_notifications_policy, for_not_following="drop")
    await sync(spammer.status_post, "@alice dropped")
    assert await sync(alice.notification_requests) == []
    assert await sync(alice.notifications, account_id=await sync(spammer.me)) == []
    with pytest.raises(MastodonNotFoundError):
        await sync(alice.notification_request, by_sender["pest"]["id"])


async def test_the_migration_makes_what_a_new_database_has(make_store):
    store = await make_store("db")

    def facts(connection) -> tuple[set[str], set[str]]:
        found = inspect(connection)
        columns = {c["name"] for c in found.get_columns("notifications")}
        return NEW_TABLES & set(found.get_table_names()), columns & {"group_key", "filtered"}

    async with store.db.atomic() as connection:
        made = await connection.run_sync(facts)
        assert made == (NEW_TABLES, {"group_key", "filtered"})
        await connection.run_sync(lambda c: command.downgrade(_config(c), "0020"))
        assert await connection.run_sync(facts) == (set(), set())
    assert "0022" in await store.migrate()
    async with store.db.atomic() as connection:
        assert await connection.run_sync(facts) == made
