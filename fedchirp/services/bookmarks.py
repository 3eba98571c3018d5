"""Bookmarks, the lists of posts a user bookmarked or liked, and read markers: private
to the user and their apps, never federated."""

from __future__ import annotations

from fedchirp.services.context import Context
from fedchirp.services.errors import Invalid
from fedchirp.services.timelines import clamp
from fedchirp.store.models import Account, Marker, Page, Status

MARKER_TIMELINES = ("home", "notifications")


async def bookmark(ctx: Context, account: Account, status: Status) -> Status:
    """Bookmark a post the account can see (the post behind a boost)."""
    status = await _original(ctx, status)
    await ctx.store.insert_bookmark(account.id, status.id)
    return status


async def unbookmark(ctx: Context, account: Account, status: Status) -> Status:
    status = await _original(ctx, status)
    await ctx.store.delete_bookmark(account.id, status.id)
    return status


async def _original(ctx: Context, status: Status) -> Status:
    if status.reblog_of_id is None:
        return status
    return await ctx.store.get_status(status.reblog_of_id) or status


async def marked(ctx: Context, account: Account, kind: str, page: Page) -> list[tuple[int, Status]]:
    """(mark id, post) of the posts the account bookmarked ("bookmarks") or liked
    ("favourites") and may still see, newest first."""
    return await ctx.store.marked_statuses(kind, account.id, clamp(page))


async def markers(ctx: Context, account: Account, timelines: list[str]) -> list[Marker]:
    wanted = [name for name in timelines if name in MARKER_TIMELINES] or list(MARKER_TIMELINES)
    return await ctx.store.get_markers(account.id, wanted)


async def save_markers(ctx: Context, account: Account, positions: dict[str, str]) -> list[Marker]:
    """Save where the account stopped reading: {timeline: last read id}."""
    for timeline, last_read_id in positions.items():
        if timeline not in MARKER_TIMELINES:
            raise Invalid(f"timeline must be one of {', '.join(MARKER_TIMELINES)}")
        if not last_read_id.isdigit() or len(last_read_id) > 19:
            raise Invalid(f"{timeline}[last_read_id] must be an id")
    async with ctx.store.atomic():
        return [
            await ctx.store.save_marker(account.id, timeline, last_read_id)
            for timeline, last_read_id in positions.items()
        ]
