"""What trends are computed from: hashtag use and engagement in recent public posts.

Both aggregates read an id range: status ids are time-ordered (store/ids.py), so
"since this moment" is a range of the status_tags and statuses primary keys (and of the
favourites, boost and reply indexes), whatever the size of the tables. The scoring
(decay, ranking) and a minute's cache are services/trends.py's.

What may trend, as Mastodon has it: public posts (not boosts) of discoverable accounts
that moderation shows publicly (store/moderation.py shown_publicly: neither suspended nor
silenced). The aggregates are the same for everyone; what a viewer must not see (authors
they block, are blocked by, mute, or whose domain they block: store/visibility.py), and
authors moderated since, are taken out per request (trend_hidden_authors).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Integer, bindparam, exists, func, literal_column, or_, select, union
from sqlalchemy.sql import ColumnElement

from fedchirp.store.db import Queries
from fedchirp.store.ids import SEQUENCE_BITS
from fedchirp.store.moderation import shown_publicly
from fedchirp.store.query import Prepared, ids_param, prepared
from fedchirp.store.schema import accounts, favourites, followed_tags, status_tags, statuses
from fedchirp.store.visibility import hidden_account, muted

# Ids of one UTC day: a status's day is its id divided by this, in integer division on
# both databases (written into the SQL, so SELECT and GROUP BY hold the same expression
# on PostgreSQL).
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


def trendable() -> list[ColumnElement[bool]]:
    """Conditions on statuses rows that may trend, for anyone."""
    return [
        statuses.c.visibility == "public",
        statuses.c.reblog_of_id.is_(None),
        shown_publicly(),
        exists().where(accounts.c.id == statuses.c.account_id, accounts.c.discoverable == 1),
    ]


@prepared
def _hidden_authors(anonymous: bool) -> Prepared:
    """Of the accounts in ids, those whose posts may not trend now (the rule of
    trendable() on accounts) or, for a viewer, that a block (either way), a domain
    block or a live mute separates from the viewer."""
    hidden = or_(
        accounts.c.discoverable == 0,
        accounts.c.suspended_at.is_not(None),
        accounts.c.silenced_at.is_not(None),
    )
    if not anonymous:
        viewer = bindparam("viewer")
        hidden = or_(
            hidden,
            hidden_account(viewer, accounts.c.id),
            muted(viewer, accounts.c.id, bindparam("now")),
        )
    return Prepared(select(accounts.c.id).where(accounts.c.id.in_(ids_param()), hidden))


class TrendQueries(Queries):
    async def trend_tag_uses(self, since_id: int) -> list[TagUse]:
        """Per hashtag, account and day: the trendable posts since since_id using it."""
        day = statuses.c.id.op("/", return_type=Integer)(literal_column(str(IDS_PER_DAY)))
        statement = (
            select(
                status_tags.c.tag,
                statuses.c.account_id,
                day.label("day"),
                func.count().label("uses"),
                func.max(statuses.c.id).label("last_status_id"),
            )
            .select_from(status_tags.join(statuses, statuses.c.id == status_tags.c.status_id))
            .where(status_tags.c.status_id >= since_id, *trendable())
            .group_by(status_tags.c.tag, statuses.c.account_id, day)
        )
        return [TagUse(**row) for row in await self.db.all(statement)]

    async def trend_status_engagement(self, since_id: int) -> list[Engagement]:
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
        # The engagement drives the read; each post is one key lookup (joined instead,
        # SQLite scanned the engagement once per post of the window).
        trending_post = exists().where(
            statuses.c.id == engaged.c.status_id,
            statuses.c.account_id != engaged.c.account_id,
            statuses.c.in_reply_to_id.is_(None),
            statuses.c.in_reply_to_uri.is_(None),
            statuses.c.sensitive == 0,
            statuses.c.spoiler_text == "",
            *trendable(),
        )
        statement = (
            select(engaged.c.status_id, func.count().label("accounts"))
            .where(
                trending_post,
                exists().where(
                    engager.c.id == engaged.c.account_id, engager.c.suspended_at.is_(None)
                ),
            )
            .group_by(engaged.c.status_id)
        )
        return [Engagement(**row) for row in await self.db.all(statement)]

    async def trend_hidden_authors(
        self, viewer_id: int | None, author_ids: Iterable[int]
    ) -> set[int]:
        """Which of these authors' posts may not trend for the viewer (None: anonymous)
        now: see _hidden_authors."""
        params = {"ids": list(set(author_ids)), "viewer": viewer_id, "now": time.time()}
        rows = await self.db.fetch(_hidden_authors(viewer_id is None), params)
        return {row["id"] for row in rows}

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
