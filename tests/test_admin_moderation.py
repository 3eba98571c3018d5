"""Reports and admin moderation, driven by Mastodon.py (a real client) against real
instances on 127.0.0.1: a forwarded report reaches the other server as a Flag and lands
in its admins' queue; suspending and silencing hide what they must, everywhere."""

from __future__ import annotations

import pytest
from mastodon import Mastodon, MastodonAPIError, MastodonUnauthorizedError

from fedchirp.localnet import settle
from tests.test_mastodon_api import login, sync

pytestmark = pytest.mark.backends

ADMIN_SCOPES = ["read", "write", "follow", "admin:read", "admin:write"]

ADMIN_ACCOUNT_KEYS = {
    "id", "username", "domain", "created_at", "email", "ip", "ips", "locale",
    "invite_request", "role", "confirmed", "approved", "disabled", "silenced",
    "suspended", "account",
}  # fmt: skip
ADMIN_REPORT_KEYS = {
    "id", "action_taken", "action_taken_at", "category", "comment", "forwarded",
    "created_at", "updated_at", "account", "target_account", "assigned_account",
    "action_taken_by_account", "statuses", "rules",
}  # fmt: skip


async def _follow(api: Mastodon, handle: str) -> dict:
    account = (await sync(api.search_v2, handle, resolve=True))["accounts"][0]
    await sync(api.account_follow, account)
    return account


async def test_forwarded_report_lands_in_the_other_admins_queue(pair):
    a, b = pair
    await a.create_user("alice")
    await a.create_user("root", admin=True)
    await b.create_user("bob")
    await b.create_user("boss", admin=True)
    alice, bob = await login(a, "alice"), await login(b, "bob")
    root, boss = await login(a, "root", ADMIN_SCOPES), await login(b, "boss", ADMIN_SCOPES)

    bob_on_a = await _follow(alice, b.handle("bob"))
    await settle(a, b)
    posted = await sync(bob.status_post, "buy cheap watches", visibility="public")
    await settle(a, b)
    seen = (await sync(alice.timeline_home))[0]
    assert seen["uri"] == posted["uri"]

    report = await sync(
        alice.report, bob_on_a, status_ids=[seen], comment="spam!", forward=True, category="spam"
    )
    assert report["category"] == "spam" and report["forwarded"] is True
    assert report["action_taken"] is False and report["comment"] == "spam!"
    assert [str(i) for i in report["status_ids"]] == [str(seen["id"])]
    assert report["target_account"]["acct"] == b.handle("bob")
    await settle(a, b)

    # Here: alice's report is in root's queue.
    here = await sync(root.admin_reports)
    assert [r["id"] for r in here] == [report["id"]]
    assert set(here[0]) >= ADMIN_REPORT_KEYS
    assert here[0]["account"]["username"] == "alice"

    # There: the Flag came from our instance actor (not alice) and names bob and his post.
    queue = await sync(boss.admin_reports)
    assert len(queue) == 1
    flagged = queue[0]
    assert set(flagged) >= ADMIN_REPORT_KEYS
    assert flagged["target_account"]["username"] == "bob"
    assert flagged["account"]["account"]["uri"] == f"{a.base_url}/actor"
    assert flagged["comment"] == "spam!"
    assert [s["uri"] for s in flagged["statuses"]] == [posted["uri"]]
    assert flagged["action_taken"] is False and flagged["assigned_account"] is None

    assigned = await sync(boss.admin_report_assign, flagged)
    assert assigned["assigned_account"]["username"] == "boss"
    resolved = await sync(boss.admin_report_resolve, flagged)
    assert resolved["action_taken"] is True
    assert resolved["action_taken_by_account"]["username"] == "boss"
    assert await sync(boss.admin_reports) == []
    assert [r["id"] for r in await sync(boss.admin_reports, resolved=True)] == [flagged["id"]]
    assert (await sync(boss.admin_report, flagged))["action_taken"] is True
    reopened = await sync(boss.admin_report_reopen, flagged)
    assert reopened["action_taken"] is False

    # root suspends bob from alice's report, which resolves it.
    await sync(root.admin_account_moderate, bob_on_a, "suspend", report_id=here[0]["id"])
    assert (await sync(root.admin_report, here[0]))["action_taken"] is True
    shown = await sync(root.admin_account, bob_on_a)
    assert set(shown) >= ADMIN_ACCOUNT_KEYS
    assert shown["suspended"] is True and shown["domain"] == b.domain
    suspended = await sync(root.admin_accounts_v2, status="suspended")
    assert [x["username"] for x in suspended] == ["bob"]
    assert await sync(alice.timeline_home) == []
    assert await sync(alice.account_statuses, bob_on_a) == []

    # bob's new posts are answered 202 and dropped: nothing stored, nothing queued.
    later = await sync(bob.status_post, "more watches", visibility="public")
    await settle(a, b)
    assert await a.ctx.store.get_status_by_uri(later["uri"]) is None
    assert await sync(alice.timeline_home) == []

    unsuspended = await sync(root.admin_account_unsuspend, bob_on_a)
    assert unsuspended["suspended"] is False
    assert [s["uri"] for s in await sync(alice.timeline_home)] == [posted["uri"]]


