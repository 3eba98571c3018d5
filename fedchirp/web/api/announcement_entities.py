"""Mastodon's Announcement and FeaturedTag entities, and the payloads of the streams'
announcement events."""

from __future__ import annotations

import json
from typing import Any

from fedchirp import html
from fedchirp.clock import parse_iso
from fedchirp.services import announcements
from fedchirp.services.announcements import Shown
from fedchirp.services.context import Context
from fedchirp.services.featured_tags import Featured
from fedchirp.services.streaming import Event
from fedchirp.store.announcement_models import Reaction
from fedchirp.web.api.emoji_entities import EmojiLookup
from fedchirp.web.api.tags import tag_entity


async def announcement_entity(
    ctx: Context, shown: Shown, lookup: EmojiLookup, signed_in: bool = True
) -> dict[str, Any]:
    item = shown.announcement
    mentioned = await announcements.mentioned(ctx.store, ctx.config.server.domain, item.text)
    entity: dict[str, Any] = {
        "id": str(item.id),
        "content": item.content,
        "starts_at": item.starts_at,
        "ends_at": item.ends_at,
        "all_day": item.all_day,
        "published_at": item.published_at or item.created_at,
        "updated_at": item.updated_at,
        "mentions": [
            {"id": str(a.id), "username": a.username, "url": a.url or a.uri, "acct": a.acct()}
            for a in {a.id: a for a in mentioned.values()}.values()
        ],
        "statuses": [],
        "tags": [tag_entity(ctx, name, None) for name in html.find_hashtags(item.text)],
        "emojis": await lookup.entities("", item.text),
        "reactions": [await _reaction(ctx, r, lookup) for r in shown.reactions],
    }
    if signed_in:
        entity["read"] = shown.read
    return entity


async def _reaction(ctx: Context, reaction: Reaction, lookup: EmojiLookup) -> dict[str, Any]:
    entity: dict[str, Any] = {"name": reaction.name, "count": reaction.count, "me": reaction.me}
    custom = await lookup.entities("", f":{reaction.name}:")
    if custom:
        entity["url"], entity["static_url"] = custom[0]["url"], custom[0]["static_url"]
    return entity


def featured_tag_entity(ctx: Context, featured: Featured) -> dict[str, Any]:
    """Counts as Mastodon writes them: a string, and the date of the newest post."""
    last = parse_iso(featured.use.last_status_at)
    return {
        "id": str(featured.tag.id),
        "name": featured.tag.tag,
        "url": ctx.urls.tag(featured.tag.tag),
        "statuses_count": str(featured.use.statuses_count),
        "last_status_at": last.date().isoformat() if last else None,
    }


async def announcement_payload(ctx: Context, event: Event) -> str | None:
    """A stream event's payload: the announcement (as for nobody in particular, as
    Mastodon sends it), the reaction's new count, or the deleted announcement's id."""
    assert event.announcement_id is not None
    if event.event == "announcement.delete":
        return str(event.announcement_id)
    if event.event == "announcement.reaction":
        count = await announcements.reaction_count(ctx, event.announcement_id, event.reaction)
        body = {"name": event.reaction, "count": count}
        return json.dumps({**body, "announcement_id": str(event.announcement_id)})
    found = await ctx.store.announcement_get(event.announcement_id)
    if found is None or not found.published:
        return None
    shown = (await announcements.shown(ctx, None, [found]))[0]
    return json.dumps(await announcement_entity(ctx, shown, EmojiLookup(ctx), signed_in=False))
