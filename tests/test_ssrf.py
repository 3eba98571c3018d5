"""The SSRF guard: by default nothing outbound may reach loopback or private networks.

These tests never send a packet off the machine: blocked URLs are refused before
any connection, and the only server involved listens on 127.0.0.1.
"""

from __future__ import annotations

import pytest

from fedchirp.config import Config
from fedchirp.federation.http import FetchError, HttpClient
from fedchirp.federation.ssrf import BlockedAddress, GuardedResolver, check_url
from fedchirp.services.accounts import resolve_account
from fedchirp.services.errors import ServiceError
from tests.stubs import StubActorServer

BLOCKED = [
    "https://127.0.0.1/x",
    "https://127.8.9.10/x",
    "https://10.1.2.3/x",
    "https://172.16.0.1/x",
    "https://192.168.1.1/x",
    "https://169.254.169.254/latest/meta-data",
    "https://100.64.0.1/x",
    "https://0.0.0.0/x",
    "https://[::1]/x",
    "https://[fc00::1]/x",
    "https://[fe80::1]/x",
    "https://[::ffff:127.0.0.1]/x",
    "https://[64:ff9b::7f00:1]/x",  # NAT64 of 127.0.0.1
    "https://[64:ff9b:1::a00:1]/x",
    "https://[2002:a9fe:a9fe::]/x",  # 6to4 of 169.254.169.254
    "https://[::127.0.0.1]/x",  # IPv4-compatible
    "https://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/x",  # Teredo, client 10.0.0.1
    "https://localhost/x",
    "https://api.localhost/x",
]


@pytest.mark.parametrize("url", BLOCKED)
def test_private_and_loopback_urls_are_blocked_by_default(url):
    with pytest.raises(BlockedAddress):
        check_url(url, allow_http=False, allow_private=False)


def test_plain_http_and_odd_schemes_are_blocked_by_default():
    for url in (
        "http://example.com/x",
        "ftp://example.com/x",
        "file:///etc/passwd",
        "gopher://example.com/",
    ):
        with pytest.raises(BlockedAddress):
            check_url(url, allow_http=False, allow_private=False)
    check_url("https://example.com/x", allow_http=False, allow_private=False)
    check_url("https://93.184.216.34/x", allow_http=False, allow_private=False)
    check_url("https://[2606:4700:4700::1111]/x", allow_http=False, allow_private=False)
    check_url("https://[64:ff9b::5db8:d822]/x", allow_http=False, allow_private=False)


def test_test_settings_open_loopback_explicitly():
    check_url("http://127.0.0.1:9/x", allow_http=True, allow_private=True)
    with pytest.raises(BlockedAddress):
        check_url("http://127.0.0.1:9/x", allow_http=True, allow_private=False)


async def test_resolver_drops_non_public_addresses():
    guarded = GuardedResolver(allow_private=False)
    with pytest.raises(OSError, match="non-public"):
        await guarded.resolve("localhost", 443)  # answered from /etc/hosts, no DNS traffic
    assert await GuardedResolver(allow_private=True).resolve("localhost", 443)
    await guarded.close()


async def test_default_client_never_connects_to_loopback():
    server = StubActorServer()
    await server.start()
    server.add_actor("zed")
    client = HttpClient.create(Config())  # production defaults
    try:
        for url in (
            f"{server.base}/users/zed",
            f"{server.base.replace('http:', 'https:')}/users/zed",
            f"https://localhost:{server.base.rsplit(':', 1)[1]}/users/zed",
        ):
            with pytest.raises(FetchError):
                await client.get_json(url)
        assert server.fetches == []
    finally:
        await client.close()
        await server.stop()


async def test_instance_with_guard_on_cannot_be_made_to_fetch_loopback(start):
    server = StubActorServer()
    await server.start()
    zed = server.add_actor("zed")
    guarded = await start(
        "guarded", settings={"federation": {"allow_private_addresses": False, "allow_http": True}}
    )
    try:
        with pytest.raises(ServiceError):
            await resolve_account(guarded.ctx, zed)
        with pytest.raises(ServiceError):
            await resolve_account(guarded.ctx, f"zed@{server.domain}")
        assert server.fetches == []
    finally:
        await server.stop()