async def test_admin_api_is_for_admins_only(start, http):
    a = await start("a")
    await a.create_user("alice")
    await a.create_user("root", admin=True)
    alice = await login(a, "alice", ADMIN_SCOPES)
    with pytest.raises(MastodonAPIError) as refused:
        await sync(alice.admin_accounts_v2)
    assert refused.value.args[1] == 403
    root_plain = await login(a, "root")  # no admin scopes
    with pytest.raises(MastodonAPIError) as out_of_scope:
        await sync(root_plain.admin_reports)
    assert out_of_scope.value.args[1] == 403
    async with http.get(f"{a.base_url}/api/v1/admin/accounts") as anonymous:
        assert anonymous.status == 401

    root = await login(a, "root", ADMIN_SCOPES)
    local = await sync(root.admin_accounts_v2, origin="local")
    assert sorted(x["username"] for x in local) == ["alice", "root"]
    assert {x["username"]: x["role"]["name"] for x in local}["root"] == "Admin"
    me = next(x for x in local if x["username"] == "root")
    with pytest.raises(MastodonAPIError) as self_suspend:
        await sync(root.admin_account_moderate, me["id"], "suspend")
    assert self_suspend.value.args[1] == 403
    alice_id = next(x["id"] for x in local if x["username"] == "alice")
    for bad in ({"type": "explode"}, {"type": "suspend", "report_id": "99999"}):
        headers = {"Authorization": f"Bearer {root.access_token}"}
        url = f"{a.base_url}/api/v1/admin/accounts/{alice_id}/action"
        async with http.post(url, data=bad, headers=headers) as answer:
            assert answer.status in (404, 422) and "error" in await answer.json()
    assert (await sync(root.admin_account, alice_id))["suspended"] is False

    # disable / enable, for local users.
    alice_plain = await login(a, "alice")
    await sync(root.admin_account_moderate, alice_id, "disable")
    assert (await sync(root.admin_account, alice_id))["disabled"] is True
    with pytest.raises(MastodonUnauthorizedError):
        await sync(alice_plain.me)
    assert [x["username"] for x in await sync(root.admin_accounts_v2, status="disabled")] == [
        "alice"
    ]
    assert (await sync(root.admin_account_enable, alice_id))["disabled"] is False
    alice_again = await login(a, "alice")
    assert (await sync(alice_again.me))["username"] == "alice"
    headers = {"Authorization": f"Bearer {root.access_token}"}
    url = f"{a.base_url}/api/v2/admin/accounts"
    async with http.get(url, params={"status": "bogus"}, headers=headers) as answer:
        assert answer.status == 422 and "status" in (await answer.json())["error"]
    assert await sync(root.admin_accounts_v2, origin="local", username="zzz") == []


async def test_suspended_local_user_is_locked_out_and_hidden(start, http):
    a = await start("a")
    await a.create_user("carol")
    await a.create_user("dan")
    await a.create_user("root", admin=True)
    carol, dan = await login(a, "carol"), await login(a, "dan")
    root = await login(a, "root", ADMIN_SCOPES)
    post = await sync(carol.status_post, "hello from carol", visibility="public")
    carol_id = (await sync(carol.me))["id"]

    await sync(root.admin_account_moderate, carol_id, "suspend")
    with pytest.raises(MastodonUnauthorizedError):
        await sync(carol.me)
    with pytest.raises(Exception):  # noqa: B017 - the sign-in page refuses the password
        await login(a, "carol")
    actor_headers = {"Accept": "application/activity+json"}
    async with http.get(f"{a.base_url}/users/carol", headers=actor_headers) as actor:
        assert actor.status == 410
    async with http.get(f"{a.base_url}/@carol") as profile:
        assert profile.status == 410
    assert post["id"] not in [s["id"] for s in await sync(dan.timeline_public)]
    assert await sync(dan.account_statuses, carol_id) == []
    async with http.get(f"{a.base_url}/api/v1/statuses/{post['id']}") as anonymous:
        assert anonymous.status == 404

    await sync(root.admin_account_unsuspend, carol_id)
    async with http.get(f"{a.base_url}/users/carol", headers=actor_headers) as actor:
        assert actor.status == 200
    carol = await login(a, "carol")
    assert (await sync(carol.me))["username"] == "carol"
    assert post["id"] in [s["id"] for s in await sync(dan.timeline_public)]


