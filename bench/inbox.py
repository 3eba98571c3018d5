"""How fast the inbox takes signed activities, against baselines measured in the same run.

    .venv/bin/python bench/inbox.py [--requests 300] [--concurrency 8]

Prints three rates and two ratios:
  bare aiohttp    a handler that reads the body and answers 202 (HTTP floor)
  bare RSA verify cryptography's PKCS#1 v1.5 verify of one signature (crypto floor)
  fedchirp inbox  signed Create(Note) activities through our full inbox path
                  (signature + digest + date checks, parse, dispatch, SQLite write)
Everything runs on 127.0.0.1. Ratios, not absolute numbers, are what to compare
across machines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from fedchirp.federation.httpsig import load_private_key, sign_request
from fedchirp.localnet import start_instance
from fedchirp.services import follows


async def _blast(urls_and_bodies, headers_for, concurrency: int) -> float:
    """Send all requests with `concurrency` in flight; return requests per second."""
    queue = list(urls_and_bodies)
    async with aiohttp.ClientSession() as session:

        async def worker() -> None:
            while queue:
                url, body = queue.pop()
                async with session.post(url, data=body, headers=headers_for(url, body)) as resp:
                    await resp.read()
                    if resp.status != 202:
                        raise RuntimeError(f"{url} answered {resp.status}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return len(urls_and_bodies) / (time.perf_counter() - started)


async def bare_aiohttp(bodies: list[bytes], concurrency: int) -> float:
    async def accept(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/inbox", accept)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        url = f"http://127.0.0.1:{port}/inbox"
        return await _blast([(url, b) for b in bodies], lambda u, b: {}, concurrency)
    finally:
        await runner.cleanup()


def bare_verify(private_pem: str, rounds: int) -> float:
    key = load_private_key(private_pem)
    signature = key.sign(b"x" * 200, padding.PKCS1v15(), hashes.SHA256())
    public = key.public_key()
    started = time.perf_counter()
    for _ in range(rounds):
        public.verify(signature, b"x" * 200, padding.PKCS1v15(), hashes.SHA256())
    return rounds / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        receiver = await start_instance(Path(tmp) / "r", "receiver")
        sender = await start_instance(Path(tmp) / "s", "sender", run_workers=False)
        try:
            alice = await receiver.create_user("alice")
            bob = await sender.create_user("bob")
            bob_key = (await sender.ctx.store.get_local_user(bob.id)).private_key_pem
            bob_on_r = await receiver.ctx.resolver.actor(bob.uri)
            follow = await follows.follow(receiver.ctx, alice, bob_on_r)
            await receiver.ctx.store.accept_follow(follow.id)

            bodies = [
                json.dumps(
                    {
                        "@context": "https://www.w3.org/ns/activitystreams",
                        "id": f"{bob.uri}/statuses/{n}/activity",
                        "type": "Create",
                        "actor": bob.uri,
                        "to": ["https://www.w3.org/ns/activitystreams#Public"],
                        "object": {
                            "id": f"{bob.uri}/statuses/{n}",
                            "type": "Note",
                            "attributedTo": bob.uri,
                            "content": f"<p>post {n}</p>",
                            "to": ["https://www.w3.org/ns/activitystreams#Public"],
                        },
                    }
                ).encode()
                for n in range(args.requests)
            ]

            def signed(url: str, body: bytes) -> dict:
                headers = sign_request("POST", url, bob.public_key_id, bob_key, body)
                return {**headers, "Content-Type": "application/activity+json"}

            floor = await bare_aiohttp(bodies, args.concurrency)
            verify = bare_verify(bob_key, 2000)
            inbox_url = f"{receiver.base_url}/inbox"
            ours = await _blast([(inbox_url, b) for b in bodies], signed, args.concurrency)
            stored = await receiver.ctx.store.count_statuses()
        finally:
            await receiver.stop()
            await sender.stop()

    print(f"requests={args.requests} concurrency={args.concurrency} stored={stored}")
    print(f"bare aiohttp      {floor:9.0f} req/s")
    print(f"bare RSA verify   {verify:9.0f} verifies/s")
    print(f"fedchirp inbox    {ours:9.0f} req/s")
    print(f"ratio inbox/bare aiohttp    {ours / floor:.3f}")
    print(f"ratio inbox/bare RSA verify {ours / verify:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
