"""Scheduled posts: checked when scheduled, published by a job at their time.

Scheduling an entry queues its publish job (PUBLISH_QUEUE, due at its time) in
the entry's own unit of work, so neither exists without the other; a new time
queues a new job and takes the old one out, and cancelling takes it out with the
entry. A job a worker is running is left to finish (Jobs.cancel), so the publisher
takes the entry (deletes it) in the post's own unit, and only while it is still
there at the time the job was queued for: a job run twice, or one racing a cancel
or a new time, writes no post.

The key is the entry's id and time, not its id alone: the job of an old time may
still be running when the new one is queued, and SQLite gives a published entry's
id to the next entry. Entries made before jobs got theirs from migration 0008.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from fedchirp.clock import parse_iso, to_iso, utcnow
from fedchirp.services import posting
from fedchirp.services.context import Context
from fedchirp.services.errors import Invalid, NotFound, ServiceError
from fedchirp.store.models import Account, ScheduledStatus

log = logging.getLogger(__name__)

MIN_LEAD = timedelta(minutes=5)  # as Mastodon: "at least 5 minutes in the future"
PUBLISH_QUEUE = "scheduled.publish"
PARAM_NAMES = (
    "text",
    "visibility",
    "spoiler_text",
    "sensitive",
    "in_reply_to_id",
    "language",
    "circle_id",
    "media_ids",
    "poll",
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
        poll=params.get("poll"),
    )
    async with ctx.store.atomic():
        scheduled_id = await ctx.store.insert_scheduled(
            author.id, to_iso(when), json.dumps(params), f"scheduled:{secrets.token_hex(16)}"
        )
        found = await ctx.store.get_scheduled(scheduled_id)
        assert found is not None
        await _queue_publish(ctx, found)
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
    async with ctx.store.atomic():
        await ctx.store.reschedule(found.id, to_iso(when))
        moved = await owned(ctx, author, scheduled_id)  # published meanwhile: 404
        await _queue_publish(ctx, moved)
        if moved.scheduled_at != found.scheduled_at:
            await ctx.jobs.cancel(PUBLISH_QUEUE, job_key(found))
    return moved


async def cancel(ctx: Context, author: Account, scheduled_id: int) -> None:
    found = await owned(ctx, author, scheduled_id)
    async with ctx.store.atomic():
        await ctx.store.delete_scheduled(found.id)
        await ctx.jobs.cancel(PUBLISH_QUEUE, job_key(found))


def params_of(scheduled: ScheduledStatus) -> dict[str, Any]:
    return json.loads(scheduled.params)


# -- the publish job -------------------------------------------------------------


def register_jobs(ctx: Context) -> None:
    ctx.jobs.register(PUBLISH_QUEUE, lambda payload: publish(ctx, payload))


def job_key(scheduled: ScheduledStatus) -> str:
    return f"{scheduled.id}@{scheduled.scheduled_at}"


def job_payload(scheduled: ScheduledStatus) -> dict[str, Any]:
    """What the publish job of an entry carries: its id and the time it is due."""
    return {"id": scheduled.id, "at": scheduled.scheduled_at}


async def _queue_publish(ctx: Context, scheduled: ScheduledStatus) -> None:
    """Queue the entry's publish job, due at its time, in the unit that wrote the entry."""
    assert ctx.store.db.in_unit(), "the job must commit with its entry"
    due = parse_iso(scheduled.scheduled_at)
    assert due is not None, scheduled.scheduled_at
    await ctx.jobs.enqueue(
        PUBLISH_QUEUE, job_key(scheduled), job_payload(scheduled), run_at=due.timestamp()
    )


class _Superseded(Exception):
    """The entry was taken (published, cancelled or moved) while its post was being made."""


async def publish(ctx: Context, payload: dict[str, Any]) -> None:
    """The job: publish an entry that is still due at the time the job was queued for."""
    scheduled = await ctx.store.get_scheduled(payload["id"])
    if scheduled is None or scheduled.scheduled_at != payload["at"]:
        return  # published or cancelled, or moved to a time its new job is for
    author = await ctx.store.get_account(scheduled.account_id)
    if author is None:
        return
    params = params_of(scheduled)
    text = params.pop("text", "")

    async def take() -> None:
        if not await ctx.store.take_scheduled(scheduled.id, scheduled.scheduled_at):
            raise _Superseded

    try:
        await posting.create_status(
            ctx, author, text, idempotency_key=scheduled.idempotency_key, claim=take, **params
        )
    except _Superseded:
        return
    except ServiceError as exc:
        # Something changed since it was checked (its group was deleted, say).
        log.warning("scheduled post %s dropped: %s", scheduled.id, exc)
    # Gone already, unless the post was made before the entry was taken in its unit (by
    # a release that took it afterwards, and crashed between): the key found that post.
    await ctx.store.take_scheduled(scheduled.id, scheduled.scheduled_at)
