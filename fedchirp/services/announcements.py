"""Announcements: news admins set for everyone on the instance (command line and
/admin/announcements), which users read, dismiss and react to with an emoji (the client
API). Publishing, a reaction and a deletion are told to the users' streams.

An announcement's text is rendered like a post's (links, hashtags, and mentions of
accounts we know: no fetch, since the command line has no HTTP client). starts_at and
ends_at are when the event it tells of happens; one whose end has passed is no longer
shown, one not started yet is (it says what is coming)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from fedchirp import html
from fedchirp.clock import now_iso, parse_iso, to_iso
from fedchirp.services import streaming
from fedchirp.services.context import Context
from fedchirp.services.errors import Invalid, NotFound
from fedchirp.store import Store
from fedchirp.store.announcement_models import Announcement, Reaction
from fedchirp.store.models import Account
from fedchirp.urls import Urls

MAX_TEXT = 5000
MAX_REACTIONS = 8  # distinct emoji on one announcement, as Mastodon's limit
Announcer = Callable[[str, int], Awaitable[None]]  # streaming.announce for one context


@dataclass(frozen=True)
class Draft:
    text: str
    starts_at: str | None = None  # as typed: an ISO date or date and time
    ends_at: str | None = None
    all_day: bool = False
    published: bool = False


@dataclass(frozen=True)
class Shown:
    """An announcement as one user sees it."""

    announcement: Announcement
    read: bool
    reactions: list[Reaction]


def _time(value: str | None, label: str) -> str | None:
    """A typed date (midnight UTC) or date and time, stored as ISO-8601 UTC."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        moment = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
    except ValueError:
        moment = parse_iso(text)  # type: ignore[assignment]
    if moment is None:
        raise Invalid(f"{label} must be a date (2030-01-31) or an ISO-8601 time")
    return to_iso(moment)


async def mentioned(store: Store, domain: str, text: str) -> dict[tuple[str, str | None], Account]:
    """The accounts we know that the text @mentions, by (user, host) as written."""
    known: dict[tuple[str, str | None], Account] = {}
    for user, host in html.find_mentions(text):
        local = host is None or host == domain.lower()
        account = await store.find_account(user, "" if local else host or "")
        if account is not None:
            known[(user.lower(), host)] = account
    return known


async def render_text(store: Store, urls: Urls, domain: str, text: str) -> str:
    """The text as post HTML; mentions link the accounts we know, local or remote."""
    known = await mentioned(store, domain, text)

    def mention_link(user: str, host: str | None) -> tuple[str, str] | None:
        account = known.get((user.lower(), host))
        return (account.url or account.uri, account.username) if account else None

    return html.render_plain_text(text, mention_link, urls.tag)


async def add(store: Store, urls: Urls, domain: str, draft: Draft, tell: Announcer) -> Announcement:
    text = draft.text.strip()
    if not text:
        raise Invalid("the text can't be blank")
    if len(text) > MAX_TEXT:
        raise Invalid(f"the text is longer than {MAX_TEXT} characters")
    starts_at, ends_at = _time(draft.starts_at, "starts_at"), _time(draft.ends_at, "ends_at")
    if starts_at and ends_at and ends_at < starts_at:
        raise Invalid("ends_at is before starts_at")
    now = now_iso()
    announcement = await store.announcement_insert(
        {
            "text": text,
            "content": await render_text(store, urls, domain, text),
            "starts_at": starts_at,
            "ends_at": ends_at,
            "all_day": int(draft.all_day),
            "published": int(draft.published),
            "published_at": now if draft.published else None,
            "created_at": now,
            "updated_at": now,
        }
    )
    if announcement.published:
        await tell("announcement", announcement.id)
    return announcement


async def get(store: Store, announcement_id: int) -> Announcement:
    found = await store.announcement_get(announcement_id)
    if found is None:
        raise NotFound(f"no announcement {announcement_id}")
    return found


async def publish(
    store: Store, announcement_id: int, published: bool, tell: Announcer
) -> Announcement:
    """Publish (shown to users from now) or take back an announcement."""
    current = await get(store, announcement_id)
    if current.published == published:
        return current
    now = now_iso()
    values = {"published": int(published), "updated_at": now}
    if published:
        values["published_at"] = now
    changed = await store.announcement_update(announcement_id, values)
    if changed is None:
        raise NotFound(f"no announcement {announcement_id}")
    await tell("announcement" if published else "announcement.delete", announcement_id)
    return changed


async def delete(store: Store, announcement_id: int, tell: Announcer) -> None:
    current = await get(store, announcement_id)
    await store.announcement_delete(announcement_id)
    if current.published:
        await tell("announcement.delete", announcement_id)


def announcer(ctx: Context) -> Announcer:
    """What tells the streams, for a server process."""
    return lambda kind, id_: streaming.announce(ctx, kind, id_)


