"""Audience restrictions end to end, across instances: who receives, who may fetch, who sees.

The cast, on four instances:
  A: alice (the author), ann (follower, in "customers"), amy (follower, not in it)
  B: bob (follower, in "customers"), bea (follower, not in it), eve (not a follower)
  C: carl (follower, in "customers"), cat (follower, not in it)
  D: dora (follower, not in it) -- her server must not even receive group posts
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from fedchirp.federation.httpsig import sign_request
from fedchirp.federation.vocab import PUBLIC
from fedchirp.localnet import ApiClient, LocalInstance, settle

# Run on SQLite and on PostgreSQL (see tests/conftest.py).
pytestmark = pytest.mark.backends

AS2 = "application/activity+json"


@dataclass
class World:
    a: LocalInstance
    b: LocalInstance
    c: LocalInstance
    d: LocalInstance
    api: dict[str, ApiClient] = field(default_factory=dict)
    home: dict[str, LocalInstance] = field(default_factory=dict)
    alice_id_on: dict[str, str] = field(default_factory=dict)  # instance name -> id of alice
    ids_on_a: dict[str, str] = field(default_factory=dict)  # user -> their account id on A
    circle: str = ""

    @property
    def instances(self) -> list[LocalInstance]:
        return [self.a, self.b, self.c, self.d]

    async def settle(self) -> None:
        await settle(*self.instances)

    async def post(self, **fields) -> dict:
        status = await self.api["alice"].call("POST", "/api/v1/statuses", json=fields)
        await self.settle()
        return status

    async def home_uris(self, user: str) -> list[str]:
        return [s["uri"] for s in await self.api[user].call("GET", "/api/v1/timelines/home")]

    async def signed_fetch(self, http, user: str, uri: str) -> int:
        """GET uri signed with user's own key (as their server would for them)."""
        instance = self.home[user]
        account = await instance.ctx.store.find_account(user, "")
        key = (await instance.ctx.store.get_local_user(account.id)).private_key_pem
        headers = sign_request("GET", uri, account.public_key_id, key)
        async with http.get(uri, headers={**headers, "Accept": AS2}) as resp:
            return resp.status


@pytest.fixture
async def world(start, client) -> World:
    w = World(await start("a"), await start("b"), await start("c"), await start("d"))
    cast = {
        "a": ["alice", "ann", "amy"],
        "b": ["bob", "bea", "eve"],
        "c": ["carl", "cat"],
        "d": ["dora"],
    }
    for name, users in cast.items():
        instance = getattr(w, name)
        for user in users:
            await instance.create_user(user)
            w.api[user] = await client(instance, user)
            w.home[user] = instance
    for user in ("ann", "amy", "bob", "bea", "carl", "cat", "dora"):
        api = w.api[user]
        found = await api.call(
            "GET", "/api/v2/search", params={"q": w.a.handle("alice"), "resolve": "true"}
        )
        alice_id = found["accounts"][0]["id"]
        w.alice_id_on[user] = alice_id
        await api.call("POST", f"/api/v1/accounts/{alice_id}/follow")
    await w.settle()
    followers = await w.api["alice"].call(
        "GET", f"/api/v1/accounts/{w.alice_id_on['ann']}/followers", params={"limit": 80}
    )
    w.ids_on_a = {f["acct"].split("@")[0]: f["id"] for f in followers}
    assert len(w.ids_on_a) == 7
    circle = await w.api["alice"].call("POST", "/api/v1/circles", json={"title": "customers"})
    w.circle = circle["id"]
    await w.api["alice"].call(
        "POST",
        f"/api/v1/circles/{w.circle}/accounts",
        json={"account_ids": [w.ids_on_a[u] for u in ("ann", "bob", "carl")]},
    )
    return w


async def _status_on(instance: LocalInstance, uri: str):
    return await instance.ctx.store.get_status_by_uri(uri)


