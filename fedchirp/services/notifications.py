"""Notifications: who gets told that someone followed, mentioned, boosted or liked."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from fedchirp.services import push_delivery, streaming
from fedchirp.services.context import Context
from fedchirp.store.models import Account, Notification, Page, Status

KINDS = ("mention", "reblog", "follow", "follow_request", "favourite", "poll")


async def notify(
    ctx: Context,
    recipients: Iterable[Account],
    kind: str,
    actor: Account,
    status: Status | None = None,
) -> None:
    """Tell each local recipient (never the actor themselves) that actor did kind;
    nobody is told across a block or of an account on a domain they block."""
    assert kind in KINDS
    status_id = status.id if status else None
    told = [r for r in recipients if r.is_local and r.id != actor.id]
    if not told:
        return
    kept_apart = await ctx.store.readers_kept_from(actor.id, (r.id for r in told))
    notified = [r for r in told if r.id not in kept_apart]
    await ctx.store.insert_notifications([(r.id, kind, actor.id, status_id) for r in notified])
    for recipient in notified:
        await streaming.announce(ctx, "notification", recipient.id)
    await push_delivery.queue_pushes(ctx, notified, kind, actor, status_id)


async def list_notifications(
    ctx: Context,
    account: Account,
    page: Page,
    types: Sequence[str] = (),
    exclude_types: Sequence[str] = (),
) -> list[Notification]:
    """Newest first; types keeps only those kinds, exclude_types drops them."""
    return await ctx.store.notifications(account.id, page, types, exclude_types)
