"""Outbound delivery: the worker of the jobs queue "deliver", one job per remote inbox.

An activity is stored once (store/outbound.py); each inbox it goes to gets a job in
the inbox's lane, so a later activity never overtakes an earlier one to the same
inbox. Claiming, leases, retries, dead jobs and giving work back are the jobs'
(store/jobs.py); this worker claims many at once and settles them in groups.

A delivery is final when the inbox answers 2xx (delivered) or a 4xx other than
401/408/429, or 501 (failed: retrying would not help). Anything else (5xx, 401, 408,
429, network errors) is retried with capped exponential backoff, never sooner than a
Retry-After asks, until delivery.max_attempts is used up (then a dead job for admins:
`fedchirp jobs`). The queue lives in the database, so a restart resumes it.

A worker keeps up to delivery.concurrency deliveries in flight, at most
delivery.per_host of them to one host, and stops sending to a host whose
breaker opened (HostHealth); those to a host marked unavailable after days of
failures are dropped unsent (federation/availability.py), as are those to a
suspended domain (federation/domain_blocks.py; none are queued). Requests are signed
on a thread (RSA releases the GIL), each signer's key read once. It leases CLAIM_AHEAD
times its concurrency at once, and writes outcomes (and what they showed of their
hosts) in groups. An outcome not written when the worker dies is not lost: the lease
runs out and it is sent again (receivers drop a repeated id). Queued work is announced.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from fedchirp.clock import wait_at_most
from fedchirp.config import Config
from fedchirp.federation.availability import HostAvailability, HostResult
from fedchirp.federation.breaker import Hosts
from fedchirp.federation.delivery_outcomes import (
    ActivityCache,
    Delivery,
    Settled,
    finished_by_activity,
    is_final_failure,
)
from fedchirp.federation.domain_blocks import DomainBlockCache
from fedchirp.federation.http import FetchError, HttpClient, PostResult, Signer
from fedchirp.federation.vocab import host_of
from fedchirp.store import Store
from fedchirp.store.models import Account
from fedchirp.store.outbound import DELIVER

log = logging.getLogger(__name__)

MAX_RETRY_AFTER_SECONDS = 86_400.0
CLAIM_AHEAD = 4  # lease up to this many times delivery.concurrency at once
HOST_UNAVAILABLE = "host unavailable"
DOMAIN_SUSPENDED = "domain suspended"


class DeliveryQueue:
    def __init__(
        self,
        config: Config,
        store: Store,
        http: HttpClient,
        clock: Callable[[], float] = time.time,
        instance_signer: Signer | None = None,
        domain_blocks: DomainBlockCache | None = None,
        announce: Callable[[], None] = lambda: None,
    ) -> None:
        self.settings = config.delivery
        self.announce = announce  # tells other processes' workers (store/signals.py)
        self.instance_signer = instance_signer  # for what it sends in its own name (Flag)
        self.store = store
        self.http = http
        self.clock = clock
        self._wake = asyncio.Event()
        self._in_flight = 0
        self._sending: dict[asyncio.Task[None], int] = {}  # task -> delivery id
        self._backlog: deque[Delivery] = deque()  # leased, waiting for a slot
        self._settled: list[Settled] = []  # outcomes not written yet
        self._host_results: list[HostResult] = []  # written with them
        self._settler: asyncio.Task[None] | None = None
        self._stopping = False  # giving back: nothing more is started
        self._signers: dict[int, Signer] = {}
        self._activities = ActivityCache(store)
        self._hosts = Hosts(self.settings.per_host)
        self.availability = HostAvailability(store, self.settings.unavailable_after_days)
        self.domain_blocks = domain_blocks or DomainBlockCache(store)

    @property
    def busy(self) -> bool:
        """Deliveries are being claimed or sent by this process right now."""
        writing = self._settler is not None and not self._settler.done()
        return (
            self._in_flight > 0 or bool(self._sending or self._backlog or self._settled) or writing
        )

    # -- producing -----------------------------------------------------------

    async def enqueue(
        self,
        activity: dict[str, Any],
        signer: Account,
        inboxes: Iterable[str],
        status_id: int | None = None,
    ) -> int:
        """Queue activity for each inbox (deduplicated) but those of suspended domains;
        return how many were queued."""
        inboxes = {i for i in inboxes if not await self.domain_blocks.suspended(host_of(i))}
        if not inboxes:
            return 0
        body = json.dumps(activity, ensure_ascii=False, separators=(",", ":"))
        queued = await self.store.outbound_enqueue(
            activity, body, signer.id, inboxes, self.clock(), status_id
        )
        self.store.db.on_commit(self._queued)
        return queued

    def _queued(self) -> None:
        self._wake.set()
        self.announce()

    def wake(self) -> None:
        """Another process queued deliveries: look if idle (if not, each one ending does)."""
        if not self._sending:
            self._wake.set()

    # -- consuming -----------------------------------------------------------

    def backoff_seconds(self, attempts_so_far: int, retry_after: float | None) -> float:
        """Delay before the next try: base * 2^attempts, capped, but never before Retry-After."""
        delay = min(
            self.settings.backoff_base_seconds * (2 ** min(attempts_so_far, 30)),
            self.settings.backoff_max_seconds,
        )
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER_SECONDS))
        return delay

    async def _claim(self, limit: int) -> list[Delivery]:
        # The claim counts as in flight too: between leasing rows and sending them, a
        # drain must not take the leased rows for an empty queue.
        self._in_flight += 1
        try:
            # Room to wait behind CLAIM_AHEAD rounds of slow hosts, and for a host's slot.
            lease = self.settings.timeout_seconds * (CLAIM_AHEAD + 1) + 30
            jobs = await self.store.claim_jobs([DELIVER], self.clock(), lease, limit)
            try:
                deliveries, orphans = await self._activities.pair(jobs)
            except asyncio.CancelledError:  # stopping: these are not in hand yet
                await self.store.release_jobs([job.id for job in jobs])
                raise
            await self.store.settle_jobs(orphans)
            return deliveries
        finally:
            self._in_flight -= 1

    async def next_due(self) -> float | None:
        """When the next delivery may be claimed (behind a waiting one in its lane: later)."""
        return await self.store.next_job_due([DELIVER])

    async def run_due(self) -> int:
        """Claim what is due and send it, waiting for the outcomes to be written; return
        how many were claimed."""
        batch = await self._claim(self.settings.concurrency)
        self._in_flight += len(batch)
        try:
            await asyncio.gather(*(self._attempt(d) for d in batch))
        finally:
            self._in_flight -= len(batch)
        await self._flush_settled()
        return len(batch)

    async def _attempt(self, delivery: Delivery) -> None:
        name = host_of(delivery.inbox_url)
        # Not sent: suspended since queued, or failing for days (until heard from, as Mastodon)
        if await self.domain_blocks.suspended(name):
            reason: str | None = DOMAIN_SUSPENDED
        else:
            reason = HOST_UNAVAILABLE if name in await self.availability.unavailable() else None
        if reason is not None:
            self._settle_later(Settled(delivery, "dropped", reason))
            log.debug("dropped %s to %s: %s", delivery.activity_type, name, reason)
            return
        host = self._hosts.get(name)
        if host.open_until > self.clock():
            # The host failed again and again: wait for its breaker to let one through.
            self._settle_later(Settled(delivery, "postponed", run_at=host.open_until))
            return
        async with host.slots:
            try:
                result = await self._send(delivery)
            except FetchError as exc:
                host.failed(self.clock())
                self._host_result(name, answered=False)
                self._retry_or_fail(delivery, str(exc), None)
                return
            except Exception as exc:  # a bug must not wedge the row in its lease
                log.exception("delivery %s crashed", delivery.job.id)
                self._retry_or_fail(delivery, f"internal error: {exc}", None)
                return
        if result.status >= 500:
            host.failed(self.clock())
            self._host_result(name, answered=False)
        else:
            host.answered()
            if result.status < 300 or is_final_failure(result.status):
                self._host_result(name, answered=True)  # it took the activity, or never will
        self._settle(delivery, result)

    def _host_result(self, host: str, answered: bool) -> None:
        """Note what an attempt showed of its host; written with the next group of outcomes
        (so before the outcome that goes with it is queued)."""
        self._host_results.append(HostResult(host, answered, self.clock()))

    def _settle(self, delivery: Delivery, result: PostResult) -> None:
        if 200 <= result.status < 300:
            self._settle_later(Settled(delivery, "delivered"))
            # Debug, not info: a large fan-out would log a line per follower.
            log.debug("delivered %s to %s", delivery.activity_type, delivery.inbox_url)
        elif is_final_failure(result.status):
            reason = f"HTTP {result.status}: {result.reason[:200]}"
            self._settle_later(Settled(delivery, "failed", reason))
            log.warning(
                "gave up on %s to %s: %s", delivery.activity_type, delivery.inbox_url, reason
            )
        else:
            reason = f"HTTP {result.status}: {result.reason[:200]}"
            self._retry_or_fail(delivery, reason, result.retry_after)

    def _settle_later(self, outcome: Settled) -> None:
        """Queue an outcome for the next group write (started here if none is running)."""
        self._settled.append(outcome)
        if self._settler is None or self._settler.done():
            self._settler = asyncio.create_task(self._write_settled())

    async def _write_settled(self) -> None:
        while self._settled:
            batch, self._settled = self._settled, []
            host_results, self._host_results = self._host_results, []
            try:
                await self._write_group(batch, host_results)
                delivered = sum(outcome.kind == "delivered" for outcome in batch)
                log.info("recorded %d delivery outcomes, %d delivered", len(batch), delivered)
            except Exception:
                # Their leases run out and they are sent again: repeated, never lost.
                log.exception("could not record %d delivery outcomes", len(batch))
            self._wake.set()  # an inbox's next delivery may have become its head

    async def _write_group(self, batch: list[Settled], host_results: list[HostResult]) -> None:
        # One commit for the group and its hosts; many rows, so on the SQLite writer's
        # thread: the event loop goes on sending meanwhile.
        with self.store.db.on_thread():
            async with self.store.atomic():
                await self.store.settle_jobs([outcome.outcome() for outcome in batch])
                await self.store.outbound_count_outcomes(finished_by_activity(batch))
                await self.availability.record(host_results)

    async def _flush_settled(self) -> None:
        """Return once every outcome so far is written (by the group write or here)."""
        while True:
            if self._settler is not None and not self._settler.done():
                await asyncio.shield(self._settler)
            elif self._settled:
                await self._write_settled()
            else:
                return

    async def _send(self, delivery: Delivery) -> PostResult:
        signer = await self._signer(delivery.activity.signer_id)
        return await self.http.post_activity(
            delivery.inbox_url, delivery.body, signer, self.settings.timeout_seconds
        )

    async def _signer(self, account_id: int) -> Signer:
        """A local account's key, read once per process (keys do not change)."""
        signer = self._signers.get(account_id)
        if signer is None:
            account = await self.store.get_account(account_id)
            user = await self.store.get_local_user(account_id)
            instance = self.instance_signer
            if account is not None and instance and account.public_key_id == instance.key_id:
                self._signers[account_id] = instance
                return instance
            if account is None or user is None:
                raise FetchError(f"signer {account_id} is not a local account")
            signer = self._signers[account_id] = Signer(account.public_key_id, user.private_key_pem)
        return signer

    def _retry_or_fail(self, delivery: Delivery, reason: str, retry_after: float | None) -> None:
        attempts = delivery.job.attempts  # this one included
        if attempts >= self.settings.max_attempts:
            self._settle_later(Settled(delivery, "failed", reason))
            log.warning("gave up on %s to %s after %d attempts: %s", delivery.activity_type,
                        delivery.inbox_url, attempts, reason)  # fmt: skip
            return
        delay = self.backoff_seconds(attempts - 1, retry_after)
        self._settle_later(Settled(delivery, "retry", reason, self.clock() + delay))
        log.info("will retry %s to %s in %.0fs: %s", delivery.activity_type,
                 delivery.inbox_url, delay, reason)  # fmt: skip

    # -- running -------------------------------------------------------------

    async def run_forever(self) -> None:
        """The background worker: keep up to `concurrency` deliveries in flight, claiming
        more as each finishes, so one slow or dead host never holds up the others. When
        stopped, the deliveries in flight are cancelled and given back to the queue."""
        try:
            await self._keep_sending()
        finally:
            await self._give_back()

    async def _give_back(self) -> None:
        self._stopping = True
        stopped = dict(self._sending)
        for task in stopped:
            task.cancel()
        await asyncio.gather(*stopped, return_exceptions=True)
        unsent = [*stopped.values(), *(delivery.job.id for delivery in self._backlog)]
        self._backlog.clear()
        with contextlib.suppress(Exception):
            await self._flush_settled()  # outcomes of what did finish
            await self.store.release_jobs(unsent)

    async def _keep_sending(self) -> None:
        while True:
            timeout = self.settings.poll_seconds
            # Cleared before looking, not after: an outcome written while we look (the
            # next delivery of its inbox may be due) must wake the wait below.
            self._wake.clear()
            try:
                all_due_claimed = await self._refill()
                self._start_backlog()
                if self._free_slots() > 0:
                    if not all_due_claimed:
                        continue  # more may be due at once
                    next_due = await self.next_due()
                    if next_due is not None:
                        timeout = min(timeout, max(0.0, next_due - self.clock()))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("delivery worker error")
            await wait_at_most(timeout, self._wake.wait())

    def _free_slots(self) -> int:
        return self.settings.concurrency - len(self._sending)

    async def _refill(self) -> bool:
        """Lease more when the backlog runs short; True when every due delivery was
        leased (the queue had fewer than asked), False when more may be waiting."""
        concurrency = self.settings.concurrency
        if len(self._backlog) >= concurrency:
            return False
        want = concurrency * CLAIM_AHEAD - len(self._sending) - len(self._backlog)
        claimed = await self._claim(want)
        self._backlog.extend(claimed)
        return len(claimed) < want

    def _start_backlog(self) -> None:
        while self._backlog and self._free_slots() > 0 and not self._stopping:
            self._start(self._backlog.popleft())

    def _start(self, delivery: Delivery) -> None:
        task = asyncio.create_task(self._attempt(delivery))
        self._sending[task] = delivery.job.id

        def done(_: asyncio.Task[None]) -> None:
            self._sending.pop(task, None)
            # The slot goes to the next leased delivery at once, not after the worker's
            # loop comes round (it may be waiting for a claim).
            self._start_backlog()
            self._wake.set()

        task.add_done_callback(done)

    async def drain(self) -> None:
        """Send until nothing is due now, in flight or unwritten (tests and the demo)."""
        while True:
            if self._backlog:
                self._start_backlog()
            if self._sending:
                await asyncio.wait(list(self._sending))
                continue
            await self._flush_settled()
            if await self.run_due():
                continue
            next_due = await self.next_due()
            due_now = next_due is not None and next_due <= self.clock()
            # Checked after the awaits: the worker loop may have claimed meanwhile.
            if not (due_now or self._in_flight or self._backlog or self._sending):
                return
            await asyncio.sleep(0.01)
