"""Timelines: pages of statuses read through indexes, each filtered by the one visibility rule.

The home timeline reads the account's feed (written at fan-out time by
StatusQueries and FollowQueries), newest first: one index range whatever the
size of the statuses table.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import bindparam, delete, select
from sqlalchemy.sql import Select

from fedchirp.store.db import Queries
from fedchirp.store.lists import not_in_exclusive_list
from fedchirp.store.models import Page, Status, StatusFilters
from fedchirp.store.moderation import shown_publicly
from fedchirp.store.query import (
    Prepared,
    ids_param,
    newest_first,
    page_params,
    page_shape,
    paged,
    paged_by_params,
    prepared,
    records,
)
from fedchirp.store.schema import home_feed, local_users, media_attachments, status_tags, statuses
from fedchirp.store.visibility import not_blocked, not_muted, visible_to

# Feed entries kept per account: older pages of the home timeline end here, as
# Mastodon's do (FeedManager keeps 400).
HOME_FEED_SIZE = 800


@prepared
def _visible_ids(anonymous: bool) -> Prepared:
    viewer = None if anonymous else bindparam("viewer")
    return Prepared(select(statuses.c.id).where(statuses.c.id.in_(ids_param()), visible_to(viewer)))


@prepared
def _home_page(shape: tuple[bool, bool, bool]) -> Prepared:
    viewer = bindparam("viewer")
    statement = (
        select(statuses)
        .join(home_feed, home_feed.c.status_id == statuses.c.id)
        .where(
            home_feed.c.account_id == viewer,
            visible_to(viewer),
            not_muted(viewer, bindparam("now")),
            not_in_exclusive_list(viewer),
        )
    )
    return Prepared(paged_by_params(statement, home_feed.c.status_id, shape))


def _for_viewer(statement: Select, viewer_id: int | None) -> Select:
    """A public listing as this viewer reads it: blocks, domain blocks and live mutes apply."""
    if viewer_id is None:
        return statement
    return statement.where(not_blocked(viewer_id), not_muted(viewer_id, time.time()))


class TimelineQueries(Queries):
    async def visible_status_ids(
        self, viewer_id: int | None, status_ids: Iterable[int]
    ) -> set[int]:
        """Which of these statuses the viewer (None: anonymous) may see."""
        ids = list(set(status_ids))
        if not ids:
            return set()
        params = {"ids": ids, "viewer": viewer_id}
        rows = await self.db.fetch(_visible_ids(anonymous=viewer_id is None), params)
        return {row["id"] for row in rows}

    async def home_timeline(self, account_id: int, page: Page) -> list[Status]:
        """The account's feed: own posts, posts of accepted followees that followers may
        see, and posts addressed to it, but not those of members of its exclusive lists;
        newest first."""
        params = {"viewer": account_id, "now": time.time(), **page_params(page)}
        rows = await self.db.fetch(_home_page(page_shape(page)), params)
        return newest_first(records(Status, rows), page)

    async def account_statuses(
        self,
        account_id: int,
        viewer_id: int | None,
        page: Page,
        filters: StatusFilters | None = None,
    ) -> list[Status]:
        """An account's posts and boosts that the viewer may see, newest first."""
        filters = filters or StatusFilters()
        statement = select(statuses).where(
            statuses.c.account_id == account_id, visible_to(viewer_id)
        )
        if filters.exclude_replies:  # threads of one's own posts are not "replies"
            statement = statement.where(
                statuses.c.in_reply_to_id.is_(None)
                | (statuses.c.in_reply_to_account_id == statuses.c.account_id)
            )
        if filters.exclude_reblogs:
            statement = statement.where(statuses.c.reblog_of_id.is_(None))
        if filters.only_media:
            statement = statement.where(
                statuses.c.id.in_(
                    select(media_attachments.c.status_id).where(
                        media_attachments.c.status_id.is_not(None)
                    )
                )
            )
        if filters.tagged:
            statement = statement.where(
                statuses.c.id.in_(
                    select(status_tags.c.status_id).where(
                        status_tags.c.tag == filters.tagged.lower()
                    )
                )
            )
        rows = await self.db.all(paged(statement, statuses.c.id, page))
        return newest_first(records(Status, rows), page)

    async def public_timeline(
        self, local_only: bool, page: Page, viewer_id: int | None = None
    ) -> list[Status]:
        """Public posts (not boosts), through the (visibility, local, id) index; for a
        signed-in viewer without those of accounts they block, mute or are blocked by."""
        statement = select(statuses).where(
            statuses.c.visibility == "public", statuses.c.reblog_of_id.is_(None), shown_publicly()
        )
        if local_only:
            statement = statement.where(statuses.c.local == 1)
        statement = _for_viewer(statement, viewer_id)
        rows = await self.db.all(paged(statement, statuses.c.id, page))
        return newest_first(records(Status, rows), page)

    async def tag_timeline(
        self, tag: str, local_only: bool, page: Page, viewer_id: int | None = None
    ) -> list[Status]:
        """Public posts carrying the tag, newest first, through the (tag, status_id) index."""
        statement = (
            select(statuses)
            .join(status_tags, status_tags.c.status_id == statuses.c.id)
            .where(status_tags.c.tag == tag, statuses.c.visibility == "public", shown_publicly())
        )
        if local_only:
            statement = statement.where(statuses.c.local == 1)
        statement = _for_viewer(statement, viewer_id)
        rows = await self.db.all(paged(statement, status_tags.c.status_id, page))
        return newest_first(records(Status, rows), page)

    async def home_feed_owners(self, status_id: int, account_ids: Iterable[int]) -> set[int]:
        """Which of these accounts have the status in their home feed."""
        ids = list(set(account_ids))
        if not ids:
            return set()
        rows = await self.db.scalars(
            select(home_feed.c.account_id).where(
                home_feed.c.status_id == status_id, home_feed.c.account_id.in_(ids)
            )
        )
        return set(rows)

    async def trim_home_feeds(self, keep: int = HOME_FEED_SIZE) -> int:
        """Drop feed entries beyond the newest `keep` of each local account; return how
        many went."""
        removed = 0
        for account_id in await self.db.scalars(select(local_users.c.account_id)):
            oldest_kept = await self.db.scalar(
                select(home_feed.c.status_id)
                .where(home_feed.c.account_id == account_id)
                .order_by(home_feed.c.status_id.desc())
                .offset(keep - 1)
                .limit(1)
            )
            if oldest_kept is None:
                continue
            result = await self.db.write(
                delete(home_feed).where(
                    home_feed.c.account_id == account_id, home_feed.c.status_id < oldest_kept
                )
            )
            removed += result.rowcount
        return removed
