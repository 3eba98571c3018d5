"""Polls on the wire, as Mastodon speaks them.

A poll is a Question: its options are Notes under oneOf (one choice) or anyOf
(several), each with `name` and `replies.totalItems` (its votes); `endTime`,
`closed` and `votersCount` say when it ends and how many took part. A vote is a
Create(Note) whose `name` is the chosen option's title and whose `inReplyTo` is the
Question, addressed to the poll's author only; one Note per option chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fedchirp.clock import parse_iso

MAX_REMOTE_OPTIONS = 20
MAX_TITLE = 200


@dataclass(frozen=True)
class RemotePoll:
    options: tuple[str, ...]
    tallies: tuple[int, ...]
    multiple: bool
    hide_totals: bool  # the options carried no totals
    expires_at: datetime | None
    closed_at: datetime | None
    voters_count: int | None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def parse_poll(document: dict[str, Any]) -> RemotePoll | None:
    """The poll of a Question, or None for any other object (or a Question without options)."""
    multiple = isinstance(document.get("anyOf"), list)
    choices = document.get("anyOf") if multiple else document.get("oneOf")
    if not isinstance(choices, list) or not choices:
        return None
    titles, tallies, hidden = [], [], False
    for choice in choices[:MAX_REMOTE_OPTIONS]:
        if not isinstance(choice, dict) or not isinstance(choice.get("name"), str):
            continue
        replies = choice.get("replies")
        total = _count(replies.get("totalItems")) if isinstance(replies, dict) else None
        hidden = hidden or total is None
        titles.append(choice["name"][:MAX_TITLE])
        tallies.append(total or 0)
    if not titles:
        return None
    closed = document.get("closed")
    return RemotePoll(
        options=tuple(titles),
        tallies=tuple(tallies),
        multiple=multiple,
        hide_totals=hidden,
        expires_at=parse_iso(document.get("endTime")),
        closed_at=parse_iso(closed) if isinstance(closed, str) else None,
        voters_count=_count(document.get("votersCount")),
    )


def question_fields(
    options: Sequence[str],
    tallies: Sequence[int] | None,
    multiple: bool,
    expires_at: str | None,
    closed_at: str | None,
    voters_count: int | None,
) -> dict[str, Any]:
    """What turns a Note document into a Question (tallies None: totals hidden)."""
    choices = []
    for n, title in enumerate(options):
        choice: dict[str, Any] = {"type": "Note", "name": title}
        if tallies is not None:
            choice["replies"] = {"type": "Collection", "totalItems": tallies[n]}
        choices.append(choice)
    fields: dict[str, Any] = {
        "type": "Question",
        "anyOf" if multiple else "oneOf": choices,
        "endTime": expires_at,
        "votersCount": voters_count,
    }
    if closed_at:
        fields["closed"] = closed_at
    return fields


def vote_note(
    vote_uri: str, voter_uri: str, author_uri: str, question_uri: str, title: str
) -> dict[str, Any]:
    """One chosen option, as the Note Mastodon sends to the poll's author."""
    return {
        "id": vote_uri,
        "type": "Note",
        "name": title,
        "attributedTo": voter_uri,
        "to": [author_uri],
        "inReplyTo": question_uri,
    }
