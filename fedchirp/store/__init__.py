"""Persistence behind one interface: records in, records out.

`Store` gathers one class per table family (accounts, statuses, timelines, ...),
each in its own module over the query layer in store/db.py, the way GoToSocial's
bundb gathers its per-table files behind one DB interface. The same code serves
SQLite (the default) and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

from fedchirp.store.accounts import AccountQueries
from fedchirp.store.analytics import AnalyticsQueries
from fedchirp.store.announcements import AnnouncementQueries
from fedchirp.store.blocks import BlockQueries
from fedchirp.store.bookmarks import BookmarkQueries
from fedchirp.store.cards import PreviewCardQueries
from fedchirp.store.circles import CircleQueries
from fedchirp.store.conversations import ConversationQueries
from fedchirp.store.counters import CounterQueries
from fedchirp.store.db import Database
from fedchirp.store.domain_blocks import DomainBlockQueries
from fedchirp.store.emojis import EmojiQueries
from fedchirp.store.errors import DuplicateIdempotencyKey, IdCollision, MediaUnavailable
from fedchirp.store.featured_tags import FeaturedTagQueries
from fedchirp.store.filters import FilterQueries
from fedchirp.store.follows import FollowQueries
from fedchirp.store.hosts import HostQueries
from fedchirp.store.inbox import InboxQueries
from fedchirp.store.instance_extras import InstanceExtraQueries
from fedchirp.store.interactions import InteractionQueries
from fedchirp.store.interactors import InteractorQueries
from fedchirp.store.jobs import JobQueries
from fedchirp.store.lists import ListQueries
from fedchirp.store.media import MediaQueries
from fedchirp.store.migrate import SchemaError, current_revision, upgrade
from fedchirp.store.moderation import ModerationQueries
from fedchirp.store.notification_groups import NotificationGroupQueries
from fedchirp.store.notification_policy import NotificationPolicyQueries
from fedchirp.store.notifications import NotificationQueries
from fedchirp.store.oauth import OAuthQueries
from fedchirp.store.outbound import OutboundQueries
from fedchirp.store.pages import PageQueries
from fedchirp.store.polls import PollQueries
from fedchirp.store.post_extras import PostExtraQueries
from fedchirp.store.profiles import ProfileQueries
from fedchirp.store.push import PushQueries
from fedchirp.store.ratelimits import RateLimitQueries
from fedchirp.store.reports import ReportQueries
from fedchirp.store.scheduled import ScheduledQueries
from fedchirp.store.sessions import SessionQueries
from fedchirp.store.settings import SettingQueries
from fedchirp.store.signals import SignalQueries
from fedchirp.store.signup import SignupQueries
from fedchirp.store.statuses import StatusQueries
from fedchirp.store.suggestions import SuggestionQueries
from fedchirp.store.tag_search import TagSearchQueries
from fedchirp.store.timelines import TimelineQueries
from fedchirp.store.trends import TrendQueries


class Store(
    AccountQueries,
    AnalyticsQueries,
    AnnouncementQueries,
    BookmarkQueries,
    BlockQueries,
    CircleQueries,
    ConversationQueries,
    CounterQueries,
    DomainBlockQueries,
    FilterQueries,
    EmojiQueries,
    FeaturedTagQueries,
    FollowQueries,
    HostQueries,
    InboxQueries,
    InstanceExtraQueries,
    InteractionQueries,
    InteractorQueries,
    JobQueries,
    ListQueries,
    MediaQueries,
    ModerationQueries,
    NotificationQueries,
    NotificationGroupQueries,
    NotificationPolicyQueries,
    OAuthQueries,
    OutboundQueries,
    PageQueries,
    PostExtraQueries,
    PreviewCardQueries,
    PollQueries,
    ReportQueries,
    ProfileQueries,
    PushQueries,
    RateLimitQueries,
    ScheduledQueries,
    SessionQueries,
    SettingQueries,
    SignalQueries,
    SignupQueries,
    StatusQueries,
    SuggestionQueries,
    TagSearchQueries,
    TimelineQueries,
    TrendQueries,
):
    """All persistence for one instance. Methods speak in records, never in JSON."""

    def __init__(self, location: str | Path) -> None:
        self.db = Database(location)
        # Counts the suspensions this process made: copies of accounts kept in memory
        # (the resolver's signer keys) from before a change are not used after it.
        self.suspensions_made = 0

    async def open(self) -> None:
        """Connect and bring the schema up to date; on failure nothing is left open."""
        await self.db.open()
        try:
            await self.migrate()
        except BaseException:
            await self.db.close()
            raise

    async def close(self) -> None:
        await self.db.close()

    async def migrate(self) -> list[str]:
        """Apply the schema revisions not yet applied; return them."""
        async with self.db.atomic() as connection:
            return await connection.run_sync(upgrade)

    async def schema_version(self) -> str:
        async with self.db.reading() as connection:
            return await connection.run_sync(current_revision) or ""

    def atomic(self):
        """A unit of work: every store call inside commits together or not at all."""
        return self.db.atomic()


__all__ = [
    "DuplicateIdempotencyKey",
    "IdCollision",
    "MediaUnavailable",
    "SchemaError",
    "Store",
]
