"""Filters v2 and v1 through Mastodon.py, and their effect on what the API shows:
`filtered` results in the filter's contexts, hide filters leaving posts out, expiry,
whole-word matching, filters naming posts, and other users' filters staying private."""

from __future__ import annotations

import asyncio
import json

import pytest
import requests
from mastodon import MastodonAPIError, MastodonNotFoundError
from test_mastodon_api import login, sync

from fedchirp.services import filters

pytestmark = pytest.mark.backends

FILTER = {"id", "title", "context", "expires_at", "filter_action", "keywords", "statuses"}


def _api_get(api, path: str, **params) -> requests.Response:
    return requests.get(
        f"{api.api_base_url}{path}",
        params=params,
        headers={"Authorization": f"Bearer {api.access_token}"},
        timeout=10,
    )


def _api_put(api, path: str, body: dict) -> requests.Response:
    return requests.put(
        f"{api.api_base_url}{path}",
        json=body,
        headers={"Authorization": f"Bearer {api.access_token}"},
        timeout=10,
    )


@pytest.mark.parametrize(
    ("keyword", "whole_word", "text", "matches"),
    [
        ("rust", True, "Rust is fast", True),
        ("rust", True, "Rustaceans", False),
        ("rust", False, "Rustaceans", True),
        ("#tag", True, "a #tag here", True),
        ("#tag", True, "a #tagged post", False),
        ("c++", True, "I write C++ daily", True),
        ("naïve", True, "so NAÏVE.", True),
        ("a.b", True, "axb", False),  # keywords are text, not patterns
    ],
)
def test_keyword_patterns_follow_mastodons_word_boundaries(keyword, whole_word, text, matches):
    assert bool(filters.keyword_pattern(keyword, whole_word).search(text)) is matches


