"""Creating and changing content filters (services/filters.py applies them). Every
change tells the owner's open streams `filters_changed`, as Mastodon does, so their
apps fetch the filters again."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from fedchirp.clock import to_iso, utcnow
from fedchirp.services import streaming
from fedchirp.services.context import Context
from fedchirp.services.errors import Invalid, NotFound
from fedchirp.services.filters import (
    ACTIONS,
    CONTEXTS,
    FilterView,
    get_filter,
    own_filter,
    own_filter_status,
    own_keyword,
)
from fedchirp.services.timelines import visible_status
from fedchirp.store.filters import FilterKeyword, FilterStatus
from fedchirp.store.models import Account

TITLE_MAX = 256
KEYWORD_MAX = 512
KEYWORDS_MAX = 100  # per filter
MAX_EXPIRES_IN = 10 * 365 * 24 * 3600  # seconds


@dataclass(frozen=True)
class KeywordChange:
    """One entry of keywords_attributes: a new keyword (no id), a change to one (id),
    or its removal (id and destroy)."""

    id: int | None = None
    keyword: str | None = None
    whole_word: bool | None = None
    destroy: bool = False


@dataclass(frozen=True)
class FilterChanges:
    """What a create or update asks for; None leaves a field as it is."""

    title: str | None = None
    context: list[str] | None = None
    action: str | None = None
    set_expiry: bool = False  # expires_in was given (None then means never)
    expires_in: int | None = None
    keywords: list[KeywordChange] = field(default_factory=list)


def _columns(changes: FilterChanges) -> dict[str, Any]:
    """The filter's columns to write, checked."""
    values: dict[str, Any] = {}
    if changes.title is not None:
        title = changes.title.strip()
        if not title:
            raise Invalid("Validation failed: Title can't be blank")
        if len(title) > TITLE_MAX:
            raise Invalid(f"Validation failed: Title is too long (at most {TITLE_MAX})")
        values["title"] = title
    if changes.context is not None:
        if not changes.context:
            raise Invalid("Validation failed: Context can't be blank")
        unknown = [c for c in changes.context if c not in CONTEXTS]
        if unknown:
            raise Invalid(
                f"Validation failed: Context {unknown[0]!r} is invalid; "
                f"use {', '.join(CONTEXTS)}"
            )
        values["context"] = json.dumps(list(dict.fromkeys(changes.context)))
    if changes.action is not None:
        if changes.action not in ACTIONS:
            raise Invalid(f"Validation failed: filter_action must be {', '.join(ACTIONS)}")
        values["filter_action"] = changes.action
    if changes.set_expiry:
        values["expires_at"] = _expires_at(changes.expires_in)
    return values


def _expires_at(expires_in: int | None) -> str | None:
    if expires_in is None:
        return None
    if not 0 < expires_in <= MAX_EXPIRES_IN:
        raise Invalid(f"expires_in must be between 1 and {MAX_EXPIRES_IN} seconds")
    return to_iso(utcnow() + timedelta(seconds=expires_in))


def _keyword(text: str | None) -> str:
    keyword = (text or "").strip()
    if not keyword:
        raise Invalid("Validation failed: Keyword can't be blank")
    if len(keyword) > KEYWORD_MAX:
        raise Invalid(f"Validation failed: Keyword is too long (at most {KEYWORD_MAX})")
    return keyword


async def create_filter(ctx: Context, account: Account, changes: FilterChanges) -> FilterView:
    if changes.title is None:
        raise Invalid("Validation failed: Title can't be blank")
    if changes.context is None:
        raise Invalid("Validation failed: Context can't be blank")
    values = _columns(changes)
    values.setdefault("filter_action", "warn")
    async with ctx.store.atomic():
        created = await ctx.store.insert_filter(account.id, values)
        await _apply_keywords(ctx, created.id, changes.keywords)
        await streaming.announce(ctx, "filters_changed", account.id)
    return await get_filter(ctx, account, created.id)


async def update_filter(
    ctx: Context, account: Account, filter_id: int, changes: FilterChanges
) -> FilterView:
    await own_filter(ctx, account, filter_id)
    values = _columns(changes)
    async with ctx.store.atomic():
        await ctx.store.update_filter(filter_id, values)
        await _apply_keywords(ctx, filter_id, changes.keywords)
        await streaming.announce(ctx, "filters_changed", account.id)
    return await get_filter(ctx, account, filter_id)


