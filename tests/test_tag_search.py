"""Hashtags in /api/v2/search (`toot tags info` and compose autocompletion ask for them):
the name typed first, then names in use starting with it, in order."""

from __future__ import annotations

import pytest

# The names come from one recursive statement (store/tag_search.py): run on both databases.
pytestmark = pytest.mark.backends


async def _hashtags(api, q: str, **params: str) -> list[tuple[str, bool | None]]:
    found = await api.call("GET", "/api/v2/search", params={"q": q, **params})
    return [(tag["name"], tag.get("following")) for tag in found["hashtags"]]


async def test_search_finds_hashtags_by_the_start_of_their_name(start, client):
    a = await start("a")
    await a.create_user("alice")
    await a.create_user("carol")
    alice, carol = await client(a, "alice"), await client(a, "carol")
    await alice.call(
        "POST", "/api/v1/statuses", json={"status": "#coffee #CoffeeTime #cocoa #tea_time"}
    )
    for _ in range(3):  # a name carried by many posts is still found once
        await carol.call("POST", "/api/v1/statuses", json={"status": "#coffee #teaxtime"})
    await alice.call("POST", "/api/v1/tags/coffee/follow")

    assert await _hashtags(alice, "cof") == [
        ("cof", False), ("coffee", True), ("coffeetime", False)
    ]
    assert await _hashtags(alice, "#Coffee", type="hashtags") == [
        ("coffee", True), ("coffeetime", False)
    ]
    assert await _hashtags(alice, "cof", limit="2") == [("cof", False), ("coffee", True)]
    # '_' is part of a name here, not a wildcard.
    assert await _hashtags(alice, "tea_") == [("tea_", False), ("tea_time", False)]
    # Without a token there is no `following`; a handle, a URL or two words are no hashtag.
    assert await _hashtags(await client(a), "coffee") == [
        ("coffee", None), ("coffeetime", None)
    ]
    for q in (a.handle("carol"), f"{a.base_url}/tags/coffee", "coffee time"):
        assert await _hashtags(alice, q) == []
    assert await _hashtags(alice, "coffee", type="accounts") == []
