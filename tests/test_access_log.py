"""The access log: a line per request, in the common log format, logged in batches."""

from __future__ import annotations

import asyncio
import logging
import re

import aiohttp
import pytest
from aiohttp import web

from fedchirp.web import access_log


async def test_each_request_gets_a_line_and_lines_reach_logging_in_batches(
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    app = web.Application()
    async def accept(request: web.Request) -> web.Response:
        return web.Response(status=202, text="ok")

    app.router.add_post("/inbox", accept)
    runner = web.AppRunner(app, access_log_class=access_log.BatchedAccessLogger)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as http:
            for n in range(3):
                headers = {"User-Agent": f"tester/{n}", "Referer": "https://x.example/"}
                async with http.post(f"http://127.0.0.1:{port}/inbox?n={n}", headers=headers):
                    pass
        records = [r for r in caplog.records if r.name == "aiohttp.access"]
        assert records == []  # not yet: they wait for the batch
        await asyncio.sleep(access_log.FLUSH_SECONDS + 0.2)
        lines = "\n".join(r.getMessage() for r in caplog.records).splitlines()
        assert len(lines) == 3
        assert re.fullmatch(
            r'127\.0\.0\.1 \[\d\d/\w{3}/\d{4}:[\d:]{8} \+0000\] "POST /inbox\?n=1 HTTP/1\.1" '
            r'202 \d+ "https://x\.example/" "tester/1" \d+\.\d{4}',
            lines[1],
        )
    finally:
        await runner.cleanup()


def test_what_is_pending_is_logged_on_flush_and_a_full_batch_at_once(
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    access_log._pending.extend(["one", "two"])
    access_log.flush()
    assert [r.getMessage() for r in caplog.records] == ["one\ntwo"]
    access_log.flush()  # nothing pending: nothing logged
    assert len(caplog.records) == 1
