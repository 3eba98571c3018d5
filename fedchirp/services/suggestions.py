"""Follow suggestions (/api/v2/suggestions), from the viewer's own corner of the network.

Three sources, with Mastodon 4.3's names (store/suggestions.py computes them and
leaves out whoever must never be suggested): most_interactions, friends_of_friends,
most_followed. An account found by several sources lists them all. The personal
sources rank first (by how many interactions or followees point at the account), then
by followers; a dismissed account (DELETE /api/v1/suggestions/:id) never comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fedchirp.clock import to_iso, utcnow
from fedchirp.services.accounts import account_by_id
from fedchirp.services.context import Context
from fedchirp.store.ids import first_id_at
from fedchirp.store.models import Account

INTERACTION_DAYS = 90
SOURCES = ("most_interactions", "friends_of_friends", "most_followed")
# The deprecated single `source` of the first of them (Mastodon's legacy map).
LEGACY_SOURCE = {
    "most_interactions": "global",
    "most_followed": "global",
    "friends_of_friends": "past_interactions",
}


@dataclass(frozen=True)
class Suggestion:
    account: Account
    sources: list[str]


async def suggestions(ctx: Context, viewer: Account, limit: int) -> list[Suggestion]:
    """Up to limit accounts to suggest, best first."""
    since = utcnow() - timedelta(days=INTERACTION_DAYS)
    found = {
        "most_interactions": await ctx.store.suggestion_interactions(
            viewer.id, first_id_at(since), to_iso(since), limit
        ),
        "friends_of_friends": await ctx.store.suggestion_friends_of_friends(viewer.id, limit),
        "most_followed": await ctx.store.suggestion_most_followed(viewer.id, limit),
    }
    candidates = {account_id for scores in found.values() for account_id in scores}

    def rank(account_id: int) -> tuple[int, int, int]:
        personal = sum(found[s].get(account_id, 0) for s in SOURCES[:2])
        return -personal, -found["most_followed"].get(account_id, 0), account_id

    chosen = sorted(candidates, key=rank)[:limit]
    accounts = await ctx.store.get_accounts(chosen)
    return [
        Suggestion(accounts[i], [s for s in SOURCES if i in found[s]])
        for i in chosen
        if i in accounts
    ]


async def dismiss(ctx: Context, viewer: Account, account_id: int) -> None:
    """Never suggest this account to the viewer again; NotFound for an unknown account."""
    target = await account_by_id(ctx, account_id)
    await ctx.store.suggestion_dismiss(viewer.id, target.id)
