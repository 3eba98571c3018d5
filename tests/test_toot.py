"""toot, the command-line Mastodon client (PyPI `toot`), against a real FedChirp instance.

toot runs as its users run it: `python -m toot ...` in a subprocess, its config file and
cache in temporary XDG_CONFIG_HOME and XDG_CACHE_HOME folders. `toot login` prints the
browser sign-in URL, built by toot's own code (it asks for /oauth/authorize/ with a
trailing slash); the test opens that URL as a browser would, signs in on our authorize
page and types the code back into toot. Then toot's commands post a poll, bookmark,
boost and list who boosted, manage a list and read its timeline, follow and look up
hashtags, mute and block; each result is checked through our API as well.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
from yarl import URL

from fedchirp.localnet import DEFAULT_PASSWORD, ApiClient

WAIT = 60.0  # seconds one toot command may take


class Toot:
    """toot's command line, with its config in a folder of the test's own."""

    def __init__(self, home: Path) -> None:
        # Its config (tokens) and its cache (last post ids) stay out of the real home.
        self.env = {
            **os.environ,
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_CACHE_HOME": str(home / "cache"),
        }
        for name in ("TOOT_TESTING", "TOOT_INSTANCE", "TOOT_DEBUG"):
            self.env.pop(name, None)
        self.config_file = home / "config" / "toot" / "config.json"

    async def start(self, *args: str) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "toot", *args,
            env=self.env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )

    async def run(self, *args: str) -> str:
        """What the command printed; a failed command fails the test with toot's error."""
        process = await self.start(*args)
        out, err = await asyncio.wait_for(process.communicate(), WAIT)
        assert process.returncode == 0, f"toot {' '.join(args)}: {err.decode()}{out.decode()}"
        return out.decode()

    async def json(self, *args: str) -> Any:
        return json.loads(await self.run(*args, "--json"))

    def saved_token(self, acct: str) -> str:
        return json.loads(self.config_file.read_text())["users"][acct]["access_token"]


async def _authorize_in_browser(web: aiohttp.ClientSession, url: str, username: str) -> str:
    """What a person does with the URL toot prints: open it, sign in, copy the code."""
    async with web.get(url, allow_redirects=False) as first:
        if first.status in (301, 302, 303, 307, 308):
            # Our answer to the trailing slash: the same page and query, without the slash.
            target = urlsplit(first.headers["Location"])
            assert target.path == "/oauth/authorize"
            assert parse_qs(target.query) == parse_qs(urlsplit(url).query)
        else:
            assert first.status == 200
    async with web.get(url) as page:
        html = await page.text()
        assert page.status == 200, html
        assert "toot - a Mastodon CLI client" in html  # the app toot registered
    action = re.search(r'<form method="post" action="([^"]+)"', html)
    assert action, html
    form = dict(re.findall(r'<input type=hidden name="([^"]+)" value="([^"]*)"', html))
    form.update(username=username, password=DEFAULT_PASSWORD, decision="allow")
    async with web.post(page.url.join(URL(action.group(1))), data=form) as answer:
        text = await answer.text()
    code = re.search(r"<code id=code>([^<]+)</code>", text)
    assert code, text
    return code.group(1)


async def _toot_login(toot: Toot, web: aiohttp.ClientSession, base_url: str, username: str) -> None:
    """`toot login`: it prints the URL, asks whether to open a browser (no), then for the code."""
    process = await toot.start("login", "--instance", base_url)
    assert process.stdout is not None and process.stdin is not None
    url = ""
    while not url:
        line = (await asyncio.wait_for(process.stdout.readline(), WAIT)).decode()
        assert line, f"toot login printed no URL: {(await process.stderr.read()).decode()}"
        if line.startswith("http"):
            url = line.strip()
    assert url.startswith(f"{base_url}/oauth/authorize/?"), url
    code = await _authorize_in_browser(web, url, username)
    out, err = await asyncio.wait_for(process.communicate(f"n\n{code}\n".encode()), WAIT)
    assert process.returncode == 0, err.decode() + out.decode()
    assert "Successfully logged in" in out.decode()


