"""A `limits` storage backed by our own database (the queries in store/ratelimits.py), so
that every web process on one PostgreSQL database counts against the same limits.

Fixed windows only: one atomic upsert per hit. Times are this machine's clock
(time.time), so processes on several machines should keep their clocks in step (NTP);
a skew of a second moves a window's end by a second, nothing worse.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from limits.aio.storage import Storage
from sqlalchemy.exc import SQLAlchemyError

from fedchirp.store.ratelimits import RateLimitQueries


class DatabaseStorage(Storage):
    """Counters in the rate_limits table. Built with a Store, never from a URI."""

    def __init__(self, store: RateLimitQueries, clock: Callable[[], float] = time.time) -> None:
        super().__init__(None, wrap_exceptions=False)
        self.store = store
        self.clock = clock

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    async def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        count, _ = await self.store.hit_rate_limit(key, amount, expiry, self.clock())
        return count

    async def decr(self, key: str, amount: int = 1) -> int:
        """Take back amount from a running window (as the memory storage's decr does)."""
        now = self.clock()
        await self.store.take_back_rate_limit(key, amount, now)
        found = await self.store.rate_limit_count(key, now)
        return found[0] if found else 0

    async def get(self, key: str) -> int:
        found = await self.store.rate_limit_count(key, self.clock())
        return found[0] if found else 0

    async def get_expiry(self, key: str) -> float:
        now = self.clock()
        found = await self.store.rate_limit_count(key, now)
        return found[1] if found else now

    async def check(self) -> bool:
        try:
            await self.store.rate_limit_count("", self.clock())
        except SQLAlchemyError:
            return False
        return True

    async def reset(self) -> int | None:
        return await self.store.clear_rate_limits()

    async def clear(self, key: str) -> None:
        await self.store.clear_rate_limit(key)

    async def purge(self) -> int:
        """Delete the rows of ended windows; how many."""
        return await self.store.delete_expired_rate_limits(self.clock())
