"""Lists (/api/v1/lists) and their timelines, driven by Mastodon.py against real
instances: members must be followed, other people's lists do not exist, a list's
timeline shows its members' posts by its replies policy, an exclusive list keeps its
members out of the home timeline, and a list stream hears a member's post."""

from __future__ import annotations

import asyncio
import json

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from mastodon import MastodonAPIError, MastodonNotFoundError
from sqlalchemy import inspect, text
from test_mastodon_api import check_entity, follow_remote, login, sync
from test_streaming import _next, _socket

from fedchirp.localnet import settle
from fedchirp.store.migrate import _config

pytestmark = pytest.mark.backends

LIST = {"id": str, "title": str, "replies_policy": str, "exclusive": bool}


async def _local(api, username: str) -> dict:
    return await sync(api.account_lookup, username)


async def _following(api, *usernames: str) -> list[dict]:
    found = [await _local(api, name) for name in usernames]
    for account in found:
        await sync(api.account_follow, account)
    return found


def _texts(statuses: list[dict]) -> list[str]:
    return [s["content"] for s in statuses]


async def test_lists_and_their_members_through_mastodon_py(start):
    a = await start("a")
    for name in ("alice", "amy", "carol", "dave", "mallory"):
        await a.create_user(name)
    alice = await login(a, "alice")
    amy, carol = await _following(alice, "amy", "carol")
    dave = await _local(alice, "dave")

    created = await sync(alice.list_create, "friends", replies_policy="followed")
    check_entity(created, LIST)
    assert (created["title"], created["replies_policy"], created["exclusive"]) == (
        "friends", "followed", False
    )
    assert [found["id"] for found in await sync(alice.lists)] == [created["id"]]
    assert (await sync(alice.list, created))["title"] == "friends"
    changed = await sync(alice.list_update, created, "close friends", "none", True)
    assert (changed["title"], changed["replies_policy"], changed["exclusive"]) == (
        "close friends", "none", True
    )

    await sync(alice.list_accounts_add, created, [amy, carol])
    await sync(alice.list_accounts_add, created, [amy])  # already in: nothing changes
    members = await sync(alice.list_accounts, created)
    assert sorted(m["acct"] for m in members) == ["amy", "carol"]
    first = await sync(alice.list_accounts, created, limit=1)
    second = await sync(alice.fetch_next, first)  # Link rel="next"
    assert {first[0]["id"], second[0]["id"]} == {amy["id"], carol["id"]}
    assert [f["id"] for f in await sync(alice.account_lists, amy)] == [created["id"]]
    assert await sync(alice.account_lists, dave) == []

    with pytest.raises(MastodonAPIError) as refused:  # not followed: 422, nothing added
        await sync(alice.list_accounts_add, created, [dave, amy])
    assert refused.value.args[1] == 422 and "follow" in str(refused.value)
    with pytest.raises(MastodonNotFoundError):
        await sync(alice.list_accounts_add, created, ["99999999"])
    assert len(await sync(alice.list_accounts, created)) == 2

    await sync(alice.list_accounts_delete, created, [carol])
    assert [m["acct"] for m in await sync(alice.list_accounts, created)] == ["amy"]
    await sync(alice.account_unfollow, amy)  # the follow ends: amy leaves the list
    assert await sync(alice.list_accounts, created) == []
    assert await sync(alice.account_lists, amy) == []

    await sync(alice.list_delete, created)
    assert await sync(alice.lists) == []
    with pytest.raises(MastodonNotFoundError):
        await sync(alice.list, created)


async def test_bad_input_and_other_peoples_lists(start, http):
    a = await start("a")
    await a.create_user("alice")
    await a.create_user("mallory")
    alice, mallory = await login(a, "alice"), await login(a, "mallory")
    mine = await sync(alice.list_create, "mine")
    for call, args in (
        (mallory.list, ()),
        (mallory.list_update, ("stolen",)),
        (mallory.list_accounts, ()),
        (mallory.timeline_list, ()),
        (mallory.list_delete, ()),
    ):
        with pytest.raises(MastodonNotFoundError):
            await sync(call, mine, *args)
    assert await sync(mallory.lists) == []
    assert (await sync(alice.list, mine))["title"] == "mine"

    headers = {"Authorization": f"Bearer {alice.access_token}"}
    for body in ({"title": "  "}, {"title": "x", "replies_policy": "everyone"},
                 {"title": "x", "exclusive": "maybe"}, {"title": "x" * 101}):
        async with http.post(f"{a.base_url}/api/v1/lists", json=body, headers=headers) as resp:
            assert resp.status == 422 and (await resp.json())["error"], body
    url = f"{a.base_url}/api/v1/lists/{mine['id']}/accounts"
    async with http.post(url, json={"account_ids": []}, headers=headers) as resp:
        assert resp.status == 422
    assert [found["title"] for found in await sync(alice.lists)] == ["mine"]


