"""Instance-wide domain blocks: an admin's decision about a whole remote server.

- suspend: nothing from the server is taken (its inbox POSTs get 202 and are dropped,
  federation/inbox.py), fetched (federation/resolver.py) or sent to it (its queued
  deliveries are failed now, new ones never queued: federation/delivery.py); its
  accounts are stamped suspended, which hides their posts from every read at once
  (timelines, threads, notifications, search), and the follows between our users and
  its accounts are severed.
- silence: its accounts are stamped silenced: their posts leave the public and tag
  timelines, and reach only the people who follow them.
- noop: only the flags below.
- reject_media: its attachments and avatars are not kept (those kept so far are
  forgotten: they were links, never copies). reject_reports: its Flags
  are ignored (reports_rejected).

These run with a store alone (the CLI) or inside a request (then the process's cache
is refreshed once the change commits); other processes see a change within
federation/domain_blocks.REFRESH_SECONDS.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from fedchirp.clock import now_iso
from fedchirp.federation.delivery import DOMAIN_SUSPENDED
from fedchirp.services.context import Context
from fedchirp.services.errors import Invalid, NotFound
from fedchirp.store import Store
from fedchirp.store.domain_blocks import DomainBlock

SEVERITIES = ("noop", "silence", "suspend")
# What stamps a severity leaves on the domain's accounts (noop: none).
STAMPS = {"suspend": "suspended_at", "silence": "silenced_at"}
MAX_COMMENT = 1000
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@dataclass(frozen=True)
class BlockRequest:
    """What an admin asks for (from the API, the CLI, the page or a CSV row)."""

    domain: str
    severity: str = "silence"
    reject_media: bool = False
    reject_reports: bool = False
    private_comment: str = ""
    public_comment: str = ""
    obfuscate: bool = False


def normalise_domain(text: str) -> str:
    """A host name (maybe with :port) in lowercase; Invalid for anything else."""
    domain = text.strip().lower().rstrip(".")
    if domain.startswith("*."):
        domain = domain[2:]  # blocklists write *.example.com: the same as example.com
    if "://" in domain or "/" in domain:
        raise Invalid(f"{text!r} is not a domain (give the host only, without http:// or a path)")
    name, _, port = domain.partition(":")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise Invalid(f"{text!r} has a bad port")
    try:
        name = name.encode("idna").decode("ascii") if not name.isascii() else name
    except UnicodeError:
        raise Invalid(f"{text!r} is not a domain") from None
    labels = name.split(".")
    if not name or len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise Invalid(f"{text!r} is not a domain")
    return f"{name}:{port}" if port else name


def checked(request: BlockRequest) -> BlockRequest:
    """The request with its domain normalised; Invalid for a bad severity or comment."""
    if request.severity not in SEVERITIES:
        raise Invalid(f"severity must be one of {', '.join(SEVERITIES)}, not {request.severity!r}")
    for name in ("private_comment", "public_comment"):
        if len(getattr(request, name)) > MAX_COMMENT:
            raise Invalid(f"{name} is longer than {MAX_COMMENT} characters")
    return replace(request, domain=normalise_domain(request.domain))


async def list_blocks(store: Store) -> list[DomainBlock]:
    return await store.domain_blocks()


async def get_block(store: Store, block_id: int) -> DomainBlock:
    found = await store.get_domain_block(block_id)
    if found is None:
        raise NotFound("Record not found")
    return found


async def block(
    store: Store, request: BlockRequest, on_change: Callable[[], None] | None = None
) -> DomainBlock:
    """Add a block, or change the one the domain has; its effects happen in the same
    unit of work."""
    request = checked(request)
    async with store.atomic():
        existing = await store.get_domain_block_by_domain(request.domain)
        result = await _apply(store, existing, request)
        _notify(store, on_change)
    return result


async def block_many(
    store: Store, requests: list[BlockRequest], on_change: Callable[[], None] | None = None
) -> list[DomainBlock]:
    """Several blocks (an imported blocklist) in one unit of work: all or none."""
    requests = [checked(request) for request in requests]
    async with store.atomic():
        saved = [
            await _apply(store, await store.get_domain_block_by_domain(r.domain), r)
            for r in requests
        ]
        _notify(store, on_change)
    return saved


async def update(
    store: Store,
    block_id: int,
    changes: dict[str, object],
    on_change: Callable[[], None] | None = None,
) -> DomainBlock:
    """Change some fields of a block (the domain stays)."""
    async with store.atomic():
        existing = await get_block(store, block_id)
        fields = {name: getattr(existing, name) for name in BlockRequest.__dataclass_fields__}
        request = checked(BlockRequest(**(fields | changes)))  # type: ignore[arg-type]
        result = await _apply(store, existing, replace(request, domain=existing.domain))
        _notify(store, on_change)
    return result


async def unblock(
    store: Store, block_id: int, on_change: Callable[[], None] | None = None
) -> DomainBlock:
    """Lift a block: the accounts it stamped are unstamped (severed follows stay gone)."""
    async with store.atomic():
        existing = await get_block(store, block_id)
        column = STAMPS.get(existing.severity)
        if column:
            await store.unstamp_domain_accounts(existing.domain, column, existing.created_at)
        await store.delete_domain_block(block_id)
        _notify(store, on_change)
    return existing


async def unblock_domain(
    store: Store, domain: str, on_change: Callable[[], None] | None = None
) -> DomainBlock:
    found = await store.get_domain_block_by_domain(normalise_domain(domain))
    if found is None:
        raise NotFound(f"{domain} is not blocked")
    return await unblock(store, found.id, on_change)


async def _apply(store: Store, existing: DomainBlock | None, request: BlockRequest) -> DomainBlock:
    values = {
        "severity": request.severity,
        "reject_media": int(request.reject_media),
        "reject_reports": int(request.reject_reports),
        "private_comment": request.private_comment,
        "public_comment": request.public_comment,
        "obfuscate": int(request.obfuscate),
    }
    if existing is None:
        saved = await store.insert_domain_block(
            {"domain": request.domain, "created_at": now_iso(), **values}
        )
    else:
        saved = await store.update_domain_block(existing.id, values)
        old = STAMPS.get(existing.severity)
        if old and existing.severity != saved.severity:
            await store.unstamp_domain_accounts(saved.domain, old, saved.created_at)
    column = STAMPS.get(saved.severity)
    if column:
        await store.stamp_domain_accounts(saved.domain, column, saved.created_at)
    if saved.reject_media:
        await store.clear_domain_media(saved.domain)
    if saved.severity == "suspend":
        await _cut_off(store, saved.domain)
    return saved


async def _cut_off(store: Store, domain: str) -> None:
    """Sever the follows with the domain, and fail what waits to be sent there."""
    for follow_id in await store.follows_with_domain(domain):
        await store.delete_follow(follow_id)
    await store.drop_deliveries_to(domain, DOMAIN_SUSPENDED, now_iso())


def _notify(store: Store, on_change: Callable[[], None] | None) -> None:
    if on_change is not None:
        store.db.on_commit(on_change)


# -- what other parts ask ----------------------------------------------------------


async def reports_rejected(ctx: Context, domain: str) -> bool:
    """Flags from this domain are ignored (reject_reports, or the domain is suspended)."""
    return await ctx.domain_blocks.rejects_reports(domain)


async def is_suspended(ctx: Context, domain: str) -> bool:
    return await ctx.domain_blocks.suspended(domain)