async def test_filters_v2_and_v1_with_mastodon_py(start):
    a = await start("a")
    await a.create_user("alice")
    await a.create_user("eve")
    alice, eve = await login(a, "alice"), await login(a, "eve")
    post = await sync(alice.status_post, "something to filter")

    created = await sync(
        alice.create_filter_v2,
        "Spoilers",
        ["home", "public"],
        "warn",
        keywords_attributes=[
            {"keyword": "finale", "whole_word": True},
            {"keyword": "ending", "whole_word": False},
        ],
    )
    assert set(created) >= FILTER and created["title"] == "Spoilers"
    assert created["context"] == ["home", "public"] and created["expires_at"] is None
    assert [(k["keyword"], k["whole_word"]) for k in created["keywords"]] == [
        ("finale", True),
        ("ending", False),
    ]
    fid = created["id"]
    assert [f["id"] for f in await sync(alice.filters_v2)] == [fid]
    assert (await sync(alice.filter_v2, fid))["title"] == "Spoilers"

    finale, ending = created["keywords"]
    updated = await sync(
        alice.update_filter_v2,
        fid,
        title="Show spoilers",
        filter_action="hide",
        expires_in=3600,
        keywords_attributes=[
            {"id": finale["id"], "_destroy": True},
            {"id": ending["id"], "whole_word": True},
            {"keyword": "season 2"},
        ],
    )
    assert updated["title"] == "Show spoilers" and updated["filter_action"] == "hide"
    assert updated["expires_at"] is not None
    assert [(k["keyword"], k["whole_word"]) for k in updated["keywords"]] == [
        ("ending", True),
        ("season 2", True),
    ]

    added = await sync(alice.add_filter_keyword_v2, fid, "twist", whole_word=False)
    assert added["keyword"] == "twist" and added["whole_word"] is False
    path = f"/api/v2/filters/keywords/{added['id']}"
    answer = await sync(_api_put, alice, path, {"keyword": "twists", "whole_word": True})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"id": added["id"], "keyword": "twists", "whole_word": True}
    assert (await sync(_api_get, alice, path)).json()["keyword"] == "twists"
    assert (await sync(_api_get, eve, path)).status_code == 404
    answer = await sync(_api_put, eve, path, {"keyword": "mine"})
    assert answer.status_code == 404 and answer.json()["error"]
    keywords = await sync(alice.filter_keywords_v2, fid)
    assert [k["keyword"] for k in keywords] == ["ending", "season 2", "twists"]
    await sync(alice.delete_filter_keyword_v2, added["id"])
    assert [k["keyword"] for k in await sync(alice.filter_keywords_v2, fid)] == [
        "ending",
        "season 2",
    ]

    named = await sync(alice.add_filter_status_v2, fid, post["id"])
    assert named["status_id"] == str(post["id"])
    assert [s["id"] for s in await sync(alice.filter_statuses_v2, fid)] == [named["id"]]
    with pytest.raises(MastodonAPIError, match="already been taken"):
        await sync(alice.add_filter_status_v2, fid, post["id"])
    assert (await sync(alice.filter_status_v2, named["id"]))["status_id"] == str(post["id"])

    # Other users' filters, keywords and posts do not exist for eve.
    kid = keywords[0]["id"]
    for call, args in (
        (eve.filter_v2, (fid,)),
        (eve.update_filter_v2, (fid, "mine now")),
        (eve.delete_filter_v2, (fid,)),
        (eve.filter_keywords_v2, (fid,)),
        (eve.add_filter_keyword_v2, (fid, "x")),
        (eve.delete_filter_keyword_v2, (kid,)),
        (eve.filter_statuses_v2, (fid,)),
        (eve.add_filter_status_v2, (fid, post["id"])),
        (eve.filter_status_v2, (named["id"],)),
        (eve.delete_filter_status_v2, (named["id"],)),
        (eve.filter, (kid,)),
        (eve.filter_delete, (kid,)),
    ):
        with pytest.raises(MastodonNotFoundError):
            await sync(call, *args)
    assert await sync(eve.filters_v2) == [] and await sync(eve.filters) == []
    assert (await sync(alice.filter_v2, fid))["title"] == "Show spoilers"

    await sync(alice.delete_filter_status_v2, named["id"])
    assert await sync(alice.filter_statuses_v2, fid) == []
    await sync(alice.delete_filter_v2, fid)
    assert await sync(alice.filters_v2) == []
    with pytest.raises(MastodonNotFoundError):
        await sync(alice.filter_v2, fid)

    # v1: one keyword per filter; irreversible is the hide action.
    v1 = await sync(alice.filter_create, "spam", ["home", "notifications"], irreversible=True)
    assert v1["phrase"] == "spam" and v1["irreversible"] is True and v1["whole_word"] is True
    assert v1["context"] == ["home", "notifications"] and v1["expires_at"] is None
    assert [f["id"] for f in await sync(alice.filters)] == [v1["id"]]
    (as_v2,) = await sync(alice.filters_v2)
    assert as_v2["filter_action"] == "hide" and as_v2["title"] == "spam"
    assert as_v2["keywords"][0]["id"] == v1["id"]
    changed = await sync(alice.filter_update, v1["id"], phrase="scam", irreversible=False)
    assert changed["phrase"] == "scam" and changed["irreversible"] is False
    assert (await sync(alice.filter, v1["id"]))["phrase"] == "scam"
    # Once the filter has two keywords, a v1 app may change a keyword but not the filter.
    second = await sync(alice.add_filter_keyword_v2, as_v2["id"], "fraud")
    assert {f["phrase"] for f in await sync(alice.filters)} == {"scam", "fraud"}
    with pytest.raises(MastodonAPIError, match="more than one keyword"):
        await sync(alice.filter_update, second["id"], context=["public"])
    assert (await sync(alice.filter_update, second["id"], phrase="frauds"))["phrase"] == "frauds"
    assert (await sync(alice.filter_v2, as_v2["id"]))["context"] == ["home", "notifications"]
    await sync(alice.filter_delete, v1["id"])
    assert [f["phrase"] for f in await sync(alice.filters)] == ["frauds"]
    await sync(alice.filter_delete, second["id"])
    assert await sync(alice.filters) == [] and await sync(alice.filters_v2) == []


