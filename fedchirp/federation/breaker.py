"""Each remote host as the delivery worker sees it: slots and a circuit breaker."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

BREAKER_FAILURES = 10
BREAKER_BASE_SECONDS = 60.0
BREAKER_MAX_SECONDS = 86_400.0


@dataclass
class HostHealth:
    """One remote host as the delivery worker sees it: its slots (deliveries in flight at
    once) and its circuit breaker. After BREAKER_FAILURES failures in a row (network
    errors, 5xx) the breaker opens: nothing is sent there until it closes again, first
    after a minute, then twice as long each time it opens again, up to a day. The
    first answer closes it (as Mastodon's breaker does: one dead server must not hold
    the workers)."""

    slots: asyncio.Semaphore
    failures: int = 0
    open_until: float = 0.0

    def failed(self, now: float) -> None:
        self.failures += 1
        if self.failures >= BREAKER_FAILURES:
            times_open = self.failures - BREAKER_FAILURES
            self.open_until = now + min(BREAKER_BASE_SECONDS * 2**times_open, BREAKER_MAX_SECONDS)

    def answered(self) -> None:
        self.failures = 0
        self.open_until = 0.0


class Hosts(dict[str, HostHealth]):
    def __init__(self, per_host: int) -> None:
        super().__init__()
        self.per_host = per_host

    def get(self, host: str) -> HostHealth:  # type: ignore[override]
        found = super().get(host)
        if found is None:
            found = self[host] = HostHealth(asyncio.Semaphore(self.per_host))
        return found
