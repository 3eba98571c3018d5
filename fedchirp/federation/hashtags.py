"""Another server's featured hashtags: its actor's toot:featuredTags collection of
Hashtag objects (Mastodon's shape: name "#tag", href its page)."""

from __future__ import annotations

import re
from typing import Any

from fedchirp.federation.values import as_list
from fedchirp.html import tag_key

# Word characters with at least one letter, as posts' hashtags are found (html.HASHTAG_RE);
# Mastodon's names are at most 100 characters.
_TAG_NAME = re.compile(r"\w*[^\W\d_]\w*")
MAX_NAME = 100


def collection_tag_names(document: dict[str, Any], limit: int) -> list[str]:
    """The hashtags a collection lists (inline items, or its embedded first page),
    lowercase and without '#', at most limit; names that are no hashtag are left out."""
    items = as_list(document.get("orderedItems") or document.get("items"))
    first = document.get("first")
    if not items and isinstance(first, dict):
        items = as_list(first.get("orderedItems") or first.get("items"))
    found: dict[str, None] = {}
    for item in items[: limit * 4]:
        if not isinstance(item, dict) or item.get("type") != "Hashtag":
            continue
        name = item.get("name")
        tag = tag_key(name) if isinstance(name, str) else ""
        if len(tag) <= MAX_NAME and _TAG_NAME.fullmatch(tag):
            found.setdefault(tag, None)
    return list(found)[:limit]