async def _visible_anywhere_to(w: World, http, user: str | None, post: dict) -> list[str]:
    """Every place on A where `user` (None: anonymous) could see the post."""
    api = w.api[user] if user else ApiClient(w.api["alice"].session, w.a)
    seen = []
    if any(s["uri"] == post["uri"] for s in await api.call("GET", "/api/v1/timelines/public")):
        seen.append("public timeline")
    local = await api.call("GET", "/api/v1/timelines/public", params={"local": "true"})
    if any(s["uri"] == post["uri"] for s in local):
        seen.append("local timeline")
    alice_id = w.alice_id_on["ann"]
    if any(
        s["uri"] == post["uri"]
        for s in await api.call("GET", f"/api/v1/accounts/{alice_id}/statuses")
    ):
        seen.append("profile")
    if (await api.request("GET", f"/api/v1/statuses/{post['id']}"))[0] == 200:
        seen.append("status api")
    async with http.get(post["url"], headers={"Accept": "text/html"}) as resp:
        if resp.status == 200:
            seen.append("html page")
    async with http.get(f"{w.a.base_url}/@alice", headers={"Accept": "text/html"}) as resp:
        if post["content"] in await resp.text():
            seen.append("html profile")
    async with http.get(post["uri"], headers={"Accept": AS2}) as resp:
        if resp.status == 200:
            seen.append("unsigned fetch")
    outbox = await (
        await http.get(f"{w.a.base_url}/users/alice/outbox?page=true", headers={"Accept": AS2})
    ).json()
    if any(
        item["object"]["id"] == post["uri"]
        for item in outbox["orderedItems"]
        if isinstance(item.get("object"), dict)
    ):
        seen.append("outbox")
    return seen


# -- what each visibility reaches ---------------------------------------------


async def test_public_post_is_everywhere(world, http):
    post = await world.post(status="hello world")
    assert await _visible_anywhere_to(world, http, None, post) == [
        "public timeline",
        "local timeline",
        "profile",
        "status api",
        "html page",
        "html profile",
        "unsigned fetch",
        "outbox",
    ]
    for user in ("ann", "amy", "bob", "bea", "carl", "cat", "dora"):
        assert post["uri"] in await world.home_uris(user), user


async def test_unlisted_post_stays_out_of_public_timelines(world, http):
    post = await world.post(status="quietly public", visibility="unlisted")
    seen = await _visible_anywhere_to(world, http, None, post)
    assert "public timeline" not in seen and "local timeline" not in seen
    assert {"profile", "status api", "unsigned fetch", "outbox"} <= set(seen)
    for instance in (world.b, world.c):
        public = await instance.ctx.store.public_timeline(False, _page())
        assert post["uri"] not in [s.uri for s in public]
    assert post["uri"] in await world.home_uris("bob")


async def test_followers_only_post_reaches_followers_and_nobody_else(world, http):
    post = await world.post(status="for followers", visibility="private")
    assert await _visible_anywhere_to(world, http, None, post) == []
    assert await _visible_anywhere_to(world, http, "eve", post) == []
    for user in ("ann", "amy", "bob", "bea", "carl", "cat", "dora"):
        assert post["uri"] in await world.home_uris(user), user
    assert post["uri"] not in await world.home_uris("eve")
    # On the wire: to the followers collection, never Public.
    [sent, *_] = await world.a.ctx.store.outbound_deliveries(f"{post['uri']}/activity")
    note = json.loads(sent.body)
    assert note["object"]["to"] == [f"{world.a.base_url}/users/alice/followers"]
    assert PUBLIC not in note["object"]["cc"] + note["to"] + note["cc"]
    # Fetching it needs a signature from a follower.
    assert await world.signed_fetch(http, "eve", post["uri"]) == 404
    assert await world.signed_fetch(http, "bob", post["uri"]) == 200
    # bob's server shows it only to alice's followers there, not to eve.
    copy = await _status_on(world.b, post["uri"])
    assert copy.visibility == "private"
    eve_view = await world.api["eve"].call("GET", f"/api/v1/statuses/{copy.id}", expect=404)
    assert eve_view["error"]


async def test_direct_post_reaches_only_the_mentioned(world, http):
    post = await world.post(status=f"@{world.c.handle('carl')} just you", visibility="direct")
    deliveries = await world.a.ctx.store.outbound_deliveries(f"{post['uri']}/activity")
    assert [d.inbox_url for d in deliveries] == [f"{world.c.base_url}/inbox"]
    assert post["uri"] in await world.home_uris("carl")
    for user in ("ann", "amy", "cat"):
        assert post["uri"] not in await world.home_uris(user), user
    assert await _status_on(world.b, post["uri"]) is None
    copy = await _status_on(world.c, post["uri"])
    assert copy.visibility == "direct"
    notes = await world.api["carl"].call("GET", "/api/v1/notifications")
    assert [n["type"] for n in notes if n["status"] and n["status"]["uri"] == post["uri"]] == [
        "mention"
    ]
    assert await _visible_anywhere_to(world, http, "amy", post) == []
    assert await world.signed_fetch(http, "carl", post["uri"]) == 200
    assert await world.signed_fetch(http, "cat", post["uri"]) == 404


