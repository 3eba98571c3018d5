"""Records of announcements and featured hashtags (the rest are in store/models.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Announcement:
    id: int
    text: str  # as the admin typed it
    content: str  # its HTML
    starts_at: str | None
    ends_at: str | None
    all_day: bool
    published: bool
    published_at: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class Reaction:
    """One emoji's reactions to an announcement: how many, and whether the viewer's."""

    announcement_id: int
    name: str
    count: int
    me: bool


@dataclass(frozen=True)
class FeaturedTag:
    id: int
    account_id: int
    tag: str  # lowercase, without '#'
    created_at: str


@dataclass(frozen=True)
class TagUse:
    """How often an account's public and unlisted posts carry a hashtag, and when last."""

    statuses_count: int
    last_status_at: str | None
