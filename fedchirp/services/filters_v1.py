"""Mastodon's v1 filters over the v2 ones, as Mastodon maps them: each keyword is a v1
filter (its id is the keyword's), its phrase the keyword, and `irreversible` means the
filter's action is hide."""

from __future__ import annotations

from dataclasses import dataclass

from fedchirp.services import filter_edits, filters
from fedchirp.services.context import Context
from fedchirp.services.errors import Invalid
from fedchirp.services.filter_edits import FilterChanges, KeywordChange
from fedchirp.services.filters import FilterView
from fedchirp.store.filters import FilterKeyword
from fedchirp.store.models import Account


@dataclass(frozen=True)
class V1Filter:
    keyword: FilterKeyword
    view: FilterView


@dataclass(frozen=True)
class V1Changes:
    phrase: str | None = None
    context: list[str] | None = None
    irreversible: bool | None = None
    whole_word: bool | None = None
    set_expiry: bool = False
    expires_in: int | None = None

    def filter_changes(self) -> FilterChanges:
        action = None if self.irreversible is None else ("hide" if self.irreversible else "warn")
        return FilterChanges(
            context=self.context,
            action=action,
            set_expiry=self.set_expiry,
            expires_in=self.expires_in,
        )


async def list_v1(ctx: Context, account: Account) -> list[V1Filter]:
    return [
        V1Filter(keyword, view)
        for view in await filters.list_filters(ctx, account)
        for keyword in view.keywords
    ]


async def get_v1(ctx: Context, account: Account, keyword_id: int) -> V1Filter:
    keyword = await filters.own_keyword(ctx, account, keyword_id)
    return V1Filter(keyword, await filters.get_filter(ctx, account, keyword.filter_id))


async def create_v1(ctx: Context, account: Account, changes: V1Changes) -> V1Filter:
    """A filter titled by its phrase, with that one keyword (whole word unless told)."""
    whole_word = True if changes.whole_word is None else changes.whole_word
    base = changes.filter_changes()
    view = await filter_edits.create_filter(
        ctx,
        account,
        FilterChanges(
            title=changes.phrase or "",
            context=base.context,
            action=base.action or "warn",
            set_expiry=base.set_expiry,
            expires_in=base.expires_in,
            keywords=[KeywordChange(keyword=changes.phrase, whole_word=whole_word)],
        ),
    )
    return V1Filter(view.keywords[0], view)


async def update_v1(
    ctx: Context, account: Account, keyword_id: int, changes: V1Changes
) -> V1Filter:
    v1 = await get_v1(ctx, account, keyword_id)
    keyword = v1.keyword
    base = changes.filter_changes()
    filter_wide = base.context is not None or base.action is not None or base.set_expiry
    if filter_wide and len(v1.view.keywords) > 1:
        # Mastodon's rule: a v1 app would change a whole filter it sees as one keyword.
        raise Invalid(
            "these settings apply to more than one keyword of the filter; "
            "change them with /api/v2/filters"
        )
    update = FilterChanges(
        context=base.context,
        action=base.action,
        set_expiry=base.set_expiry,
        expires_in=base.expires_in,
        keywords=[KeywordChange(keyword.id, changes.phrase, changes.whole_word)],
    )
    await filter_edits.update_filter(ctx, account, keyword.filter_id, update)
    return await get_v1(ctx, account, keyword_id)


async def delete_v1(ctx: Context, account: Account, keyword_id: int) -> None:
    """Remove the keyword; its filter goes too once it filters nothing else."""
    v1 = await get_v1(ctx, account, keyword_id)
    if len(v1.view.keywords) == 1 and not v1.view.statuses:
        await filter_edits.delete_filter(ctx, account, v1.view.filter.id)
    else:
        await filter_edits.delete_keyword(ctx, account, keyword_id)
