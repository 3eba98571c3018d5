"""Counters of fixed-window rate limits, shared by every process on one database.

One row per key: its count in the current window and when the window ends. A hit is
one atomic upsert that starts a new window when the old one has ended, so two
processes counting the same key at once never lose a hit and never both start a
window. Rows of ended windows are dead weight only: delete_expired_rate_limits
drops them (web/ratelimit.py calls it every few minutes). The `limits` storage over
these queries is store/ratelimit_storage.py.
"""

from __future__ import annotations

from functools import cached_property

from sqlalchemy import Float, Integer, Text, bindparam, case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import Insert

from fedchirp.store.db import Queries
from fedchirp.store.schema import rate_limits

_C = rate_limits.c
_KEY = bindparam("key", type_=Text)
_NOW = bindparam("now", type_=Float)


class RateLimitQueries(Queries):
    @cached_property
    def _hit_statement(self) -> Insert:
        module = postgresql if self.db.dialect == "postgresql" else sqlite
        fresh, ends = bindparam("fresh", type_=Integer), bindparam("ends", type_=Float)
        ended = _C.expires_at <= _NOW
        statement = module.insert(rate_limits).values(key=_KEY, count=fresh, expires_at=ends)
        return statement.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "count": case((ended, fresh), else_=_C.count + bindparam("amount", type_=Integer)),
                "expires_at": case((ended, ends), else_=_C.expires_at),
            },
        ).returning(_C.count, _C.expires_at)

    async def hit_rate_limit(
        self, key: str, amount: int, window_seconds: float, now: float
    ) -> tuple[int, float]:
        """Add amount to key's count (a new window of window_seconds if none is running);
        (count, end of the window) after it."""
        params = {
            "key": key,
            "amount": amount,
            "fresh": max(amount, 0),  # a refund (amount < 0) never starts a window below 0
            "ends": now + window_seconds,
            "now": now,
        }
        row = (await self.db.write_returning(self._hit_statement, params))[0]
        return row["count"], row["expires_at"]

    async def take_back_rate_limit(self, key: str, amount: int, now: float) -> None:
        """Subtract amount from key's count in its running window, down to 0 at most."""
        await self.db.write(
            update(rate_limits)
            .where(_C.key == key, _C.expires_at > now)
            .values(count=case((_C.count > amount, _C.count - amount), else_=0))
        )

    async def rate_limit_count(self, key: str, now: float) -> tuple[int, float] | None:
        """(count, end of the window) of key's running window, None if it has none."""
        row = await self.db.one(
            select(_C.count, _C.expires_at).where(_C.key == key, _C.expires_at > now)
        )
        return (row["count"], row["expires_at"]) if row else None

    async def clear_rate_limit(self, key: str) -> None:
        await self.db.write(delete(rate_limits).where(_C.key == key))

    async def clear_rate_limits(self) -> int:
        """Delete every counter; how many there were."""
        return (await self.db.write(delete(rate_limits))).rowcount

    async def delete_expired_rate_limits(self, now: float) -> int:
        result = await self.db.write(delete(rate_limits).where(_C.expires_at <= now))
        return result.rowcount
