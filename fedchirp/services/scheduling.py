"""Scheduled posts: checked when scheduled, published when due.

Each entry carries its own random idempotency key, used when it is published,
and the entry is removed only after the post exists, so a crash between the
two publishes nothing twice and loses nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from fedchirp.clock import to_iso, utcnow
from fedchirp.services import posting
from fedchirp.services.context import Context
from fedchirp.services.errors import Invalid, NotFound, ServiceError
from fedchirp.store.models import Account, ScheduledStatus

log = logging.getLogger(__name__)

MIN_LEAD = timedelta(minutes=5)  # as Mastodon: "at least 5 minutes in the future"
POLL_SECONDS = 10.0
PARAM_NAMES = (
    "text",
    "visibility",
    "spoiler_text",
    "sensitive",
    "in_reply_to_id",
    "language",
    "circle_id",
    "media_ids",
)


def _check_time(when: datetime) -> None:
    if when.tzinfo is None:
        raise Invalid("scheduled_at must carry a time zone (e.g. end in Z)")
    if when < utcnow() + MIN_LEAD:
        raise Invalid("scheduled_at must be at least 5 minutes in the future")


async def schedule(
    ctx: Context, author: Account, when: datetime, params: dict[str, Any]
) -> ScheduledStatus:
    """Check a post now (so it cannot fail later for a reason known today); keep it."""
    _check_time(when)
    unknown = set(params) - set(PARAM_NAMES)
    assert not unknown, f"unexpected parameters {unknown}"
    await posting.check_draft(
        ctx,
        author,
        params.get("text", ""),
        visibility=params.get("visibility"),
        spoiler_text=params.get("spoiler_text", ""),
        language=params.get("language"),
        circle_id=params.get("circle_id"),
        media_ids=params.get("media_ids", ()),
    )
    scheduled_id = await ctx.store.insert_scheduled(
        author.id, to_iso(when), json.dumps(params), f"scheduled:{secrets.token_hex(16)}"
    )
    found = await ctx.store.get_scheduled(scheduled_id)
    assert found is not None
    return found


async def owned(ctx: Context, author: Account, scheduled_id: int) -> ScheduledStatus:
    found = await ctx.store.get_scheduled(scheduled_id)
    if found is None or found.account_id != author.id:
        raise NotFound("scheduled post not found")
    return found


async def list_scheduled(ctx: Context, author: Account) -> list[ScheduledStatus]:
    return await ctx.store.scheduled_of(author.id)


async def reschedule(
    ctx: Context, author: Account, scheduled_id: int, when: datetime
) -> ScheduledStatus:
    found = await owned(ctx, author, scheduled_id)
    _check_time(when)
    await ctx.store.reschedule(found.id, to_iso(when))
    return await owned(ctx, author, scheduled_id)


async def cancel(ctx: Context, author: Account, scheduled_id: int) -> None:
    found = await owned(ctx, author, scheduled_id)
    await ctx.store.delete_scheduled(found.id)


def params_of(scheduled: ScheduledStatus) -> dict[str, Any]:
    return json.loads(scheduled.params)


async def publish_due(ctx: Context, now: datetime | None = None) -> int:
    """Publish every scheduled post whose time has come; return how many."""
    due = await ctx.store.due_scheduled(to_iso(now or utcnow()), limit=50)
    published = 0
    for scheduled in due:
        author = await ctx.store.get_account(scheduled.account_id)
        if author is None:
            continue
        params = params_of(scheduled)
        text = params.pop("text", "")
        try:
            await posting.create_status(
                ctx, author, text, idempotency_key=scheduled.idempotency_key, **params
            )
            published += 1
        except ServiceError as exc:
            # Something changed since it was checked (its group was deleted, say).
            log.warning("scheduled post %s dropped: %s", scheduled.id, exc)
        await ctx.store.delete_scheduled(scheduled.id)
    return published


async def run_forever(ctx: Context) -> None:
    while True:
        try:
            await publish_due(ctx)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("scheduler error")
        await asyncio.sleep(POLL_SECONDS)
