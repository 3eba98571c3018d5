"""`fedchirp db copy`: an instance moves from SQLite to PostgreSQL with every row, and
runs there as before."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from fedchirp.clock import utcnow
from fedchirp.config import render_toml
from fedchirp.localnet import settle
from fedchirp.services import circles, follows, interactions, posting, timelines
from fedchirp.store import Store
from fedchirp.store.models import Page
from fedchirp.store.schema import metadata
from tests.dbutil import count_rows


def fedchirp_cli(config: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fedchirp", "--config", str(config), *argv],
        capture_output=True,
        text=True,
        timeout=120,
    )


async def populate(a, b) -> None:
    """Accounts, follows (accepted and pending), a group, posts of every audience, a reply
    whose id is smaller than its parent's (a remote clock behind ours), a boost, a like."""
    ctx = a.ctx
    alice = await a.create_user("alice", locked=True)
    bob = await a.create_user("bob")
    carol = await a.create_user("carol")
    await follows.follow(ctx, bob, alice)
    await follows.authorize(ctx, alice, bob)
    await follows.follow(ctx, carol, alice)  # stays pending
    group = await circles.create_circle(ctx, alice, "friends")
    await circles.add_members(ctx, alice, group.id, [bob.id])
    root = await posting.create_status(ctx, alice, "hello #world", visibility="public")
    await posting.create_status(ctx, alice, "for followers", visibility="private")
    await posting.create_status(ctx, alice, "for friends", circle_id=group.id)
    await posting.create_status(ctx, alice, "hi @carol", visibility="direct")
    early = utcnow() - timedelta(hours=1)
    await ctx.store.insert_status(
        {
            "uri": "https://elsewhere.test/early-reply",
            "account_id": bob.id,
            "local": 0,
            "visibility": "public",
            "in_reply_to_id": root.id,
            "created_at": "2026-01-01T00:00:00.000Z",
        },
        early,
    )
    await interactions.reblog(ctx, bob, root)
    await interactions.favourite(ctx, bob, root)
    # b follows alice from another server: deliveries are queued for it.
    remote_bob = await b.create_user("rbob")
    await follows.follow(b.ctx, remote_bob, await b.ctx.resolver.actor(f"{a.base_url}/users/alice"))


async def test_an_instance_moves_to_postgresql_with_every_row(start, tmp_path, postgres_url):
    a, b = await start("a"), await start("b")
    await populate(a, b)
    await settle(a, b)
    bob = await a.ctx.store.find_account("bob", "")
    home_before = [s.uri for s in await timelines.home(a.ctx, bob, Page())]
    counts = {t.name: await count_rows(a.ctx.store, t.name) for t in metadata.sorted_tables}
    port, data_dir = a.port, Path(a.config.storage.data_dir)
    await a.stop()
    config = tmp_path / "a.toml"
    config.write_text(render_toml(a.config), encoding="utf-8")

    result = fedchirp_cli(config, "db", "copy", "--to", postgres_url)
    assert result.returncode == 0, result.stderr
    assert "row counts match" in result.stdout
    # Copying again into the now full database is refused, and changes nothing.
    again = fedchirp_cli(config, "db", "copy", "--to", postgres_url)
    assert again.returncode != 0
    assert again.stderr.strip() == "fedchirp: the target database is not empty"

    moved = await start(
        "a", port=port, data_dir=data_dir, settings={"database": {"url": postgres_url}}
    )
    store = moved.ctx.store
    assert {t.name: await count_rows(store, t.name) for t in metadata.sorted_tables} == counts
    assert [s.uri for s in await timelines.home(moved.ctx, bob, Page())] == home_before
    # New rows get fresh ids: the id sequences were moved past the copied rows.
    alice = await store.find_account("alice", "")
    dave = await moved.create_user("dave")
    await follows.follow(moved.ctx, dave, alice)
    new_post = await posting.create_status(moved.ctx, alice, "from PostgreSQL now")
    assert (await store.get_status(new_post.id)).content
    assert dave.id > max(a.id for a in (await store.get_accounts(range(1, dave.id))).values())


async def test_a_bad_target_is_a_one_line_error(start, tmp_path):
    a = await start("a")
    await a.stop()
    config = tmp_path / "a.toml"
    config.write_text(render_toml(a.config), encoding="utf-8")
    result = fedchirp_cli(config, "db", "copy", "--to", "mysql://somewhere/db")
    assert result.returncode != 0
    assert result.stderr.startswith("fedchirp: --to must be") and result.stderr.count("\n") == 1
    store = Store(a.config.database_url)
    await store.open()
    assert await store.count_local_users() == 0
    await store.close()
