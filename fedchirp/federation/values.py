"""The plain values of ActivityStreams documents: ids, hosts, lists that may be one
item. federation/vocab.py builds on these (and re-exports them)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

MAX_ID_LENGTH = 2048


@lru_cache(maxsize=8192)
def host_of(uri: str) -> str:
    """The origin of an id (host[:port], lowercase), '' if it has none. Cached: every
    inbox POST asks it of the same few actor and key ids several times."""
    try:
        return urlsplit(uri).netloc.lower()
    except ValueError:
        return ""


def is_http_uri(value: Any) -> bool:
    if not isinstance(value, str) or len(value) > MAX_ID_LENGTH:
        return False
    if not value.startswith(("https://", "http://")):  # also what urlsplit would say
        return value[:8].lower().startswith(("https://", "http://")) and bool(host_of(value))
    return bool(host_of(value))


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def id_of(value: Any) -> str | None:
    """The id of a link-or-object value: a string, or an object's "id"."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return value["id"]
    return None


def ids_of(value: Any) -> tuple[str, ...]:
    return tuple(i for i in (id_of(v) for v in as_list(value)) if i)
