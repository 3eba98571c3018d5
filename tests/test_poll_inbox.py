"""Polls with a Mastodon-shaped server: its Question is stored with its poll and its
Update(Question) changes the counts; our vote goes to it as Create(Note) with name and
inReplyTo; its votes in our polls are counted once per option, and only where the poll
was shown to the voter."""

from __future__ import annotations

import json

import pytest

from fedchirp.federation.vocab import PUBLIC
from fedchirp.localnet import settle
from tests.test_blocks import _send
from tests.test_polls import _tallies, _until

pytestmark = pytest.mark.backends


def _question(actor: str, alice_uri: str, counts: list[int], **extra) -> dict:
    """A Question as Mastodon's NoteSerializer writes one (several choices: anyOf)."""
    return {
        "id": f"{actor}/statuses/1",
        "type": "Question",
        "attributedTo": actor,
        "content": "<p>Lunch, @alice?</p>",
        "published": "2026-01-01T12:00:00Z",
        "to": [PUBLIC],
        "cc": [f"{actor}/followers", alice_uri],
        "tag": [{"type": "Mention", "href": alice_uri, "name": "@alice"}],
        "endTime": "2099-01-01T12:00:00Z",
        "votersCount": 4,
        "anyOf": [
            {"type": "Note", "name": title, "replies": {"type": "Collection", "totalItems": n}}
            for title, n in zip(["soup", "salad"], counts, strict=True)
        ],
        **extra,
    }


def _received(remote, kind: str) -> list[dict]:
    return [doc for doc in (json.loads(r.body) for r in remote.inbox) if doc["type"] == kind]


async def test_a_remote_question_is_shown_updated_and_voted_in(start, remote, http, client):
    a = await start("a")
    alice = await a.create_user("alice")
    api = await client(a, "alice")
    mal = remote.add_actor("mal")
    question = _question(mal, alice.uri, [3, 2])
    await _send(http, a, remote, "mal", {
        "id": f"{mal}/statuses/1/activity", "type": "Create", "actor": mal,
        "object": question, "to": question["to"], "cc": question["cc"],
    })  # fmt: skip
    [shown] = await api.call("GET", "/api/v1/notifications", params={"types[]": "mention"})
    status = shown["status"]
    poll = status["poll"]
    assert [o["title"] for o in poll["options"]] == ["soup", "salad"]
    assert _tallies(poll) == [3, 2] and poll["multiple"] is True
    assert (poll["votes_count"], poll["voters_count"], poll["expired"]) == (5, 4, False)

    # New counts only: the post is not shown as edited.
    updated = _question(mal, alice.uri, [4, 4], votersCount=6)
    await _send(http, a, remote, "mal", {
        "id": f"{mal}/statuses/1#updates/1", "type": "Update", "actor": mal, "object": updated,
    })  # fmt: skip
    again = await api.call("GET", f"/api/v1/statuses/{status['id']}")
    assert _tallies(again["poll"]) == [4, 4] and again["poll"]["voters_count"] == 6
    assert again["edited_at"] is None

    voted = await api.call("POST", f"/api/v1/polls/{poll['id']}/votes", json={"choices": [0, 1]})
    assert _tallies(voted) == [5, 5] and voted["own_votes"] == [0, 1]
    await settle(a)
    votes = [doc["object"] for doc in _received(remote, "Create")]
    assert sorted(v["name"] for v in votes) == ["salad", "soup"]
    for vote in votes:
        assert vote["type"] == "Note" and vote["inReplyTo"] == question["id"]
        assert vote["attributedTo"] == alice.uri and vote["to"] == [mal]
    assert {r.path_qs for r in remote.inbox} == {"/users/mal/inbox"}  # the author's own inbox


async def test_remote_votes_count_once_and_only_where_the_poll_was_shown(
    start, remote, http, client
):
    a = await start("a")
    alice = await a.create_user("alice")
    api = await client(a, "alice")
    mal = remote.add_actor("mal")
    poll = {"options": ["yes", "no"], "expires_in": 3600}
    public = await api.call("POST", "/api/v1/statuses", json={"status": "?", "poll": poll})
    n = iter(range(100))

    async def vote(status: dict, title: str) -> None:
        note_id = f"{mal}#votes/{next(n)}"
        note = {"id": note_id, "type": "Note", "name": title, "attributedTo": mal,
                "to": [alice.uri], "inReplyTo": status["uri"]}  # fmt: skip
        await _send(http, a, remote, "mal", {
            "id": f"{note_id}/activity", "type": "Create", "actor": mal, "object": note,
            "to": [alice.uri],
        })  # fmt: skip

    await vote(public, "yes")
    await vote(public, "yes")  # the same option again
    await vote(public, "no")  # a second option in a one-choice poll
    await vote(public, "maybe")  # no such option
    counted = await api.call("GET", f"/api/v1/polls/{public['id']}")
    assert _tallies(counted) == [1, 0] and counted["voters_count"] == 1
    shown = await api.call("GET", f"/api/v1/statuses/{public['id']}")
    assert shown["replies_count"] == 0  # votes are not replies
    assert await api.call("GET", "/api/v1/notifications") == []

    # mal, a voter, is sent the new counts.
    async def update_sent() -> list:
        return [d for d in _received(remote, "Update") if d["object"]["id"] == public["uri"]]

    [update] = await _until(update_sent, a)
    question = update["object"]
    assert question["type"] == "Question" and "updated" not in question
    assert [(o["name"], o["replies"]["totalItems"]) for o in question["oneOf"]] == [
        ("yes", 1), ("no", 0),
    ]  # fmt: skip
    assert question["votersCount"] == 1 and question["endTime"] == public["poll"]["expires_at"]

    # A followers-only poll was never shown to mal: its vote is not counted.
    private = await api.call(
        "POST", "/api/v1/statuses", json={"status": "?", "poll": poll, "visibility": "private"}
    )
    await vote(private, "yes")
    assert _tallies(await api.call("GET", f"/api/v1/polls/{private['id']}")) == [0, 0]
