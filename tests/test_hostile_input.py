"""Hostile input answers 4xx, never a 500: each case of issue 10's list of faults.

Every test also checks that nothing was logged at ERROR (a 500 logs its traceback).
"""

from __future__ import annotations

import json
import logging

import pytest

from fedchirp.jsonlimit import MAX_DEPTH, nesting_depth
from tests.test_signatures import sign_with_apsig


@pytest.fixture
def no_errors_logged(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.ERROR)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


def _nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


# -- deep JSON ----------------------------------------------------------------------


def test_nesting_depth_counts_brackets_outside_strings():
    assert nesting_depth(b'{"a": [1, {"b": "[[[[\\"[["}]}') == 3
    assert nesting_depth(b"[[]][]") == 2
    assert nesting_depth(b'"[[[') == 0
    assert nesting_depth(b"[" * 10_000, stop_after=MAX_DEPTH) == MAX_DEPTH + 1


async def test_deep_json_in_the_inbox_is_refused_before_the_signature_check(
    start, remote, http, no_errors_logged
):
    a = await start("a")
    await a.create_user("alice")
    remote.add_actor("zed")
    url = f"{a.base_url}/inbox"
    for body in (b"[" * 10_000 + b"]" * 10_000, _nested(10_000), _nested(MAX_DEPTH + 1)):
        headers = sign_with_apsig(remote, "zed", url, body)
        async with http.post(url, data=body, headers=headers) as resp:
            assert resp.status == 400, await resp.text()
            assert "nested deeper" in (await resp.json())["error"]


async def test_deep_json_to_the_client_api_is_refused(start, client, http, no_errors_logged):
    a = await start("a")
    await a.create_user("alice")
    api = await client(a, "alice")
    url = f"{a.base_url}/api/v1/statuses"
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {api.token}"}
    for body in (b"[" * 10_000 + b"]" * 10_000, _nested(10_000)):
        async with http.post(url, data=body, headers=headers) as resp:
            assert resp.status == 400, await resp.text()
            assert "nested deeper" in (await resp.json())["error"]
    # Nesting within the limit is still read (and the post made).
    body = json.dumps({"status": "fine", "x": json.loads(_nested(MAX_DEPTH - 1))})
    async with http.post(url, data=body, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
