"""Hashtags users feature on their profiles (/api/v1/featured_tags), each with how many
of their public and unlisted posts carry it and when the newest was posted; and the
toot:featuredTags collection other servers read.

A remote account's are what its server's collection said when the actor was last
refreshed (services/refreshes.py)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fedchirp.federation.hashtags import collection_tag_names
from fedchirp.federation.resolver import ResolveError
from fedchirp.services.context import Context
from fedchirp.services.errors import Invalid, NotFound
from fedchirp.services.followed_tags import tag_name
from fedchirp.store.announcement_models import FeaturedTag, TagUse
from fedchirp.store.models import Account

log = logging.getLogger(__name__)

LIMIT = 10  # featured tags per account, as Mastodon's
SUGGESTIONS = 10
_UNUSED = TagUse(0, None)


@dataclass(frozen=True)
class Featured:
    tag: FeaturedTag
    use: TagUse


async def of_account(ctx: Context, account: Account) -> list[Featured]:
    found = await ctx.store.featured_tags_of(account.id)
    uses = await ctx.store.featured_tag_uses(account.id, [f.tag for f in found])
    return [Featured(f, uses.get(f.tag, _UNUSED)) for f in found]


async def feature(ctx: Context, account: Account, text: str) -> Featured:
    name = tag_name(text)
    current = await ctx.store.featured_tags_of(account.id)
    if any(f.tag == name for f in current):
        raise Invalid(f"#{name} is featured already")
    if len(current) >= LIMIT:
        raise Invalid(f"you can't feature more than {LIMIT} hashtags")
    added = await ctx.store.featured_tag_add(account.id, name)
    if added is None:  # featured by a request that ran at the same time
        raise Invalid(f"#{name} is featured already")
    uses = await ctx.store.featured_tag_uses(account.id, [name])
    return Featured(added, uses.get(name, _UNUSED))


async def unfeature(ctx: Context, account: Account, featured_id: int) -> None:
    if not await ctx.store.featured_tag_remove(account.id, featured_id):
        raise NotFound("Record not found")


async def suggestions(ctx: Context, account: Account) -> list[str]:
    """The hashtags the account's recent posts use most, that it does not feature yet."""
    return await ctx.store.featured_tag_suggestions(account.id, SUGGESTIONS)


async def refresh_remote(ctx: Context, account: Account, collection: str) -> None:
    """Keep what a remote actor's featuredTags collection lists now (none if it has
    none), fetched through the resolver (signed, SSRF-guarded, from the actor's server).
    One that cannot be read leaves what we had."""
    names: list[str] = []
    if collection:
        try:
            names = collection_tag_names(await ctx.resolver.fetch(collection), LIMIT)
        except ResolveError as exc:
            log.info("featured tags of %s not read: %s", account.uri, exc)
            return
    await ctx.store.featured_tags_replace(account.id, names)
