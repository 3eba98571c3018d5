"""The database storage of the rate limits (store/ratelimit_storage.py over
store/ratelimits.py): counts shared by every process on one database, atomic under
concurrent hits, windows that end, and the [limits] configuration. On SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from limits import parse
from limits.aio.strategies import FixedWindowRateLimiter

from fedchirp.config import ConfigError, config_from_dict
from fedchirp.store.ratelimit_storage import DatabaseStorage

pytestmark = pytest.mark.backends


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_two_stores_on_one_database_share_the_counts(make_store):
    first, second = await make_store("shared"), await make_store("shared")
    limiters = [FixedWindowRateLimiter(DatabaseStorage(s)) for s in (first, second)]
    five = parse("5/minute")
    allowed = [await limiters[n % 2].hit(five, "login", "192.0.2.1") for n in range(7)]
    assert allowed == [True] * 5 + [False] * 2
    assert await limiters[0].hit(five, "login", "192.0.2.2")  # another key, its own count


async def test_concurrent_hits_from_two_stores_are_all_counted_once(make_store):
    first, second = await make_store("shared"), await make_store("shared")
    storages = [DatabaseStorage(first), DatabaseStorage(second)]
    counts = await asyncio.gather(*(storages[n % 2].incr("k", 60) for n in range(40)))
    assert sorted(counts) == list(range(1, 41))
    assert await storages[1].get("k") == 40


async def test_counters_expire_and_ended_windows_are_purged(make_store):
    store, clock = await make_store(), Clock()
    storage = DatabaseStorage(store, clock)
    assert [await storage.incr("a", 10) for _ in range(3)] == [1, 2, 3]
    assert await storage.incr("b", 100) == 1
    assert await storage.get_expiry("a") == clock.now + 10
    clock.now += 10  # a's window has ended, b's runs on
    assert await storage.get("a") == 0
    assert await storage.get("b") == 1
    assert await storage.purge() == 1
    assert await storage.get("b") == 1
    assert await storage.incr("a", 10) == 1  # a new window
    assert await storage.get_expiry("a") == clock.now + 10


async def test_taking_back_never_goes_below_zero_or_into_another_window(make_store):
    store, clock = await make_store(), Clock()
    storage = DatabaseStorage(store, clock)
    await storage.incr("a", 10)
    assert await storage.decr("a") == 0
    assert await storage.decr("a") == 0
    clock.now += 10
    assert await storage.decr("a") == 0
    assert await storage.incr("a", 10) == 1


async def test_two_instances_on_one_database_share_the_sign_in_limits(
    start, http, backend_databases
):
    url = await backend_databases.url("shared")
    settings = {
        "database": {"url": url},
        "limits": {"storage": "database", "login_per_address": "4/minute"},
    }
    a, b = await start("a", settings=settings), await start("b", settings=settings)
    await a.create_user("alice")
    grants = {a.name: await _grant(http, a), b.name: await _grant(http, b)}

    async def guess(instance) -> int:
        url = f"{instance.base_url}/oauth/token"
        async with http.post(url, json=grants[instance.name]) as resp:
            return resp.status

    statuses = [await guess(a), await guess(b), await guess(a), await guess(b)]
    assert statuses == [400] * 4
    assert [await guess(a), await guess(b)] == [429, 429]


async def _grant(http: aiohttp.ClientSession, instance) -> dict:
    """A password grant with a wrong password, by an app registered on instance."""
    async with http.post(
        f"{instance.base_url}/api/v1/apps",
        json={"client_name": "t", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"},
    ) as resp:
        app = await resp.json()
    return {
        "grant_type": "password",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "username": "alice",
        "password": "wrong",
    }


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"limits": {"login_per_address": "lots"}}, "limits.login_per_address must be a rate"),
        ({"limits": {"inbox_per_server": "0/minute"}}, "limits.inbox_per_server must be a rate"),
        ({"limits": {"storage": "redis"}}, "limits.storage must be one of"),
        ({"server": {"trusted_proxies": ["10.0.0.0/33"]}}, "server.trusted_proxies must list"),
        ({"server": {"trusted_proxies": "127.0.0.1"}}, "server.trusted_proxies must be a list"),
    ],
)
def test_bad_limit_settings_are_refused_with_a_reason(settings, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(settings)


@pytest.mark.sqlite_only
def test_limit_settings_are_read():
    config = config_from_dict(
        {
            "server": {"trusted_proxies": ["127.0.0.1", "10.0.0.0/8"]},
            "limits": {"statuses_per_account": "10/hour; 2/minute", "inbox_shared": True},
        }
    )
    assert config.server.trusted_proxies == ("127.0.0.1", "10.0.0.0/8")
    assert config.limits.statuses_per_account == "10/hour; 2/minute"
    assert config.limits.inbox_shared is True
