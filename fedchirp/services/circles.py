"""Follower groups ("circles"): named subsets of one's followers to post to.

Members must be accepted followers (the database drops a member whose follow
ends). A circle post is addressed to its members by name, never to Public or to
the followers collection, and removing a member takes away their access to the
circle's posts on this server from then on.
"""

from __future__ import annotations

from collections.abc import Sequence

from fedchirp.services.context import Context
from fedchirp.services.errors import Conflict, Invalid, NotFound
from fedchirp.store.models import Account, Circle

MAX_TITLE = 100


def _clean_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise Invalid("title can't be blank")
    if len(title) > MAX_TITLE:
        raise Invalid(f"title is longer than {MAX_TITLE} characters")
    return title


async def create_circle(ctx: Context, owner: Account, title: str) -> Circle:
    title = _clean_title(title)
    if await ctx.store.find_circle(owner.id, title) is not None:
        raise Conflict(f"you already have a group called {title!r}")
    return await ctx.store.insert_circle(owner.id, title)


async def owned_circle(ctx: Context, owner: Account, circle_id: int) -> Circle:
    """The owner's circle with this id; NotFound for anyone else's (no existence leaks)."""
    circle = await ctx.store.get_circle(circle_id)
    if circle is None or circle.account_id != owner.id:
        raise NotFound("group not found")
    return circle


async def list_circles(ctx: Context, owner: Account) -> list[Circle]:
    return await ctx.store.circles_of(owner.id)


async def rename_circle(ctx: Context, owner: Account, circle_id: int, title: str) -> Circle:
    circle = await owned_circle(ctx, owner, circle_id)
    title = _clean_title(title)
    other = await ctx.store.find_circle(owner.id, title)
    if other is not None and other.id != circle.id:
        raise Conflict(f"you already have a group called {title!r}")
    await ctx.store.rename_circle(circle.id, title)
    return await owned_circle(ctx, owner, circle_id)


async def delete_circle(ctx: Context, owner: Account, circle_id: int) -> None:
    circle = await owned_circle(ctx, owner, circle_id)
    await ctx.store.delete_circle(circle.id)


async def members(ctx: Context, owner: Account, circle_id: int) -> list[Account]:
    circle = await owned_circle(ctx, owner, circle_id)
    return await ctx.store.circle_members(circle.id)


async def add_members(
    ctx: Context, owner: Account, circle_id: int, account_ids: Sequence[int]
) -> list[Account]:
    """Add followers to a circle. Anyone who is not an accepted follower is refused
    (and nothing is added), so a typo cannot widen an audience silently."""
    circle = await owned_circle(ctx, owner, circle_id)
    if not account_ids:
        raise Invalid("account_ids can't be empty")
    for account_id in account_ids:
        follow = await ctx.store.get_follow(account_id, owner.id)
        if follow is None or follow.state != "accepted":
            raise Invalid(f"account {account_id} does not follow you")
    await ctx.store.add_circle_members(circle.id, account_ids)
    return await ctx.store.circle_members(circle.id)


async def remove_members(
    ctx: Context, owner: Account, circle_id: int, account_ids: Sequence[int]
) -> list[Account]:
    circle = await owned_circle(ctx, owner, circle_id)
    await ctx.store.remove_circle_members(circle.id, account_ids)
    return await ctx.store.circle_members(circle.id)
