"""Numbers about the whole instance, for NodeInfo and the instance API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fedchirp.clock import to_iso, utcnow
from fedchirp.services.context import Context


@dataclass(frozen=True)
class Usage:
    users: int
    active_month: int  # local accounts that posted in the last 30 days
    active_halfyear: int
    local_posts: int


async def usage(ctx: Context) -> Usage:
    now = utcnow()
    store = ctx.store
    return Usage(
        users=await store.count_local_users(),
        active_month=await store.count_active_local_users(to_iso(now - timedelta(days=30))),
        active_halfyear=await store.count_active_local_users(to_iso(now - timedelta(days=180))),
        local_posts=await store.count_statuses(local_only=True),
    )