async def _apply_keywords(ctx: Context, filter_id: int, changes: list[KeywordChange]) -> None:
    """keywords_attributes: add, change or remove (_destroy) the filter's keywords. A
    keyword id of another filter is refused, as Mastodon's nested attributes are."""
    if not changes:
        return
    current = {k.id: k for k in (await ctx.store.keywords_of([filter_id]))[filter_id]}
    for change in changes:
        if change.id is not None and change.id not in current:
            raise NotFound(f"keyword {change.id} is not one of this filter's")
    kept = len(current)
    for change in changes:
        if change.id is None:
            if change.destroy:
                continue
            whole_word = True if change.whole_word is None else change.whole_word
            await ctx.store.insert_filter_keyword(filter_id, _keyword(change.keyword), whole_word)
            kept += 1
        elif change.destroy:
            await ctx.store.delete_filter_keyword(change.id)
            kept -= 1
        else:
            old = current[change.id]
            keyword = old.keyword if change.keyword is None else _keyword(change.keyword)
            whole_word = old.whole_word if change.whole_word is None else change.whole_word
            await ctx.store.update_filter_keyword(change.id, keyword, whole_word)
    if kept > KEYWORDS_MAX:
        raise Invalid(f"a filter has at most {KEYWORDS_MAX} keywords")


async def delete_filter(ctx: Context, account: Account, filter_id: int) -> None:
    await own_filter(ctx, account, filter_id)
    async with ctx.store.atomic():
        await ctx.store.delete_filter(filter_id)
        await streaming.announce(ctx, "filters_changed", account.id)


# -- keywords and posts one by one --------------------------------------------------


async def keywords(ctx: Context, account: Account, filter_id: int) -> list[FilterKeyword]:
    return (await get_filter(ctx, account, filter_id)).keywords


async def add_keyword(
    ctx: Context, account: Account, filter_id: int, keyword: str, whole_word: bool
) -> FilterKeyword:
    view = await get_filter(ctx, account, filter_id)
    if len(view.keywords) >= KEYWORDS_MAX:
        raise Invalid(f"a filter has at most {KEYWORDS_MAX} keywords")
    async with ctx.store.atomic():
        added = await ctx.store.insert_filter_keyword(filter_id, _keyword(keyword), whole_word)
        await streaming.announce(ctx, "filters_changed", account.id)
    return added


async def update_keyword(
    ctx: Context, account: Account, keyword_id: int, change: KeywordChange
) -> FilterKeyword:
    filter_id = (await own_keyword(ctx, account, keyword_id)).filter_id
    async with ctx.store.atomic():
        await _apply_keywords(ctx, filter_id, [replace(change, id=keyword_id)])
        await streaming.announce(ctx, "filters_changed", account.id)
    return await own_keyword(ctx, account, keyword_id)


async def delete_keyword(ctx: Context, account: Account, keyword_id: int) -> FilterKeyword:
    keyword = await own_keyword(ctx, account, keyword_id)
    async with ctx.store.atomic():
        await ctx.store.delete_filter_keyword(keyword_id)
        await streaming.announce(ctx, "filters_changed", account.id)
    return keyword


async def filter_statuses(ctx: Context, account: Account, filter_id: int) -> list[FilterStatus]:
    return (await get_filter(ctx, account, filter_id)).statuses


async def add_status(
    ctx: Context, account: Account, filter_id: int, status_id: int
) -> FilterStatus:
    """Filter one post (one the account can see); the same post twice is refused."""
    view = await get_filter(ctx, account, filter_id)
    status = await visible_status(ctx, account, status_id)
    if any(item.status_id == status.id for item in view.statuses):
        raise Invalid("Validation failed: Status has already been taken")
    async with ctx.store.atomic():
        added = await ctx.store.insert_filter_status(filter_id, status.id)
        await streaming.announce(ctx, "filters_changed", account.id)
    return added


async def delete_status(ctx: Context, account: Account, item_id: int) -> FilterStatus:
    item = await own_filter_status(ctx, account, item_id)
    async with ctx.store.atomic():
        await ctx.store.delete_filter_status(item_id)
        await streaming.announce(ctx, "filters_changed", account.id)
    return item

