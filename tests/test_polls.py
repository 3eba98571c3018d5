"""Polls between two instances, driven by Mastodon.py: a poll posted on one instance is
seen and voted in on the other; the vote travels as Create(Note) with name/inReplyTo,
the new counts come back as Update(Question), and the poll's end closes it everywhere
and tells the voters and the author."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from mastodon import MastodonAPIError
from PIL import Image

from fedchirp.clock import parse_iso
from fedchirp.localnet import settle
from tests.test_mastodon_api import follow_remote, login, sync

pytestmark = pytest.mark.backends


async def _until(check, *instances, timeout: float = 15.0):
    """Settle the instances until check() answers something true (a result update is
    sent at the end of its time slot, not at once); that answer."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        await settle(*instances)
        found = await check()
        if found or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.3)


async def _end_polls(*instances, after: float) -> None:
    """Run every job due `after` seconds from now, as workers whose clocks say so."""
    for instance in instances:
        moved = instance.ctx.jobs.clock() + after
        instance.ctx.jobs.clock = lambda moved=moved: moved
    await settle(*instances)


def _tallies(poll: dict) -> list:
    return [option["votes_count"] for option in poll["options"]]


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "PNG")
    return out.getvalue()


def _status_code(exc: pytest.ExceptionInfo) -> int:
    return exc.value.args[1]


async def test_poll_is_seen_voted_counted_and_closed_across_instances(pair):
    a, b = pair
    await a.create_user("alice")
    await a.create_user("amy")
    await b.create_user("bob")
    alice, amy, bob = await login(a, "alice"), await login(a, "amy"), await login(b, "bob")
    await follow_remote(bob, a.handle("alice"))
    await settle(a, b)

    limits = (await sync(bob.instance_v2))["configuration"]["polls"]
    assert limits == {
        "max_options": 4,
        "max_characters_per_option": 50,
        "min_expiration": 300,
        "max_expiration": 2629746,
    }
    poll = await sync(alice.make_poll, ["tea", "coffee", "water"], expires_in=600)
    posted = await sync(alice.status_post, "What do you drink?", poll=poll)
    mine = posted["poll"]
    assert [o["title"] for o in mine["options"]] == ["tea", "coffee", "water"]
    assert (mine["expired"], mine["multiple"], mine["voted"], mine["own_votes"]) == (
        False, False, False, [],
    )  # fmt: skip
    assert _tallies(mine) == [0, 0, 0] and mine["votes_count"] == 0
    ends = mine["expires_at"] - posted["created_at"]  # Mastodon.py reads them as datetimes
    assert timedelta(seconds=599) < ends < timedelta(seconds=601)
    await settle(a, b)

    # bob sees it at home, and by looking it up, with its options.
    seen = (await sync(bob.timeline_home))[0]
    assert seen["uri"] == posted["uri"]
    assert [o["title"] for o in seen["poll"]["options"]] == ["tea", "coffee", "water"]
    assert seen["poll"]["expires_at"] == mine["expires_at"]
    found = await sync(bob.search_v2, posted["uri"], resolve=True)
    assert found["statuses"][0]["id"] == seen["id"]

    voted = await sync(bob.poll_vote, seen["poll"], 1)
    assert voted["voted"] is True and voted["own_votes"] == [1]
    assert _tallies(voted) == [0, 1, 0]
    with pytest.raises(MastodonAPIError) as again:
        await sync(bob.poll_vote, seen["poll"], 0)
    assert _status_code(again) == 422
    await sync(amy.poll_vote, mine, 0)
    await settle(a, b)

    # alice's instance counted bob's vote (with amy's) ...
    counted = await sync(alice.poll, mine)
    assert _tallies(counted) == [1, 1, 0]
    assert (counted["votes_count"], counted["voters_count"]) == (2, 2)
    assert (await sync(alice.status, posted))["replies_count"] == 0  # a vote is no reply

    # ... and bob's shows amy's too once the Update(Question) arrives.
    async def amy_counted_on_b() -> dict | None:
        shown = (await sync(bob.status, seen))["poll"]
        return shown if _tallies(shown) == [1, 1, 0] else None

    shown = await _until(amy_counted_on_b, a, b)
    assert shown, "bob's instance never got the new counts"
    assert shown["voters_count"] == 2 and shown["own_votes"] == [1]

    # The end: a job closes the poll, sends the final counts, tells everyone who voted.
    await _end_polls(a, b, after=601)
    closed = await sync(alice.poll, mine)
    assert closed["expired"] is True and _tallies(closed) == [1, 1, 0]
    for api in (alice, amy, bob):
        told = await sync(api.notifications, types=["poll"])
        kinds = [(n["type"], n["status"]["uri"]) for n in told]
        assert ("poll", posted["uri"]) in kinds, kinds
    assert (await sync(bob.poll, seen["poll"]))["expired"] is True
    with pytest.raises(MastodonAPIError) as late:
        await sync(amy.poll_vote, mine, 2)
    assert _status_code(late) == 422
    # Running the close job again tells nobody twice.
    await a.ctx.jobs.drain()
    assert len([n for n in await sync(alice.notifications) if n["type"] == "poll"]) == 1


