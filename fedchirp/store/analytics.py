"""Figures for an account's owner: follower growth, delivery outcomes, interactions."""

from __future__ import annotations

from sqlalchemy import func, select

from fedchirp.store.db import Queries
from fedchirp.store.schema import favourites, follower_events, outbound_activities, statuses


class AnalyticsQueries(Queries):
    """Read-only aggregates over follows, deliveries and interactions."""

    async def follower_history(self, account_id: int) -> list[tuple[str, int]]:
        """(day, net change in followers) for each day with a change, oldest first."""
        day = func.substr(follower_events.c.occurred_at, 1, 10).label("day")
        rows = await self.db.all(
            select(day, func.sum(follower_events.c.delta).label("change"))
            .where(follower_events.c.account_id == account_id)
            .group_by(day)
            .order_by(day)
        )
        return [(row["day"], row["change"]) for row in rows]

    async def delivery_stats(self, signer_id: int, status_id: int | None = None) -> dict[str, int]:
        """How many deliveries are delivered, failed or still queued (for one post, or all
        of an account's): counted on each outbound activity as its jobs finish."""
        oa = outbound_activities
        statement = select(
            func.coalesce(func.sum(oa.c.recipients), 0).label("recipients"),
            func.coalesce(func.sum(oa.c.delivered), 0).label("delivered"),
            func.coalesce(func.sum(oa.c.failed), 0).label("failed"),
        ).where(oa.c.signer_id == signer_id)
        if status_id is not None:
            statement = statement.where(oa.c.status_id == status_id)
        row = await self.db.one(statement) or {}
        delivered, failed = int(row.get("delivered", 0)), int(row.get("failed", 0))
        queued = int(row.get("recipients", 0)) - delivered - failed
        return {"delivered": delivered, "failed": failed, "queued": queued}

    async def interactions_received(self, account_id: int) -> dict[str, int]:
        """Boosts, likes and replies others gave an account's posts."""
        boost, post = statuses.alias("b"), statuses.alias("s")
        reblogs = (
            select(func.count())
            .select_from(boost.join(post, post.c.id == boost.c.reblog_of_id))
            .where(post.c.account_id == account_id, boost.c.account_id != account_id)
            .scalar_subquery()
        )
        liked = statuses.alias("s")
        likes = (
            select(func.count())
            .select_from(favourites.join(liked, liked.c.id == favourites.c.status_id))
            .where(liked.c.account_id == account_id, favourites.c.account_id != account_id)
            .scalar_subquery()
        )
        reply = statuses.alias("r")
        replies = (
            select(func.count())
            .where(reply.c.in_reply_to_account_id == account_id, reply.c.account_id != account_id)
            .scalar_subquery()
        )
        row = await self.db.one(
            select(reblogs.label("reblogs"), likes.label("favourites"), replies.label("replies"))
        )
        assert row is not None
        return dict(row)
