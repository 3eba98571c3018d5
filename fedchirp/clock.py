"""Time helpers: one format for stored and published timestamps, and waiting a while."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import TypeVar

T = TypeVar("T")


async def wait_at_most(seconds: float, awaitable: Awaitable[T]) -> T | None:
    """The awaitable's result, or None once seconds have passed.

    Not asyncio.wait_for: on Python 3.11 it loses a cancellation that arrives just as
    the awaited thing completes, and a worker loop cancelled that way never stops (an
    instance's shutdown then hangs). asyncio.timeout tells the two apart."""
    try:
        async with asyncio.timeout(seconds):
            return await awaitable
    except TimeoutError:
        return None


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_iso(moment: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and a Z, as Mastodon writes it."""
    # isoformat ends with "+00:00" in UTC; it is half the cost of strftime.
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def now_iso() -> str:
    return to_iso(utcnow())


def parse_iso(text: object) -> datetime | None:
    """Parse an ISO-8601 timestamp from a remote document; None if it is not one."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
