"""Background jobs: queued in the database, run by workers in any process.

A job is queued (by the web edge, or inside a service's unit of work), claimed by
a worker under a lease, then finished (deleted), retried with its queue's
backoff, or kept as dead after its last attempt for an admin to see (`fedchirp
jobs`; a queue registered without keep_dead drops it instead). A job may be
queued to become due later (run_at: a scheduled post at its time). A worker
that dies leaves its jobs running under a lease that runs out; any worker then
takes them up again. A worker that is stopped gives its claimed jobs back at once.

Queueing outside a unit of work goes through a group commit: requests that arrive
while a commit is in progress are written together by the next one (on SQLite it
goes ahead of background units waiting for the writer: Database.urgent). Committed
jobs wake this process's loop and, through announce, other processes' workers.

Where web and workers share one process (`fedchirp serve`), requests come first:
while any request is in flight, at most one job runs, and after each job the
runner rests long enough that jobs take no more than SHARE_UNDER_LOAD of the
time. A burst of inbox POSTs is answered at full speed and applied right after;
when no request is in flight, jobs run at full concurrency. Once the oldest due
job has waited MAX_LAG_SECONDS, jobs stop yielding: sustained load slows the
answers rather than growing the queue without end.
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

from fedchirp.clock import wait_at_most
from fedchirp.services.in_flight import InFlight
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
SHARE_UNDER_LOAD = 0.15  # of the time, for jobs while requests are in flight
# Jobs stop yielding to requests once the oldest due job waited this long: under
# sustained load the queue must not grow without end.
MAX_LAG_SECONDS = 30.0
BUSY_WAKE_SECONDS = 0.25  # a busy worker looks for work signalled by others this soon
PARALLEL_COMMITS = 3  # group commits of queued jobs in flight at once, on PostgreSQL
LANE_BATCH = 16  # jobs of one lane leased together and run one after another
# A batch of a lane is extended by its next jobs up to this many times before the slot
# goes back to the general claim: a burst from one sender costs a claim per 128 jobs.
LANE_EXTENSIONS = 7


def _ends_full_lane_batch(batch: list[Job], n: int) -> bool:
    """Job n is the last of a full batch of a lane: more of the lane may be waiting."""
    return n == len(batch) - 1 and len(batch) % LANE_BATCH == 0 and batch[n].lane is not None


class Jobs:
    def __init__(
        self,
        store: Store,
        concurrency: int = 8,
        lease_seconds: float = 120.0,
        poll_seconds: float = 5.0,
        clock: Callable[[], float] = time.time,
        requests: InFlight | None = None,
        announce: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.announce = announce  # tells other processes' workers (store/signals.py)
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.clock = clock
        self._handlers: dict[str, tuple[Handler, Retry]] = {}
        self._dropped_when_dead: set[str] = set()
        self._pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._flushers: set[asyncio.Task[None]] = set()
        # Group commits in flight at once: on PostgreSQL a request need not wait for the
        # commit before its own to return (requests sent one after another still commit
        # in order: the next is sent after the 202). SQLite has one writer.
        self._max_flushers = 1 if store.db.dialect == "sqlite" else PARALLEL_COMMITS
        self._wake = asyncio.Event()
        self._wake_later: asyncio.TimerHandle | None = None
        self._running: dict[int, asyncio.Task[None]] = {}  # by the id of its first job
        self._held: set[int] = set()  # ids leased here and not yet settled
        self.requests = requests if requests is not None else InFlight()
        self._rest_until = 0.0  # monotonic: no new job before, while requests are in flight
        self._lagging = False  # the last claim found jobs due for over MAX_LAG_SECONDS
        self._claiming = 0  # claims under way: their jobs are leased but not yet running
        self._no_claims = asyncio.Event()  # set while _claiming is 0
        self._no_claims.set()

    @property
    def busy(self) -> bool:
        """Jobs are being queued, claimed or run in this process right now."""
        return bool(self._running or self._pending or self._claiming)

    @property
    def queues(self) -> list[str]:
        """The queues this process runs (those with a handler)."""
        return list(self._handlers)

    def register(
        self, queue: str, handler: Handler, retry: Retry = DEFAULT_RETRY, keep_dead: bool = True
    ) -> None:
        """Run queue's jobs with handler. Without keep_dead, a job out of attempts is
        deleted, not kept dead: a dead job keeps its (queue, key), so for work that is
        asked for again later (a refresh) it would stop that key from ever being queued."""
        self._handlers[queue] = (handler, retry)
        if not keep_dead:
            self._dropped_when_dead.add(queue)

    # -- queueing ------------------------------------------------------------------

    async def enqueue(
        self,
        queue: str,
        key: str | None,
        payload: dict[str, Any] | str,
        lane: str | None = None,
        run_at: float | None = None,
    ) -> None:
        """Queue a job; returns once it is committed (a (queue, key) queued already is
        dropped). The payload is a dict, or one already written as a JSON object. Jobs
        of one lane run one at a time, oldest first. run_at (seconds since the epoch, on
        self.clock) is when it becomes due; now if None. Inside a unit of work it
        commits with the unit."""
        if not isinstance(payload, str):
            payload = json.dumps(payload, ensure_ascii=False)
        row = {"queue": queue, "key": key, "lane": lane, "payload": payload, "run_at": run_at}
        if self.store.db.in_unit():
            await self.store.enqueue_jobs([row], self.clock())
            self.store.db.on_commit(self._queued)
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((row, done))
        if len(self._flushers) < self._max_flushers:
            flusher = asyncio.create_task(self._flush())
            self._flushers.add(flusher)
            flusher.add_done_callback(self._flushers.discard)  # also one cancelled unstarted
        await done

    async def cancel(self, queue: str, key: str) -> None:
        """Take the job of (queue, key) out if it is queued or dead (inside a unit of work,
        with the unit). One a worker is running is left to complete: its handler must
        check that its work is still wanted."""
        await self.store.delete_job(queue, key)

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                await self._commit(batch)
        finally:
            # Leave the set now, not in the done callback: that runs a step later, after
            # the requests woken here, and one of them queueing again at once would see
            # a flusher that is done and start none (it would wait for ever).
            self._flushers.discard(asyncio.current_task())  # type: ignore[arg-type]

    async def _commit(self, batch: list[tuple[dict[str, Any], asyncio.Future[None]]]) -> None:
        try:
            with self.store.db.urgent():  # a request is waiting for this commit
                await self.store.enqueue_jobs([row for row, _ in batch], self.clock())
        except Exception as exc:
            for _, done in batch:
                if not done.done():
                    done.set_exception(exc)
            return
        for _, done in batch:
            if not done.done():
                done.set_result(None)
        self._queued()

    def _queued(self) -> None:
        self._wake.set()
        self.announce()

    def wake(self) -> None:
        """Another process queued jobs: look now if idle, else within BUSY_WAKE_SECONDS
        (a claim looks at every lane; one per signal kept the database busy)."""
        if not self._running:
            self._wake.set()
        elif self._wake_later is None:
            loop = asyncio.get_running_loop()
            self._wake_later = loop.call_later(BUSY_WAKE_SECONDS, self._woken_later)

    def _woken_later(self) -> None:
        self._wake_later = None
        self._wake.set()

    # -- running -------------------------------------------------------------------

    def _yielding(self) -> bool:
        return bool(self.requests) and not self._lagging

    def _rest_left(self) -> float:
        """Seconds before another job may start while yielding to requests (0: now)."""
        if not self._yielding():
            return 0.0
        return max(0.0, self._rest_until - time.monotonic())

    def _free_slots(self) -> int:
        if not self._yielding():
            return self.concurrency - len(self._running)
        if self._rest_left():
            return 0
        return 1 - len(self._running)

    async def run_due(self) -> int:
        """Claim what is due (up to the free slots) and start it; return how many."""
        free = self._free_slots()
        if free <= 0 or not self._handlers:
            return 0
        self._claiming += 1
        self._no_claims.clear()
        try:
            return await self._claim_and_start(free)
        finally:
            self._claiming -= 1
            if not self._claiming:
                self._no_claims.set()

    async def _claim_and_start(self, free: int) -> int:
        now = self.clock()
        claimed = await self.store.claim_jobs(list(self._handlers), now, self.lease_seconds, free)
        if claimed:
            self._lagging = min(job.run_at for job in claimed) < now - MAX_LAG_SECONDS
        for job in claimed:
            if job.id in self._held:
                continue  # held here past its lease (running, or in a batch): renewed
            self._held.add(job.id)
            batch = [job]
            if job.lane is not None and LANE_BATCH > 1:
                batch += await self._claim_followers(job, LANE_BATCH - 1)
            task = asyncio.create_task(self._run_batch(batch))
            self._running[job.id] = task
            task.add_done_callback(lambda _, job_id=job.id: self._finished(job_id))
        return len(claimed)

    def _finished(self, job_id: int) -> None:
        self._running.pop(job_id, None)
        self._wake.set()

    async def _run_batch(self, batch: list[Job]) -> None:
        """Run jobs one after another (a lane's, in order); after a failure the rest go
        back to the queue, behind the failed one. A full batch of a lane takes the lane's
        next jobs before its last one is settled: while that one is held nobody else can
        take them, and the general claim (which looks at every lane) is not needed."""
        extensions = 0
        n = 0
        while n < len(batch):
            job = batch[n]
            if n:
                await self._rest_if_requests()
            if extensions < LANE_EXTENSIONS and _ends_full_lane_batch(batch, n):
                extensions += 1
                batch = batch + await self._claim_followers(job, LANE_BATCH)
            if not await self._run(job):
                rest = [later.id for later in batch[n + 1 :]]
                await self.store.release_jobs(rest)
                self._held.difference_update(rest)
                return
            n += 1

    async def _claim_followers(self, job: Job, limit: int) -> list[Job]:
        """Lease the jobs right behind job (held here) in its lane, up to limit."""
        assert job.lane is not None
        followers = await self.store.claim_lane_followers(
            job.lane, job.id, self.clock(), self.lease_seconds, limit
        )
        self._held.update(follower.id for follower in followers)
        return followers

    async def _rest_if_requests(self) -> None:
        while left := self._rest_left():
            await asyncio.sleep(left)

    async def _run(self, job: Job) -> bool:
        """Run one job and settle it; True when it succeeded."""
        handler, retry = self._handlers[job.queue]
        started = time.monotonic()
        try:
            await handler(json.loads(job.payload))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._failed(job, retry, exc)
            self._held.discard(job.id)
            return False
        finally:
            self._rest_after(time.monotonic() - started)
        await self.store.finish_job(job.id)
        self._held.discard(job.id)
        return True

    def _rest_after(self, seconds: float) -> None:
        """A job took this long: under requests, rest so jobs keep to their share."""
        if self._yielding():
            rest = seconds * (1 / SHARE_UNDER_LOAD - 1)
            self._rest_until = max(self._rest_until, time.monotonic() + rest)

    async def _failed(self, job: Job, retry: Retry, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"[:500]
        if job.attempts >= retry.attempts:
            log.warning("job %s (%s) is dead after %d attempts: %s", job.id, job.queue,
                        job.attempts, error)  # fmt: skip
            if job.queue in self._dropped_when_dead:
                await self.store.finish_job(job.id)
            else:
                await self.store.bury_job(job.id, error)
            return
        log.info("job %s (%s) failed, will retry: %s", job.id, job.queue, error)
        await self.store.retry_job(job.id, self.clock() + retry.delay(job.attempts - 1), error)

    async def run_forever(self) -> None:
        """The worker loop: start what is due, then sleep until woken or due."""
        try:
            while True:
                # Cleared before looking, not after: a job that ends (or is queued) while
                # we look must wake the wait below, or its lane would sleep a poll.
                self._wake.clear()
                try:
                    if await self.run_due():
                        continue
                    timeout = await self._idle_seconds()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("job worker error")
                    timeout = self.poll_seconds
                await wait_at_most(timeout, self._wake.wait())
        finally:
            await self._give_back()

    async def _idle_seconds(self) -> float:
        """How long to sleep unless woken (by a job queued here or one finishing)."""
        if self._free_slots() <= 0:
            if self._yielding() and not self._running:
                return self._rest_left()
            return self.poll_seconds  # a finishing job wakes us
        next_due = await self.store.next_job_due(list(self._handlers))
        if next_due is None:
            return self.poll_seconds
        return min(self.poll_seconds, max(0.0, next_due - self.clock()))

    async def _give_back(self) -> None:
        """Stopping: cancel the jobs in hand and queue them again at once."""
        running = dict(self._running)
        for task in running.values():
            task.cancel()
        await asyncio.gather(*running.values(), return_exceptions=True)
        held, self._held = list(self._held), set()
        with contextlib.suppress(Exception):
            await self.store.release_jobs(held)

    async def drain(self) -> None:
        """Run until nothing is due now and nothing is running (tests and the demo)."""
        while True:
            await asyncio.gather(*self._flushers, return_exceptions=True)
            started = await self.run_due()
            if self._claiming:  # the worker loop's claim: its jobs are not running yet
                await self._no_claims.wait()
                continue
            if self._running:
                await asyncio.wait(list(self._running.values()))
                continue
            if started:
                continue
            if self._rest_left():
                await self._rest_if_requests()
                continue
            next_due = await self.store.next_job_due(list(self._handlers))
            # Checked again after the await: the worker loop may have claimed meanwhile.
            idle = not self._claiming and not self._running
            if (next_due is None or next_due > self.clock()) and idle:
                return
