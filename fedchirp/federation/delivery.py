"""The outbound queue: activities wait in the database until a remote inbox takes them.

A delivery is final when the inbox answers 2xx (delivered) or a 4xx other than
401/408/429, or 501 (failed: retrying would not help). Anything else (5xx, 401, 408,
429, network errors) is retried with capped exponential backoff, never sooner
than a Retry-After asks, until delivery.max_attempts is used up. The queue
lives in the database, so a restart resumes it; a row leased by a worker that
died is picked up again when its lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from fedchirp.config import Config
from fedchirp.federation.http import FetchError, HttpClient, PostResult, Signer
from fedchirp.store import Store
from fedchirp.store.models import Account, Delivery

log = logging.getLogger(__name__)

RETRYABLE_CLIENT_ERRORS = frozenset({401, 408, 429})
MAX_RETRY_AFTER_SECONDS = 86_400.0


def is_final_failure(status: int) -> bool:
    """4xx but 401/408/429 will not get better by retrying; nor will 501 (Mastodon agrees)."""
    return status == 501 or (400 <= status < 500 and status not in RETRYABLE_CLIENT_ERRORS)


class DeliveryQueue:
    def __init__(
        self,
        config: Config,
        store: Store,
        http: HttpClient,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = config.delivery
        self.store = store
        self.http = http
        self.clock = clock
        self._wake = asyncio.Event()
        self._in_flight = 0

    @property
    def busy(self) -> bool:
        """Deliveries are being claimed or sent by this process right now."""
        return self._in_flight > 0

    # -- producing -----------------------------------------------------------

    async def enqueue(
        self,
        activity: dict[str, Any],
        signer: Account,
        inboxes: Iterable[str],
        status_id: int | None = None,
    ) -> int:
        """Queue activity for each inbox (deduplicated); return how many were queued."""
        inboxes = set(inboxes)
        if not inboxes:
            return 0
        body = json.dumps(activity, ensure_ascii=False, separators=(",", ":"))
        queued = await self.store.enqueue_deliveries(
            activity["id"], activity["type"], body, signer.id, inboxes, self.clock(), status_id
        )
        self.store.db.on_commit(self._wake.set)
        return queued

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

    async def run_due(self) -> int:
        """Send every delivery that is due now (one batch); return how many were tried."""
        lease = self.settings.timeout_seconds + 30
        # The claim counts as in flight too: between leasing rows and sending them, a
        # drain must not take the leased rows for an empty queue.
        self._in_flight += 1
        try:
            batch = await self.store.claim_due_deliveries(
                self.clock(), lease, self.settings.concurrency
            )
            await asyncio.gather(*(self._attempt(d) for d in batch))
        finally:
            self._in_flight -= 1
        return len(batch)

    async def _attempt(self, delivery: Delivery) -> None:
        try:
            result = await self._send(delivery)
        except FetchError as exc:
            await self._retry_or_fail(delivery, None, str(exc), None)
            return
        except Exception as exc:  # a bug must not wedge the row in its lease
            log.exception("delivery %s crashed", delivery.id)
            await self._retry_or_fail(delivery, None, f"internal error: {exc}", None)
            return
        if 200 <= result.status < 300:
            await self.store.finish_delivery(delivery.id, "delivered", result.status, None)
            log.info("delivered %s to %s", delivery.activity_type, delivery.inbox_url)
        elif is_final_failure(result.status):
            reason = f"HTTP {result.status}: {result.reason[:200]}"
            await self.store.finish_delivery(delivery.id, "failed", result.status, reason)
            log.warning(
                "gave up on %s to %s: %s", delivery.activity_type, delivery.inbox_url, reason
            )
        else:
            reason = f"HTTP {result.status}: {result.reason[:200]}"
            await self._retry_or_fail(delivery, result.status, reason, result.retry_after)

    async def _send(self, delivery: Delivery) -> PostResult:
        signer = await self._signer(delivery.signer_id)
        return await self.http.post_activity(
            delivery.inbox_url, delivery.body.encode("utf-8"), signer, self.settings.timeout_seconds
        )

    async def _signer(self, account_id: int) -> Signer:
        account = await self.store.get_account(account_id)
        user = await self.store.get_local_user(account_id)
        if account is None or user is None:
            raise FetchError(f"signer {account_id} is not a local account")
        return Signer(account.public_key_id, user.private_key_pem)

    async def _retry_or_fail(
        self, delivery: Delivery, status: int | None, reason: str, retry_after: float | None
    ) -> None:
        if delivery.attempts + 1 >= self.settings.max_attempts:
            await self.store.finish_delivery(delivery.id, "failed", status, reason)
            log.warning(
                "gave up on %s to %s after %d attempts: %s",
                delivery.activity_type,
                delivery.inbox_url,
                delivery.attempts + 1,
                reason,
            )
            return
        delay = self.backoff_seconds(delivery.attempts, retry_after)
        await self.store.retry_delivery(delivery.id, self.clock() + delay, status, reason)
        log.info(
            "will retry %s to %s in %.0fs: %s",
            delivery.activity_type,
            delivery.inbox_url,
            delay,
            reason,
        )

    # -- running -------------------------------------------------------------

    async def run_forever(self) -> None:
        """The background worker: send what is due, then sleep until woken or due."""
        while True:
            try:
                if await self.run_due():
                    continue
                next_due = await self.store.next_delivery_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("delivery worker error")
                next_due = None
            timeout = self.settings.poll_seconds
            if next_due is not None:
                timeout = min(timeout, max(0.0, next_due - self.clock()))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def drain(self) -> None:
        """Send until nothing is due now and nothing is in flight (tests and the demo)."""
        while True:
            sent = await self.run_due()
            if sent:
                continue
            next_due = await self.store.next_delivery_due()
            due_now = next_due is not None and next_due <= self.clock()
            if not due_now and self._in_flight == 0:
                return
            await asyncio.sleep(0.01)
