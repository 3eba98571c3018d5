"""The client API endpoints apps call beside the core ones (issue 11), driven with
Mastodon.py as an app would drive them."""

from __future__ import annotations

import pytest
from test_mastodon_api import follow_remote, login, sync

from fedchirp.localnet import settle

pytestmark = pytest.mark.backends


async def test_account_search_completes_mentions(pair):
    a, b = pair
    for name in ("alice", "albert", "bo"):
        await a.create_user(name)
    await b.create_user("bob")
    alice = await login(a, "alice")
    await follow_remote(alice, b.handle("bob"))
    await settle(a, b)

    found = await sync(alice.account_search, "al")
    assert [account["acct"] for account in found] == ["albert", "alice"]
    found = await sync(alice.account_search, "bo")
    assert [account["acct"] for account in found] == ["bo", b.handle("bob")]  # local first
    found = await sync(alice.account_search, "bo", following=True)
    assert [account["acct"] for account in found] == [b.handle("bob")]
    found = await sync(alice.account_search, "al", limit=1)
    assert [account["acct"] for account in found] == ["albert"]
    found = await sync(alice.account_search, f"@{b.handle('bob')}")
    assert [account["acct"] for account in found] == [b.handle("bob")]
    assert await sync(alice.account_search, "nobody") == []