async def test_a_list_timeline_across_instances_and_an_exclusive_list(pair):
    a, b = pair
    await a.create_user("alice")
    await a.create_user("carol")
    await b.create_user("bob")
    alice, carol, bob = await login(a, "alice"), await login(a, "carol"), await login(b, "bob")
    bob_on_a = await follow_remote(alice, b.handle("bob"))
    await _following(alice, "carol")
    await settle(a, b)
    remote = await sync(alice.list_create, "remote")
    await sync(alice.list_accounts_add, remote, [bob_on_a])

    written = [await sync(bob.status_post, f"bob says {n}") for n in range(3)]
    await sync(carol.status_post, "carol says hi")
    await settle(a, b)
    shown = await sync(alice.timeline_list, remote)  # in the order they arrived on A
    assert sorted(s["uri"] for s in shown) == sorted(s["uri"] for s in written)
    page = await sync(alice.timeline_list, remote, limit=2)
    older = await sync(alice.fetch_next, page)
    assert [s["id"] for s in page + older] == [s["id"] for s in shown]
    home = _texts(await sync(alice.timeline_home))
    assert any("bob says" in text for text in home) and any("carol" in t for t in home)

    await sync(alice.list_update, remote, "remote", "list", True)  # exclusive
    home = _texts(await sync(alice.timeline_home))
    assert not any("bob says" in text for text in home)
    assert any("carol says hi" in text for text in home)
    assert len(await sync(alice.timeline_list, remote)) == 3  # the list still shows them
    await sync(alice.list_update, remote, "remote", "list", False)
    assert sum("bob says" in t for t in _texts(await sync(alice.timeline_home))) == 3


async def test_replies_policies(start):
    a = await start("a")
    for name in ("alice", "bob", "carol", "dan", "erin"):
        await a.create_user(name)
    alice, bob, carol, dan, erin = [
        await login(a, name) for name in ("alice", "bob", "carol", "dan", "erin")
    ]
    members = await _following(alice, "bob", "carol")
    await _following(alice, "dan")
    crew = await sync(alice.list_create, "crew", replies_policy="followed")
    await sync(alice.list_accounts_add, crew, members)

    targets = {
        "self": await sync(bob.status_post, "bob starts a thread"),
        "owner": await sync(alice.status_post, "alice asks"),
        "member": await sync(carol.status_post, "carol muses"),
        "followed": await sync(dan.status_post, "dan shares"),
        "stranger": await sync(erin.status_post, "erin wonders"),
    }
    for kind, target in targets.items():
        await sync(bob.status_post, f"reply to {kind}", in_reply_to_id=target)
    await settle(a)
    # All of bob's replies are in alice's home feed: the list's policy is what filters.
    home = _texts(await sync(alice.timeline_home))
    assert sum(f"reply to {kind}" in t for kind in targets for t in home) == len(targets)

    expected = {
        "followed": {"self", "owner", "member", "followed"},
        "list": {"self", "owner", "member"},
        "none": {"self", "owner"},
    }
    for policy, kinds in expected.items():
        await sync(alice.list_update, crew, "crew", policy)
        shown = _texts(await sync(alice.timeline_list, crew))
        replies = {kind for kind in targets if any(f"reply to {kind}" in t for t in shown)}
        assert replies == kinds, policy
        assert any("bob starts a thread" in t for t in shown)
        assert any("carol muses" in t for t in shown)  # posts by members that reply to no one
        assert not any("dan shares" in t or "alice asks" in t for t in shown)  # not members


async def test_a_list_stream_hears_a_members_post_and_only_its_owner_may_listen(start, http):
    a = await start("a")
    for name in ("alice", "bob", "carol", "mallory"):
        await a.create_user(name)
    alice, bob, carol, mallory = [
        await login(a, name) for name in ("alice", "bob", "carol", "mallory")
    ]
    bob_account, _ = await _following(alice, "bob", "carol")
    crew = await sync(alice.list_create, "crew")
    await sync(alice.list_accounts_add, crew, [bob_account])

    intruder = await _socket(http, a, mallory.access_token, stream="list", list=crew["id"])
    assert "your lists" in (await _next(intruder))["error"]
    await intruder.close()

    socket = await _socket(http, a, alice.access_token)
    await socket.send_json({"type": "subscribe", "stream": "list", "list": crew["id"]})
    await asyncio.sleep(0.3)
    await sync(carol.status_post, "carol is not in the list")
    posted = await sync(bob.status_post, "bob is")
    message = await _next(socket)
    assert message["stream"] == ["list", crew["id"]] and message["event"] == "update"
    assert json.loads(message["payload"])["id"] == posted["id"]

    # An exclusive list's members stay out of the home stream too, not of the list's.
    await sync(alice.list_update, crew, "crew", "list", True)
    home = await _socket(http, a, alice.access_token, stream="user")
    await asyncio.sleep(0.3)
    excluded = await sync(bob.status_post, "bob again")
    heard = await sync(carol.status_post, "carol again")
    assert json.loads((await _next(home))["payload"])["id"] == heard["id"]
    assert json.loads((await _next(socket))["payload"])["id"] == excluded["id"]
    await home.close()
    await socket.close()


