"""Content filters as Mastodon 4 has them: a user's filter names the contexts it
applies in (home, notifications, public, thread, account), what to do with a match
(warn: show it behind a warning; hide: leave it out; blur: show its media blurred), an
optional expiry, keywords (whole_word ones only match at word boundaries) and posts.

Filters are applied on the server, as Mastodon does: `matcher` compiles a viewer's
active filters for one context once per request, and the renderer asks it about each
post. Editing a filter is in services/filter_edits.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from fedchirp import html
from fedchirp.clock import now_iso
from fedchirp.services.context import Context
from fedchirp.services.errors import NotFound
from fedchirp.store.filters import Filter, FilterKeyword, FilterStatus
from fedchirp.store.models import Account, Status

CONTEXTS = ("home", "notifications", "public", "thread", "account")
ACTIONS = ("warn", "hide", "blur")


@dataclass(frozen=True)
class FilterView:
    """A filter with its keywords and posts: what the API shows of it."""

    filter: Filter
    keywords: list[FilterKeyword]
    statuses: list[FilterStatus]

    @property
    def contexts(self) -> list[str]:
        return list(json.loads(self.filter.context))

    def active(self, now: str) -> bool:
        return self.filter.expires_at is None or self.filter.expires_at > now


@dataclass(frozen=True)
class Match:
    """One filter matching one post (Mastodon's FilterResult)."""

    view: FilterView
    keyword_matches: list[str] | None
    status_matches: list[str] | None

    @property
    def hides(self) -> bool:
        return self.view.filter.filter_action == "hide"


# -- reading -------------------------------------------------------------------------


async def views(ctx: Context, found: list[Filter]) -> list[FilterView]:
    """Filters with their keywords and posts, in two reads whatever their number."""
    if not found:
        return []
    ids = [f.id for f in found]
    keywords = await ctx.store.keywords_of(ids)
    statuses = await ctx.store.filter_statuses_of(ids)
    return [FilterView(f, keywords.get(f.id, []), statuses.get(f.id, [])) for f in found]


async def list_filters(ctx: Context, account: Account) -> list[FilterView]:
    return await views(ctx, await ctx.store.filters_of(account.id))


async def own_filter(ctx: Context, account: Account, filter_id: int) -> Filter:
    """The account's filter; NotFound for anyone else's, as if it did not exist."""
    found = await ctx.store.get_filter(filter_id)
    if found is None or found.account_id != account.id:
        raise NotFound("Record not found")
    return found


async def get_filter(ctx: Context, account: Account, filter_id: int) -> FilterView:
    return (await views(ctx, [await own_filter(ctx, account, filter_id)]))[0]


async def own_keyword(ctx: Context, account: Account, keyword_id: int) -> FilterKeyword:
    keyword = await ctx.store.get_filter_keyword(keyword_id)
    if keyword is None:
        raise NotFound("Record not found")
    await own_filter(ctx, account, keyword.filter_id)
    return keyword


async def own_filter_status(ctx: Context, account: Account, item_id: int) -> FilterStatus:
    item = await ctx.store.get_filter_status(item_id)
    if item is None:
        raise NotFound("Record not found")
    await own_filter(ctx, account, item.filter_id)
    return item


# -- applying ------------------------------------------------------------------------


def keyword_pattern(keyword: str, whole_word: bool) -> re.Pattern[str]:
    """Mastodon's rule: case-insensitive; a whole-word keyword is bounded by \\b on each
    side that starts or ends with a word character (so "#tag" or "c++" still match)."""
    body = re.escape(keyword)
    if whole_word:
        start = r"\b" if re.match(r"\w", keyword) else ""
        end = r"\b" if re.search(r"\w$", keyword) else ""
        body = f"{start}{body}{end}"
    return re.compile(body, re.IGNORECASE)


def searchable_text(status: Status, media_descriptions: Iterable[str]) -> str:
    """What keywords are looked for in: the content warning, the plain text and the
    media descriptions, as Mastodon's searchable_text."""
    parts = [status.spoiler_text, html.to_text(status.content), *media_descriptions]
    return "\n\n".join(part for part in parts if part)


class Matcher:
    """A viewer's active filters for one context, compiled once."""

    def __init__(self, found: list[FilterView]) -> None:
        # (keyword, its casefolded text, its pattern): the plain substring test on the
        # casefolded text rules out most posts at C speed; the pattern decides the rest.
        self._compiled = [
            (
                view,
                [
                    (k.keyword, k.keyword.casefold(), keyword_pattern(k.keyword, k.whole_word))
                    for k in view.keywords
                ],
                {s.status_id for s in view.statuses},
            )
            for view in found
        ]

    def __bool__(self) -> bool:
        return bool(self._compiled)

    def matches(self, status_ids: Iterable[int | None], text: str) -> list[Match]:
        """The filters matching a post: by its text, or by its id (a boost matches the
        filters naming the boosted post too, so pass both ids)."""
        ids = {i for i in status_ids if i is not None}
        folded = text.casefold()
        found = []
        for view, patterns, named in self._compiled:
            keywords = [
                keyword
                for keyword, needle, pattern in patterns
                if needle in folded and pattern.search(text)
            ]
            posts = sorted(ids & named)
            if keywords or posts:
                found.append(
                    Match(view, keywords or None, [str(i) for i in posts] or None)
                )
        return found


async def matcher(ctx: Context, viewer: Account | None, context: str | None) -> Matcher:
    """The viewer's unexpired filters that apply in the context (none for anonymous)."""
    if viewer is None or context is None:
        return Matcher([])
    now = now_iso()
    found = [
        f
        for f in await ctx.store.filters_of(viewer.id)
        if context in json.loads(f.context) and (f.expires_at is None or f.expires_at > now)
    ]
    return Matcher(await views(ctx, found))
