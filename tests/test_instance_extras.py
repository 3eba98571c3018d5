"""Instance peers, weekly activity and extended description, and familiar followers,
driven by Mastodon.py against instances on 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from mastodon import MastodonAPIError, MastodonUnauthorizedError

from fedchirp.clock import now_iso, to_iso, utcnow
from fedchirp.store.domain_blocks import DomainBlockQueries
from tests.test_mastodon_api import follow_remote, login, sync

pytestmark = pytest.mark.backends


async def test_familiar_followers(start):
    a = await start("a")
    for name in ("alice", "amy", "ann", "bob", "carl"):
        await a.create_user(name)
    alice, amy, ann, carl = [await login(a, n) for n in ("alice", "amy", "ann", "carl")]
    ids = {n: (await sync(api.me))["id"] for n, api in
           (("alice", alice), ("amy", amy), ("ann", ann), ("carl", carl))}
    bob_id = (await sync(alice.account_lookup, "bob"))["id"]
    await sync(alice.account_follow, ids["amy"])
    await sync(alice.account_follow, ids["ann"])
    await sync(amy.account_follow, bob_id)  # followed by alice: familiar
    await sync(carl.account_follow, bob_id)  # not followed by alice: a stranger
    await sync(amy.account_follow, ids["ann"])
    await sync(carl.account_follow, ids["ann"])

    found = await sync(alice.account_familiar_followers, [bob_id, ids["ann"], ids["carl"]])
    assert [(f["id"], [a["acct"] for a in f["accounts"]]) for f in found] == [
        (bob_id, ["amy"]),
        (ids["ann"], ["amy"]),
        (ids["carl"], []),
    ]
    # Alice stops following amy: amy is no longer familiar to her.
    await sync(alice.account_unfollow, ids["amy"])
    found = await sync(alice.account_familiar_followers, bob_id)
    assert [f["accounts"] for f in found] == [[]]
    # Ids of no account are left out; what is not an id is refused.
    assert await sync(alice.account_familiar_followers, ["999999"]) == []
    with pytest.raises(MastodonAPIError) as caught:
        await sync(alice.account_familiar_followers, ["abc"])
    assert caught.value.args[1] == 422
    with pytest.raises(MastodonUnauthorizedError):
        await sync(login_less(a).account_familiar_followers, bob_id)


def login_less(instance):
    from mastodon import Mastodon

    return Mastodon(api_base_url=instance.base_url)


async def test_peers_leave_out_suspended_domains(trio):
    a, b, c = trio
    await a.create_user("alice")
    await b.create_user("bob")
    await c.create_user("cleo")
    alice = await login(a, "alice")
    assert await sync(alice.instance_peers) == []
    await follow_remote(alice, b.handle("bob"))
    await follow_remote(alice, c.handle("cleo"))
    assert await sync(alice.instance_peers) == sorted([b.domain, c.domain])
    # Called on the class: on this base a per-user method of the same name shadows it
    # in Store (domain_blocks.block fails so), which is not this test's business.
    await DomainBlockQueries.insert_domain_block(
        a.ctx.store, {"domain": c.domain, "severity": "suspend", "created_at": now_iso()}
    )
    a.ctx.domain_blocks.invalidate()
    assert await sync(login_less(a).instance_peers) == [b.domain]  # no token needed


async def test_weekly_activity_counts_posts_sign_ins_and_registrations(start):
    a = await start("a")
    await a.create_user("alice")
    await a.create_user("amy")
    alice = await login(a, "alice")
    for n in range(3):
        await sync(alice.status_post, f"post {n}")
    await sync(alice.status_reblog, (await sync(alice.timeline_home))[0])  # not counted
    # A post of three weeks ago, counted in its own week.
    me = await a.ctx.store.get_account_by_uri(a.base_url + "/users/alice")
    past = utcnow() - timedelta(weeks=3)
    await a.ctx.store.insert_status(
        {"uri": f"{a.base_url}/old", "account_id": me.id, "local": 1, "visibility": "public",
         "content": "old", "created_at": to_iso(past)},
        past,
    )

    weeks = await sync(alice.instance_activity)
    assert len(weeks) == 12
    starts = [_moment(w["week"]) for w in weeks]
    assert starts == sorted(starts, reverse=True)
    assert all(s.weekday() == 0 and (s.hour, s.minute) == (0, 0) for s in starts)
    assert starts[0] <= utcnow() < starts[0] + timedelta(weeks=1)
    this_week = [int(weeks[0][k]) for k in ("statuses", "logins", "registrations")]
    assert this_week == [3, 1, 2]  # three posts (not the boost); alice signed in; two users
    assert int(weeks[3]["statuses"]) == 1
    assert sum(int(w["statuses"]) for w in weeks) == 4


def _moment(value: datetime | str) -> datetime:
    """Mastodon.py reads the week as a time; raw JSON has unix seconds as a string."""
    return value if isinstance(value, datetime) else datetime.fromtimestamp(int(value), UTC)


async def test_activity_numbers_are_strings_and_extended_description_comes_from_config(
    start, http
):
    a = await start("a", settings={"server": {"extended_description":
                                              "<p>Be kind.</p><script>x()</script>"}})
    async with http.get(a.base_url + "/api/v1/instance/activity") as response:
        weeks = await response.json()
    assert all(isinstance(w[k], str) for w in weeks for k in w)
    found = await sync(login_less(a).instance_extended_description)
    assert found["content"] == "<p>Be kind.</p>"
    assert isinstance(found["updated_at"], datetime)
    b = await start("b")
    async with http.get(b.base_url + "/api/v1/instance/extended_description") as response:
        assert (await response.json())["content"] == ""