async def test_silenced_account_is_seen_by_followers_only(start):
    a = await start("a")
    for name in ("sam", "fan", "stranger"):
        await a.create_user(name)
    await a.create_user("root", admin=True)
    sam, fan, stranger = [await login(a, n) for n in ("sam", "fan", "stranger")]
    root = await login(a, "root", ADMIN_SCOPES)
    sam_id = (await sync(sam.me))["id"]
    await sync(fan.account_follow, sam_id)
    await settle(a)

    await sync(root.admin_account_moderate, sam_id, "silence")
    assert (await sync(root.admin_account, sam_id))["silenced"] is True
    assert (await sync(fan.account, sam_id))["limited"] is True  # apps show it as limited
    post = await sync(sam.status_post, "@fan @stranger limited news", visibility="public")
    await settle(a)
    assert post["id"] not in [s["id"] for s in await sync(stranger.timeline_public)]
    assert post["id"] not in [s["id"] for s in await sync(fan.timeline_public)]
    assert await sync(stranger.account_statuses, sam_id) == []
    assert [s["id"] for s in await sync(fan.account_statuses, sam_id)] == [post["id"]]
    assert post["id"] in [s["id"] for s in await sync(fan.timeline_home)]
    assert [n["type"] for n in await sync(fan.notifications)] == ["mention"]
    assert await sync(stranger.notifications) == []
    silenced = await sync(root.admin_accounts_v2, status="silenced")
    assert [x["username"] for x in silenced] == ["sam"]

    await sync(root.admin_account_unsilence, sam_id)
    assert not (await sync(fan.account, sam_id)).get("limited")
    assert post["id"] in [s["id"] for s in await sync(stranger.timeline_public)]
    assert [n["type"] for n in await sync(stranger.notifications)] == ["mention"]


async def test_bad_reports_are_refused_and_change_nothing(start, http):
    a = await start("a")
    for name in ("alice", "bob", "carol"):
        await a.create_user(name)
    await a.create_user("root", admin=True)
    alice, bob, carol = [await login(a, n) for n in ("alice", "bob", "carol")]
    bob_id, alice_id = (await sync(bob.me))["id"], (await sync(alice.me))["id"]
    bobs = await sync(bob.status_post, "bob's post", visibility="public")
    carols = await sync(carol.status_post, "carol's post", visibility="public")
    hidden = await sync(bob.status_post, "for followers", visibility="private")
    headers = {"Authorization": f"Bearer {alice.access_token}"}
    url = f"{a.base_url}/api/v1/reports"
    bad = [
        ({}, "account_id"),
        ({"account_id": "99999"}, "not found"),
        ({"account_id": "1" * 30}, "account_id"),
        ({"account_id": alice_id}, "yourself"),
        ({"account_id": bob_id, "category": "boring"}, "category"),
        ({"account_id": bob_id, "status_ids[]": carols["id"]}, "status_ids"),
        ({"account_id": bob_id, "status_ids[]": hidden["id"]}, "status_ids"),
        ({"account_id": bob_id, "rule_ids[]": "42"}, "rule"),
        ({"account_id": bob_id, "comment": "x" * 1001}, "comment"),
        ({"account_id": bob_id, "forward": "perhaps"}, "forward"),
    ]
    for form, words in bad:
        async with http.post(url, data=form, headers=headers) as answer:
            body = await answer.json()
            assert answer.status in (404, 422) and words in body["error"], (form, body)
    root = await login(a, "root", ADMIN_SCOPES)
    assert await sync(root.admin_reports, resolved=True, unresolved=True) == []

    # A good one, of a local account: forward is moot (nothing to send it to).
    report = await sync(alice.report, bob_id, status_ids=[bobs], comment="hm", forward=True)
    assert report["forwarded"] is False and report["category"] == "other"
    (queued,) = await sync(root.admin_reports)
    assert [s["id"] for s in queued["statuses"]] == [bobs["id"]]
    by_alice = await sync(root.admin_reports, account_id=alice_id)
    assert [r["id"] for r in by_alice] == [report["id"]]
    assert await sync(root.admin_reports, target_account_id=alice_id) == []
    assert [x["username"] for x in await sync(root.admin_accounts, username="bo")] == ["bob"]


async def test_a_suspended_account_leaves_notifications_threads_and_search(start):
    a = await start("a")
    await a.create_user("alice")
    await a.create_user("bob")
    await a.create_user("root", admin=True)
    alice, bob = await login(a, "alice"), await login(a, "bob")
    root = await login(a, "root", ADMIN_SCOPES)
    mine = await sync(alice.status_post, "hello", visibility="public")
    await sync(bob.status_favourite, mine)
    reply = await sync(bob.status_post, "@alice hi", visibility="public", in_reply_to_id=mine)
    assert sorted(n["type"] for n in await sync(alice.notifications)) == ["favourite", "mention"]
    context = await sync(alice.status_context, mine)
    assert [s["id"] for s in context["descendants"]] == [reply["id"]]
    assert [x["username"] for x in (await sync(alice.search_v2, "bob"))["accounts"]] == ["bob"]
    bob_id = (await sync(bob.me))["id"]
    await sync(root.admin_account_moderate, bob_id, "suspend")
    assert await sync(alice.notifications) == []
    assert (await sync(alice.status_context, mine))["descendants"] == []
    assert (await sync(alice.search_v2, "bob"))["accounts"] == []
    assert (await sync(alice.status, mine))["id"] == mine["id"]
    await sync(root.admin_account_unsuspend, bob_id)
    assert len(await sync(alice.notifications)) == 2
