"""Which remote hosts are unavailable: deliveries to them are dropped, not sent.

Mastodon's rule: a host whose deliveries failed on `delivery.unavailable_after_days`
distinct days (UTC) with no answer in between is marked unavailable, and nothing is
sent to it until it is heard from again: an authenticated request from one of its
actors (or an answer to a delivery that was in flight). An answer (2xx, or a 4xx
that retrying would not change) clears the count. A failure is what also trips the
per-host breaker (a network error or a 5xx); a 401, 408 or 429 is neither a failure
nor an answer here. The breaker in delivery.py rests a host for minutes to hours and
forgets it on restart; this is the same idea over days, kept in the database
(store/hosts.py).

Each process keeps the unavailable hosts in memory, read at first use and again
every minute, so the check on every delivery and every inbox POST is a set lookup;
what this process changes it applies at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from fedchirp.federation.vocab import host_of
from fedchirp.store import Store
from fedchirp.store.models import Account, HostFailure

log = logging.getLogger(__name__)

REFRESH_SECONDS = 60.0  # how stale a process's copy of the unavailable hosts may get
RETRY_READ_SECONDS = 5.0  # after the copy could not be read
DAY_SECONDS = 86_400


@dataclass(frozen=True)
class HostResult:
    """What one delivery attempt showed of its host: it answered, or it failed, at a time."""

    host: str
    answered: bool
    at: float


def after(row: HostFailure | None, result: HostResult, days_needed: int) -> HostFailure | None:
    """A host's row once result is counted (None: no failures since it answered)."""
    if result.answered:
        return None
    if row is None:
        return HostFailure(result.host, result.at, result.at, 1, days_needed <= 1)
    days = row.failure_days
    if result.at // DAY_SECONDS > row.last_failure_at // DAY_SECONDS:
        days += 1  # the first failure of a new UTC day
    return replace(
        row,
        last_failure_at=max(row.last_failure_at, result.at),
        failure_days=days,
        unavailable=row.unavailable or days >= days_needed,
    )


class HostAvailability:
    """The unavailable hosts as this process knows them, and the writes that change them."""

    def __init__(self, store: Store, days_needed: int) -> None:
        self.store = store
        self.days_needed = days_needed
        self._hosts: frozenset[str] = frozenset()
        self._fresh_until = 0.0  # monotonic time of the next read; 0: never read yet
        self._changes = 0  # bumped when this process changes the set: a read begun before is
        # dropped (and made again), so it cannot undo the change
        self._reading = asyncio.Lock()

    async def unavailable(self) -> frozenset[str]:
        """The hosts nothing is sent to; read from the database when a minute old."""
        if time.monotonic() >= self._fresh_until:
            async with self._reading:
                if time.monotonic() >= self._fresh_until:
                    await self._read()
        return self._hosts

    async def _read(self) -> None:
        changes = self._changes
        try:
            found = frozenset(await self.store.unavailable_hosts())
        except Exception:
            # Keep the last copy: deliveries and requests go on meanwhile.
            log.exception("could not read the unavailable hosts")
            self._fresh_until = time.monotonic() + RETRY_READ_SECONDS
            return
        if changes == self._changes:  # else a change made meanwhile is newer: read again
            self._hosts = found
            self._fresh_until = time.monotonic() + REFRESH_SECONDS

    async def record(self, results: Sequence[HostResult]) -> None:
        """Count what attempts showed of their hosts, in the caller's unit of work (the
        one that settles their deliveries). Only the rows that change are written; the
        copy in memory follows once the unit commits."""
        by_host: dict[str, list[HostResult]] = {}
        for result in results:
            by_host.setdefault(result.host, []).append(result)
        if not by_host:
            return
        stored = await self.store.host_failures_of(by_host.keys())
        saved: list[HostFailure] = []
        cleared: list[str] = []
        for host, seen in by_host.items():
            row = stored.get(host)
            for result in seen:
                row = after(row, result, self.days_needed)
            if row == stored.get(host):
                continue
            if row is None:
                cleared.append(host)
            else:
                saved.append(row)
        if cleared:
            await self.store.clear_host_failures(cleared)
        if saved:
            await self.store.save_host_failures(saved)
        if saved or cleared:
            self.store.db.on_commit(lambda: self._apply(saved, cleared))

    def _apply(self, saved: Iterable[HostFailure], cleared: Iterable[str]) -> None:
        hosts = set(self._hosts)
        for failure in saved:
            if failure.unavailable and failure.host not in hosts:
                log.warning(
                    "%s is unavailable: deliveries failed on %d days; none are sent until it"
                    " sends us an activity",
                    failure.host,
                    failure.failure_days,
                )
                hosts.add(failure.host)
            elif not failure.unavailable:
                hosts.discard(failure.host)
        for host in cleared:
            if host in hosts:
                log.info("%s answered: available again", host)
                hosts.discard(host)
        if hosts != self._hosts:
            self._set(hosts)

    async def heard_from(self, actor: Account) -> None:
        """An authenticated request from actor shows its server is up: if it was unavailable,
        it is available again. Costs a set lookup; writes only for a listed host."""
        inboxes = (actor.inbox_url, actor.shared_inbox_url)
        listed = {host_of(url) for url in inboxes if url} & await self.unavailable()
        for host in sorted(listed):
            await self.store.clear_host_failures([host])
            log.info("%s sent an activity: available again", host)
            self._set(self._hosts - {host})

    def _set(self, hosts: Iterable[str]) -> None:
        self._hosts = frozenset(hosts)
        self._changes += 1
