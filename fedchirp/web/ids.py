"""Ids in URLs and forms: the one parser every route uses.

Ids are signed 64-bit integers in the store (PostgreSQL bigint, SQLite INTEGER); a
larger number would overflow there (a 500), so it names nothing here. The client
API (web/api/params.py), the pages and the ActivityPub routes all read ids with
`parse_id`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedchirp.services.errors import NotFound
from fedchirp.web.errors import ApiError

MAX_ID = 2**63 - 1
_MAX_DIGITS = len(str(MAX_ID))


def parse_id(value: Any) -> int | None:
    """The id a value (text or JSON number) names; None if it names none:
    not all ASCII digits, or past what the store can hold."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value)
    if not (text.isascii() and text.isdigit()) or len(text) > _MAX_DIGITS:
        return None
    number = int(text)
    return number if number <= MAX_ID else None


def id_in_path(request: web.Request, name: str = "id") -> int:
    """The id a route's path names; 404 for one that no record can have."""
    number = parse_id(request.match_info[name])
    if number is None:
        raise NotFound("not found")
    return number


def id_in_query(request: web.Request, name: str) -> int | None:
    """An optional id in the query string (max_id=...); 400 if it is not one."""
    value = request.query.get(name)
    if not value:
        return None
    number = parse_id(value)
    if number is None:
        raise ApiError(400, f"{name} must be an id")
    return number
