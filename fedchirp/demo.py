"""`fedchirp demo`: two instances on loopback, a follow and a post, and what crossed.

Everything goes through the public interfaces: the client API (as an app would
use it) on each side, and real signed ActivityPub between the two servers.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TextIO

import aiohttp

from fedchirp.federation.vocab import Activity
from fedchirp.html import to_text
from fedchirp.localnet import ApiClient, LocalInstance, settle, start_instance


def _watch(out: TextIO, instances: dict[str, LocalInstance]) -> None:
    names = {inst.domain: label for label, inst in instances.items()}

    for label, instance in instances.items():

        def observer(activity: Activity, outcome: str, receiver: str = label) -> None:
            sender = next((n for d, n in names.items() if d in activity.actor), "?")
            out.write(f"    {sender} -> {receiver}  {activity.type:<8} {outcome}\n")

        instance.observe(observer)


async def run_demo(out: TextIO) -> bool:
    with tempfile.TemporaryDirectory(prefix="fedchirp-demo-") as tmp:
        a = await start_instance(Path(tmp) / "a", "Instance A")
        b = await start_instance(Path(tmp) / "b", "Instance B")
        try:
            return await _exchange(out, a, b)
        finally:
            await a.stop()
            await b.stop()


async def _exchange(out: TextIO, a: LocalInstance, b: LocalInstance) -> bool:
    out.write(f"A = {a.base_url}\nB = {b.base_url}\n")
    await a.create_user("alice", display_name="Alice")
    await b.create_user("bob", display_name="Bob")
    _watch(out, {"A": a, "B": b})
    async with aiohttp.ClientSession() as session:
        alice, bob = ApiClient(session, a), ApiClient(session, b)
        await alice.sign_in("alice")
        await bob.sign_in("bob")

        out.write(
            f"\n1. alice@A looks up {b.handle('bob')} (WebFinger, then a signed GET "
            "of the actor) and follows:\n"
        )
        found = await alice.call(
            "GET", "/api/v2/search", params={"q": b.handle("bob"), "resolve": "true"}
        )
        bob_on_a = found["accounts"][0]
        await alice.call("POST", f"/api/v1/accounts/{bob_on_a['id']}/follow")
        await settle(a, b)
        relation = await alice.call(
            "GET", "/api/v1/accounts/relationships", params={"id[]": bob_on_a["id"]}
        )
        out.write(f"   alice follows bob: {relation[0]['following']}\n")

        out.write("\n2. bob@B posts:\n")
        post = await bob.call(
            "POST", "/api/v1/statuses", json={"status": "Hello from B! #fediverse"}
        )
        await settle(a, b)
        home = await alice.call("GET", "/api/v1/timelines/home")
        out.write("   alice's home timeline on A:\n")
        for status in home:
            out.write(f"     @{status['account']['acct']}: {to_text(status['content'])}\n")
        arrived = any(s["uri"] == post["uri"] for s in home)

        out.write("\n3. bob deletes the post:\n")
        await bob.call("DELETE", f"/api/v1/statuses/{post['id']}")
        await settle(a, b)
        home = await alice.call("GET", "/api/v1/timelines/home")
        gone = all(s["uri"] != post["uri"] for s in home)
        out.write(f"   gone from alice's timeline: {gone}\n")

        out.write("\n4. alice unfollows bob:\n")
        await alice.call("POST", f"/api/v1/accounts/{bob_on_a['id']}/unfollow")
        await settle(a, b)

    ok = relation[0]["following"] and arrived and gone
    out.write(
        f"\n{'OK' if ok else 'FAILED'}: follow, post, delete and unfollow crossed "
        "between two instances.\n"
    )
    return bool(ok)
