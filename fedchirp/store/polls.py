"""Polls: the poll of a status, its votes, and the tallies counted from them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, distinct, func, insert, select, update

from fedchirp.clock import now_iso
from fedchirp.store import dialect
from fedchirp.store.db import Queries
from fedchirp.store.poll_tables import poll_votes, polls
from fedchirp.store.query import Prepared, Read, ids_param

# Reads for every page of statuses: prepared once (store/query.py Prepared).
_POLLS_OF = Prepared(select(polls).where(polls.c.status_id.in_(ids_param())))
_CHOICES_OF = Prepared(
    select(poll_votes.c.status_id, poll_votes.c.choice)
    .where(poll_votes.c.account_id == bindparam("viewer"), poll_votes.c.status_id.in_(ids_param()))
    .order_by(poll_votes.c.choice)
)


@dataclass(frozen=True)
class Poll:
    status_id: int
    options: tuple[str, ...]
    tallies: tuple[int, ...]
    multiple: bool
    hide_totals: bool
    expires_at: str | None
    votes_count: int
    voters_count: int | None
    closed_at: str | None
    last_fetched: float | None


def _poll(row: dict[str, Any] | None) -> Poll | None:
    if row is None:
        return None
    return Poll(
        **{
            **row,
            "options": tuple(json.loads(row["options"])),
            "tallies": tuple(json.loads(row["tallies"])),
            "multiple": bool(row["multiple"]),
            "hide_totals": bool(row["hide_totals"]),
        }
    )


def polls_read(status_ids: list[int]) -> Read[dict[int, Poll]]:
    """The polls of these statuses, by status id (for a page's one trip)."""
    return Read(_POLLS_OF, {"ids": status_ids}, _polls_by_status)


def choices_read(status_ids: list[int], viewer_id: int) -> Read[dict[int, list[int]]]:
    """The options the viewer chose in these statuses' polls."""
    return Read(_CHOICES_OF, {"ids": status_ids, "viewer": viewer_id}, _choices)


def _polls_by_status(rows: list[dict[str, Any]]) -> dict[int, Poll]:
    return {row["status_id"]: _poll(row) for row in rows}  # type: ignore[misc]


def _choices(rows: list[dict[str, Any]]) -> dict[int, list[int]]:
    chosen: dict[int, list[int]] = {}
    for row in rows:
        chosen.setdefault(row["status_id"], []).append(row["choice"])
    return chosen


def _encoded(values: dict[str, Any]) -> dict[str, Any]:
    """Column values, with the option and tally lists written as JSON."""
    return {
        k: json.dumps(list(v), ensure_ascii=False) if k in ("options", "tallies") else v
        for k, v in values.items()
    }


class PollQueries(Queries):
    async def insert_poll(self, status_id: int, **values: Any) -> None:
        await self.db.write(insert(polls).values(status_id=status_id, **_encoded(values)))

    async def update_poll(self, status_id: int, **values: Any) -> None:
        await self.db.write(
            update(polls).where(polls.c.status_id == status_id).values(**_encoded(values))
        )

    async def get_poll(self, status_id: int) -> Poll | None:
        return _poll(await self.db.one(select(polls).where(polls.c.status_id == status_id)))

    async def lock_poll(self, status_id: int) -> Poll | None:
        """The poll, its row locked until the unit ends (PostgreSQL; SQLite has one
        writer): votes counted at once would otherwise each miss the other's."""
        assert self.db.in_unit(), "a lock is held by a unit of work"
        statement = select(polls).where(polls.c.status_id == status_id).with_for_update()
        return _poll(await self.db.one(statement))

    async def own_choices(self, status_ids: Iterable[int], account_id: int) -> dict[int, list[int]]:
        """The options an account chose, per poll, in the order of the options."""
        ids = list(set(status_ids))
        if not ids:
            return {}
        return await self.db.read(choices_read(ids, account_id))

    async def insert_poll_vote(
        self, status_id: int, account_id: int, choice: int, uri: str | None
    ) -> bool:
        """Record one choice; False if this account had chosen it already."""
        result = await self.db.write(
            dialect.insert_ignore(self.db.dialect, poll_votes).values(
                status_id=status_id,
                account_id=account_id,
                choice=choice,
                uri=uri,
                created_at=now_iso(),
            )
        )
        return result.rowcount == 1

    async def retally_poll(self, status_id: int) -> None:
        """Count a poll's votes into its tallies (its row locked first)."""
        mine = poll_votes.c.status_id == status_id
        async with self.db.atomic():
            poll = await self.lock_poll(status_id)
            if poll is None:
                return
            rows = await self.db.all(
                select(poll_votes.c.choice, func.count().label("n"))
                .where(mine)
                .group_by(poll_votes.c.choice)
            )
            voters = await self.db.scalar(
                select(func.count(distinct(poll_votes.c.account_id))).where(mine)
            )
            counts = {r["choice"]: r["n"] for r in rows}
            tallies = [counts.get(n, 0) for n in range(len(poll.options))]
            await self.update_poll(
                status_id, tallies=tallies, votes_count=sum(tallies), voters_count=voters or 0
            )

    async def poll_voter_ids(self, status_id: int) -> list[int]:
        rows = await self.db.all(
            select(poll_votes.c.account_id).where(poll_votes.c.status_id == status_id).distinct()
        )
        return [row["account_id"] for row in rows]
