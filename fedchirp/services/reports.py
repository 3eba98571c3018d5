"""Reports: a user tells the admins about an account (and some of its posts); a report
of a remote account may be forwarded to its server as a Flag; a Flag from another
server lands in our admins' queue; admins assign, resolve and reopen them.

A forwarded Flag is sent by the instance actor, as Mastodon sends it, so the other
server learns what was reported but not who reported it.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Sequence
from typing import Any

from fedchirp import html
from fedchirp.clock import now_iso
from fedchirp.federation import documents
from fedchirp.federation.vocab import Activity, ids_of
from fedchirp.services import audience, domain_blocks
from fedchirp.services.accounts import instance_signer
from fedchirp.services.context import Context
from fedchirp.services.errors import Invalid, NotFound
from fedchirp.store import Store
from fedchirp.store.models import Account, Page, Report, Status

log = logging.getLogger(__name__)

CATEGORIES = ("spam", "legal", "violation", "other")
MAX_COMMENT = 1000  # characters, as Mastodon allows
MAX_STATUSES = 100


async def file_report(
    ctx: Context,
    reporter: Account,
    target: Account,
    status_ids: Sequence[int] = (),
    comment: str = "",
    forward: bool = False,
    category: str | None = None,
    rule_ids: Sequence[int] = (),
) -> Report:
    """A local user's report; forwarded as a Flag when asked and the target is remote."""
    if target.id == reporter.id:
        raise Invalid("you cannot report yourself")
    if len(comment) > MAX_COMMENT:
        raise Invalid(f"comment is longer than {MAX_COMMENT} characters")
    category = category or ("violation" if rule_ids else "other")
    if category not in CATEGORIES:
        raise Invalid(f"category must be one of {', '.join(CATEGORIES)}")
    statuses = await _reported_statuses(ctx, reporter, target, status_ids)
    rules = sorted(set(rule_ids))
    if len(await ctx.store.existing_rule_ids(rules)) != len(rules):
        raise Invalid("rule_ids name a rule this server does not have")
    forwarded = forward and not target.is_local
    values = {
        "account_id": reporter.id,
        "target_account_id": target.id,
        "status_ids": json.dumps([s.id for s in statuses]),
        "rule_ids": json.dumps(rules),
        "comment": comment,
        "category": category,
        "forwarded": int(forwarded),
        "uri": f"{ctx.urls.base}/reports/{secrets.token_hex(16)}",
    }
    async with ctx.store.atomic():
        report = await ctx.store.insert_report(values)
        if forwarded:
            await _forward(ctx, report, target, statuses)
    return report


async def _reported_statuses(
    ctx: Context, reporter: Account, target: Account, status_ids: Sequence[int]
) -> list[Status]:
    """The target's posts named, each one the reporter may see; Invalid otherwise."""
    if len(status_ids) > MAX_STATUSES:
        raise Invalid(f"a report names at most {MAX_STATUSES} posts")
    found = await ctx.store.get_statuses(status_ids)
    visible = await audience.visible_only(ctx, reporter, list(found.values()))
    if len(visible) != len(set(status_ids)) or any(s.account_id != target.id for s in visible):
        raise Invalid("status_ids must name posts of the reported account")
    return sorted(visible, key=lambda s: s.id)


async def _forward(ctx: Context, report: Report, target: Account, statuses: list[Status]) -> None:
    sender = await instance_account(ctx)
    assert report.uri is not None
    flag = documents.flag_activity(
        report.uri, sender.uri, target.uri, [s.uri for s in statuses], report.comment
    )
    await ctx.delivery.enqueue(flag, sender, [target.delivery_inbox])


