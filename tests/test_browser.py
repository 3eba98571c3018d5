"""The web pages in a real browser: headless Chromium (Debian's package), driven by
Playwright, with JavaScript turned off in every page to prove none is needed.

Screenshots of each step go to test-artifacts/<test>/ (FEDCHIRP_ARTIFACTS to move
them). Without Chromium these tests are skipped on a developer machine and fail
in CI (CI=true), where .ci/run installs it.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from fedchirp.localnet import DEFAULT_PASSWORD, settle

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # nothing may leave loopback
    "--disable-component-update",
    "--disable-sync",
]


def _chromium_path() -> str | None:
    candidates = [
        os.environ.get("FEDCHIRP_CHROMIUM"),
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        "/usr/bin/chromium",
    ]
    return next((c for c in candidates if c and Path(c).exists()), None)


@pytest.fixture
async def browser() -> AsyncIterator:
    path = _chromium_path()
    if path is None:
        message = "Chromium is not installed (apt-get install chromium, or set FEDCHIRP_CHROMIUM)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        yield launched
        await launched.close()


@pytest.fixture
def shots(request: pytest.FixtureRequest):
    """shots(page, name): save a screenshot as a test artefact."""
    folder = Path(os.environ.get("FEDCHIRP_ARTIFACTS", ROOT / "test-artifacts")) / (
        re.sub(r"[^\w.-]", "_", request.node.name)
    )
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    counter = iter(range(1, 1000))

    async def take(page, name: str) -> Path:
        target = folder / f"{next(counter):02d}-{name}.png"
        await page.screenshot(path=str(target), full_page=True)
        return target

    return take


async def _page(browser):
    context = await browser.new_context(java_script_enabled=False)
    return await context.new_page()


async def _log_in(browser, instance, username: str):
    page = await _page(browser)
    await page.goto(f"{instance.base_url}/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", DEFAULT_PASSWORD)
    await page.click("form[action='/login'] button[type=submit]")
    assert page.url == f"{instance.base_url}/home", page.url
    return page


def _png(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), color).save(out, "PNG")
    return out.getvalue()


async def _post(page, text: str, audience: str = "public", image: bytes | None = None) -> None:
    await page.fill("form.compose textarea[name=status]", text)
    await page.select_option("form.compose select[name=audience]", audience)
    if image is not None:
        await page.set_input_files(
            "form.compose input[name=image]",
            files=[{"name": "picture.png", "mimeType": "image/png", "buffer": image}],
        )
        await page.fill("form.compose input[name=image_description]", "a green square")
    await page.click("form.compose button[type=submit]")
    assert "notice=Posted" in page.url, page.url


async def _follow(page, handle: str) -> None:
    """Use the follow box on one's home page (page is signed in somewhere)."""
    origin = re.match(r"https?://[^/]+", page.url).group(0)
    await page.goto(f"{origin}/home")
    await page.fill("form.follow input[name=handle]", handle)
    await page.click("form.follow button[type=submit]")


async def test_log_in_post_follow_across_instances_and_see_it_arrive(pair, browser, shots):
    a, b = pair
    await a.create_user("alice", display_name="Alice")
    await b.create_user("bob", display_name="Bob")
    alice = await _log_in(browser, a, "alice")
    bob = await _log_in(browser, b, "bob")
    await shots(bob, "bob-home-empty")

    await _follow(bob, a.handle("alice"))  # a remote account, by its address
    assert "Follow" in await bob.inner_text("p.notice")
    await settle(a, b)
    await bob.reload()
    assert await bob.inner_text("button.follow-button") == "Unfollow"
    await shots(bob, "bob-follows-alice")

    await _post(alice, "Hello from a browser on A! #first", image=_png((20, 160, 60)))
    await shots(alice, "alice-posted")
    mine = alice.locator("article.status").first
    assert "Hello from a browser on A!" in await mine.inner_text()
    assert await mine.locator("img.attachment").get_attribute("alt") == "a green square"

    await settle(a, b)
    await bob.goto(f"{b.base_url}/home")
    await shots(bob, "bob-sees-the-post")
    arrived = bob.locator("article.status").first
    assert "Hello from a browser on A!" in await arrived.inner_text()
    assert f"@{a.handle('alice')}" in await arrived.inner_text()
    image = arrived.locator("img.attachment")
    assert (await image.get_attribute("src")).startswith(f"{a.base_url}/media/")
    assert await image.evaluate("img => img.naturalWidth") > 0  # it actually loaded

    # bob likes it from his server; alice sees the like in her notifications.
    await arrived.locator("button", has_text="Like").click()
    await settle(a, b)
    await alice.goto(f"{a.base_url}/notifications")
    await shots(alice, "alice-notifications")
    assert "liked your post" in await alice.inner_text("ul.notifications")
    assert "followed you" in await alice.inner_text("ul.notifications")


async def test_locked_account_approves_a_remote_follow_request(pair, browser, shots):
    a, b = pair
    await a.create_user("alice", locked=True)
    await b.create_user("bob")
    alice = await _log_in(browser, a, "alice")
    bob = await _log_in(browser, b, "bob")
    await _follow(bob, a.handle("alice"))
    assert "Follow request sent" in await bob.inner_text("p.notice")
    await settle(a, b)
    await alice.goto(f"{a.base_url}/follow_requests")
    await shots(alice, "request-waiting")
    assert b.handle("bob") in await alice.inner_text("ul.requests")
    await alice.click("ul.requests button:has-text('Approve')")
    assert "now follows you" in await alice.inner_text("p.notice")
    await settle(a, b)
    await bob.goto(f"{b.base_url}/@{a.handle('alice')}")
    await shots(bob, "bob-now-follows")
    assert await bob.inner_text("button.follow-button") == "Unfollow"


