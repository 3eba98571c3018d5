"""Notifications: who gets told that someone followed, mentioned, boosted or liked."""

from __future__ import annotations

from collections.abc import Iterable

from fedchirp.services import notification_groups, notification_policy, push_delivery, streaming
from fedchirp.services.context import Context
from fedchirp.store.models import Account, Notification, Page, Status
from fedchirp.store.notifications import NotificationFilter, NotificationRow

KINDS = ("mention", "reblog", "follow", "follow_request", "favourite", "poll")


async def notify(
    ctx: Context,
    recipients: Iterable[Account],
    kind: str,
    actor: Account,
    status: Status | None = None,
) -> None:
    """Tell each local recipient (never the actor themselves) that actor did kind;
    nobody is told across a block or of an account on a domain they block. Each
    recipient's notification policy is applied here: a dropped notification is not
    stored, a filtered one waits in a request, unstreamed and unpushed."""
    assert kind in KINDS
    status_id = status.id if status else None
    told = [r for r in recipients if r.is_local and r.id != actor.id]
    if not told:
        return
    kept_apart = await ctx.store.readers_kept_from(actor.id, (r.id for r in told))
    notified = [r for r in told if r.id not in kept_apart]
    verdicts = await notification_policy.verdicts(ctx, notified, kind, actor, status)
    accepted = [r for r in notified if verdicts[r.id] == "accept"]
    filtered = [r for r in notified if verdicts[r.id] == "filter"]
    rows: list[NotificationRow] = []
    for r in accepted:
        key = await notification_groups.new_key(ctx, r, kind, status_id)
        rows.append((r.id, kind, actor.id, status_id, key, False))
    rows += [(r.id, kind, actor.id, status_id, None, True) for r in filtered]
    async with ctx.store.atomic():
        await ctx.store.insert_notifications(rows)
        await ctx.store.notification_requests_open(actor.id, [r.id for r in filtered])
    for recipient in accepted:
        await streaming.announce(ctx, "notification", recipient.id)
    await push_delivery.queue_pushes(ctx, accepted, kind, actor, status_id)


async def list_notifications(
    ctx: Context, account: Account, page: Page, wanted: NotificationFilter | None = None
) -> list[Notification]:
    """Newest first, narrowed as wanted (types, sender, filtered ones too)."""
    return await ctx.store.notifications(account.id, page, wanted=wanted)
