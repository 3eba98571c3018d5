"""Mastodon API entities (Account, Status, Relationship, Notification) from our records.

Field names and types follow Mastodon's documentation, since clients rely on
them; ids are strings. A Renderer loads what a response needs in batches (one
read per kind of thing for the whole page, not one per post) and caches it.
"""

from __future__ import annotations

import json
from typing import Any

from fedchirp import html
from fedchirp.services import filters, mutes
from fedchirp.services.context import Context
from fedchirp.services.media import url_of as media_url
from fedchirp.store.models import (
    Account,
    AccountStats,
    MediaAttachment,
    Notification,
    ScheduledStatus,
    Status,
    StatusStats,
)
from fedchirp.web.api.cards import card_entity
from fedchirp.web.api.emoji_entities import EmojiLookup, keys
from fedchirp.web.api.filter_entities import apply_filters
from fedchirp.web.api.polls import poll_entities
from fedchirp.web.api.profile_entities import profile_field_sources, profile_fields

DEFAULT_AVATAR_PATH = "/static/avatar.png"
DEFAULT_HEADER_PATH = "/static/header.png"
# Our "limited" (follower group) posts have no Mastodon API equivalent yet; clients
# understand "private" as "not public", which is the honest approximation.
API_VISIBILITY = {"limited": "private"}


