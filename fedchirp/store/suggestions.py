"""Who to suggest a user follow, from three sources (Mastodon 4.3's names), each one
aggregate over index ranges of the viewer's own rows or of local accounts:

- friends_of_friends: accounts followed by the accounts the viewer follows;
- most_interactions: authors of posts the viewer liked, boosted or answered lately;
- most_followed: local accounts with the most followers.

Never suggested (`suggestable`): the viewer, accounts the viewer follows or asked to
follow, accounts a block (either way), a domain block or a live mute separates from
the viewer, accounts the viewer dismissed, and accounts that are not discoverable,
are suspended or silenced, or are local users not (yet) allowed in.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, union_all
from sqlalchemy.sql import ColumnElement, Select

from fedchirp.clock import now_iso
from fedchirp.store import dialect
from fedchirp.store.db import Queries
from fedchirp.store.schema import (
    account_stats,
    accounts,
    favourites,
    follows,
    local_users,
    statuses,
    suggestion_dismissals,
)
from fedchirp.store.visibility import hidden_account, muted

Scores = dict[int, int]


def suggestable(viewer_id: int, candidate: ColumnElement[Any]) -> ColumnElement[bool]:
    """True for the candidate accounts this viewer may be offered (see the docstring)."""
    user = local_users.alias("suggested_user")  # never correlated to an outer local_users
    unwelcome_user = exists().where(
        user.c.account_id == candidate, or_(user.c.disabled == 1, user.c.approved == 0)
    )
    return and_(
        candidate != viewer_id,
        exists().where(
            accounts.c.id == candidate,
            accounts.c.discoverable == 1,
            accounts.c.suspended_at.is_(None),
            accounts.c.silenced_at.is_(None),
        ),
        ~unwelcome_user,
        ~exists().where(follows.c.follower_id == viewer_id, follows.c.followee_id == candidate),
        ~exists().where(
            suggestion_dismissals.c.account_id == viewer_id,
            suggestion_dismissals.c.target_account_id == candidate,
        ),
        ~hidden_account(viewer_id, candidate),
        ~muted(viewer_id, candidate, time.time()),
    )


class SuggestionQueries(Queries):
    async def suggestion_friends_of_friends(self, viewer_id: int, limit: int) -> Scores:
        """Candidates followed by the viewer's followees: how many of them follow each."""
        mine, theirs = follows.alias("mine"), follows.alias("theirs")
        counted = (
            select(theirs.c.followee_id.label("id"), func.count().label("score"))
            .select_from(mine.join(theirs, theirs.c.follower_id == mine.c.followee_id))
            .where(
                mine.c.follower_id == viewer_id,
                mine.c.state == "accepted",
                theirs.c.state == "accepted",
            )
            .group_by(theirs.c.followee_id)
        )
        return await self._suggestion_scores(viewer_id, counted, limit)

    async def suggestion_interactions(
        self, viewer_id: int, since_id: int, since_iso: str, limit: int
    ) -> Scores:
        """Authors of the posts the viewer liked (since since_iso), or boosted or answered
        (since since_id): how many of their posts."""
        liked = statuses.alias("liked")
        boosted = statuses.alias("boosted")
        mine = statuses.alias("mine")
        authors = union_all(
            select(liked.c.account_id.label("id"))
            .join(favourites, favourites.c.status_id == liked.c.id)
            .where(favourites.c.account_id == viewer_id, favourites.c.created_at >= since_iso),
            select(boosted.c.account_id)
            .join(mine, mine.c.reblog_of_id == boosted.c.id)
            .where(mine.c.account_id == viewer_id, mine.c.id >= since_id),
            select(mine.c.in_reply_to_account_id).where(
                mine.c.account_id == viewer_id,
                mine.c.id >= since_id,
                mine.c.in_reply_to_account_id.is_not(None),
            ),
        ).subquery("authors")
        counted = select(authors.c.id, func.count().label("score")).group_by(authors.c.id)
        return await self._suggestion_scores(viewer_id, counted, limit)

    async def suggestion_most_followed(self, viewer_id: int, limit: int) -> Scores:
        """Local accounts with followers, by how many."""
        statement = (
            select(account_stats.c.account_id.label("id"), account_stats.c.followers_count)
            .join(local_users, local_users.c.account_id == account_stats.c.account_id)
            .where(
                account_stats.c.followers_count > 0,
                suggestable(viewer_id, account_stats.c.account_id),
            )
            .order_by(account_stats.c.followers_count.desc(), account_stats.c.account_id)
            .limit(limit)
        )
        rows = await self.db.all(statement)
        return {row["id"]: row["followers_count"] for row in rows}

    async def _suggestion_scores(self, viewer_id: int, counted: Select[Any], limit: int) -> Scores:
        """The best-counted candidates (id, score) that may be suggested: counted first,
        so each candidate is checked once, not once per row that counts it."""
        found = counted.subquery("counted")
        statement = (
            select(found.c.id, found.c.score)
            .where(suggestable(viewer_id, found.c.id))
            .order_by(found.c.score.desc(), found.c.id)
            .limit(limit)
        )
        return {row["id"]: row["score"] for row in await self.db.all(statement)}

    async def suggestion_dismiss(self, viewer_id: int, target_id: int) -> None:
        """Never suggest the target to the viewer again (dismissing twice changes nothing)."""
        await self.db.write(
            dialect.insert_ignore(self.db.dialect, suggestion_dismissals).values(
                account_id=viewer_id, target_account_id=target_id, created_at=now_iso()
            )
        )