# -- follower groups ----------------------------------------------------------


async def test_group_post_goes_only_to_members(world, http):
    post = await world.post(status="for customers only", circle_id=world.circle)
    assert post["visibility"] == "private"  # Mastodon clients know no "limited"
    assert post["circle_id"] == world.circle

    deliveries = await world.a.ctx.store.outbound_deliveries(f"{post['uri']}/activity")
    assert sorted(d.inbox_url for d in deliveries) == sorted(
        [f"{world.b.base_url}/inbox", f"{world.c.base_url}/inbox"]
    )  # D gets nothing
    activity = json.loads(deliveries[0].body)
    members = sorted(
        f"{i.base_url}/users/{u}"
        for i, u in [(world.a, "ann"), (world.b, "bob"), (world.c, "carl")]
    )
    assert sorted(activity["object"]["to"]) == members and activity["object"]["cc"] == []
    assert sorted(activity["to"]) == members and activity["cc"] == []
    for forbidden in ("bto", "bcc"):
        assert forbidden not in activity and forbidden not in activity["object"]
    assert f"{world.a.base_url}/users/alice/followers" not in json.dumps(activity)

    for user in ("ann", "bob", "carl"):
        assert post["uri"] in await world.home_uris(user), user
    for user in ("amy", "bea", "cat", "dora", "eve"):
        assert post["uri"] not in await world.home_uris(user), user
    assert await _status_on(world.d, post["uri"]) is None
    # On B the copy is visible to bob only, not to bea who shares his server.
    copy = await _status_on(world.b, post["uri"])
    assert copy.visibility == "limited"
    assert (await world.api["bob"].call("GET", f"/api/v1/statuses/{copy.id}"))["uri"] == post["uri"]
    await world.api["bea"].call("GET", f"/api/v1/statuses/{copy.id}", expect=404)
    await world.api["eve"].call("GET", f"/api/v1/statuses/{copy.id}", expect=404)

    for user in (None, "amy"):
        assert await _visible_anywhere_to(world, http, user, post) == [], user


async def test_non_member_cannot_fetch_a_group_post_directly(world, http):
    post = await world.post(status="members only", circle_id=world.circle)
    async with http.get(post["uri"], headers={"Accept": AS2}) as resp:
        assert resp.status == 404
    for outsider in ("bea", "cat", "dora", "eve", "amy"):
        assert await world.signed_fetch(http, outsider, post["uri"]) == 404, outsider
    for member in ("bob", "carl"):
        assert await world.signed_fetch(http, member, post["uri"]) == 200, member
    # Nor through search on their own server, nor by boosting, liking or replying to it.
    found = await world.api["bea"].call(
        "GET", "/api/v2/search", params={"q": post["uri"], "resolve": "true"}
    )
    assert found["statuses"] == []
    on_a = post["id"]
    await world.api["amy"].call("POST", f"/api/v1/statuses/{on_a}/favourite", expect=404)
    await world.api["amy"].call("POST", f"/api/v1/statuses/{on_a}/reblog", expect=404)
    await world.api["amy"].call(
        "POST", "/api/v1/statuses", expect=404, json={"status": "reply", "in_reply_to_id": on_a}
    )
    context = await ApiClient(world.api["alice"].session, world.a).call(
        "GET", f"/api/v1/statuses/{on_a}/context", expect=404
    )
    assert context["error"]


async def test_removed_member_loses_access_and_gets_no_new_posts(world, http):
    before = await world.post(status="first customer news", circle_id=world.circle)
    assert before["uri"] in await world.home_uris("ann")
    assert await world.signed_fetch(http, "carl", before["uri"]) == 200

    await world.api["alice"].call(
        "DELETE",
        f"/api/v1/circles/{world.circle}/accounts",
        json={"account_ids": [world.ids_on_a["carl"], world.ids_on_a["ann"]]},
    )
    members = await world.api["alice"].call("GET", f"/api/v1/circles/{world.circle}/accounts")
    assert [m["acct"] for m in members] == [world.b.handle("bob")]

    # Old posts: no longer served to carl, no longer in ann's timeline on A.
    assert await world.signed_fetch(http, "carl", before["uri"]) == 404
    assert before["uri"] not in await world.home_uris("ann")
    await world.api["ann"].call("GET", f"/api/v1/statuses/{before['id']}", expect=404)
    # New posts: not sent to C at all.
    after = await world.post(status="second customer news", circle_id=world.circle)
    deliveries = await world.a.ctx.store.outbound_deliveries(f"{after['uri']}/activity")
    assert [d.inbox_url for d in deliveries] == [f"{world.b.base_url}/inbox"]
    assert await _status_on(world.c, after["uri"]) is None
    assert after["uri"] not in await world.home_uris("carl")
    # Deleting the old post still reaches C, which holds a copy from before.
    await world.api["alice"].call("DELETE", f"/api/v1/statuses/{before['id']}")
    await world.settle()
    assert await _status_on(world.c, before["uri"]) is None