async def instance_account(ctx: Context) -> Account:
    """The instance actor as an account row, so the delivery queue can send in its name
    (it signs with the instance key: federation/delivery.py)."""
    found = await ctx.store.get_account_by_uri(ctx.urls.instance_actor)
    if found is not None:
        return found
    _, public_pem = await instance_signer(ctx.store, ctx.urls)
    urls = ctx.urls
    return await ctx.store.upsert_remote_account(
        {
            "username": ctx.config.server.domain,
            "domain": "",
            "actor_type": "Application",
            "uri": urls.instance_actor,
            "url": f"{urls.base}/about",
            "inbox_url": urls.shared_inbox,
            "shared_inbox_url": urls.shared_inbox,
            "outbox_url": f"{urls.instance_actor}/outbox",
            "public_key_id": urls.instance_key_id,
            "public_key_pem": public_pem,
            "created_at": now_iso(),
        }
    )


# -- a Flag from another server -----------------------------------------------------


async def on_flag(ctx: Context, activity: Activity, actor: Account, _: Any) -> str:
    """Another server forwards a report: one in our queue, by the sending actor, about
    the first local account the Flag names, with the posts of it that it names."""
    if await ctx.store.get_report_by_uri(activity.id) is not None:
        return "report already received"
    if await domain_blocks.reports_rejected(ctx, actor.domain):
        return f"reports from {actor.domain} are rejected, ignored"
    named = [uri for uri in ids_of(activity.raw.get("object")) if ctx.urls.is_local(uri)]
    target, statuses = await _flagged(ctx, named[: MAX_STATUSES + 1])
    if target is None:
        return "Flag names no local account, ignored"
    content = activity.raw.get("content")
    comment = html.to_text(content)[:MAX_COMMENT] if isinstance(content, str) else ""
    await ctx.store.insert_report(
        {
            "account_id": actor.id,
            "target_account_id": target.id,
            "status_ids": json.dumps([s.id for s in statuses if s.account_id == target.id]),
            "comment": comment,
            "category": "other",
            "uri": activity.id,
        }
    )
    return f"report about {target.username} queued"


async def _flagged(ctx: Context, uris: Sequence[str]) -> tuple[Account | None, list[Status]]:
    """The first local user among our uris, and the posts among them."""
    target, statuses = None, []
    for uri in uris:
        account = await ctx.store.get_account_by_uri(uri)
        if account is not None:
            if target is None and await ctx.store.get_local_user(account.id) is not None:
                target = account
            continue
        status = await ctx.store.get_status_by_uri(uri)
        if status is not None:
            statuses.append(status)
    return target, statuses


# -- the admins' queue ---------------------------------------------------------------


async def report_by_id(store: Store, report_id: int) -> Report:
    report = await store.get_report(report_id)
    if report is None:
        raise NotFound("report not found")
    return report


async def list_reports(
    store: Store,
    resolved: bool | None,
    page: Page,
    account_id: int | None = None,
    target_account_id: int | None = None,
) -> list[Report]:
    """Newest first: open ones (resolved False), handled ones (True) or both (None)."""
    return await store.list_reports(resolved, page, account_id, target_account_id)


async def assign(store: Store, report: Report, admin: Account | None) -> Report:
    """Assign to admin, or unassign (None)."""
    await store.update_report(report.id, assigned_account_id=admin.id if admin else None)
    return await report_by_id(store, report.id)


async def resolve(store: Store, report: Report, admin: Account | None) -> Report:
    """Mark handled (admin None: from the command line)."""
    if report.action_taken_at is None:
        await store.update_report(
            report.id, action_taken_at=now_iso(), action_taken_by_id=admin.id if admin else None
        )
    return await report_by_id(store, report.id)


async def reopen(store: Store, report: Report) -> Report:
    await store.update_report(report.id, action_taken_at=None, action_taken_by_id=None)
    return await report_by_id(store, report.id)


def status_ids_of(report: Report) -> list[int]:
    return [int(i) for i in json.loads(report.status_ids)]


def rule_ids_of(report: Report) -> list[int]:
    return [int(i) for i in json.loads(report.rule_ids)]
