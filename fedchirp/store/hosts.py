"""Remote hosts that deliveries are failing to: a row from a host's first failure since it
last answered until it answers again, and whether it is unavailable (nothing sent to it).

The rules (what counts as a failure, when a host becomes unavailable) are the delivery
worker's (federation/availability.py); here are the reads and writes. The worker reads
the rows of the hosts in a group of outcomes and writes back only those that changed,
in the unit of work that settles the group: most groups find no row and write nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from fedchirp.store.db import Queries
from fedchirp.store.models import HostFailure
from fedchirp.store.query import records
from fedchirp.store.schema import host_failures


@functools.cache
def _save_statement(dialect: str) -> Any:
    """Insert or replace a host's row; built once, run with executemany."""
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(host_failures)
    replaced = {c.name: statement.excluded[c.name] for c in host_failures.c if c.name != "host"}
    return statement.on_conflict_do_update(index_elements=["host"], set_=replaced)


class HostQueries(Queries):
    async def host_failures_of(self, hosts: Collection[str]) -> dict[str, HostFailure]:
        """The rows of these hosts (most have none), by host. Inside a unit of work on
        PostgreSQL they stay locked until it ends, so two workers recording failures of
        one host take turns instead of both counting from the same row."""
        if not hosts:
            return {}
        rows = await self.db.all(
            select(host_failures)
            .where(host_failures.c.host.in_(sorted(hosts)))
            .order_by(host_failures.c.host)  # locked in one order: no deadlock between workers
            .with_for_update()
        )
        return {failure.host: failure for failure in records(HostFailure, rows)}

    async def save_host_failures(self, failures: Sequence[HostFailure]) -> None:
        """Write these rows whole, replacing any a host has."""
        rows = [asdict(failure) | {"unavailable": int(failure.unavailable)} for failure in failures]
        await self.db.write(_save_statement(self.db.dialect), rows)

    async def clear_host_failures(self, hosts: Collection[str]) -> int:
        """Forget these hosts' failures (they answered); return how many rows went."""
        if not hosts:
            return 0
        result = await self.db.write(
            delete(host_failures).where(host_failures.c.host.in_(sorted(hosts)))
        )
        return result.rowcount

    async def unavailable_hosts(self) -> list[str]:
        """The hosts nothing is sent to (each process keeps a copy, read every minute)."""
        return await self.db.scalars(
            select(host_failures.c.host).where(host_failures.c.unavailable == 1)
        )

    async def unavailable_host_failures(self, limit: int = 100) -> list[HostFailure]:
        """The unavailable hosts' rows, the latest to fail first (for admins)."""
        rows = await self.db.all(
            select(host_failures)
            .where(host_failures.c.unavailable == 1)
            .order_by(host_failures.c.last_failure_at.desc(), host_failures.c.host)
            .limit(limit)
        )
        return records(HostFailure, rows)

    async def count_host_failures(self, unavailable: bool | None = None) -> int:
        """Hosts failing now (all, or only those unavailable or not)."""
        statement = select(func.count()).select_from(host_failures)
        if unavailable is not None:
            statement = statement.where(host_failures.c.unavailable == int(unavailable))
        return await self.db.scalar(statement) or 0