async def test_group_audience_picker_reaches_members_only(start, browser, shots):
    a, b = await start("a"), await start("b")
    await a.create_user("alice")
    for name in ("bob", "bea"):
        await b.create_user(name)
    alice = await _log_in(browser, a, "alice")
    readers = {name: await _log_in(browser, b, name) for name in ("bob", "bea")}
    for page in readers.values():
        await _follow(page, a.handle("alice"))
    await settle(a, b)

    await alice.goto(f"{a.base_url}/groups")
    await alice.fill("input[name=title]", "customers")
    await alice.click("form[action='/groups'] button")
    await alice.select_option("section.group select[name=account_id]", label=f"@{b.handle('bob')}")
    await alice.click("section.group form[action$='/add'] button")
    await shots(alice, "group-with-bob")
    assert b.handle("bob") in await alice.inner_text("section.group ul")

    await alice.goto(f"{a.base_url}/home")
    group_value = await alice.locator(
        "select[name=audience] option", has_text="Group: customers"
    ).get_attribute("value")
    await _post(alice, "Only for customers", audience=group_value)
    await settle(a, b)
    for name, page in readers.items():
        await page.goto(f"{b.base_url}/home")
        await shots(page, f"{name}-home")
    assert "Only for customers" in await readers["bob"].inner_text("body")
    assert "Only for customers" not in await readers["bea"].inner_text("body")


async def test_thread_reply_and_analytics_chart(pair, browser, shots):
    a, b = pair
    await a.create_user("alice")
    await b.create_user("bob")
    alice = await _log_in(browser, a, "alice")
    bob = await _log_in(browser, b, "bob")
    await _follow(bob, a.handle("alice"))
    await settle(a, b)
    await _post(alice, "What do you think?")
    await settle(a, b)
    await bob.goto(f"{b.base_url}/home")
    await bob.locator("article.status a", has_text="Reply").first.click()
    await bob.fill("#reply textarea[name=status]", "I think it is great")
    await bob.click("#reply button[type=submit]")
    await shots(bob, "bob-thread")
    assert "I think it is great" in await bob.inner_text("section.thread")
    await settle(a, b)

    await alice.goto(f"{a.base_url}/home")
    await alice.locator("article.status a", has_text="Analytics").first.click()
    await shots(alice, "post-analytics")
    table = await alice.inner_text("table.totals")
    assert re.search(r"Delivered to servers\s+1", table), table
    assert re.search(r"Replies\s+1", table), table
    assert await alice.locator("svg.chart rect").count() == 5
    await alice.goto(f"{a.base_url}/analytics")
    await shots(alice, "account-analytics")
    assert await alice.locator("svg.chart circle").count() >= 2  # one point per day, at least
    assert re.search(r"Followers\s+1", await alice.inner_text("table.totals"))


async def test_branding_logo_and_accent_colour(start, browser, shots, tmp_path):
    logo = tmp_path / "logo.png"
    Image.new("RGB", (64, 64), (255, 140, 0)).save(logo)
    a = await start(
        "a",
        settings={
            "server": {"name": "Acme Updates", "description": "News from Acme Inc."},
            "branding": {"accent_color": "#ff8c00", "logo": str(logo)},
        },
    )
    await a.create_user("acme", actor_type="Organization", display_name="Acme Inc.")
    page = await _page(browser)
    await page.goto(f"{a.base_url}/")
    await shots(page, "landing")
    assert await page.title() == "Acme Updates"
    assert "News from Acme Inc." in await page.inner_text("section.about")
    assert await page.locator("img.logo").evaluate("img => img.naturalWidth") == 64
    colour = await page.locator("a.button").evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(255, 140, 0)"
    await page.goto(f"{a.base_url}/@acme")
    await shots(page, "organisation-profile")
    assert "Organization" in await page.inner_text("section.profile h1")


async def test_pages_keep_a_strict_csp_without_violations(pair, browser, shots):
    """Every page's look comes from /style.css: the browser, told by the CSP to refuse
    inline styles and scripts, finds nothing to refuse, and the styles still apply."""
    a, b = pair
    await a.create_user("alice")
    await b.create_user("bob")
    alice = await _log_in(browser, a, "alice")
    refused: list[str] = []
    alice.on("console", lambda message: refused.append(message.text))
    await _follow(alice, b.handle("bob"))
    await alice.goto(f"{a.base_url}/groups")
    await alice.fill("input[name=title]", "friends")
    await alice.click("form[action='/groups'] button")
    for path in ("/home", "/groups", "/follow_requests", "/notifications", "/analytics",
                 "/@alice", "/login", "/"):
        response = await alice.goto(f"{a.base_url}{path}")
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "style-src 'self'" in policy, path
    await alice.goto(f"{a.base_url}/groups")
    await shots(alice, "groups")
    assert await alice.locator("header.site").evaluate(
        "header => getComputedStyle(header).display"
    ) == "flex"
    assert [text for text in refused if "Content Security Policy" in text] == []