async def test_unfollowing_leaves_every_group(world):
    await world.api["bob"].call("POST", f"/api/v1/accounts/{world.alice_id_on['bob']}/unfollow")
    await world.settle()
    members = await world.api["alice"].call("GET", f"/api/v1/circles/{world.circle}/accounts")
    assert sorted(m["acct"] for m in members) == sorted(["ann", world.c.handle("carl")])
    post = await world.post(status="after bob left", circle_id=world.circle)
    deliveries = await world.a.ctx.store.outbound_deliveries(f"{post['uri']}/activity")
    assert [d.inbox_url for d in deliveries] == [f"{world.c.base_url}/inbox"]


async def test_only_followers_can_join_a_group(world):
    eve_on_a = (
        await world.api["alice"].call(
            "GET", "/api/v2/search", params={"q": world.b.handle("eve"), "resolve": "true"}
        )
    )["accounts"][0]["id"]
    refused = await world.api["alice"].call(
        "POST",
        f"/api/v1/circles/{world.circle}/accounts",
        expect=422,
        json={"account_ids": [world.ids_on_a["bea"], eve_on_a]},
    )
    assert "does not follow you" in refused["error"]
    members = await world.api["alice"].call("GET", f"/api/v1/circles/{world.circle}/accounts")
    assert len(members) == 3  # bea was not added either: all or nothing


async def test_groups_are_private_to_their_owner(world):
    await world.api["ann"].call("GET", f"/api/v1/circles/{world.circle}", expect=404)
    await world.api["ann"].call("GET", f"/api/v1/circles/{world.circle}/accounts", expect=404)
    await world.api["ann"].call(
        "POST", "/api/v1/statuses", expect=404, json={"status": "x", "circle_id": world.circle}
    )
    assert await world.api["ann"].call("GET", "/api/v1/circles") == []
    mine = await world.api["alice"].call("GET", "/api/v1/circles")
    assert mine == [{"id": world.circle, "title": "customers"}]
    renamed = await world.api["alice"].call(
        "PUT", f"/api/v1/circles/{world.circle}", json={"title": "partners"}
    )
    assert renamed["title"] == "partners"
    await world.api["alice"].call("POST", "/api/v1/circles", expect=409, json={"title": "partners"})
    await world.api["alice"].call(
        "POST",
        "/api/v1/statuses",
        expect=422,
        json={"status": "x", "circle_id": world.circle, "visibility": "public"},
    )
    await world.api["alice"].call(
        "POST", "/api/v1/statuses", expect=422, json={"status": "x", "visibility": "limited"}
    )


async def test_deleting_a_group_keeps_past_posts_with_their_audience(world):
    post = await world.post(status="kept", circle_id=world.circle)
    await world.api["alice"].call("DELETE", f"/api/v1/circles/{world.circle}")
    assert await world.api["alice"].call("GET", "/api/v1/circles") == []
    assert post["uri"] in await world.home_uris("ann")
    assert post["uri"] not in await world.home_uris("amy")


# -- remote restricted posts ---------------------------------------------------


async def test_remote_group_post_is_shown_only_to_its_local_recipients(world):
    """bob (on B) posts to his own group holding alice; amy on A follows bob too."""
    for user in ("alice", "amy"):
        found = await world.api[user].call(
            "GET", "/api/v2/search", params={"q": world.b.handle("bob"), "resolve": "true"}
        )
        await world.api[user].call("POST", f"/api/v1/accounts/{found['accounts'][0]['id']}/follow")
    await world.settle()
    bob = world.api["bob"]
    me = await bob.call("GET", "/api/v1/accounts/verify_credentials")
    followers = await bob.call("GET", f"/api/v1/accounts/{me['id']}/followers")
    alice_on_b = next(f["id"] for f in followers if f["acct"] == world.a.handle("alice"))
    circle = await bob.call("POST", "/api/v1/circles", json={"title": "close"})
    await bob.call(
        "POST", f"/api/v1/circles/{circle['id']}/accounts", json={"account_ids": [alice_on_b]}
    )
    post = await bob.call(
        "POST", "/api/v1/statuses", json={"status": "just for alice", "circle_id": circle["id"]}
    )
    await world.settle()
    assert post["uri"] in await world.home_uris("alice")
    assert post["uri"] not in await world.home_uris("amy")
    copy = await _status_on(world.a, post["uri"])
    await world.api["amy"].call("GET", f"/api/v1/statuses/{copy.id}", expect=404)
    assert copy.visibility == "limited"


