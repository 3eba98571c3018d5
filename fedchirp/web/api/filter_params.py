"""Reading filter parameters as Mastodon accepts them: JSON, or forms with context[]
and keywords_attributes[0][keyword] style keys."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from fedchirp.services.filter_edits import FilterChanges, KeywordChange
from fedchirp.services.filters_v1 import V1Changes
from fedchirp.web.api.params import flag, id_from, read_params, text
from fedchirp.web.errors import ApiError

INDEXED = re.compile(r"keywords_attributes\[(\d*)\]\[(\w+)\]$")


def contexts(params: dict[str, Any]) -> list[str] | None:
    raw = params.get("context[]", params.get("context"))
    if raw is None:
        return None
    values = raw if isinstance(raw, list) else [raw]
    if not all(isinstance(v, str) for v in values):
        raise ApiError(422, "context must be a list of strings")
    return [v for v in values if v]


def expiry(params: dict[str, Any]) -> tuple[bool, int | None]:
    """(given, seconds): expires_in left out changes nothing; empty or null means never."""
    if "expires_in" not in params:
        return False, None
    value = params["expires_in"]
    if value in (None, ""):
        return True, None
    try:
        return True, int(str(value))
    except ValueError:
        raise ApiError(422, "expires_in must be a number of seconds") from None


def _keyword_change(entry: Any) -> KeywordChange:
    if not isinstance(entry, dict):
        raise ApiError(422, "keywords_attributes must be a list of objects")
    number = None
    if entry.get("id") not in (None, ""):
        number = id_from(entry["id"])
        if number is None:
            raise ApiError(422, "keywords_attributes[][id] must be an id")
    keyword = entry.get("keyword")
    return KeywordChange(
        id=number,
        keyword=None if keyword is None else text(entry, "keyword"),
        whole_word=flag(entry, "whole_word") if "whole_word" in entry else None,
        destroy=flag(entry, "_destroy"),
    )


async def read_filter_params(request: web.Request) -> dict[str, Any]:
    """The request's parameters, with keywords_attributes[][keyword]=... form entries
    (the same key once per keyword) gathered into a list in their order, as Rack does:
    a key already in the current entry starts the next one."""
    params = await read_params(request)
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return params
    entries: list[dict[str, Any]] = []
    for key, value in (await request.post()).items():
        match = INDEXED.match(key)
        if match and match.group(1) == "":
            if not entries or match.group(2) in entries[-1]:
                entries.append({})
            entries[-1][match.group(2)] = value
    if entries:
        params["keywords_attributes"] = entries
    return params


def keyword_changes(params: dict[str, Any]) -> list[KeywordChange]:
    raw = params.get("keywords_attributes", params.get("keywords_attributes[]"))
    if isinstance(raw, dict):  # {"0": {...}, "1": {...}}, as Rails also accepts
        raw = [raw[key] for key in sorted(raw, key=lambda k: (len(k), k))]
    if raw is None:  # keywords_attributes[0][keyword]=... in a form
        indexed: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            match = INDEXED.match(key)
            if match and match.group(1):
                indexed.setdefault(match.group(1), {})[match.group(2)] = value
        raw = [indexed[key] for key in sorted(indexed, key=lambda k: (len(k), k))]
    if not isinstance(raw, list):
        raise ApiError(422, "keywords_attributes must be a list")
    return [_keyword_change(entry) for entry in raw]


def filter_changes(params: dict[str, Any]) -> FilterChanges:
    set_expiry, expires_in = expiry(params)
    return FilterChanges(
        title=text(params, "title") if params.get("title") is not None else None,
        context=contexts(params),
        action=text(params, "filter_action") if params.get("filter_action") else None,
        set_expiry=set_expiry,
        expires_in=expires_in,
        keywords=keyword_changes(params),
    )


def v1_changes(params: dict[str, Any]) -> V1Changes:
    set_expiry, expires_in = expiry(params)
    return V1Changes(
        phrase=text(params, "phrase") if params.get("phrase") is not None else None,
        context=contexts(params),
        irreversible=flag(params, "irreversible") if "irreversible" in params else None,
        whole_word=flag(params, "whole_word") if "whole_word" in params else None,
        set_expiry=set_expiry,
        expires_in=expires_in,
    )
