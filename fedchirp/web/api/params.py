"""Reading client API parameters the way Mastodon does: query, form, multipart or JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from fedchirp.jsonlimit import TooDeep, check_depth
from fedchirp.store.models import Page
from fedchirp.web.errors import ApiError
from fedchirp.web.ids import parse_id
from fedchirp.web.state import ctx_of

TRUE_WORDS = frozenset({"1", "true", "t", "on", "yes"})
FALSE_WORDS = frozenset({"0", "false", "f", "off", "no", ""})


async def read_params(request: web.Request) -> dict[str, Any]:
    """Query parameters merged with the body's (the body wins)."""
    params: dict[str, Any] = {}
    for key in request.query:
        values = request.query.getall(key)
        params[key] = values if key.endswith("[]") else values[-1]
    # GET too: Rails reads a JSON body on any method, and Mastodon.py sends some GET
    # parameters so (familiar_followers' ids).
    if request.method in ("GET", "POST", "PUT", "PATCH", "DELETE") and request.can_read_body:
        content_type = request.content_type
        if content_type == "application/json":
            raw = await request.read() or b"{}"
            try:
                check_depth(raw)  # before the parser: it recurses once per level
                body = json.loads(raw)
            except TooDeep as exc:
                raise ApiError(400, str(exc)) from exc
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ApiError(400, f"body is not valid JSON: {exc}") from exc
            if not isinstance(body, dict):
                raise ApiError(400, "body must be a JSON object")
            params.update(body)
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key in form:
                values = form.getall(key)
                params[key] = values if key.endswith("[]") else values[-1]
    return params


def flag(params: dict[str, Any], name: str, default: bool = False) -> bool:
    """A boolean parameter: true/false, 1/0, on/off (any case), or a JSON boolean."""
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ApiError(422, f"{name} must be a boolean")


def text(params: dict[str, Any], name: str, default: str = "") -> str:
    value = params.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ApiError(422, f"{name} must be a string")
    return str(value)


def id_from(value: Any) -> int | None:
    """The id a parameter's value (text or JSON number) names; None if it names none
    (see fedchirp/web/ids.py)."""
    return parse_id(value)


def optional_id(params: dict[str, Any], name: str) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    number = id_from(value)
    if number is None:
        raise ApiError(422, f"{name} must be an id")
    return number


def id_list(params: dict[str, Any], name: str) -> list[int]:
    """An array of ids, sent as name[]=1&name[]=2 (forms) or "name": [1, 2] (JSON)."""
    raw = params.get(f"{name}[]", params.get(name, []))
    values = raw if isinstance(raw, list) else [raw]
    numbers = [id_from(value) for value in values if str(value) != ""]
    if None in numbers:
        raise ApiError(422, f"{name} must be a list of ids")
    return numbers  # type: ignore[return-value]


def path_id(request: web.Request, name: str = "id") -> int:
    """The id in the path; 404 for one that no record can have."""
    number = id_from(request.match_info[name])
    if number is None:
        raise ApiError(404, "Record not found")
    return number


def page_from(request: web.Request, default_limit: int = 20, max_limit: int = 40) -> Page:
    query = request.query
    try:
        limit = int(query.get("limit", default_limit))
    except ValueError:
        raise ApiError(422, "limit must be a number") from None
    ids = {}
    for name in ("max_id", "since_id", "min_id"):
        value = query.get(name)
        if value:
            number = id_from(value)
            if number is None:
                raise ApiError(422, f"{name} must be an id")
            ids[name] = number
    return Page(limit=min(max(limit, 1), max_limit), **ids)


def paged_response(request: web.Request, body: Any, ids: list[int], page: Page) -> web.Response:
    """JSON with a Link header for the next (older) and previous (newer) pages.

    Links use the configured public base URL, not the request's scheme and host,
    which behind a TLS-terminating proxy would say http://."""
    response = web.json_response(body)
    if ids:
        base = f"{ctx_of(request).urls.base}{request.path}"
        # Pairs, not a dict: repeated keys (types[]=a&types[]=b) must all be kept.
        bounds = ("max_id", "since_id", "min_id")
        kept = [(k, v) for k, v in request.query.items() if k not in bounds]
        newer = urlencode([*kept, ("min_id", ids[0])])
        older = urlencode([*kept, ("max_id", ids[-1])])
        links = [f'<{base}?{older}>; rel="next"', f'<{base}?{newer}>; rel="prev"']
        response.headers["Link"] = ", ".join(links)
    return response


def number(params: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    """A whole-number parameter, clamped to [low, high] as Mastodon clamps limits."""
    try:
        return min(max(int(params.get(name, default)), low), high)
    except (TypeError, ValueError):
        raise ApiError(422, f"{name} must be a number") from None
