"""Abuse limits: how many sign-ins, sign-ups, posts, uploads and inbox activities are
allowed, counted with the `limits` library (fixed windows) and refused with RateLimited
(the web layer answers 429 with Retry-After).

Sign-ins (`login`) are counted so that guessing is slow and yet cannot lock the real
user out. The address's limit comes first: every attempt is counted against it before
the password is looked at, so from one address the 26th guess of 1,000 is refused
without a password check. Only attempts that pass it are counted against the account,
and only the failed ones: a success takes back what it had counted (against the address
too, so people behind one NAT do not use up each other's tries). Counting before the
check, not after a failure, means a burst of parallel guesses cannot all slip past a
limit while their checks run. The account's limit stops guessing spread over many
addresses; one address alone never reaches it (see config_limits.py).

Addresses are counted by IPv6 /64 (one customer's usual allocation), else by address.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import limits
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter

from fedchirp.config_limits import LimitsConfig

T = TypeVar("T")

LOGIN_PER_ADDRESS = "login_per_address"
LOGIN_PER_ACCOUNT = "login_per_account"
SIGN_UP_PER_ADDRESS = "sign_up_per_address"
STATUSES_PER_ACCOUNT = "statuses_per_account"
MEDIA_PER_ACCOUNT = "media_per_account"
INBOX_PER_SERVER = "inbox_per_server"

# What a refusal says was too much, by rule.
_TOO_MANY = {
    LOGIN_PER_ADDRESS: "Too many failed sign-ins from your address",
    LOGIN_PER_ACCOUNT: "Too many failed sign-ins to this account",
    SIGN_UP_PER_ADDRESS: "Too many sign-ups from your address",
    STATUSES_PER_ACCOUNT: "Too many posts",
    MEDIA_PER_ACCOUNT: "Too many uploads",
    INBOX_PER_SERVER: "Too many activities from this server",
}


class RateLimited(Exception):
    """Refused: the rule's limit (of `limit` in a window) is used up for now; retry_after
    says for how long."""

    def __init__(self, rule: str, retry_after: int, limit: int) -> None:
        self.rule = rule
        self.retry_after = retry_after
        self.limit = limit
        self.reason = f"{_TOO_MANY[rule]}; try again in {_duration(retry_after)}"
        super().__init__(self.reason)


@dataclass(frozen=True)
class _Rule:
    name: str
    items: tuple[limits.RateLimitItem, ...]
    limiter: FixedWindowRateLimiter


class RateLimits:
    """The instance's limits, counted in `shared` (every process's storage) except the
    inbox's, counted in `local` (this process's memory) unless config.inbox_shared."""

    def __init__(self, config: LimitsConfig, shared: Storage, local: Storage) -> None:
        self.inbox = InboxLimit(self)
        on_shared, on_local = FixedWindowRateLimiter(shared), FixedWindowRateLimiter(local)
        self.rules = {
            name: _Rule(
                name,
                tuple(limits.parse_many(getattr(config, name))),
                on_local if name == INBOX_PER_SERVER and not config.inbox_shared else on_shared,
            )
            for name in _TOO_MANY
        }

    async def hit(self, rule: str, key: str) -> None:
        """Count one against key under rule; RateLimited if that is past its limit."""
        found = self.rules[rule]
        refused = [item for item in found.items if not await found.limiter.hit(item, rule, key)]
        if refused:
            raise await _refusal(found, refused, key)

    async def check(self, rule: str, key: str) -> None:
        """RateLimited if key's limit under rule is used up; counts nothing."""
        found = self.rules[rule]
        refused = [item for item in found.items if not await found.limiter.test(item, rule, key)]
        if refused:
            raise await _refusal(found, refused, key)

    async def take_back(self, rule: str, key: str) -> None:
        """Undo one hit of key under rule (in the windows still running)."""
        found = self.rules[rule]
        storage = found.limiter.storage
        for item in found.items:
            await storage.decr(item.key_for(rule, key), 1)  # type: ignore[attr-defined]

    async def login(
        self, address: str, username: str | None, attempt: Callable[[], Awaitable[T | None]]
    ) -> T | None:
        """Run a sign-in attempt (None or an exception: it failed) within the limits of
        the address and, if a username is given, of that account (see the docstring)."""
        by_address = address_key(address)
        await self.hit(LOGIN_PER_ADDRESS, by_address)
        by_account = username_key(username) if username is not None else None
        if by_account is not None:
            await self.hit(LOGIN_PER_ACCOUNT, by_account)
        succeeded = False
        try:
            result = await attempt()
            succeeded = result is not None
            return result
        finally:
            if succeeded:
                await self.take_back(LOGIN_PER_ADDRESS, by_address)
                if by_account is not None:
                    await self.take_back(LOGIN_PER_ACCOUNT, by_account)


class InboxLimit:
    """The inbox's limit per remote server (the federation/inbox.py SenderLimit): looked
    at before the signature is verified, counted only once it verified, so requests
    forging another server's keyId cannot use up that server's allowance."""

    def __init__(self, limits_: RateLimits) -> None:
        self.limits = limits_

    async def check(self, host: str) -> None:
        await self.limits.check(INBOX_PER_SERVER, host)

    async def count(self, host: str) -> None:
        await self.limits.hit(INBOX_PER_SERVER, host)


def open_rate_limits(config: LimitsConfig, database: Storage | None) -> RateLimits:
    """The limits over the database storage if given, else all in this process's memory."""
    local = MemoryStorage()
    return RateLimits(config, database or local, local)


def uses_database(config: LimitsConfig, dialect: str) -> bool:
    """Storage "auto" counts in the database on PostgreSQL only: a SQLite instance runs in
    one process, and its single writer would otherwise take a write for every request."""
    return config.storage == "database" or (config.storage == "auto" and dialect != "sqlite")


def address_key(address: str) -> str:
    """The key an address counts under: an IPv6 address by its /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(getattr(ip, "ipv4_mapped", None) or ip)


def username_key(username: str) -> str:
    return username.strip().removeprefix("@").lower()


async def _refusal(rule: _Rule, refused: list[limits.RateLimitItem], key: str) -> RateLimited:
    """The refusal naming the refused limit whose window ends last."""
    now = time.time()
    ends = [
        ((await rule.limiter.get_window_stats(item, rule.name, key)).reset_time, item.amount)
        for item in refused
    ]
    reset, amount = max(ends)
    return RateLimited(rule.name, max(1, math.ceil(reset - now)), amount)


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} seconds"
    if seconds < 7200:
        return f"{math.ceil(seconds / 60)} minutes"
    return f"{math.ceil(seconds / 3600)} hours"
