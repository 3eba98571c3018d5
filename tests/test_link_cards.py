"""Link preview cards and trending links, driven by Mastodon.py: a post's link is fetched
by a job from a loopback web server of the test, its OpenGraph tags become the post's
card (on the author's server and on a follower's), an edit that changes the link
changes the card, and /api/v1/trends/links ranks links by how many accounts shared
them. Pages that are not HTML, too large, or on a refused address give no card."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import web

from fedchirp.localnet import settle
from fedchirp.services.link_cards import MAX_PAGE_BYTES, SPREAD_SECONDS
from tests.stubs import StubServer
from tests.test_mastodon_api import follow_remote, login, sync

ARTICLE = """<!doctype html><html lang="en-GB"><head>
<title>Not this title</title>
<meta property="og:title" content="Tide tables &amp; you">
<meta property="og:description" content="Why the sea comes and goes.">
<meta property="og:image" content="/tide.png">
<meta property="og:image:alt" content="A beach at low tide">
<meta property="og:site_name" content="Coast Weekly">
<meta property="og:type" content="article">
</head><body><p>text</p></body></html>"""
PLAIN = """<html><head><title>Plain page</title>
<meta name="description" content="Only the basics."></head><body></body></html>"""
VIDEO = """<html><head><meta property="og:title" content="A clip">
<meta name="twitter:player" content="https://video.example/embed/1">
<meta name="twitter:player:width" content="640">
<meta name="twitter:player:height" content="360"></head></html>"""


class Pages(StubServer):
    """A web site: a few pages, and the paths it was asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []
        self.app.router.add_get("/{name}", self.page)

    async def page(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.asked.append(name)
        if name == "moved":
            raise web.HTTPFound("/article")
        if name == "tide.png":
            return web.Response(body=b"\x89PNG not really", content_type="image/png")
        pages = {"article": ARTICLE, "plain": PLAIN, "video": VIDEO}
        text = pages.get(name, PLAIN)
        if name == "huge":  # a good page, but over the limit
            text = ARTICLE.replace("text", "x" * MAX_PAGE_BYTES)
        return web.Response(text=text, content_type="text/html")


@pytest.fixture
async def pages():
    server = Pages()
    await server.start()
    yield server
    await server.stop()


async def _card(api, status_id, timeout: float = 10.0):
    """The card of a status once it has one (the job runs in the background)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        card = (await sync(api.status, status_id))["card"]
        if card or asyncio.get_running_loop().time() > deadline:
            return card
        await asyncio.sleep(0.2)


@pytest.mark.backends
async def test_cards_on_both_servers_follow_edits_and_rank_trending_links(pair, pages):
    a, b = pair
    for name in ("alice", "carol", "dave", "erin"):
        await a.create_user(name)
    await b.create_user("bob")
    alice, bob = await login(a, "alice"), await login(b, "bob")
    await follow_remote(bob, a.handle("alice"))
    await settle(a, b)

    # A mention and a hashtag come first: neither is the link that gets the card.
    text = f"@carol #tides read {pages.base}/moved please"
    posted = await sync(alice.status_post, text)
    card = await _card(alice, posted["id"])
    assert card is not None, "no card within 10 s"
    assert card["title"] == "Tide tables & you"
    assert card["description"] == "Why the sea comes and goes."
    assert card["image"] == f"{pages.base}/tide.png"  # the page's own, not fetched
    assert card["image_description"] == "A beach at low tide"
    assert card["provider_name"] == "Coast Weekly"
    assert card["type"] == "link" and card["language"] == "en"
    assert card["url"] == f"{pages.base}/article"  # where the redirect led
    assert card["html"] == "" and card["embed_url"] == "" and card["blurhash"] is None
    assert "tide.png" not in pages.asked

    # The follower's server fetches the page itself within a minute (not at once, with
    # every other server), and shows it on the home timeline.
    await settle(a, b)
    home = await sync(bob.timeline_home)
    assert [s["uri"] for s in home] == [posted["uri"]] and home[0]["card"] is None
    moved = b.ctx.jobs.clock() + SPREAD_SECONDS
    b.ctx.jobs.clock = lambda: moved
    await settle(b)
    assert (await sync(bob.timeline_home))[0]["card"]["title"] == "Tide tables & you"

    # An edit to another link changes the card; an edit to no link takes it away.
    await sync(alice.status_update, posted["id"], f"now {pages.base}/video")
    await settle(a)
    video = (await sync(alice.status, posted["id"]))["card"]
    assert (video["type"], video["title"], video["width"], video["height"]) == (
        "video", "A clip", 640, 360,
    )  # fmt: skip
    await sync(alice.status_update, posted["id"], "no link any more")
    await settle(a)
    assert (await sync(alice.status, posted["id"]))["card"] is None

    # Trending: the article shared by three accounts ranks above the page one account
    # linked four times; a private post does not count. (Bob follows none of them.)
    carol, dave, erin = [await login(a, name) for name in ("carol", "dave", "erin")]
    fetched = pages.asked.count("article")
    for api in (carol, dave, erin):
        await sync(api.status_post, f"see {pages.base}/article")
    for n in range(4):
        await sync(dave.status_post, f"again {n} {pages.base}/plain")
    await sync(carol.status_post, f"quiet {pages.base}/video", visibility="private")
    await settle(a)
    # Fetched once, shared by the three posts (the first link went through /moved).
    assert pages.asked.count("article") == fetched + 1
    assert pages.asked.count("plain") == 1
    trending = await sync(alice.trending_links)
    assert [t["title"] for t in trending] == ["Tide tables & you", "Plain page"]
    today = trending[0]["history"][0]
    history = trending[0]["history"]
    assert len(history) == 7 and history[0]["day"] > history[1]["day"]  # newest first
    assert (int(today["accounts"]), int(today["uses"])) == (3, 3)
    assert int(trending[1]["history"][0]["uses"]) == 4
    assert trending[1]["description"] == "Only the basics."
    assert [t["title"] for t in await sync(alice.trending_links, limit=1, offset=1)] == [
        "Plain page"
    ]


async def test_a_late_card_is_streamed_and_bad_pages_give_none(start, pages, http):
    a = await start("a")
    guarded = await start(
        "guarded", settings={"federation": {"allow_private_addresses": False, "allow_http": True}}
    )
    await a.create_user("alice")
    await guarded.create_user("gina")
    alice, gina = await login(a, "alice"), await login(guarded, "gina")

    # The card comes after the post: apps hear it as a status.update.
    socket = await http.ws_connect(
        f"ws://{a.config.server.domain}/api/v1/streaming",
        params={"access_token": alice.access_token, "stream": "public:local"},
    )
    await asyncio.sleep(0.2)  # let the subscription settle
    posted = await sync(alice.status_post, f"read {pages.base}/article")
    events = []
    while not events or events[-1]["event"] != "status.update":
        events.append(await asyncio.wait_for(socket.receive_json(), 10.0))
    await socket.close()
    assert events[0]["event"] == "update"
    updated = json.loads(events[-1]["payload"])
    assert updated["id"] == posted["id"] and updated["card"]["title"] == "Tide tables & you"

    # Not HTML, too large, or on an address the guard refuses: no card, no crash.
    image = await sync(alice.status_post, f"a picture {pages.base}/tide.png")
    huge = await sync(alice.status_post, f"a long read {pages.base}/huge")
    refused = await sync(gina.status_post, f"from inside {pages.base}/article")
    own = await sync(alice.status_post, f"my profile {a.base_url}/@alice")  # not previewed
    await settle(a, guarded)
    assert (await sync(alice.status, own["id"]))["card"] is None
    assert (await sync(alice.status, image["id"]))["card"] is None
    assert (await sync(alice.status, huge["id"]))["card"] is None
    assert (await sync(gina.status, refused["id"]))["card"] is None
    assert sorted(pages.asked) == ["article", "huge", "tide.png"]  # the guarded one never asked
    assert (await sync(gina.status, refused["id"]))["content"]  # the post itself is fine
    # Nothing was left to retry: these are answers, not failures.
    for instance in (a, guarded):
        assert await instance.ctx.store.next_job_due(["status.card"]) is None