async def test_multiple_choice_with_hidden_totals(pair):
    a, b = pair
    await a.create_user("alice")
    await b.create_user("bob")
    alice, bob = await login(a, "alice"), await login(b, "bob")
    await follow_remote(bob, a.handle("alice"))
    await settle(a, b)

    poll = await sync(
        alice.make_poll, ["red", "green", "blue"], expires_in=300, multiple=True,
        hide_totals=True,
    )  # fmt: skip
    posted = await sync(alice.status_post, "Colours?", poll=poll)
    await settle(a, b)
    seen = (await sync(bob.timeline_home))[0]
    assert seen["poll"]["multiple"] is True
    assert _tallies(seen["poll"]) == [None, None, None]  # hidden until the end

    voted = await sync(bob.poll_vote, seen["poll"], [0, 2])
    assert voted["own_votes"] == [0, 2] and _tallies(voted) == [None, None, None]
    await settle(a, b)
    counted = await sync(alice.poll, posted["poll"])
    assert _tallies(counted) == [None, None, None]  # the author sees no totals either
    assert (counted["votes_count"], counted["voters_count"]) == (2, 1)
    stored = await a.ctx.store.get_poll(int(posted["id"]))
    assert stored.tallies == (1, 0, 1)

    await _end_polls(a, b, after=301)
    assert _tallies(await sync(alice.poll, posted["poll"])) == [1, 0, 1]

    async def totals_on_b() -> list | None:
        tallies = _tallies(await sync(bob.poll, seen["poll"]))
        return tallies if tallies == [1, 0, 1] else None

    assert await _until(totals_on_b, a, b), "the final totals never reached bob's instance"