def _revision_of_lists(connection) -> tuple[str, str]:
    """(the lists revision, the one before it), whatever numbers a merge gave them."""
    scripts = ScriptDirectory.from_config(_config(connection))
    found = next(s for s in scripts.walk_revisions() if s.path.endswith("_lists.py"))
    return found.revision, found.down_revision  # type: ignore[return-value]


def _schema_facts(connection) -> tuple[set[str], set[str], bool]:
    """(list tables, their indexes, whether the follow-end trigger exists)."""
    found = inspect(connection)
    tables = {name for name in found.get_table_names() if "list" in name}
    indexes = {index["name"] for table in tables for index in found.get_indexes(table)}
    if connection.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        query = "SELECT tgname FROM pg_trigger"
    triggers = {row[0] for row in connection.execute(text(query))}
    return tables, indexes, "follow_end_leaves_lists" in triggers


async def test_the_lists_migration_makes_what_a_new_database_has(make_store):
    store = await make_store("db")
    async with store.db.atomic() as connection:
        made = await connection.run_sync(_schema_facts)
        revision, before = await connection.run_sync(_revision_of_lists)
    tables, indexes, trigger = made
    assert tables == {"lists", "list_accounts"} and trigger
    assert {"lists_account", "list_accounts_account"} <= indexes
    async with store.db.atomic() as connection:
        await connection.run_sync(lambda c: command.downgrade(_config(c), before))
        assert await connection.run_sync(_schema_facts) == (set(), set(), False)
    assert revision in await store.migrate()
    async with store.db.atomic() as connection:
        assert await connection.run_sync(_schema_facts) == made


async def test_the_lists_pages(start, web):
    from test_pages import _sign_in

    from fedchirp.services import follows, posting

    a = await start("a")
    alice, bob = await a.create_user("alice"), await a.create_user("bob")
    await a.create_user("mallory")
    await follows.follow(a.ctx, alice, bob)
    await posting.create_status(a.ctx, bob, "bob on the page")
    csrf = await _sign_in(web, a, "alice")
    form = {"csrf": csrf, "title": "pals", "replies_policy": "none", "exclusive": "on"}
    async with web.post(f"{a.base_url}/lists", data=form) as resp:
        assert resp.url.path == "/lists" and "pals" in await resp.text()
    [pals] = await a.ctx.store.lists_of(alice.id)
    assert (pals.replies_policy, pals.exclusive) == ("none", True)
    async with web.post(
        f"{a.base_url}/lists/{pals.id}/add", data={"csrf": csrf, "account_id": str(bob.id)}
    ) as resp:
        assert "@bob" in await resp.text()
    async with web.get(f"{a.base_url}/lists/{pals.id}") as resp:
        assert resp.status == 200 and "bob on the page" in await resp.text()
    async with web.get(f"{a.base_url}/home") as resp:  # exclusive: not on Home
        assert "bob on the page" not in await resp.text()
    async with web.post(f"{a.base_url}/lists", data={"csrf": csrf, "title": " "}) as resp:
        assert "blank" in await resp.text()
    web.cookie_jar.clear()
    theirs = await _sign_in(web, a, "mallory")
    async with web.get(f"{a.base_url}/lists/{pals.id}") as resp:
        assert resp.status == 404
    async with web.post(f"{a.base_url}/lists/{pals.id}/delete", data={"csrf": theirs}) as resp:
        assert "not found" in await resp.text()
    assert await a.ctx.store.lists_of(alice.id) == [pals]


async def test_deleting_an_account_takes_its_lists_and_its_memberships(start):
    from fedchirp.services import account_deletion, follows

    a = await start("a")
    alice, bob, carol = [await a.create_user(name) for name in ("alice", "bob", "carol")]
    for owner, member in ((alice, bob), (carol, bob), (carol, alice)):
        await follows.follow(a.ctx, owner, member)
        made = await a.ctx.store.insert_list(owner.id, "people", "list", False)
        assert await a.ctx.store.add_list_accounts(made.id, owner.id, [member.id]) == 1
    [alices] = await a.ctx.store.lists_of(alice.id)
    await account_deletion.delete_local_account(a.ctx, alice)
    assert await a.ctx.store.lists_of(alice.id) == []
    assert await a.ctx.store.get_list(alices.id) is None
    members = {
        found.id: [m.username for _, m in await a.ctx.store.list_members(found.id, None)]
        for found in await a.ctx.store.lists_of(carol.id)
    }
    assert sorted(members.values()) == [[], ["bob"]]  # alice left carol's list
