"""One trip for everything a page of statuses shows (store/readers.py): authors and their
counters, the viewer's likes and boosts, tags, media, counters, mentions, polls
with the viewer's choices, and link preview cards."""

from __future__ import annotations

from collections.abc import Iterable

from fedchirp.store.accounts import accounts_read
from fedchirp.store.cards import cards_read
from fedchirp.store.counters import account_stats_read, status_stats_read
from fedchirp.store.db import Queries
from fedchirp.store.interactions import viewer_flags_read
from fedchirp.store.media import media_read
from fedchirp.store.models import PageDetails
from fedchirp.store.polls import choices_read, polls_read
from fedchirp.store.statuses import mentions_read, tags_read


class PageQueries(Queries):
    async def page_details(
        self, status_ids: Iterable[int], author_ids: Iterable[int], viewer_id: int | None
    ) -> PageDetails:
        ids, authors = list(set(status_ids)), list(set(author_ids))
        reads = [
            accounts_read(authors),
            account_stats_read(authors),
            tags_read(ids),
            media_read(ids),
            status_stats_read(ids),
            mentions_read(ids),
            polls_read(ids),
            cards_read(ids),
        ]
        if viewer_id is not None:
            reads += [viewer_flags_read(viewer_id, ids), choices_read(ids, viewer_id)]
        found = await self.db.read_many(reads)
        flags, choices = found[8:10] if viewer_id is not None else ({}, {})
        accounts, stats, tags, media, counters, mentions, polls, cards = found[:8]
        return PageDetails(
            accounts, stats, flags, tags, media, counters, mentions, polls, choices, cards
        )
