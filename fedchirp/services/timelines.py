"""Timelines: what a reader sees, newest first, and the outbox others read."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fedchirp.federation import documents
from fedchirp.federation.documents import strip_context
from fedchirp.html import tag_key
from fedchirp.services import audience, posting
from fedchirp.services.context import Context
from fedchirp.services.errors import NotFound
from fedchirp.store.models import Account, Page, Status, StatusFilters

log = logging.getLogger(__name__)

MAX_LIMIT = 40
TRIM_INTERVAL_SECONDS = 3600.0


def clamp(page: Page) -> Page:
    limit = min(max(page.limit, 1), MAX_LIMIT)
    return Page(page.max_id, page.since_id, page.min_id, limit)


async def home(ctx: Context, account: Account, page: Page) -> list[Status]:
    return await ctx.store.home_timeline(account.id, clamp(page))


async def trim_forever(ctx: Context) -> None:
    """Keep home feeds at their size: fan-out only adds, so once an hour the entries past
    each feed's newest HOME_FEED_SIZE go (older pages end there, as on Mastodon)."""
    while True:
        try:
            removed = await ctx.store.trim_home_feeds()
            if removed:
                log.info("trimmed %d old home feed entries", removed)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("home feed trim failed")
        await asyncio.sleep(TRIM_INTERVAL_SECONDS)


async def public(
    ctx: Context, local_only: bool, page: Page, viewer: Account | None = None
) -> list[Status]:
    """Public posts; a signed-in viewer does not see those the viewer blocks or mutes."""
    viewer_id = viewer.id if viewer is not None else None
    return await ctx.store.public_timeline(local_only, clamp(page), viewer_id)


async def tag(
    ctx: Context, name: str, local_only: bool, page: Page, viewer: Account | None = None
) -> list[Status]:
    """Public posts carrying #name (filtered for a signed-in viewer as public() is)."""
    viewer_id = viewer.id if viewer is not None else None
    return await ctx.store.tag_timeline(tag_key(name), local_only, clamp(page), viewer_id)


async def account_statuses(
    ctx: Context,
    viewer: Account | None,
    account: Account,
    page: Page,
    filters: StatusFilters | None = None,
) -> list[Status]:
    """An account's posts that this viewer may see."""
    viewer_id = viewer.id if viewer is not None else None
    return await ctx.store.account_statuses(account.id, viewer_id, clamp(page), filters)


async def post_count(ctx: Context, account: Account) -> int:
    return await ctx.store.count_statuses(account.id)


async def local_post(ctx: Context, author: Account, status_id: int) -> Status:
    """A post (not a boost) by this local author, whoever may see it; NotFound otherwise."""
    status = await ctx.store.get_status(status_id)
    if status is None or status.account_id != author.id or status.reblog_of_id is not None:
        raise NotFound("post not found")
    return status


async def visible_status(ctx: Context, viewer: Account | None, status_id: int) -> Status:
    status = await ctx.store.get_status(status_id)
    if status is None or not await audience.can_see(ctx, viewer, status):
        raise NotFound("post not found")
    return status


async def outbox_page(
    ctx: Context, account: Account, page: Page
) -> tuple[list[dict[str, Any]], int | None]:
    """Create (posts) and Announce (boosts) activities of publicly listed posts (those
    anyone may see), and the max_id of the next page (None on the last page)."""
    page = clamp(page)
    statuses = await ctx.store.account_statuses(account.id, None, page)
    originals = await ctx.store.get_statuses(
        s.reblog_of_id for s in statuses if s.reblog_of_id is not None
    )
    items = []
    for status in statuses:
        if status.reblog_of_id is None:
            note = await posting.note_document(ctx, status, account)
            items.append(strip_context(documents.create_activity(note)))
        elif status.reblog_of_id in originals:
            original = originals[status.reblog_of_id]
            addressing = audience.addressing_for(account, "public", [])
            announce = documents.announce_activity(status, account, original.uri, addressing)
            items.append(strip_context(announce))
    next_max_id = statuses[-1].id if len(statuses) == page.limit else None
    return items, next_max_id
