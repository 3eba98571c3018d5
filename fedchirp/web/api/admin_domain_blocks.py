"""Mastodon's admin API for domain blocks (/api/v1/admin/domain_blocks, admins only) and
the public list of them (/api/v1/instance/domain_blocks)."""

from __future__ import annotations

import hashlib
from typing import Any

from aiohttp import web

from fedchirp.clock import parse_iso, to_iso
from fedchirp.services import domain_blocks
from fedchirp.services.domain_blocks import BlockRequest
from fedchirp.store.domain_blocks import DomainBlock
from fedchirp.web.api.auth import require_admin
from fedchirp.web.api.params import flag, page_from, paged_response, path_id, read_params, text
from fedchirp.web.errors import ApiError
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()

_FLAGS = ("reject_media", "reject_reports", "obfuscate")
_TEXTS = ("severity", "private_comment", "public_comment")


def entity(block: DomainBlock) -> dict[str, Any]:
    """Mastodon's Admin::DomainBlock."""
    created = parse_iso(block.created_at)
    return {
        "id": str(block.id),
        "domain": block.domain,
        "digest": digest(block.domain),
        "created_at": to_iso(created) if created else block.created_at,
        "severity": block.severity,
        "reject_media": block.reject_media,
        "reject_reports": block.reject_reports,
        "private_comment": block.private_comment or None,
        "public_comment": block.public_comment or None,
        "obfuscate": block.obfuscate,
    }


def digest(domain: str) -> str:
    return hashlib.sha256(domain.encode()).hexdigest()


def public_domain(block: DomainBlock) -> str:
    """The domain as the public sees it: obfuscated ones keep their first and last
    quarter and their dots, the rest is starred (Mastodon's DomainBlock#public_domain)."""
    domain = block.domain
    if not block.obfuscate:
        return domain
    keep = len(domain) // 4
    return "".join(
        ch if i <= keep or i >= len(domain) - keep or ch == "." else "*"
        for i, ch in enumerate(domain)
    )


def _changes(params: dict[str, Any]) -> dict[str, Any]:
    """The fields present in the request (so an update changes only those)."""
    changes: dict[str, Any] = {}
    for name in _FLAGS:
        if params.get(name) is not None:
            changes[name] = flag(params, name)
    for name in _TEXTS:
        if params.get(name) is not None:
            changes[name] = text(params, name)
    return changes


def _on_change(request: web.Request) -> Any:
    return ctx_of(request).domain_blocks.invalidate


@routes.get("/api/v1/admin/domain_blocks")
@routes.get("/api/v1/admin/domain_blocks/")
async def index(request: web.Request) -> web.Response:
    await require_admin(request, "admin:read:domain_blocks")
    page = page_from(request, default_limit=100, max_limit=200)
    blocks = await domain_blocks.list_blocks(ctx_of(request).store)
    chosen = [
        b
        for b in sorted(blocks, key=lambda b: b.id, reverse=page.min_id is None)
        if (page.max_id is None or b.id < page.max_id)
        and (page.since_id is None or b.id > page.since_id)
        and (page.min_id is None or b.id > page.min_id)
    ][: page.limit]
    chosen.sort(key=lambda b: b.id, reverse=True)
    return paged_response(request, [entity(b) for b in chosen], [b.id for b in chosen], page)


@routes.post("/api/v1/admin/domain_blocks")
@routes.post("/api/v1/admin/domain_blocks/")
async def create(request: web.Request) -> web.Response:
    await require_admin(request, "admin:write:domain_blocks")
    params = await read_params(request)
    domain = text(params, "domain").strip()
    if not domain:
        raise ApiError(422, "Validation failed: Domain can't be blank")
    store = ctx_of(request).store
    if await store.get_domain_block_by_domain(domain_blocks.normalise_domain(domain)):
        # Mastodon answers 422 for a domain already blocked; PUT changes a block.
        raise ApiError(422, f"{domain} is already blocked; update that block instead")
    fields = {"severity": "silence"} | _changes(params)
    block = await domain_blocks.block(
        store, BlockRequest(domain=domain, **fields), _on_change(request)
    )
    return web.json_response(entity(block))


@routes.get("/api/v1/admin/domain_blocks/{id}")
async def show(request: web.Request) -> web.Response:
    await require_admin(request, "admin:read:domain_blocks")
    block = await domain_blocks.get_block(ctx_of(request).store, path_id(request))
    return web.json_response(entity(block))


@routes.put("/api/v1/admin/domain_blocks/{id}")
async def change(request: web.Request) -> web.Response:
    await require_admin(request, "admin:write:domain_blocks")
    changes = _changes(await read_params(request))
    block = await domain_blocks.update(
        ctx_of(request).store, path_id(request), changes, _on_change(request)
    )
    return web.json_response(entity(block))


@routes.delete("/api/v1/admin/domain_blocks/{id}")
async def remove(request: web.Request) -> web.Response:
    await require_admin(request, "admin:write:domain_blocks")
    await domain_blocks.unblock(ctx_of(request).store, path_id(request), _on_change(request))
    return web.json_response({})


@routes.get("/api/v1/instance/domain_blocks")
async def public_list(request: web.Request) -> web.Response:
    """The blocks anyone may see, with their public comments (Mastodon shows this list
    to everyone by default)."""
    blocks = await domain_blocks.list_blocks(ctx_of(request).store)
    return web.json_response(
        [
            {
                "domain": public_domain(b),
                "digest": digest(b.domain),
                "severity": b.severity,
                "comment": b.public_comment or None,
            }
            for b in blocks
        ]
    )
