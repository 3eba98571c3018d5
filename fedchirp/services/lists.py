"""Lists: named sets of accounts a user follows, each read as its own timeline
(Mastodon's lists).

A member must be followed (or asked to be followed) by the list's owner; anyone else
is refused with a reason and nothing is added. When the follow ends, the member leaves
the owner's lists (a trigger, store/list_tables.py). A list's timeline shows the posts
and boosts of its members that are in the owner's home feed, with the list's replies
policy; members of an exclusive list are left out of the owner's home timeline.
"""

from __future__ import annotations

from collections.abc import Sequence

from fedchirp.services.context import Context
from fedchirp.services.errors import Invalid, NotFound
from fedchirp.services.timelines import clamp
from fedchirp.store.list_tables import REPLIES_POLICIES
from fedchirp.store.models import Account, Page, Status, UserList

MAX_TITLE = 100
MAX_LISTS = 50  # per account, as Mastodon's ListValidator has it
MAX_MEMBERS = 500  # per list, likewise


def _clean_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise Invalid("Validation failed: Title can't be blank")
    if len(title) > MAX_TITLE:
        raise Invalid(f"Validation failed: Title is longer than {MAX_TITLE} characters")
    return title


def _check_policy(replies_policy: str) -> str:
    if replies_policy not in REPLIES_POLICIES:
        raise Invalid(f"replies_policy must be one of {', '.join(REPLIES_POLICIES)}")
    return replies_policy


async def create_list(
    ctx: Context, owner: Account, title: str, replies_policy: str = "list", exclusive: bool = False
) -> UserList:
    title, replies_policy = _clean_title(title), _check_policy(replies_policy)
    if len(await ctx.store.lists_of(owner.id)) >= MAX_LISTS:
        raise Invalid(f"Validation failed: you can have at most {MAX_LISTS} lists")
    return await ctx.store.insert_list(owner.id, title, replies_policy, exclusive)


async def owned_list(ctx: Context, owner: Account, list_id: int) -> UserList:
    """The owner's list with this id; NotFound for anyone else's (no existence leaks)."""
    found = await ctx.store.get_list(list_id)
    if found is None or found.account_id != owner.id:
        raise NotFound("Record not found")
    return found


async def all_lists(ctx: Context, owner: Account) -> list[UserList]:
    return await ctx.store.lists_of(owner.id)


async def update_list(
    ctx: Context,
    owner: Account,
    list_id: int,
    title: str | None,
    replies_policy: str | None,
    exclusive: bool | None,
) -> UserList:
    """Change what is given (None: keep it)."""
    found = await owned_list(ctx, owner, list_id)
    await ctx.store.update_list(
        found.id,
        _clean_title(title) if title is not None else found.title,
        _check_policy(replies_policy) if replies_policy is not None else found.replies_policy,
        exclusive if exclusive is not None else found.exclusive,
    )
    return await owned_list(ctx, owner, list_id)


async def delete_list(ctx: Context, owner: Account, list_id: int) -> None:
    found = await owned_list(ctx, owner, list_id)
    await ctx.store.delete_list(found.id)


async def members(
    ctx: Context, owner: Account, list_id: int, page: Page | None
) -> list[tuple[int, Account]]:
    """(membership id, account) of the list's members, newest added first; all of them
    when page is None."""
    found = await owned_list(ctx, owner, list_id)
    return await ctx.store.list_members(found.id, page)


async def add_members(
    ctx: Context, owner: Account, list_id: int, account_ids: Sequence[int]
) -> None:
    """Add followed accounts. An unknown account is NotFound; one the owner does not
    follow is refused; either way nothing is added."""
    found = await owned_list(ctx, owner, list_id)
    if not account_ids:
        raise Invalid("account_ids can't be empty")
    known = await ctx.store.get_accounts(account_ids)
    if missing := [i for i in account_ids if i not in known]:
        raise NotFound(f"account {missing[0]} not found")
    if strangers := await ctx.store.not_followed_by(owner.id, account_ids):
        raise Invalid(
            f"Validation failed: you must follow account {strangers[0]} to add it to a list"
        )
    current = await ctx.store.count_list_members(found.id)
    if current + len(set(account_ids)) > MAX_MEMBERS:
        raise Invalid(f"Validation failed: a list has at most {MAX_MEMBERS} accounts")
    await ctx.store.add_list_accounts(found.id, owner.id, account_ids)


async def remove_members(
    ctx: Context, owner: Account, list_id: int, account_ids: Sequence[int]
) -> None:
    found = await owned_list(ctx, owner, list_id)
    await ctx.store.remove_list_accounts(found.id, account_ids)


async def lists_with(ctx: Context, owner: Account, account: Account) -> list[UserList]:
    """The owner's lists that have this account in them."""
    return await ctx.store.lists_containing(owner.id, account.id)


async def timeline(ctx: Context, owner: Account, list_id: int, page: Page) -> list[Status]:
    found = await owned_list(ctx, owner, list_id)
    return await ctx.store.list_timeline(found, clamp(page))
