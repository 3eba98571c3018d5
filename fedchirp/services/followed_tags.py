"""Following hashtags: a followed tag's public posts land in the follower's home feed
(the fan-out in store/statuses.py), from when it is followed on, as on Mastodon."""

from __future__ import annotations

import re

from fedchirp import html
from fedchirp.services.context import Context
from fedchirp.services.errors import Invalid
from fedchirp.store.models import Account, FollowedTag, Page

# What a hashtag may be, as posts' hashtags are found (html.HASHTAG_RE): word characters
# with at least one letter; Mastodon's names are at most 100 characters.
TAG_NAME = re.compile(r"\w*[^\W\d_]\w*")
MAX_TAG_LENGTH = 100


def tag_name(text: str) -> str:
    """A hashtag as stored (lowercase, no '#'); Invalid if it cannot be one."""
    name = html.tag_key(text)
    if len(name) > MAX_TAG_LENGTH or not TAG_NAME.fullmatch(name):
        raise Invalid(f"{text[:MAX_TAG_LENGTH]!r} is not a hashtag")
    return name


async def follow(ctx: Context, account: Account, text: str) -> str:
    name = tag_name(text)
    await ctx.store.follow_tag(account.id, name)
    return name


async def unfollow(ctx: Context, account: Account, text: str) -> str:
    name = tag_name(text)
    await ctx.store.unfollow_tag(account.id, name)
    return name


async def following(ctx: Context, account: Account | None, text: str) -> tuple[str, bool]:
    """(the tag's name, whether the account follows it)."""
    name = tag_name(text)
    return name, account is not None and await ctx.store.follows_tag(account.id, name)


async def followed(ctx: Context, account: Account, page: Page) -> list[FollowedTag]:
    return await ctx.store.followed_tags_page(account.id, page)
