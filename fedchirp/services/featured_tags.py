"""Hashtags users feature on their profiles (/api/v1/featured_tags), each with how many
of their public and unlisted posts carry it and when the newest was posted; and the
toot:featuredTags collection other servers read.

Only local accounts' featured tags are known: another server's collection is not
fetched, so a remote account features none here."""

from __future__ import annotations

from dataclasses import dataclass

from fedchirp.services.context import Context
from fedchirp.services.errors import Invalid, NotFound
from fedchirp.services.followed_tags import tag_name
from fedchirp.store.announcement_models import FeaturedTag, TagUse
from fedchirp.store.models import Account

LIMIT = 10  # featured tags per account, as Mastodon's
SUGGESTIONS = 10
_UNUSED = TagUse(0, None)


@dataclass(frozen=True)
class Featured:
    tag: FeaturedTag
    use: TagUse


async def of_account(ctx: Context, account: Account) -> list[Featured]:
    if not account.is_local:
        return []
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
