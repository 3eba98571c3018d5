"""What trends are computed from: hashtag use and engagement in recent public posts.

Both reads are aggregates over an id range: status ids are time-ordered (store/ids.py),
so "since this moment" is a range of the statuses and status_tags primary keys (and of
the favourites, boost and reply indexes), whatever the size of the tables. The scoring
(decay, ranking) is services/trends.py's.

What may trend, as Mastodon has it: public posts (not boosts) of discoverable accounts
that moderation shows publicly (store/moderation.py shown_publicly: neither suspended nor
silenced); for a signed-in viewer, not those of accounts they block, are blocked by,
mute, or whose domain they block (store/visibility.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import exists, func, literal_column, select, union
from sqlalchemy.sql import ColumnElement

from fedchirp.store.db import Queries
from fedchirp.store.ids import SEQUENCE_BITS
from fedchirp.store.moderation import shown_publicly
from fedchirp.store.schema import accounts, favourites, followed_tags, status_tags, statuses
from fedchirp.store.visibility import not_blocked, not_muted

# Ids of one UTC day: a status's day is its id divided by this (written into the SQL, so
# the same expression appears in SELECT and GROUP BY on PostgreSQL).
IDS_PER_DAY = 86_400_000 << SEQUENCE_BITS


@dataclass(frozen=True)
class TagUse:
    """One account's use of a hashtag on one UTC day (days since the epoch)."""

    tag: str
    account_id: int
    day: int
    uses: int
    last_status_id: int


@dataclass(frozen=True)
class Engagement:
    """How many distinct accounts (not the author) liked, boosted or answered a post."""

    status_id: int
    accounts: int


def trendable(viewer_id: int | None) -> list[ColumnElement[bool]]:
    """Conditions on statuses rows that may trend, for this viewer (None: anonymous)."""
    conditions = [
        statuses.c.visibility == "public",
        statuses.c.reblog_of_id.is_(None),
        shown_publicly(),
        exists().where(accounts.c.id == statuses.c.account_id, accounts.c.discoverable == 1),
    ]
    if viewer_id is not None:
        conditions += [not_blocked(viewer_id), not_muted(viewer_id, time.time())]
    return conditions


class TrendQueries(Queries):
    async def trend_tag_uses(self, since_id: int, viewer_id: int | None) -> list[TagUse]:
        """Per hashtag, account and day: the trendable posts since since_id using it."""
        day = statuses.c.id // literal_column(str(IDS_PER_DAY))
        statement = (
            select(
                status_tags.c.tag,
                statuses.c.account_id,
                day.label("day"),
                func.count().label("uses"),
                func.max(statuses.c.id).label("last_status_id"),
            )
            .select_from(status_tags.join(statuses, statuses.c.id == status_tags.c.status_id))
            .where(status_tags.c.status_id >= since_id, *trendable(viewer_id))
            .group_by(status_tags.c.tag, statuses.c.account_id, day)
        )
        return [TagUse(**row) for row in await self.db.all(statement)]

    async def trend_status_engagement(
        self, since_id: int, viewer_id: int | None
    ) -> list[Engagement]:
        """Trendable posts since since_id (not replies, nothing behind a warning) that
        accounts other than their author liked, boosted or answered; each account once."""
        boosts = statuses.alias("trend_boosts")
        replies = statuses.alias("trend_replies")
        engaged = union(
            select(favourites.c.status_id, favourites.c.account_id).where(
                favourites.c.status_id >= since_id
            ),
            select(boosts.c.reblog_of_id, boosts.c.account_id).where(
                boosts.c.reblog_of_id >= since_id
            ),
            select(replies.c.in_reply_to_id, replies.c.account_id).where(
                replies.c.in_reply_to_id >= since_id
            ),
        ).subquery("engaged")
        engager = accounts.alias("trend_engager")
        statement = (
            select(statuses.c.id.label("status_id"), func.count().label("accounts"))
            .select_from(engaged.join(statuses, statuses.c.id == engaged.c.status_id))
            .where(
                engaged.c.account_id != statuses.c.account_id,
                exists().where(
                    engager.c.id == engaged.c.account_id, engager.c.suspended_at.is_(None)
                ),
                statuses.c.id >= since_id,
                statuses.c.in_reply_to_id.is_(None),
                statuses.c.in_reply_to_uri.is_(None),
                statuses.c.sensitive == 0,
                statuses.c.spoiler_text == "",
                *trendable(viewer_id),
            )
            .group_by(statuses.c.id)
        )
        return [Engagement(**row) for row in await self.db.all(statement)]

    async def trend_followed_tags(self, account_id: int, tags: Iterable[str]) -> set[str]:
        """Which of these hashtags the account follows."""
        names = list(set(tags))
        if not names:
            return set()
        rows = await self.db.scalars(
            select(followed_tags.c.tag).where(
                followed_tags.c.account_id == account_id, followed_tags.c.tag.in_(names)
            )
        )
        return set(rows)
