"""What computing the trends costs, against a page of the public timeline, in one run.

    .venv/bin/python bench/trends.py [--posts-per-day 2000,10000] [--requests 20]

For each size it builds a SQLite database of 2,000 discoverable accounts that posted
that many public posts a day for the last 9 days (a third carrying one to three of 300
hashtags, chosen with a long tail) with three likes, one boost and half a reply a post
on average, then times, in this process, through services/trends.py:
  public page          TimelineQueries.public_timeline, a page of 20 (the baseline)
  ... computed         the window's aggregate and its ranking (the cache emptied first):
                       7 days of hashtags, 3 days of engagement
  ... anonymous/signed in   a request while the minute's cache holds: the viewer's cut
                       of the cached top and its ranking (top 10 tags, 20 posts loaded)
It prints p50 in milliseconds and each as a ratio of the public page's. Computing reads
every trendable row of the window, so it grows with the posts of the window (not with
the table); a process does it at most once a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from fedchirp.config import Config
from fedchirp.services import trends
from fedchirp.store import Store
from fedchirp.store.models import Account, Page

ACCOUNTS = 2_000
DAYS = 9
TAGS = 300
ISO = "2024-01-01T00:00:00.000Z"


def _accounts() -> list[tuple[Any, ...]]:
    return [
        (i, f"user{i}", "", f"https://bench.example/users/{i}", f"https://bench.example/inbox/{i}",
         f"https://bench.example/users/{i}#key", "KEY", ISO)
        for i in range(1, ACCOUNTS + 1)
    ]  # fmt: skip


def _fill(path: Path, per_day: int) -> None:
    rng = random.Random(7)
    now_ms = int(time.time() * 1000)
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN")
        connection.executemany(
            "INSERT INTO accounts (id, username, domain, uri, inbox_url, public_key_id,"
            " public_key_pem, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            _accounts(),
        )
        posts, tags, likes, boosts = [], [], [], []
        for n in range(per_day * DAYS):
            sid = ((now_ms - rng.randrange(DAYS * 86_400_000)) << 16) | (n & 0xFFFF)
            author = rng.randrange(1, ACCOUNTS + 1)
            reply_to = posts[rng.randrange(len(posts))][0] if posts and rng.random() < 0.3 else None
            posts.append((sid, f"https://bench.example/s/{sid}", author, reply_to, ISO))
            if rng.random() < 1 / 3:
                chosen = {int(rng.paretovariate(1.2)) % TAGS for _ in range(rng.randint(1, 3))}
                tags += [(sid, f"tag{t}") for t in chosen]
            fans = rng.sample(range(1, ACCOUNTS + 1), rng.choice((0, 1, 2, 3, 4, 8)))
            likes += [(sid, fan, f"https://bench.example/like/{sid}/{fan}", ISO) for fan in fans]
            if rng.random() < 0.5:
                booster = rng.randrange(1, ACCOUNTS + 1)
                boosts.append(
                    (sid + 1 + n % 7, f"https://bench.example/b/{sid}", booster, sid, ISO)
                )
        connection.executemany(
            "INSERT INTO statuses (id, uri, account_id, local, visibility, in_reply_to_id,"
            " created_at) VALUES (?, ?, ?, 1, 'public', ?, ?)",
            sorted(posts),
        )
        connection.executemany("INSERT OR IGNORE INTO status_tags VALUES (?, ?)", tags)
        connection.executemany(
            "INSERT OR IGNORE INTO favourites (status_id, account_id, uri, created_at)"
            " VALUES (?, ?, ?, ?)",
            likes,
        )
        connection.executemany(
            "INSERT OR IGNORE INTO statuses (id, uri, account_id, local, visibility,"
            " reblog_of_id, created_at) VALUES (?, ?, ?, 1, 'public', ?, ?)",
            boosts,
        )
        connection.execute("COMMIT")
        connection.execute("ANALYZE")
    finally:
        connection.close()


async def _p50(read: Callable[[], Awaitable[list[Any]]], count: int) -> tuple[float, int]:
    rows = await read()  # warm-up
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        rows = await read()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), len(rows)


async def _measure(path: Path, per_day: int, count: int) -> None:
    store = Store(path)
    await store.open()
    _fill(path, per_day)
    try:
        ctx: Any = SimpleNamespace(store=store, config=Config())
        viewer = await store.get_account(1)
        assert isinstance(viewer, Account)
        public = Page(limit=20)
        base, _ = await _p50(lambda: store.public_timeline(False, public, None), count)

        async def cold_tags() -> list[Any]:
            trends._cache.clear()
            return await trends.tags(ctx, None, 0, 10)

        async def cold_statuses() -> list[Any]:
            trends._cache.clear()
            return await trends.statuses(ctx, None, 0, 20)

        timed = {
            "tags computed": await _p50(cold_tags, count),
            "statuses computed": await _p50(cold_statuses, count),
            "tags, anonymous": await _p50(lambda: trends.tags(ctx, None, 0, 10), count),
            "tags, signed in": await _p50(lambda: trends.tags(ctx, viewer, 0, 10), count),
            "statuses, anonymous": await _p50(lambda: trends.statuses(ctx, None, 0, 20), count),
            "statuses, signed in": await _p50(lambda: trends.statuses(ctx, viewer, 0, 20), count),
        }
        print(f"{per_day} posts a day: public page {base:.2f} ms (the baseline)")
        for name, (ms, found) in timed.items():
            print(f"  {name:<20} {ms:8.2f} ms {ms / base:7.1f}x  ({found} listed)")
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts-per-day", default="2000,10000")
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    for per_day in (int(n) for n in args.posts_per_day.split(",")):
        with tempfile.TemporaryDirectory() as directory:
            asyncio.run(_measure(Path(directory) / "bench.sqlite3", per_day, args.requests))


if __name__ == "__main__":
    main()
