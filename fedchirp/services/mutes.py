"""Mutes and a user's own domain blocks: quieter than a block, and never federated.

A mute takes an account's posts and boosts out of the muter's home and public
timelines, and (when asked) its notifications, until it expires; a domain block hides
every account of that domain like a block and ends the follows with them, as
Mastodon's do. What they hide is decided in store/visibility.py.
"""

from __future__ import annotations

import re
import time

from fedchirp.services import blocks
from fedchirp.services.context import Context
from fedchirp.services.errors import Invalid
from fedchirp.store.blocks import Mute, Standing
from fedchirp.store.models import Account, Page

# Mastodon takes up to this many seconds as a mute's duration (0 = for ever).
MAX_MUTE_SECONDS = 10 * 365 * 24 * 3600
DOMAIN = re.compile(r"[a-z0-9]([a-z0-9.\-]*[a-z0-9])?(:\d{1,5})?")


async def mute(
    ctx: Context, account: Account, target: Account, notifications: bool, duration: int
) -> None:
    """Mute target for duration seconds (0: until unmuted); notifications too if asked."""
    if account.id == target.id:
        raise Invalid("you cannot mute yourself")
    if duration < 0 or duration > MAX_MUTE_SECONDS:
        raise Invalid(f"duration must be between 0 and {MAX_MUTE_SECONDS} seconds")
    expires_at = time.time() + duration if duration else None
    await ctx.store.upsert_mute(account.id, target.id, notifications, expires_at)


async def unmute(ctx: Context, account: Account, target: Account) -> None:
    await ctx.store.delete_mute(account.id, target.id)


async def muted(ctx: Context, account: Account, page: Page) -> list[tuple[Mute, Account]]:
    """Mutes that still apply, newest first."""
    return await ctx.store.muted_accounts(account.id, page, time.time())


async def standing(ctx: Context, viewer: Account, target: Account) -> Standing:
    """Blocks, mutes and domain blocks between viewer and target, for a Relationship."""
    return await ctx.store.standing(viewer.id, target.id, time.time())


# -- domain blocks --------------------------------------------------------------


def normalize_domain(text: str) -> str:
    """A domain as accounts carry it (host[:port], lower case); Invalid otherwise."""
    domain = text.strip().lower().rstrip(".")
    if domain.startswith("https://") or domain.startswith("http://"):
        domain = domain.split("://", 1)[1].rstrip("/")
    if len(domain) > 260 or not DOMAIN.fullmatch(domain) or "." not in domain.split(":")[0]:
        raise Invalid("domain must be a host name, such as example.com")
    return domain


async def block_domain(ctx: Context, account: Account, text: str) -> str:
    """Hide every account of the domain from account, and end the follows between them."""
    domain = normalize_domain(text)
    if domain == ctx.config.server.domain.lower():
        raise Invalid("you cannot block your own server's domain")
    async with ctx.store.atomic():
        await ctx.store.insert_user_domain_block(account.id, domain)
        for follow in await ctx.store.follows_with_user_blocked_domain(account.id, domain):
            mine = follow.follower_id == account.id
            other = await ctx.store.get_account(follow.followee_id if mine else follow.follower_id)
            if other is not None:
                await blocks.sever(ctx, account, other)
    return domain


async def unblock_domain(ctx: Context, account: Account, text: str) -> None:
    await ctx.store.delete_user_domain_block(account.id, normalize_domain(text))


async def blocked_domains(ctx: Context, account: Account) -> list[str]:
    return await ctx.store.blocked_domains(account.id)
