"""Which remote servers the instance blocks, as each process knows them.

The inbox edge, the delivery worker and the resolver ask this on every request,
delivery and fetch, so the answer is a few dict lookups (one per label of the
host), never a query. Each process reads the domain_blocks table at first use and
again every REFRESH_SECONDS (30 s): a block made by another process (a second web
process on PostgreSQL, or the `fedchirp domain-block` command) takes effect here
within that time. A block made through this process (the admin API or page) takes
effect here as soon as its unit of work commits (invalidate()).

A block on example.com covers example.com and every subdomain (a.example.com), on
any port unless the block names one (as Mastodon's DomainBlock.rule_for does).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time

from fedchirp.store import Store
from fedchirp.store.domain_blocks import DomainBlock, by_domain

log = logging.getLogger(__name__)

REFRESH_SECONDS = 30.0
RETRY_READ_SECONDS = 5.0


def candidates(host: str) -> list[str]:
    """The block domains that could cover host, most specific first: the host and each
    parent domain, each with its port (if it has one) and without."""
    host = host.lower().rstrip(".")
    name, port = host, ""
    if host.count(":") == 1:  # host:port (an IPv6 literal has more colons)
        name, port = host.split(":")
    if _is_ip(name):
        levels = [name]  # 10.0.0.1 is no "subdomain" of 0.0.1
    else:
        labels = name.split(".")
        levels = [".".join(labels[i:]) for i in range(len(labels))]
    found: list[str] = []
    for level in levels:
        if port:
            found.append(f"{level}:{port}")
        found.append(level)
    return found


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


class DomainBlockCache:
    """The blocks by domain, read from the store every REFRESH_SECONDS."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._blocks: dict[str, DomainBlock] = {}
        self._fresh_until = 0.0  # monotonic time of the next read; 0: read at next use
        self._reading = asyncio.Lock()

    def invalidate(self) -> None:
        """Read again at the next use (after this process changed a block)."""
        self._fresh_until = 0.0

    async def _current(self) -> dict[str, DomainBlock]:
        if time.monotonic() >= self._fresh_until:
            async with self._reading:
                if time.monotonic() >= self._fresh_until:
                    await self._read()
        return self._blocks

    async def _read(self) -> None:
        started = time.monotonic()
        try:
            blocks = by_domain(await self.store.domain_blocks())
        except Exception:
            log.exception("could not read the domain blocks")  # keep the last copy
            self._fresh_until = time.monotonic() + RETRY_READ_SECONDS
            return
        self._blocks = blocks
        if self._fresh_until <= started:  # not invalidated while reading
            self._fresh_until = started + REFRESH_SECONDS

    async def block_for(self, host: str) -> DomainBlock | None:
        """The block covering host (the most specific one), if any."""
        if not host:
            return None
        blocks = await self._current()
        if not blocks:
            return None
        for domain in candidates(host):
            found = blocks.get(domain)
            if found is not None:
                return found
        return None

    async def suspended(self, host: str) -> bool:
        """Nothing is taken from, fetched from or sent to this host."""
        block = await self.block_for(host)
        return block is not None and block.severity == "suspend"

    async def silenced(self, host: str) -> bool:
        block = await self.block_for(host)
        return block is not None and block.severity == "silence"

    async def rejects_media(self, host: str) -> bool:
        block = await self.block_for(host)
        return block is not None and (block.reject_media or block.severity == "suspend")

    async def rejects_reports(self, host: str) -> bool:
        block = await self.block_for(host)
        return block is not None and (block.reject_reports or block.severity == "suspend")
