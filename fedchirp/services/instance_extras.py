"""Instance peers, weekly activity, the extended description, and familiar followers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fedchirp.clock import to_iso, utcnow
from fedchirp.services import moderation
from fedchirp.services.context import Context
from fedchirp.store.models import Account

ACTIVITY_WEEKS = 12
MAX_FAMILIAR_IDS = 40
# The config is read when the server starts: its text dates from then at the latest.
CONFIG_READ_AT = to_iso(utcnow())


@dataclass(frozen=True)
class Week:
    start: datetime  # Monday 00:00 UTC, as Mastodon's weeks start
    statuses: int
    logins: int  # accounts that signed in (new app token or web session) that week
    registrations: int


async def peers(ctx: Context) -> list[str]:
    """Servers we know accounts on, except those an admin suspended."""
    return [d for d in await ctx.store.known_domains() if not await ctx.domain_blocks.suspended(d)]


async def weekly_activity(ctx: Context, now: datetime | None = None) -> list[Week]:
    """The last twelve weeks, this one first.

    Logins are approximated: Mastodon counts each user's sign-ins; we count accounts
    that made an app token or a web session that week (apps keep their token, so an
    app user who never signs in again is not counted after their first week)."""
    now = now or utcnow()
    monday = (now - timedelta(days=now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    weeks = []
    for back in range(ACTIVITY_WEEKS):
        start = monday - timedelta(weeks=back)
        end = start + timedelta(weeks=1)
        low, high = to_iso(start), to_iso(end)
        weeks.append(
            Week(
                start,
                await ctx.store.count_local_posts_in(start, end),
                await ctx.store.count_sign_ins_in(low, high),
                await ctx.store.count_registrations_in(low, high),
            )
        )
    return weeks


async def familiar_followers(
    ctx: Context, viewer: Account, account_ids: list[int]
) -> dict[int, list[Account]]:
    """For each known account, its followers whom the viewer follows (not suspended)."""
    known = await ctx.store.get_accounts(account_ids[:MAX_FAMILIAR_IDS])
    ids = [i for i in dict.fromkeys(account_ids) if i in known]
    found = await ctx.store.familiar_followers(viewer.id, ids)
    return {i: [a for a in found[i] if not moderation.is_suspended(a)] for i in ids}
