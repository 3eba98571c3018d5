"""The web side of the abuse limits (services/ratelimits.py): the limits of this web
process, and what handlers call to count against them.

A refusal changes nothing: the limit is looked at before the handler does anything.
The API and the inbox answer JSON {"error": reason} (web/errors.py); pages answer a
readable page (web/pages/refusals.py). Both carry Retry-After, in seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from aiohttp import web

from fedchirp.services import ratelimits
from fedchirp.services.errors import Forbidden
from fedchirp.services.ratelimits import RateLimited, RateLimits
from fedchirp.store.models import Account
from fedchirp.store.ratelimit_storage import DatabaseStorage
from fedchirp.web.addresses import client_address
from fedchirp.web.state import CONFIG, CTX

log = logging.getLogger(__name__)

T = TypeVar("T")

RATE_LIMITS = web.AppKey("rate_limits", RateLimits)
# Rows of ended windows are deleted this often, by every web process: the table holds
# only the keys seen within the longest window, so the DELETE is cheap.
PURGE_SECONDS = 300.0


async def rate_limits_context(app: web.Application) -> AsyncIterator[None]:
    """The limits of this web process (after the Context: they may count in its store),
    and the purge of ended windows when they count in the database."""
    config, store = app[CONFIG].limits, app[CTX].store
    shared = ratelimits.uses_database(config, store.db.dialect)
    database = DatabaseStorage(store) if shared else None
    app[RATE_LIMITS] = ratelimits.open_rate_limits(config, database)
    purge = asyncio.create_task(_purge_forever(database)) if database is not None else None
    try:
        yield
    finally:
        if purge is not None:
            purge.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await purge


async def _purge_forever(storage: DatabaseStorage) -> None:
    while True:
        await asyncio.sleep(PURGE_SECONDS)
        try:
            await storage.purge()
        except Exception:  # a database that is away now may be back next time
            log.warning("could not delete ended rate-limit windows", exc_info=True)


def rate_limits(request: web.Request) -> RateLimits:
    return request.app[RATE_LIMITS]


async def per_account(request: web.Request, rule: str, account: Account) -> None:
    """Count one against account under rule; RateLimited (a 429) past its limit."""
    await rate_limits(request).hit(rule, str(account.id))


async def per_address(request: web.Request, rule: str) -> None:
    """Count one against the client's address under rule; RateLimited past its limit."""
    key = ratelimits.address_key(client_address(request))
    await rate_limits(request).hit(rule, key)


class SignInRefused(Exception):
    """A sign-in form to show again with a message and a status (and maybe headers)."""

    def __init__(self, message: str, status: int, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message, self.status, self.headers = message, status, headers or {}


async def guarded_sign_in(
    request: web.Request, username: str, attempt: Callable[[], Awaitable[T | None]]
) -> T | None:
    """Sign in under the sign-in limits (web form and authorize page alike); a refusal
    (limit reached, or a sign-up awaiting approval) raises SignInRefused."""
    try:
        return await rate_limits(request).login(client_address(request), username, attempt)
    except Forbidden as exc:  # a sign-up waiting for an admin's approval
        raise SignInRefused(str(exc), 403) from None
    except RateLimited as exc:
        raise SignInRefused(exc.reason, 429, refusal_headers(exc)) from None


def refusal_headers(exc: RateLimited) -> dict[str, str]:
    """Retry-After, and the X-RateLimit-* headers Mastodon sends with a 429: apps such
    as Mastodon.py wait until the reset they name."""
    reset = datetime.now(UTC) + timedelta(seconds=exc.retry_after)
    return {
        "Retry-After": str(exc.retry_after),
        "X-RateLimit-Limit": str(exc.limit),
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": reset.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
