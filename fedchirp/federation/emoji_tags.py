"""Custom emoji named in a document's `tag`: Emoji objects with a :shortcode: name and an
icon (Mastodon's shape)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fedchirp.federation.values import as_list, id_of, is_http_uri

EMOJI_SHORTCODE = re.compile(r"[A-Za-z0-9_]{2,64}")  # Mastodon's, with a bound


@dataclass(frozen=True)
class EmojiTag:
    """A custom emoji a post or profile uses: its :shortcode: and image."""

    shortcode: str
    url: str
    uri: str


def parse_emoji_tags(tags: Any, limit: int = 50) -> tuple[EmojiTag, ...]:
    found = []
    for tag in as_list(tags)[:limit * 4]:
        if not isinstance(tag, dict) or tag.get("type") != "Emoji":
            continue
        name, icon = tag.get("name"), tag.get("icon")
        url = id_of(icon.get("url")) if isinstance(icon, dict) else None
        code = name.strip(":") if isinstance(name, str) else ""
        if EMOJI_SHORTCODE.fullmatch(code) and is_http_uri(url):
            found.append(EmojiTag(code, url, id_of(tag.get("id")) or ""))  # type: ignore[arg-type]
    return tuple(found[:limit])
