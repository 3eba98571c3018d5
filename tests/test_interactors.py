"""Who liked or boosted a post: /api/v1/statuses/:id/favourited_by and /reblogged_by
(`toot reblogged_by`, Elk's "boosted by" list), newest first, paged by Link headers."""

from __future__ import annotations

import re


async def test_favourited_by_and_reblogged_by_list_who_may_be_seen(start, client, http):
    a = await start("a")
    for name in ("alice", "bob", "carol", "eve"):
        await a.create_user(name)
    alice, bob, carol, eve = [await client(a, n) for n in ("alice", "bob", "carol", "eve")]
    post = await alice.call("POST", "/api/v1/statuses", json={"status": "like me"})
    for fan in (bob, carol):
        await fan.call("POST", f"/api/v1/statuses/{post['id']}/favourite")
    await carol.call("POST", f"/api/v1/statuses/{post['id']}/reblog")
    path = f"/api/v1/statuses/{post['id']}"

    def accts(accounts: list[dict]) -> list[str]:
        return [account["acct"] for account in accounts]

    anonymous = await client(a)
    assert accts(await anonymous.call("GET", f"{path}/favourited_by")) == ["carol", "bob"]
    assert accts(await anonymous.call("GET", f"{path}/reblogged_by")) == ["carol"]
    # One at a time: the Link header leads to the older like.
    async with http.get(f"{a.base_url}{path}/favourited_by", params={"limit": "1"}) as resp:
        assert accts(await resp.json()) == ["carol"]
        older = re.search(r'<([^>]+)>; rel="next"', resp.headers["Link"])
    assert older
    async with http.get(older.group(1)) as resp:
        assert accts(await resp.json()) == ["bob"]
    # Someone eve blocked is not shown to her.
    carol_id = (await carol.call("GET", "/api/v1/accounts/verify_credentials"))["id"]
    await eve.call("POST", f"/api/v1/accounts/{carol_id}/block")
    assert accts(await eve.call("GET", f"{path}/favourited_by")) == ["bob"]
    assert await eve.call("GET", f"{path}/reblogged_by") == []
    # A post one may not see has no such lists.
    private = await alice.call(
        "POST", "/api/v1/statuses", json={"status": "followers only", "visibility": "private"}
    )
    status, body = await bob.request("GET", f"/api/v1/statuses/{private['id']}/favourited_by")
    assert status == 404 and body["error"]