async def test_forged_create_claiming_a_foreign_audience_shows_nobody(world, http):
    """dora (D) addresses a note to alice's followers collection, as if she could speak to
    them, and wraps it in an activity that claims to be public. Nobody on A sees it."""
    dora = await world.d.ctx.store.find_account("dora", "")
    key = (await world.d.ctx.store.get_local_user(dora.id)).private_key_pem
    alice_followers = f"{world.a.base_url}/users/alice/followers"
    note_id = f"{dora.uri}/statuses/999"
    body = json.dumps(
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{note_id}/activity",
            "type": "Create",
            "actor": dora.uri,
            "to": [PUBLIC],
            "cc": [alice_followers],
            "object": {
                "id": note_id,
                "type": "Note",
                "attributedTo": dora.uri,
                "content": "<p>sneaky</p>",
                "to": [alice_followers],
                "cc": [],
            },
        }
    ).encode()
    url = f"{world.a.base_url}/inbox"
    headers = sign_request("POST", url, dora.public_key_id, key, body)
    headers["Content-Type"] = AS2
    async with http.post(url, data=body, headers=headers) as resp:
        assert resp.status == 202
    for user in ("alice", "ann", "amy"):
        assert note_id not in await world.home_uris(user), user
    public = await world.api["amy"].call("GET", "/api/v1/timelines/public")
    assert note_id not in [s["uri"] for s in public]
    stored = await _status_on(world.a, note_id)
    assert stored is None or (
        stored.visibility == "limited"
        and await world.a.ctx.store.status_recipients(stored.id) == []
    )


async def test_boosts_of_restricted_posts_are_refused(world, http):
    post = await world.post(status="followers only", visibility="private")
    copy = await _status_on(world.b, post["uri"])
    refused = await world.api["bob"].call("POST", f"/api/v1/statuses/{copy.id}/reblog", expect=403)
    assert "public" in refused["error"]
    # A hand-made Announce from B's bob for it changes nothing on A.
    bob = await world.b.ctx.store.find_account("bob", "")
    key = (await world.b.ctx.store.get_local_user(bob.id)).private_key_pem
    body = json.dumps(
        {
            "id": f"{bob.uri}#announce-1",
            "type": "Announce",
            "actor": bob.uri,
            "object": post["uri"],
            "to": [PUBLIC],
        }
    ).encode()
    url = f"{world.a.base_url}/inbox"
    headers = sign_request("POST", url, bob.public_key_id, key, body)
    headers["Content-Type"] = AS2
    async with http.post(url, data=body, headers=headers) as resp:
        assert resp.status == 202
    status = await world.api["alice"].call("GET", f"/api/v1/statuses/{post['id']}")
    assert status["reblogs_count"] == 0


def _page():
    from fedchirp.store.models import Page

    return Page(limit=40)


async def test_edit_does_not_reach_a_removed_member_who_liked_the_post(world):
    post = await world.post(status="plan A", circle_id=world.circle)
    copy = await _status_on(world.b, post["uri"])
    await world.api["bob"].call("POST", f"/api/v1/statuses/{copy.id}/favourite")
    await world.settle()
    await world.api["alice"].call(
        "DELETE",
        f"/api/v1/circles/{world.circle}/accounts",
        json={"account_ids": [world.ids_on_a["bob"]]},
    )
    await world.api["alice"].call(
        "PUT", f"/api/v1/statuses/{post['id']}", json={"status": "SECRET plan B, bob is out"}
    )
    await world.settle()
    assert "SECRET" not in (await _status_on(world.b, post["uri"])).content
    assert "SECRET" in (await _status_on(world.c, post["uri"])).content  # carl is still in
    # But deleting it still reaches bob's server, which holds the old copy.
    await world.api["alice"].call("DELETE", f"/api/v1/statuses/{post['id']}")
    await world.settle()
    assert await _status_on(world.b, post["uri"]) is None