async def test_bad_filters_are_refused_with_reasons(start):
    a = await start("a")
    await a.create_user("alice")
    alice = await login(a, "alice")
    for args, reason in (
        (("", ["home"], "warn"), "Title can't be blank"),
        (("t", [], "warn"), "Context can't be blank"),
        (("t", ["everywhere"], "warn"), "Context 'everywhere' is invalid"),
        (("t", ["home"], "explode"), "filter_action must be"),
    ):
        with pytest.raises(MastodonAPIError, match=reason):
            await sync(alice.create_filter_v2, *args)
    with pytest.raises(MastodonAPIError, match="Keyword can't be blank"):
        await sync(alice.create_filter_v2, "t", ["home"], "warn", keywords_attributes=[{}])
    with pytest.raises(MastodonAPIError, match="expires_in"):
        await sync(alice.create_filter_v2, "t", ["home"], "warn", expires_in=-5)
    assert await sync(alice.filters_v2) == []  # nothing was half made
    good = await sync(alice.create_filter_v2, "t", ["home"], "warn")
    with pytest.raises(MastodonAPIError, match="Keyword can't be blank"):
        await sync(alice.add_filter_keyword_v2, good["id"], "  ")
    with pytest.raises(MastodonNotFoundError):
        await sync(alice.add_filter_status_v2, good["id"], 987654321)
    with pytest.raises(MastodonAPIError, match="Context"):
        await sync(alice.update_filter_v2, good["id"], context=["nowhere"])
    assert (await sync(alice.filter_v2, good["id"]))["context"] == ["home"]


async def test_filters_apply_on_the_server_by_context(start):
    a = await start("a")
    await a.create_user("alice")
    await a.create_user("amy")
    alice, amy = await login(a, "alice"), await login(a, "amy")
    await sync(alice.account_follow, await sync(amy.me))
    plain = await sync(amy.status_post, "a quiet afternoon")
    inside = await sync(amy.status_post, "Rustaceans unite")
    rust = await sync(amy.status_post, "RUST is fast")
    warned = await sync(amy.status_post, "look away", spoiler_text="cat pictures")
    hidden = await sync(amy.status_post, "the big secret is out")
    newest = await sync(amy.status_post, "newest and harmless")

    warn = await sync(
        alice.create_filter_v2,
        "Languages",
        ["home"],
        "warn",
        keywords_attributes=[{"keyword": "rust", "whole_word": True}, {"keyword": "cat"}],
    )
    await sync(
        alice.create_filter_v2,
        "Secrets",
        ["home"],
        "hide",
        keywords_attributes=[{"keyword": "secret"}],
    )
    home = {s["id"]: s for s in await sync(alice.timeline_home)}
    (result,) = home[rust["id"]]["filtered"]
    assert result["filter"]["id"] == warn["id"] and result["filter"]["title"] == "Languages"
    assert result["keyword_matches"] == ["rust"] and result["status_matches"] is None
    assert home[inside["id"]]["filtered"] == []  # whole word: not inside "Rustaceans"
    assert home[warned["id"]]["filtered"][0]["keyword_matches"] == ["cat"]  # the CW counts
    assert home[plain["id"]]["filtered"] == []
    assert hidden["id"] not in home

    # Other contexts, other people: the same posts unfiltered.
    public = {s["id"]: s for s in await sync(alice.timeline_public)}
    assert hidden["id"] in public and public[rust["id"]]["filtered"] == []
    amys_home = {s["id"]: s for s in await sync(amy.timeline_home)}
    assert amys_home[rust["id"]]["filtered"] == []

    # A page with a hidden post is shorter, and its Link headers still page on.
    first = await sync(_api_get, alice, "/api/v1/timelines/home", limit=2)
    assert [s["id"] for s in first.json()] == [str(newest["id"])]
    older = await sync(
        requests.get, first.links["next"]["url"], headers=first.request.headers, timeout=10
    )
    assert [s["id"] for s in older.json()] == [str(warned["id"]), str(rust["id"])]

    # A non-whole-word keyword matches inside words; filters name posts by id.
    loose = await sync(
        alice.create_filter_v2,
        "Crabs",
        ["home", "thread"],
        "warn",
        keywords_attributes=[{"keyword": "ACEAN", "whole_word": False}],
    )
    await sync(alice.add_filter_status_v2, loose["id"], plain["id"])
    home = {s["id"]: s for s in await sync(alice.timeline_home)}
    assert home[inside["id"]]["filtered"][0]["keyword_matches"] == ["ACEAN"]
    (by_id,) = home[plain["id"]]["filtered"]
    assert by_id["status_matches"] == [str(plain["id"])] and by_id["keyword_matches"] is None

    # A boost of a filtered post carries the result, outside and inside.
    boost = await sync(amy.status_reblog, plain["id"])
    home = {s["id"]: s for s in await sync(alice.timeline_home)}
    assert home[boost["id"]]["filtered"][0]["status_matches"] == [str(plain["id"])]
    assert home[boost["id"]]["reblog"]["filtered"][0]["filter"]["id"] == loose["id"]

    # An expired filter stops applying.
    await sync(alice.update_filter_v2, warn["id"], expires_in=1)
    await asyncio.sleep(1.2)
    home = {s["id"]: s for s in await sync(alice.timeline_home)}
    assert home[rust["id"]]["filtered"] == []