class Renderer:
    """`context` (home, notifications, public, thread, account) applies the viewer's
    filters of that context: matches are listed in `filtered`, and posts a hide filter
    matches are left out (a page may then come out shorter)."""

    def __init__(self, ctx: Context, viewer: Account | None, context: str | None = None) -> None:
        self.ctx = ctx
        self.viewer = viewer
        self.context = context
        self._matcher: filters.Matcher | None = None  # compiled once per request
        self.hidden: set[int] = set()  # ids of posts a hide filter left out
        self._accounts: dict[int, dict[str, Any]] = {}
        self._tags: dict[int, list[str]] = {}
        self._media: dict[int, list[MediaAttachment]] = {}
        self._status_stats: dict[int, StatusStats] = {}
        self._mentions: dict[int, list[Account]] = {}
        self._account_stats: dict[int, AccountStats] = {}
        self.emojis = EmojiLookup(ctx)
        self._polls: dict[int, dict[str, Any]] = {}
        self._cards: dict[int, dict[str, Any] | None] = {}

    # -- accounts ------------------------------------------------------------

    async def account(self, account: Account) -> dict[str, Any]:
        if account.id in self._accounts:
            return self._accounts[account.id]
        if account.id not in self._account_stats:
            self._account_stats.update(await self.ctx.store.account_stats_of([account.id]))
        stats = self._account_stats[account.id]
        last = stats.last_status_at
        avatar = account.avatar_url or f"{self.ctx.urls.base}{DEFAULT_AVATAR_PATH}"
        header = account.header_url or f"{self.ctx.urls.base}{DEFAULT_HEADER_PATH}"
        entity = {
            "id": str(account.id),
            "username": account.username,
            "acct": account.acct(),
            "display_name": account.display_name,
            "locked": account.locked,
            "bot": account.actor_type in ("Service", "Application"),
            "discoverable": account.discoverable,
            "group": account.actor_type == "Group",
            "created_at": account.created_at,
            "note": account.note,
            "url": account.url or account.uri,
            "uri": account.uri,
            "avatar": avatar,
            "avatar_static": avatar,
            "header": header,
            "header_static": header,
            "followers_count": stats.followers_count,
            "following_count": stats.following_count,
            "statuses_count": stats.statuses_count,
            "last_status_at": last[:10] if last else None,
            "emojis": await self.emojis.entities(
                account.domain, account.display_name, account.note
            ),
            "fields": profile_fields(account),
        }
        # Mastodon adds these only when true: apps then show the account as such.
        if account.suspended_at:
            entity["suspended"] = True
        if account.silenced_at:
            entity["limited"] = True
        self._accounts[account.id] = entity
        return entity

    async def credential_account(self, account: Account) -> dict[str, Any]:
        """verify_credentials: the Account plus its editable source."""
        entity = dict(await self.account(account))
        user = await self.ctx.store.get_local_user(account.id)
        entity["source"] = {
            "privacy": "public",
            "sensitive": False,
            "language": None,
            "note": user.note_source if user and user.note_source else html.to_text(account.note),
            "fields": profile_field_sources(account),
            "follow_requests_count": len(await self.ctx.store.pending_follows(account.id)),
        }
        return entity

    async def relationship(self, target: Account) -> dict[str, Any]:
        assert self.viewer is not None
        store = self.ctx.store
        outgoing = await store.get_follow(self.viewer.id, target.id)
        incoming = await store.get_follow(target.id, self.viewer.id)
        standing = await mutes.standing(self.ctx, self.viewer, target)
        return {
            "id": str(target.id),
            "following": outgoing is not None and outgoing.state == "accepted",
            "showing_reblogs": outgoing is not None,
            "notifying": False,
            "languages": None,
            "followed_by": incoming is not None and incoming.state == "accepted",
            "blocking": standing.blocking,
            "blocked_by": standing.blocked_by,
            "muting": standing.muting,
            "muting_notifications": standing.muting_notifications,
            "requested": outgoing is not None and outgoing.state == "pending",
            "requested_by": incoming is not None and incoming.state == "pending",
            "domain_blocking": standing.domain_blocking,
            "endorsed": False,
            "note": "",
        }

    # -- statuses ------------------------------------------------------------

    async def statuses(self, statuses: list[Status]) -> list[dict[str, Any]]:
        store = self.ctx.store
        originals = await store.get_statuses(
            s.reblog_of_id for s in statuses if s.reblog_of_id is not None
        )
        everything = [*statuses, *originals.values()]
        authors, flags = await self._load(
            [s.id for s in everything], {s.account_id for s in everything}
        )
        if self._matcher is None:
            self._matcher = await filters.matcher(self.ctx, self.viewer, self.context)
        wanted = set()  # every post's and author's emoji, read at once
        for s in everything:
            wanted |= keys(authors[s.account_id].domain, s.content, s.spoiler_text)
        for a in authors.values():
            wanted |= keys(a.domain, a.display_name, a.note)
        await self.emojis.load(wanted)
        if self.viewer is not None:  # "pinned" is the viewer's own pins
            own = [s.id for s in everything if s.account_id == self.viewer.id]
            for status_id in await store.pinned_among(self.viewer.id, own):
                flags.setdefault(status_id, set()).add("pinned")
        rendered = []
        for status in statuses:
            reblog = None
            proper = status
            if status.reblog_of_id is not None:
                original = originals.get(status.reblog_of_id)
                if original is None:
                    continue
                proper = original
                reblog = await self._status(original, authors, flags, None)
            entity = await self._status(status, authors, flags, reblog)
            if self._matcher:
                media = self._media.get(proper.id, [])
                if not apply_filters(self._matcher, status, proper, media, entity):
                    self.hidden.add(status.id)
                    continue
            rendered.append(entity)
        return rendered

    async def status(self, status: Status) -> dict[str, Any]:
        return (await self.statuses([status]))[0]

    async def _status(
        self,
        status: Status,
        authors: dict[int, Account],
        flags: dict[int, set[str]],
        reblog: dict[str, Any] | None,
    ) -> dict[str, Any]:
        counts = self._status_stats[status.id]
        mine = flags.get(status.id, set())
        return {
            "id": str(status.id),
            "uri": status.uri,
            "url": status.url or status.uri,
            "created_at": status.created_at,
            "edited_at": status.edited_at,
            "account": await self.account(authors[status.account_id]),
            "content": status.content,
            "visibility": API_VISIBILITY.get(status.visibility, status.visibility),
            "sensitive": status.sensitive,
            "spoiler_text": status.spoiler_text,
            "media_attachments": [self.media(m) for m in self._media.get(status.id, [])],
            "application": None,
            "mentions": [
                {"id": str(a.id), "username": a.username, "url": a.url or a.uri, "acct": a.acct()}
                for a in self._mentions.get(status.id, [])
            ],
            "tags": self._tag_entities(status),
            "emojis": await self.emojis.entities(
                authors[status.account_id].domain, status.content, status.spoiler_text
            ),
            "reblogs_count": counts.reblogs_count,
            "favourites_count": counts.favourites_count,
            "replies_count": counts.replies_count,
            "in_reply_to_id": str(status.in_reply_to_id) if status.in_reply_to_id else None,
            "in_reply_to_account_id": (
                str(status.in_reply_to_account_id) if status.in_reply_to_account_id else None
            ),
            "reblog": reblog,
            "poll": self._polls.get(status.id),
            "card": self._cards.get(status.id),
            "language": status.language,
            "text": None,
            "favourited": "favourited" in mine,
            "reblogged": "reblogged" in mine,
            "muted": False,
            "bookmarked": "bookmarked" in mine,
            "pinned": "pinned" in mine,
            "filtered": [],
            # Which follower group a limited post went to; shown to its author only.
            "circle_id": (
                str(status.circle_id)
                if status.circle_id and self.viewer and self.viewer.id == status.account_id
                else None
            ),
        }

    async def _load(
        self, status_ids: list[int], author_ids: set[int]
    ) -> tuple[dict[int, Account], dict[int, set[str]]]:
        """Everything a page of statuses shows, in one read of the store whatever the
        number of posts. Returns (authors, viewer flags)."""
        store = self.ctx.store
        viewer_id = self.viewer.id if self.viewer else None
        page = await store.page_details(status_ids, author_ids, viewer_id)
        self._tags.update(page.tags)
        self._media.update(page.media)
        self._status_stats.update(page.status_stats)
        self._account_stats.update(page.account_stats)
        self._mentions.update(page.mentions)
        self._polls.update(poll_entities(self.viewer, page.polls, page.poll_choices))
        self._cards.update({i: card_entity(card) for i, card in page.cards.items()})
        return page.authors, page.viewer_flags

    def _tag_entities(self, status: Status) -> list[dict[str, str]]:
        return [
            {"name": tag, "url": self.ctx.urls.tag(tag)} for tag in self._tags.get(status.id, [])
        ]

    async def scheduled_status(self, scheduled: ScheduledStatus) -> dict[str, Any]:
        params = json.loads(scheduled.params)
        visibility = params.get("visibility") or (
            "limited" if params.get("circle_id") else "public"
        )
        attachments = [
            self.media(m)
            for m in [await self.ctx.store.get_media(i) for i in params.get("media_ids", [])]
            if m is not None
        ]
        return {
            "id": str(scheduled.id),
            "scheduled_at": scheduled.scheduled_at,
            "params": {
                "text": params.get("text", ""),
                "visibility": API_VISIBILITY.get(visibility, visibility),
                "spoiler_text": params.get("spoiler_text") or None,
                "sensitive": params.get("sensitive", False),
                "in_reply_to_id": (
                    str(params["in_reply_to_id"]) if params.get("in_reply_to_id") else None
                ),
                "language": params.get("language"),
                "media_ids": [str(i) for i in params.get("media_ids", [])] or None,
                "poll": params.get("poll"),
                "scheduled_at": None,
                "application_id": None,
                "idempotency": None,
                "with_rate_limit": False,
                "circle_id": str(params["circle_id"]) if params.get("circle_id") else None,
            },
            "media_attachments": attachments,
        }

    # -- media -----------------------------------------------------------------

    def media(self, media: MediaAttachment) -> dict[str, Any]:
        url = media_url(self.ctx, media.file_name) or media.remote_url
        preview = media_url(self.ctx, media.preview_name) or media.remote_url
        meta: dict[str, Any] = {"focus": {"x": media.focus_x, "y": media.focus_y}}
        for key, width, height in (
            ("original", media.width, media.height),
            ("small", media.preview_width, media.preview_height),
        ):
            if width and height:
                meta[key] = {
                    "width": width,
                    "height": height,
                    "size": f"{width}x{height}",
                    "aspect": width / height,
                }
        return {
            "id": str(media.id),
            "type": media.type,
            "url": url,
            "preview_url": preview,
            "remote_url": media.remote_url,
            "preview_remote_url": None,
            "text_url": None,
            "meta": meta,
            "description": media.description or None,
            "blurhash": media.blurhash,
        }

    # -- notifications -------------------------------------------------------

    async def notifications(self, items: list[Notification]) -> list[dict[str, Any]]:
        store = self.ctx.store
        accounts = await store.get_accounts(n.from_account_id for n in items)
        statuses = await store.get_statuses(n.status_id for n in items if n.status_id)
        rendered_statuses = {s["id"]: s for s in await self.statuses(list(statuses.values()))}
        result = []
        for item in items:
            if item.from_account_id not in accounts or item.status_id in self.hidden:
                continue
            result.append(
                {
                    "id": str(item.id),
                    "type": item.type,
                    "created_at": item.created_at,
                    "account": await self.account(accounts[item.from_account_id]),
                    "status": rendered_statuses.get(str(item.status_id)),
                }
            )
        return result
