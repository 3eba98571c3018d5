"""Search: accounts by name or handle (asking their server when resolve is on),
posts by their URL, hashtags by the start of their name."""

from __future__ import annotations

from dataclasses import dataclass, field

from fedchirp.federation.resolver import ResolveError
from fedchirp.federation.vocab import is_http_uri
from fedchirp.services import audience, blocks, followed_tags, moderation, remote_posts
from fedchirp.services.accounts import resolve_account
from fedchirp.services.context import Context
from fedchirp.services.errors import ServiceError
from fedchirp.store.models import Account, Status


@dataclass
class Results:
    accounts: list[Account] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)
    followed_hashtags: set[str] = field(default_factory=set)  # of those, the viewer's


def _looks_like_handle(query: str) -> bool:
    return "@" in query.lstrip("@") and " " not in query.strip()


async def search(
    ctx: Context, viewer: Account | None, query: str, kind: str | None, resolve: bool, limit: int
) -> Results:
    query = query.strip()
    results = Results()
    if not query:
        return results
    resolve = resolve and viewer is not None  # only signed-in users make us fetch
    if kind in (None, "accounts"):
        found = await _accounts(ctx, query, resolve, limit)
        results.accounts = await _shown(ctx, viewer, query, found)
    if kind in (None, "statuses") and is_http_uri(query):
        status = await _status_by_url(ctx, query, resolve)
        if status is not None and await audience.can_see(ctx, viewer, status):
            results.statuses = [status]
    if kind in (None, "hashtags"):
        results.hashtags = await _hashtags(ctx, query, limit)
        if viewer is not None:
            results.followed_hashtags = await ctx.store.tag_search_followed(
                viewer.id, results.hashtags
            )
    return results


async def _hashtags(ctx: Context, query: str, limit: int) -> list[str]:
    """As Mastodon answers: the tag typed, used or not, first; then tags in use that
    start with it. A handle or a URL is no hashtag."""
    try:
        name = followed_tags.tag_name(query)
    except ServiceError:
        return []
    found = await ctx.store.tag_search_names(name, limit)
    return [name, *(other for other in found if other != name)][:limit]


async def search_accounts(
    ctx: Context,
    viewer: Account,
    query: str,
    resolve: bool,
    limit: int,
    offset: int = 0,
    following: bool = False,
) -> list[Account]:
    """Accounts for @-mention completion (/api/v1/accounts/search): by name prefix, or one
    account by its handle or URL; with following, only accounts the viewer follows."""
    query = query.strip()
    if not query:
        return []
    if not (_looks_like_handle(query) or is_http_uri(query)):
        followed_by = viewer.id if following else None
        found = await ctx.store.search_accounts(query.lstrip("@"), limit, offset, followed_by)
        return await _shown(ctx, viewer, query, found)
    found = await _accounts(ctx, query, resolve and not following, limit)
    if following:
        found = [account for account in found if await _follows(ctx, viewer, account)]
    return (await _shown(ctx, viewer, query, found))[offset : offset + limit]


async def _shown(
    ctx: Context, viewer: Account | None, query: str, found: list[Account]
) -> list[Account]:
    """The accounts a search may show: not suspended ones, nor the instance actor
    (services/reports.py); and, for names typed in part, none a block keeps apart from
    the viewer. A handle or a whole local username still finds them, as Mastodon's exact
    match does, so the blocker can find them to unblock (`toot unblock NAME` searches)."""
    shown = [
        a for a in found if not moderation.is_suspended(a) and a.uri != ctx.urls.instance_actor
    ]
    if viewer is not None and not _looks_like_handle(query):
        kept = {a.id for a in await blocks.without_separated(ctx, viewer, shown)}
        exact = query.lstrip("@").lower()
        shown = [a for a in shown if a.id in kept or a.acct().lower() == exact]
    return shown


async def _follows(ctx: Context, viewer: Account, account: Account) -> bool:
    follow = await ctx.store.get_follow(viewer.id, account.id)
    return follow is not None and follow.state == "accepted"


async def _accounts(ctx: Context, query: str, resolve: bool, limit: int) -> list[Account]:
    if _looks_like_handle(query) or is_http_uri(query):
        try:
            return [await resolve_account(ctx, query, resolve_remote=resolve)]
        except ServiceError:
            return []
    return await ctx.store.search_accounts(query.lstrip("@"), limit)


async def _status_by_url(ctx: Context, url: str, resolve: bool) -> Status | None:
    known = await ctx.store.get_status_by_uri(url) or await ctx.store.get_status_by_url(url)
    if known is not None or not resolve or ctx.urls.is_local(url):
        return known
    try:
        note, author = await ctx.resolver.fetch_note(url, id_is_known=False)
    except ResolveError:
        return None
    return await remote_posts.store_remote_note(ctx, note, author)
