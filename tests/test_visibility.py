"""One visibility rule, every viewer, every read path.

alice (locked) writes a public thread root and replies to it of every other
audience. Each kind of viewer must see exactly the posts the rule allows, on
every path that shows posts: a single post, the thread, alice's profile and
the viewer's home timeline.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import event

from fedchirp.localnet import LocalInstance
from fedchirp.services import circles, follows, posting, threads, timelines
from fedchirp.services.errors import NotFound
from fedchirp.store.models import Account, Page, Status
from fedchirp.web.api.entities import Renderer

# Run on SQLite and on PostgreSQL (see tests/conftest.py).
pytestmark = pytest.mark.backends

POSTS = ("root", "unlisted", "followers", "direct", "group")
# What each kind of viewer may see of alice's posts.
MAY_SEE = {
    "anonymous": {"root", "unlisted"},
    "alice": set(POSTS),
    "follower": {"root", "unlisted", "followers", "group"},
    "pending": {"root", "unlisted"},  # asked to follow; alice has not accepted
    "removed": {"root", "unlisted", "followers"},  # follows, but left the group
    "mentioned": {"root", "unlisted", "direct"},
    "stranger": {"root", "unlisted"},
}
# What enters each viewer's home timeline: posts of accepted followees and posts
# addressed to them, as far as they may see them.
IN_HOME = {
    "alice": set(POSTS),
    "follower": {"root", "unlisted", "followers", "group"},
    "pending": set(),
    "removed": {"root", "unlisted", "followers"},
    "mentioned": {"direct"},
    "stranger": set(),
}


@dataclass
class Thread:
    instance: LocalInstance
    author: Account
    viewers: dict[str, Account | None]
    posts: dict[str, Status]

    def names(self, found: list[Status]) -> set[str]:
        by_id = {s.id: name for name, s in self.posts.items()}
        return {by_id[s.id] for s in found if s.id in by_id}


@pytest.fixture
async def thread(start) -> Thread:
    a = await start("a")
    ctx = a.ctx
    alice = await a.create_user("alice", locked=True)
    viewers: dict[str, Account | None] = {"anonymous": None, "alice": alice}
    for name in ("follower", "pending", "removed", "mentioned", "stranger"):
        viewers[name] = await a.create_user(name)
    for name in ("follower", "pending", "removed"):
        await follows.follow(ctx, viewers[name], alice)
    for name in ("follower", "removed"):
        await follows.authorize(ctx, alice, viewers[name])
    group = await circles.create_circle(ctx, alice, "customers")
    members = [viewers["follower"].id, viewers["removed"].id]
    await circles.add_members(ctx, alice, group.id, members)

    root = await posting.create_status(ctx, alice, "the root", visibility="public")
    posts = {"root": root}
    for name, visibility, text in (
        ("unlisted", "unlisted", "an unlisted reply"),
        ("followers", "private", "for followers"),
        ("direct", "direct", "for @mentioned only"),
    ):
        posts[name] = await posting.create_status(
            ctx, alice, text, visibility=visibility, in_reply_to_id=root.id
        )
    posts["group"] = await posting.create_status(
        ctx, alice, "for the group", circle_id=group.id, in_reply_to_id=root.id
    )
    await circles.remove_members(ctx, alice, group.id, [viewers["removed"].id])
    return Thread(a, alice, viewers, posts)


@pytest.mark.parametrize("viewer", list(MAY_SEE))
async def test_each_viewer_sees_what_the_rule_allows_on_every_path(thread: Thread, viewer):
    ctx = thread.instance.ctx
    who = thread.viewers[viewer]
    expected = MAY_SEE[viewer]

    single = set()
    for name, status in thread.posts.items():
        try:
            await timelines.visible_status(ctx, who, status.id)
            single.add(name)
        except NotFound:
            pass
    assert single == expected, "a single post"

    ancestors, descendants = await threads.context(ctx, who, thread.posts["root"])
    assert ancestors == []
    assert thread.names(descendants) == expected - {"root"}, "the thread"

    profile = await timelines.account_statuses(ctx, who, thread.author, Page(limit=40))
    assert thread.names(profile) == expected, "alice's profile"

    if who is not None:
        home = await timelines.home(ctx, who, Page(limit=40))
        assert thread.names(home) == IN_HOME[viewer], "the home timeline"


async def test_unfollowing_takes_posts_out_of_home_but_keeps_what_was_addressed(thread):
    ctx = thread.instance.ctx
    follower = thread.viewers["follower"]
    await follows.unfollow(ctx, follower, thread.author)
    home = await timelines.home(ctx, follower, Page(limit=40))
    assert thread.names(home) == set()
    # A new follow brings the followee's posts back at once (backfill).
    await follows.follow(ctx, follower, thread.author)
    await follows.authorize(ctx, thread.author, follower)
    home = await timelines.home(ctx, follower, Page(limit=40))
    assert thread.names(home) == {"root", "unlisted", "followers"}


async def test_a_page_renders_with_a_fixed_number_of_queries(start):
    """Rendering 4 or 20 statuses (by several authors, with mentions, tags and boosts)
    costs the same number of statements: nothing is read per post."""
    a = await start("a")
    ctx = a.ctx
    reader = await a.create_user("reader")
    authors = [await a.create_user(f"author{n}") for n in range(5)]
    for author in authors:
        await follows.follow(ctx, reader, author)
    for n in range(20):
        author = authors[n % len(authors)]
        status = await posting.create_status(ctx, author, f"post {n} #tag{n} @reader")
        if n % 4 == 0:
            await posting.create_status(ctx, reader, f"reply {n}", in_reply_to_id=status.id)

    async def statements_to_render(limit: int) -> int:
        page = await timelines.home(ctx, reader, Page(limit=limit))
        assert len(page) == limit
        counted = []

        def count(*_args) -> None:
            counted.append(1)

        engine = ctx.store.db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            rendered = await Renderer(ctx, reader).statuses(page)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert len(rendered) == limit
        return len(counted)

    assert await statements_to_render(4) == await statements_to_render(20)
