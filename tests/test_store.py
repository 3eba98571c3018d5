"""The store: time-ordered ids, numbered migrations, WAL."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import DatabaseError

from fedchirp.store import Store
from fedchirp.store.ids import SEQUENCE_BITS, id_for_time
from fedchirp.store.migrate import head_revision
from fedchirp.store.models import Page

# Run on SQLite and on PostgreSQL (see tests/conftest.py).
pytestmark = pytest.mark.backends


def test_ids_of_one_millisecond_keep_their_order():
    moment = datetime.now(UTC)
    ids = [id_for_time(moment) for _ in range(5000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    later = id_for_time(moment + timedelta(milliseconds=5))
    assert later > ids[-1]


def test_ids_for_the_past_sort_by_their_time():
    now = datetime.now(UTC)
    recent = id_for_time(now)
    yesterday = id_for_time(now - timedelta(days=1))
    last_year = id_for_time(now - timedelta(days=365))
    assert last_year < yesterday < recent
    assert yesterday >> SEQUENCE_BITS == int((now - timedelta(days=1)).timestamp() * 1000)


@pytest.mark.sqlite_only
async def test_a_new_database_is_made_at_the_head_revision(tmp_path):
    path = tmp_path / "db.sqlite3"
    store = Store(path)
    await store.open()
    assert await store.schema_version() == head_revision()
    assert await store.migrate() == []  # nothing left to apply
    await store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
        (head_revision(),)
    ]
    conn.close()


@pytest.mark.sqlite_only
async def test_an_unreadable_database_fails_cleanly(tmp_path):
    path = tmp_path / "db.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    store = Store(path)
    with pytest.raises(DatabaseError, match="not a database"):
        await store.open()
    assert path.read_bytes() == b"this is not a database" * 100


async def test_every_backend_is_migrated_to_the_head_revision(make_store):
    store = await make_store("db")
    assert await store.schema_version() == head_revision()
    assert await store.migrate() == []
    again = await make_store("db")  # a second process on the same database
    assert await again.migrate() == []


async def test_home_feeds_are_trimmed_to_their_newest_entries(start):
    from fedchirp.services import follows, posting

    a = await start("a")
    reader, writer = await a.create_user("reader"), await a.create_user("writer")
    await follows.follow(a.ctx, reader, writer)
    posts = [await posting.create_status(a.ctx, writer, f"post {n}") for n in range(12)]
    assert await a.ctx.store.trim_home_feeds(keep=5) == 7 + 7  # reader's and writer's
    home = await a.ctx.store.home_timeline(reader.id, Page(limit=40))
    assert [s.id for s in home] == [p.id for p in reversed(posts[-5:])]
    assert await a.ctx.store.trim_home_feeds(keep=5) == 0


async def test_ids_do_not_collide_after_a_restart(start, monkeypatch):
    """The order of issue is kept in memory. A new process storing remote posts of a
    millisecond that already has many (Mastodon's `published` has whole seconds) must
    not run into their ids."""
    from fedchirp.store import ids

    a = await start("a")
    author = await a.create_user("author")
    published = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    async def remote_post(n: int) -> None:
        await a.ctx.store.insert_status(
            {
                "uri": f"https://elsewhere.test/notes/{n}",
                "account_id": author.id,
                "local": 0,
                "visibility": "public",
                "created_at": "2026-01-02T03:04:05.000Z",
            },
            published,
        )

    for n in range(20):
        await remote_post(n)
    monkeypatch.setattr(ids, "_last_issued", 0)  # as in a new process
    for n in range(20, 40):
        await remote_post(n)
    assert await a.ctx.store.count_statuses(author.id) == 40


async def test_counters_agree_with_a_recount_after_every_kind_of_change(start):
    """Posts, replies, boosts, likes and follows come and go, and an account that did
    all of them is deleted: every counter still equals what counting the rows gives."""
    from sqlalchemy import func, select

    from fedchirp.services import follows, interactions, posting
    from fedchirp.store.schema import accounts, favourites, statuses
    from fedchirp.store.schema import follows as follow_rows

    a = await start("a")
    ctx = a.ctx
    ann, ben, cy = [await a.create_user(name) for name in ("ann", "ben", "cy")]
    for follower, followee in ((ben, ann), (cy, ann), (ann, ben), (cy, ben)):
        await follows.follow(ctx, follower, followee)
    root = await posting.create_status(ctx, ann, "root")
    other = await posting.create_status(ctx, ben, "other")
    for author in (ben, cy, cy):
        await posting.create_status(ctx, author, "reply", in_reply_to_id=root.id)
    doomed = await posting.create_status(ctx, ann, "doomed", in_reply_to_id=other.id)
    for account in (ben, cy):
        await interactions.reblog(ctx, account, root)
        await interactions.favourite(ctx, account, root)
    await interactions.favourite(ctx, ann, other)
    await interactions.unfavourite(ctx, ben, root)
    await interactions.unreblog(ctx, ben, root)
    await posting.delete_status(ctx, ann, doomed)
    await follows.unfollow(ctx, cy, ann)
    await ctx.store.delete_account(cy.id)  # its replies, boost, like and follow go too

    db = ctx.store.db
    account_ids = await db.scalars(select(accounts.c.id))
    status_ids = await db.scalars(select(statuses.c.id))

    async def count(statement) -> int:
        return await db.scalar(statement.with_only_columns(func.count()))

    accepted = follow_rows.c.state == "accepted"
    for account_id, stats in (await ctx.store.account_stats_of(account_ids)).items():
        mine = select(statuses).where(
            statuses.c.account_id == account_id, statuses.c.reblog_of_id.is_(None)
        )
        assert stats.statuses_count == await count(mine)
        followers = select(follow_rows).where(follow_rows.c.followee_id == account_id, accepted)
        following = select(follow_rows).where(follow_rows.c.follower_id == account_id, accepted)
        assert stats.followers_count == await count(followers)
        assert stats.following_count == await count(following)
    for status_id, stats in (await ctx.store.status_stats_of(status_ids)).items():
        replies = select(statuses).where(statuses.c.in_reply_to_id == status_id)
        boosts = select(statuses).where(statuses.c.reblog_of_id == status_id)
        likes = select(favourites).where(favourites.c.status_id == status_id)
        assert stats.replies_count == await count(replies)
        assert stats.reblogs_count == await count(boosts)
        assert stats.favourites_count == await count(likes)
    assert (await ctx.store.status_stats_of([root.id]))[root.id].replies_count == 1
