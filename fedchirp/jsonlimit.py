"""A nesting limit on JSON from outside, checked on the bytes before they are parsed.

`json.loads` recurses once per level of nesting, so a 20 kB body of 10,000 "["
ends in a RecursionError (a 500) after the parser has spent its time on it.
Real documents, activities and client API bodies alike, nest a handful of
levels, so anything deeper than MAX_DEPTH is refused by a cheap scan first.
The inbox and the client API both use this one check.
"""

from __future__ import annotations

import re

MAX_DEPTH = 64

# A JSON string, escapes included (an unterminated one runs to the end): brackets
# inside strings are text, not nesting. Written as runs of plain bytes between escapes,
# which the regex engine takes many bytes at a time.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPEN = frozenset(b"[{")


class TooDeep(ValueError):
    """The JSON nests deeper than allowed."""


def nesting_depth(body: bytes, stop_after: int | None = None) -> int:
    """How deep [ and { nest outside strings; counting stops once past `stop_after`."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        if byte in _OPEN:
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_after is not None and deepest > stop_after:
                    break
        else:
            depth -= 1
    return deepest


def check_depth(body: bytes, limit: int = MAX_DEPTH) -> None:
    """TooDeep if the JSON in `body` nests deeper than `limit`."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return  # it cannot nest deeper than it has brackets: most bodies end here, cheaply
    if nesting_depth(body, stop_after=limit) > limit:
        raise TooDeep(f"JSON nested deeper than {limit} levels")
