"""Link preview cards, as jobs (Mastodon's LinkCrawlWorker and FetchLinkCardService).

A post that has a link (made here, arrived from another server, or edited so that its
link changed) queues a job; the job fetches the linked page through the SSRF-guarded
client (HTML only, at most MAX_PAGE_BYTES, each redirect checked again), reads what it
says about itself (federation/opengraph.py) and keeps it as the card of that URL,
shared by every post that links it and fetched again once stale. The post then shows
the card, and apps watching the stream hear a status.update. Posting never waits on
another site; a page that cannot be reached just now is tried again with backoff.
Links of posts from other servers are fetched at a random moment of the next minute.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
from typing import Any

from fedchirp.federation.http import FetchError
from fedchirp.federation.opengraph import LinkDetails, card_link, link_details
from fedchirp.services import streaming
from fedchirp.services.context import Context
from fedchirp.services.jobs import Retry
from fedchirp.store.cards import PreviewCard
from fedchirp.store.models import Status

log = logging.getLogger(__name__)

CARD_QUEUE = "status.card"
CARD_RETRY = Retry(base_seconds=60.0, max_seconds=3600.0, attempts=3)
MAX_PAGE_BYTES = 1024 * 1024  # as Mastodon's body_with_limit
STALE_SECONDS = 7 * 86400  # a card older than this is fetched again when next linked
SPREAD_SECONDS = 60.0  # remote posts' links are fetched within this long


def register_jobs(ctx: Context) -> None:
    ctx.jobs.register(CARD_QUEUE, lambda payload: fetch_card(ctx, payload), CARD_RETRY,
                      keep_dead=False)  # fmt: skip


def _own_host(ctx: Context) -> str:
    return ctx.config.server.domain


async def queue_card(ctx: Context, status: Status, previous_content: str | None = None) -> None:
    """Queue the card fetch of a new post, or of an edited one whose first link changed
    (in the caller's unit of work). A post without a link queues nothing."""
    if status.reblog_of_id is not None:
        return
    link = card_link(status.content, _own_host(ctx), set())
    if previous_content is not None and link == card_link(previous_content, _own_host(ctx), set()):
        return
    if link is None and previous_content is None:
        return
    # One lane per link: posts linking the same page (a link going round) are done one
    # after another, so the page is fetched once and the others find its card.
    lane = f"card {link or status.id}"
    # A post from elsewhere reached every server its author's followers are on at
    # once: as Mastodon does, each fetches within the next minute, not all together.
    run_at = None if status.local else ctx.jobs.clock() + random.uniform(1, SPREAD_SECONDS)
    await ctx.jobs.enqueue(
        CARD_QUEUE, str(status.id), {"status_id": status.id}, lane=lane, run_at=run_at
    )


async def fetch_card(ctx: Context, payload: dict[str, Any]) -> None:
    """The job: find the post's link, get its card (fetching the page if need be) and
    make it the card the post shows."""
    status = await ctx.store.get_status(payload["status_id"])
    if status is None:
        return
    link = card_link(status.content, _own_host(ctx), await _mention_urls(ctx, status))
    card = await _card_for(ctx, link) if link is not None else None
    current = await ctx.store.preview_card_of_status(status.id)
    if card == current:
        return
    async with ctx.store.atomic():
        if card is None:
            await ctx.store.preview_card_detach(status.id)
        else:
            await ctx.store.preview_card_attach(
                status.id, card.id, status.account_id, status.visibility == "public",
                status.created_at,
            )  # fmt: skip
        await streaming.announce(ctx, "status.update", status.id)


async def _mention_urls(ctx: Context, status: Status) -> set[str]:
    """Links to the accounts a post mentions: not links to preview."""
    mentioned = [i for i, named in await ctx.store.status_recipients(status.id) if named]
    accounts = await ctx.store.get_accounts(mentioned)
    return {url for a in accounts.values() for url in (a.url, a.uri) if url}


async def _card_for(ctx: Context, url: str) -> PreviewCard | None:
    """The card of url: the one kept, unless stale; else fetched now."""
    kept = await ctx.store.preview_card_by_url(url)
    if kept is not None and ctx.jobs.clock() - kept.fetched_at < STALE_SECONDS:
        return kept
    details = await _fetch(ctx, url)
    if details is None:
        return kept  # a stale card is better than none while its page is away
    values = dataclasses.asdict(details) | {"url": url, "fetched_at": ctx.jobs.clock()}
    return await ctx.store.preview_card_save(values)


async def _fetch(ctx: Context, url: str) -> LinkDetails | None:
    try:
        final_url, page = await ctx.http.get_page(url, MAX_PAGE_BYTES, html_only=True)
    except FetchError as exc:
        if exc.transient:
            raise  # tried again with backoff
        log.info("no preview card for %s: %s", url, exc)
        return None
    # The stdlib parser is pure Python: a large page is read off the event loop.
    details = await asyncio.to_thread(link_details, page, final_url)
    if details is None:
        log.info("no preview card for %s: the page has no title", url)
    return details