async def test_hide_filters_in_thread_account_and_notification_contexts(start):
    a = await start("a")
    await a.create_user("alice")
    await a.create_user("amy")
    alice, amy = await login(a, "alice"), await login(a, "amy")
    top = await sync(alice.status_post, "what is for dinner")
    reply = await sync(amy.status_post, "@alice broccoli again", in_reply_to_id=top["id"])
    other = await sync(amy.status_post, "@alice pasta")
    await sync(
        alice.create_filter_v2,
        "Greens",
        ["thread", "notifications"],
        "hide",
        keywords_attributes=[{"keyword": "broccoli"}],
    )
    context = await sync(alice.status_context, top["id"])
    assert context["descendants"] == []
    statuses = {n["status"]["id"] for n in await sync(alice.notifications) if n["status"]}
    assert statuses == {other["id"]}
    # Not in the account context: amy's posts listed in full.
    listed = [s["id"] for s in await sync(alice.account_statuses, await sync(amy.me))]
    assert reply["id"] in listed


async def test_streams_hear_filters_changed_and_leave_hidden_posts_out(start, http):
    a = await start("a")
    await a.create_user("alice")
    await a.create_user("amy")
    alice, amy = await login(a, "alice"), await login(a, "amy")
    await sync(alice.account_follow, await sync(amy.me))
    url = f"ws://{a.config.server.domain}/api/v1/streaming"
    socket = await http.ws_connect(url, params={"access_token": alice.access_token})
    await socket.send_json({"type": "subscribe", "stream": "user"})
    await socket.send_json({"type": "subscribe", "stream": "public:local"})
    await asyncio.sleep(0.2)

    await sync(
        alice.create_filter_v2,
        "Secrets",
        ["home", "public"],
        "hide",
        keywords_attributes=[{"keyword": "secret"}],
    )
    message = await asyncio.wait_for(socket.receive_json(), 10)
    assert message == {"stream": ["user"], "event": "filters_changed"}

    await sync(amy.status_post, "a secret plan")
    shown = await sync(amy.status_post, "an open plan")
    message = await asyncio.wait_for(socket.receive_json(), 10)
    assert message["event"] == "update"  # the first post never arrives
    assert json.loads(message["payload"])["id"] == shown["id"]
    await socket.close()


def _api_post_form(api, path: str, data: list[tuple[str, str]]) -> requests.Response:
    return requests.post(
        f"{api.api_base_url}{path}",
        data=data,
        headers={"Authorization": f"Bearer {api.access_token}"},
        timeout=10,
    )


async def test_filters_from_forms_as_rails_reads_them(start):
    a = await start("a")
    await a.create_user("alice")
    alice = await login(a, "alice")
    listed = [
        ("title", "Form"),
        ("context[]", "home"),
        ("context[]", "public"),
        ("keywords_attributes[][keyword]", "one"),
        ("keywords_attributes[][whole_word]", "false"),
        ("keywords_attributes[][keyword]", "two"),
    ]
    answer = await sync(_api_post_form, alice, "/api/v2/filters", listed)
    assert answer.status_code == 200, answer.text
    made = answer.json()
    assert made["context"] == ["home", "public"] and made["filter_action"] == "warn"
    assert [(k["keyword"], k["whole_word"]) for k in made["keywords"]] == [
        ("one", False),
        ("two", True),
    ]
    indexed = [
        ("title", "Indexed"),
        ("context[]", "thread"),
        ("filter_action", "hide"),
        ("keywords_attributes[0][keyword]", "three"),
        ("keywords_attributes[1][keyword]", "four"),
        ("keywords_attributes[1][whole_word]", "0"),
    ]
    answer = await sync(_api_post_form, alice, "/api/v2/filters", indexed)
    assert [(k["keyword"], k["whole_word"]) for k in answer.json()["keywords"]] == [
        ("three", True),
        ("four", False),
    ]
    refused = await sync(_api_post_form, alice, "/api/v2/filters", [("title", "No context")])
    assert refused.status_code == 422 and "Context" in refused.json()["error"]
