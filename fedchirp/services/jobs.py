"""Background jobs: queued in the database, run by workers in any process.

A job is queued (by the web edge, or inside a service's unit of work), claimed by
a worker under a lease, then finished (deleted), retried with its queue's
backoff, or kept as dead after its last attempt for an admin to see (`fedchirp
jobs`). A worker that dies leaves its jobs running under a lease that runs out;
any worker then takes them up again. A worker that is stopped gives its claimed
jobs back at once.

Queueing outside a unit of work goes through a group commit: requests that
arrive while a commit is in progress are written together by the next one, so
under load one transaction carries many jobs instead of one each.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fedchirp.store import Store
from fedchirp.store.models import Job

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Retry:
    """How a queue retries: base * 2^attempts seconds, capped, for so many attempts."""

    base_seconds: float
    max_seconds: float
    attempts: int

    def delay(self, attempts_so_far: int) -> float:
        return min(self.base_seconds * 2 ** min(attempts_so_far, 30), self.max_seconds)


DEFAULT_RETRY = Retry(base_seconds=10.0, max_seconds=3600.0, attempts=8)


class Jobs:
    def __init__(
        self,
        store: Store,
        concurrency: int = 8,
        lease_seconds: float = 120.0,
        poll_seconds: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.clock = clock
        self._handlers: dict[str, tuple[Handler, Retry]] = {}
        self._pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._running: dict[int, asyncio.Task[None]] = {}

    @property
    def busy(self) -> bool:
        """Jobs are being queued or run in this process right now."""
        return bool(self._running or self._pending)

    def register(self, queue: str, handler: Handler, retry: Retry = DEFAULT_RETRY) -> None:
        self._handlers[queue] = (handler, retry)

    # -- queueing ------------------------------------------------------------------

    async def enqueue(
        self, queue: str, key: str | None, payload: dict[str, Any], lane: str | None = None
    ) -> None:
        """Queue a job; returns once it is committed (a (queue, key) queued already is
        dropped). Jobs of one lane run one at a time, oldest first. Inside a unit of work
        it commits with the unit."""
        row = {
            "queue": queue,
            "key": key,
            "lane": lane,
            "payload": json.dumps(payload, ensure_ascii=False),
        }
        if self.store.db.in_unit():
            await self.store.enqueue_jobs([row], self.clock())
            self.store.db.on_commit(self._wake.set)
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((row, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        await done

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await self.store.enqueue_jobs([row for row, _ in batch], self.clock())
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for _, done in batch:
                if not done.done():
                    done.set_result(None)
            self._wake.set()

    # -- running -------------------------------------------------------------------

    async def run_due(self) -> int:
        """Claim what is due (up to the free slots) and start it; return how many."""
        free = self.concurrency - len(self._running)
        if free <= 0 or not self._handlers:
            return 0
        claimed = await self.store.claim_jobs(
            list(self._handlers), self.clock(), self.lease_seconds, free
        )
        for job in claimed:
            if job.id in self._running:
                continue  # still running here past its lease: the claim renewed it
            task = asyncio.create_task(self._run(job))
            self._running[job.id] = task
            task.add_done_callback(lambda _, job_id=job.id: self._finished(job_id))
        return len(claimed)

    def _finished(self, job_id: int) -> None:
        self._running.pop(job_id, None)
        self._wake.set()

    async def _run(self, job: Job) -> None:
        handler, retry = self._handlers[job.queue]
        try:
            await handler(json.loads(job.payload))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._failed(job, retry, exc)
            return
        await self.store.finish_job(job.id)

    async def _failed(self, job: Job, retry: Retry, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"[:500]
        if job.attempts >= retry.attempts:
            log.warning("job %s (%s) is dead after %d attempts: %s", job.id, job.queue,
                        job.attempts, error)  # fmt: skip
            await self.store.bury_job(job.id, error)
            return
        log.info("job %s (%s) failed, will retry: %s", job.id, job.queue, error)
        await self.store.retry_job(job.id, self.clock() + retry.delay(job.attempts - 1), error)

    async def run_forever(self) -> None:
        """The worker loop: start what is due, then sleep until woken or due."""
        try:
            while True:
                try:
                    if await self.run_due():
                        continue
                    next_due = await self.store.next_job_due(list(self._handlers))
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("job worker error")
                    next_due = None
                timeout = self.poll_seconds
                if next_due is not None:
                    timeout = min(timeout, max(0.0, next_due - self.clock()))
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
        finally:
            await self._give_back()

    async def _give_back(self) -> None:
        """Stopping: cancel the jobs in hand and queue them again at once."""
        running = dict(self._running)
        for task in running.values():
            task.cancel()
        await asyncio.gather(*running.values(), return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.store.release_jobs(list(running))

    async def drain(self) -> None:
        """Run until nothing is due now and nothing is running (tests and the demo)."""
        while True:
            if self._flusher is not None:
                await asyncio.gather(self._flusher, return_exceptions=True)
            started = await self.run_due()
            if self._running:
                await asyncio.wait(list(self._running.values()))
                continue
            if started:
                continue
            next_due = await self.store.next_job_due(list(self._handlers))
            if next_due is None or next_due > self.clock():
                return