async def test_bad_polls_and_bad_votes_are_refused(pair, client):
    a, b = pair
    await a.create_user("alice")
    await a.create_user("amy")
    await b.create_user("bob")
    api = await client(a, "alice")
    good = {"options": ["yes", "no"], "expires_in": 3600}
    for poll, reason in [
        ({"options": ["only"], "expires_in": 3600}, "2 to 4 options"),
        ({"options": ["a", "b", "c", "d", "e"], "expires_in": 3600}, "2 to 4 options"),
        ({"options": ["a", "x" * 51], "expires_in": 3600}, "1 to 50 characters"),
        ({"options": ["a", "a"], "expires_in": 3600}, "differ"),
        ({"options": ["a", "b"], "expires_in": 10}, "expires_in"),
        ({"options": ["a", "b"], "expires_in": 3_000_000}, "expires_in"),
        ({"options": ["a", "b"]}, "expires_in"),
        ({"options": "a", "expires_in": 3600}, "list"),
    ]:
        status, body = await api.request(
            "POST", "/api/v1/statuses", json={"status": "?", "poll": poll}
        )
        assert status == 422 and reason in body["error"], (poll, body)

    # A poll and media are exclusive.
    upload = aiohttp.FormData()
    upload.add_field("file", _png(), filename="red.png", content_type="image/png")
    media = await api.call("POST", "/api/v2/media", data=upload)
    status, body = await api.request(
        "POST", "/api/v1/statuses", json={"status": "?", "poll": good, "media_ids": [media["id"]]}
    )
    assert status == 422 and "poll and media" in body["error"]
    # ... and the refusal changed nothing: the upload is still free to attach.
    with_media = await api.call(
        "POST", "/api/v1/statuses", json={"status": "pic", "media_ids": [media["id"]]}
    )
    assert with_media["media_attachments"][0]["id"] == media["id"]

    # Form parameters, as toot and web forms send them.
    made = await api.call(
        "POST",
        "/api/v1/statuses",
        data=[("status", "Form?"), ("poll[options][]", "yes"), ("poll[options][]", "no"),
              ("poll[expires_in]", "3600")],
    )  # fmt: skip
    assert [o["title"] for o in made["poll"]["options"]] == ["yes", "no"]
    poll_id = made["poll"]["id"]
    # Its page lists the options.
    async with api.session.get(made["url"], headers={"Accept": "text/html"}) as page:
        html = await page.text()
    assert page.status == 200 and '<ul class="poll">' in html
    assert "<li>yes · 0</li>" in html and "<li>no · 0</li>" in html
    # Someone elsewhere who looks it up gets it with its poll (fetched as a Question).
    bob = await client(b, "bob")
    found = await bob.call("GET", "/api/v2/search", params={"q": made["uri"], "resolve": "1"})
    assert [o["title"] for o in found["statuses"][0]["poll"]["options"]] == ["yes", "no"]

    amy = await client(a, "amy")
    for choices, reason in [
        ([2], "option numbers"),
        ([-1], "option numbers"),
        ([0, 1], "one choice only"),
        ([], "at least one"),
        (["x"], "option numbers"),
    ]:
        status, body = await amy.request(
            "POST", f"/api/v1/polls/{poll_id}/votes", json={"choices": choices}
        )
        assert status == 422 and reason in body["error"], (choices, body)
    assert (await amy.call("GET", f"/api/v1/polls/{poll_id}"))["voted"] is False
    await amy.call("POST", f"/api/v1/polls/{poll_id}/votes", json={"choices": [1]})
    status, body = await amy.request(
        "POST", f"/api/v1/polls/{poll_id}/votes", json={"choices": [0]}
    )
    assert status == 422 and "already voted" in body["error"]

    # A followers-only poll is not there for someone who does not follow.
    private = await api.call(
        "POST", "/api/v1/statuses", json={"status": "Us?", "poll": good, "visibility": "private"}
    )
    found = await bob.call("GET", "/api/v2/search", params={"q": private["uri"], "resolve": "1"})
    assert found["statuses"] == []
    await a.create_user("sam")
    stranger = await client(a, "sam")
    for method, path, kwargs in [
        ("GET", f"/api/v1/polls/{private['id']}", {}),
        ("POST", f"/api/v1/polls/{private['id']}/votes", {"json": {"choices": [0]}}),
    ]:
        status, body = await stranger.request(method, path, **kwargs)
        assert status == 404, body
    # A post without a poll has none to show.
    plain = await api.call("POST", "/api/v1/statuses", json={"status": "plain"})
    status, _ = await api.request("GET", f"/api/v1/polls/{plain['id']}")
    assert status == 404 and plain["poll"] is None


async def test_a_scheduled_post_keeps_its_poll(start, client):
    a = await start("a")
    await a.create_user("alice")
    api = await client(a, "alice")
    when = datetime.now(UTC) + timedelta(hours=1)
    poll = {"options": ["now", "later"], "expires_in": 900, "multiple": True}
    entry = await api.call(
        "POST",
        "/api/v1/statuses",
        json={"status": "When?", "poll": poll, "scheduled_at": when.isoformat()},
    )
    assert entry["params"]["poll"] == {**poll, "hide_totals": False}
    bad = {"options": ["only"], "expires_in": 900}
    status, body = await api.request(
        "POST",
        "/api/v1/statuses",
        json={"status": "When?", "poll": bad, "scheduled_at": when.isoformat()},
    )
    assert status == 422 and "options" in body["error"]

    await _end_polls(a, after=3601)
    [published] = await api.call("GET", "/api/v1/timelines/home")
    assert [o["title"] for o in published["poll"]["options"]] == ["now", "later"]
    assert published["poll"]["multiple"] is True
    ends = parse_iso(published["poll"]["expires_at"]) - parse_iso(published["created_at"])
    assert timedelta(seconds=899) < ends < timedelta(seconds=901)  # from its publication