async def test_toot_signs_in_and_its_commands_work(start, http, web, tmp_path):
    a = await start("a")
    for name in ("alice", "bob", "carol"):
        await a.create_user(name)
    toot = Toot(tmp_path / "toot")
    await _toot_login(toot, web, a.base_url, "alice")
    alice_acct = f"alice@{a.domain}"
    assert json.loads(toot.config_file.read_text())["active_user"] == alice_acct
    alice = ApiClient(http, a)
    alice.token = toot.saved_token(alice_acct)  # the token toot keeps works on our API
    assert (await alice.call("GET", "/api/v1/accounts/verify_credentials"))["acct"] == "alice"
    bob, carol = ApiClient(http, a), ApiClient(http, a)
    await bob.sign_in("bob")
    await carol.sign_in("carol")

    # A post with a poll.
    posted = await toot.json(
        "post", "Tea or coffee?",
        "--poll-option", "Tea", "--poll-option", "Coffee",
        "--poll-expires-in", "1 day", "--poll-multiple",
    )
    status = await alice.call("GET", f"/api/v1/statuses/{posted['id']}")
    assert "Tea or coffee?" in status["content"]
    assert [option["title"] for option in status["poll"]["options"]] == ["Tea", "Coffee"]
    assert status["poll"]["multiple"] is True and status["poll"]["expired"] is False

    # Bookmarks.
    bobs = await bob.call("POST", "/api/v1/statuses", json={"status": "worth keeping"})
    assert (await toot.json("bookmark", bobs["id"]))["bookmarked"] is True
    assert "worth keeping" in await toot.run("bookmarks", "--once")
    assert [s["id"] for s in await alice.call("GET", "/api/v1/bookmarks")] == [bobs["id"]]
    # A boost, and who boosted.
    await toot.run("reblog", bobs["id"])
    assert [a["acct"] for a in await toot.json("reblogged_by", bobs["id"])] == ["alice"]

    # A list: create it, add a followed account, read its timeline.
    assert (await toot.json("follow", "bob"))["following"] is True
    created = await toot.json("lists", "create", "friends")
    assert created["title"] == "friends"
    await toot.run("lists", "add", "friends", "bob")
    assert [m["acct"] for m in await toot.json("lists", "accounts", "friends")] == ["bob"]
    members = await alice.call("GET", f"/api/v1/lists/{created['id']}/accounts")
    assert [m["acct"] for m in members] == ["bob"]
    for_list = await bob.call("POST", "/api/v1/statuses", json={"status": "for my friends"})
    timeline = await toot.json("timelines", "list", "friends", "--no-pager", "--no-clear")
    assert for_list["id"] in [s["id"] for s in timeline]

    # Followed hashtags: a stranger's public #coffee post comes home while followed.
    assert (await toot.json("tags", "follow", "coffee"))["following"] is True
    assert [t["name"] for t in await toot.json("tags", "followed")] == ["coffee"]
    assert (await toot.json("tags", "info", "#coffee"))["following"] is True  # found by search
    tagged = await carol.call("POST", "/api/v1/statuses", json={"status": "more #coffee"})
    home = await toot.json("timelines", "home", "--no-pager", "--no-clear")
    assert tagged["id"] in [s["id"] for s in home]
    assert (await toot.json("tags", "unfollow", "coffee"))["following"] is False
    assert await alice.call("GET", "/api/v1/followed_tags") == []

    # Mute and block, each undone by name as toot's users type it.
    carol_id = (await carol.call("GET", "/api/v1/accounts/verify_credentials"))["id"]
    assert (await toot.json("mute", "carol"))["muting"] is True
    assert [m["acct"] for m in await toot.json("muted")] == ["carol"]
    assert (await toot.json("unmute", "carol"))["muting"] is False
    assert (await toot.json("block", "carol"))["blocking"] is True
    assert [b["acct"] for b in await toot.json("blocked")] == ["carol"]
    relationship = await alice.call(
        "GET", "/api/v1/accounts/relationships", params={"id[]": carol_id}
    )
    assert relationship[0]["blocking"] is True and relationship[0]["muting"] is False
    assert (await toot.json("unblock", "carol"))["blocking"] is False
    assert await toot.json("blocked") == []