def announcer_outside(store: Store) -> Announcer:
    """What tells the streams, for the command line."""
    return lambda kind, id_: streaming.announce_from_outside(store, kind, id_)


# -- what users do ---------------------------------------------------------------------


async def active(ctx: Context, viewer: Account, with_dismissed: bool = False) -> list[Shown]:
    found = await ctx.store.announcements_active(viewer.id, now_iso(), with_dismissed)
    return await shown(ctx, viewer, found)


async def shown(ctx: Context, viewer: Account | None, found: list[Announcement]) -> list[Shown]:
    ids = [a.id for a in found]
    read = await ctx.store.announcement_dismissed_ids(viewer.id, ids) if viewer else set()
    reactions: dict[int, list[Reaction]] = {i: [] for i in ids}
    for reaction in await ctx.store.announcement_reactions(ids, viewer.id if viewer else None):
        reactions[reaction.announcement_id].append(reaction)
    return [Shown(a, a.id in read, reactions[a.id]) for a in found]


async def _active_one(ctx: Context, announcement_id: int) -> Announcement:
    found = await ctx.store.announcement_get(announcement_id)
    ended = found is not None and found.ends_at is not None and found.ends_at <= now_iso()
    if found is None or not found.published or ended:
        raise NotFound("Record not found")
    return found


async def dismiss(ctx: Context, viewer: Account, announcement_id: int) -> None:
    await _active_one(ctx, announcement_id)
    await ctx.store.announcement_dismiss(viewer.id, announcement_id)


async def react(ctx: Context, viewer: Account, announcement_id: int, name: str) -> None:
    """Add the viewer's reaction: a Unicode emoji or one of our custom emoji."""
    await _active_one(ctx, announcement_id)
    name = await _reaction_name(ctx, name)
    names = await ctx.store.announcement_reaction_names(announcement_id)
    if name not in names and len(names) >= MAX_REACTIONS:
        raise Invalid(f"an announcement has at most {MAX_REACTIONS} different reactions")
    if await ctx.store.announcement_react(announcement_id, viewer.id, name):
        await streaming.announce(ctx, "announcement.reaction", announcement_id, name)


async def unreact(ctx: Context, viewer: Account, announcement_id: int, name: str) -> None:
    await _active_one(ctx, announcement_id)
    if await ctx.store.announcement_unreact(announcement_id, viewer.id, name):
        await streaming.announce(ctx, "announcement.reaction", announcement_id, name)


async def reaction_count(ctx: Context, announcement_id: int, name: str) -> int:
    found = await ctx.store.announcement_reactions([announcement_id], None)
    return next((r.count for r in found if r.name == name), 0)


async def _reaction_name(ctx: Context, name: str) -> str:
    if is_unicode_emoji(name):
        return name
    if await ctx.store.get_emoji(name) is not None:  # ours, by its shortcode
        return name
    raise Invalid(f"{name[:64]!r} is neither an emoji nor one of this server's custom emoji")


# What may follow a pictograph in one emoji: variation selectors, skin tones, tag
# characters (subdivision flags).
_MODIFIERS = {0xFE0E, 0xFE0F} | set(range(0x1F3FB, 0x1F400)) | set(range(0xE0020, 0xE0080))
_FLAG_LETTERS = range(0x1F1E6, 0x1F200)  # regional indicators: two make a flag
_ZWJ = "\u200d"
_KEYCAP = re.compile("[0-9#*]\ufe0f?\u20e3")


def _pictographic(cp: int) -> bool:
    """Roughly Unicode's Extended_Pictographic: the emoji blocks, and symbols of the
    older blocks that are emoji (the standard library has no emoji property)."""
    return (
        0x1F000 <= cp <= 0x1FAFF
        or 0x2600 <= cp <= 0x27BF
        or cp in (0xA9, 0xAE, 0x203C, 0x2049, 0x2122, 0x2139, 0x3030, 0x303D, 0x3297, 0x3299)
        or (0x2190 <= cp <= 0x2BFF and unicodedata.category(chr(cp)) == "So")
    )


def _pictograph(segment: str) -> bool:
    """One pictograph and its modifiers."""
    first = ord(segment[0]) if segment else 0
    rest = segment[1:]
    return _pictographic(first) and first not in _FLAG_LETTERS and all(
        ord(ch) in _MODIFIERS for ch in rest
    )


def is_unicode_emoji(text: str) -> bool:
    """One emoji: a pictograph with its modifiers, pictographs joined by ZWJ (a family),
    a flag (two regional indicators) or a keycap."""
    if not text or len(text) > 32:
        return False
    if _KEYCAP.fullmatch(text):
        return True
    if len(text) == 2 and all(ord(ch) in _FLAG_LETTERS for ch in text):
        return True
    return all(_pictograph(segment) for segment in text.split(_ZWJ))
