"""Filter entities as Mastodon documents them (Filter, FilterKeyword, FilterStatus,
FilterResult and V1::Filter); ids are strings."""

from __future__ import annotations

from typing import Any

from fedchirp.services.filters import FilterView, Match, Matcher, searchable_text
from fedchirp.services.filters_v1 import V1Filter
from fedchirp.store.filters import FilterKeyword, FilterStatus
from fedchirp.store.models import MediaAttachment, Status


def keyword_entity(keyword: FilterKeyword) -> dict[str, Any]:
    return {"id": str(keyword.id), "keyword": keyword.keyword, "whole_word": keyword.whole_word}


def status_entity(item: FilterStatus) -> dict[str, Any]:
    return {"id": str(item.id), "status_id": str(item.status_id)}


def filter_entity(view: FilterView) -> dict[str, Any]:
    return {
        "id": str(view.filter.id),
        "title": view.filter.title,
        "context": view.contexts,
        "expires_at": view.filter.expires_at,
        "filter_action": view.filter.filter_action,
        "keywords": [keyword_entity(k) for k in view.keywords],
        "statuses": [status_entity(s) for s in view.statuses],
    }


def result_entity(match: Match) -> dict[str, Any]:
    return {
        "filter": filter_entity(match.view),
        "keyword_matches": match.keyword_matches,
        "status_matches": match.status_matches,
    }


def v1_entity(v1: V1Filter) -> dict[str, Any]:
    return {
        "id": str(v1.keyword.id),
        "phrase": v1.keyword.keyword,
        "context": v1.view.contexts,
        "whole_word": v1.keyword.whole_word,
        "expires_at": v1.view.filter.expires_at,
        "irreversible": v1.view.filter.filter_action == "hide",
    }


def apply_filters(
    matcher: Matcher,
    status: Status,
    proper: Status,
    media: list[MediaAttachment],
    entity: dict[str, Any],
) -> bool:
    """Fill a rendered status's `filtered` (and its boosted post's) with the filters that
    match it; False when one of them hides it. Keywords are looked for in the boosted
    post; ids are those of the boost and of the boosted post."""
    text = searchable_text(proper, [m.description for m in media if m.description])
    found = matcher.matches((status.id, status.reblog_of_id), text)
    results = [result_entity(match) for match in found]
    entity["filtered"] = results
    if entity.get("reblog"):
        entity["reblog"]["filtered"] = results
    return not any(match.hides for match in found)
