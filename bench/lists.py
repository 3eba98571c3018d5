"""List timeline latency against the home timeline of the same reader, in one run.

    .venv/bin/python bench/lists.py [--sizes 10000,100000] [--requests 300]

For each size it builds the SQLite database of bench/timeline.py (one reader following
200 of 2,000 authors, the reader's home feed as fan-out leaves it), adds two lists for
the reader, then times, in this process and through the store, a page of 20 of:
  home       TimelineQueries.home_timeline (the baseline; it now also checks exclusive lists)
  list-busy  a list of 20 followees (about a tenth of the feed)
  list-rare  a list of the one followee with the fewest posts in the feed
It prints p50 and p99 in milliseconds and each list's p50 as a ratio of home's. A list
page reads the owner's feed (at most HOME_FEED_SIZE entries), so its cost should not
grow with the number of posts; a rare member's list reads further into the feed.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from timeline import READER_ID, build_sqlite, percentile

from fedchirp.store import Store
from fedchirp.store.models import Page


def _add_lists(path: Path) -> tuple[int, int, int]:
    """(busy list id, rare list id, posts of the rare member in the feed)."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        counts = connection.execute(
            "SELECT s.account_id, COUNT(*) FROM home_feed h JOIN statuses s ON s.id = h.status_id"
            " WHERE h.account_id = ? AND s.account_id != ? GROUP BY s.account_id ORDER BY 2, 1",
            (READER_ID, READER_ID),
        ).fetchall()
        ids = []
        for title, members in (("busy", [a for a, _ in counts[-20:]]), ("rare", [counts[0][0]])):
            cursor = connection.execute(
                "INSERT INTO lists (account_id, title, replies_policy, exclusive, created_at)"
                " VALUES (?, ?, 'followed', 0, '2024-01-01T00:00:00.000Z')",
                (READER_ID, title),
            )
            ids.append(cursor.lastrowid)
            connection.executemany(
                "INSERT INTO list_accounts (list_id, account_id, created_at)"
                " VALUES (?, ?, '2024-01-01T00:00:00.000Z')",
                [(cursor.lastrowid, member) for member in members],
            )
        return ids[0], ids[1], counts[0][1]
    finally:
        connection.close()


async def _time(read: Callable[[], Awaitable[list]], count: int) -> tuple[float, float, int]:
    for _ in range(max(count // 10, 5)):  # warm-up
        rows = await read()
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        rows = await read()
        samples.append((time.perf_counter() - started) * 1000)
    return percentile(samples, 50), percentile(samples, 99), len(rows)


async def _measure(path: Path, count: int) -> None:
    busy_id, rare_id, rare_posts = _add_lists(path)
    store = Store(path)
    await store.open()
    try:
        page = Page(limit=20)
        busy, rare = await store.get_list(busy_id), await store.get_list(rare_id)
        assert busy is not None and rare is not None
        results = {
            "home": await _time(lambda: store.home_timeline(READER_ID, page), count),
            "list-busy": await _time(lambda: store.list_timeline(busy, page), count),
            "list-rare": await _time(lambda: store.list_timeline(rare, page), count),
        }
    finally:
        await store.close()
    home_p50 = results["home"][0]
    for name, (p50, p99, rows) in results.items():
        print(
            f"  {name:10} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  rows {rows:2}"
            f"  p50/home {p50 / home_p50:5.2f}"
        )
    print(f"  (the rare member has {rare_posts} posts in the reader's feed)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        for size in (int(s) for s in args.sizes.split(",")):
            path = Path(directory) / f"lists-{size}.sqlite3"
            build_sqlite(path, size)
            print(f"sqlite, {size} posts:")
            asyncio.run(_measure(path, args.requests))


if __name__ == "__main__":
    main()
