"""Notifications: who gets told that someone followed, mentioned, boosted or liked."""

from __future__ import annotations

from collections.abc import Iterable

from fedchirp.services.context import Context
from fedchirp.store.models import Account, Notification, Page, Status

KINDS = ("mention", "status", "reblog", "follow", "follow_request", "favourite", "update")


async def notify(
    ctx: Context,
    recipients: Iterable[Account],
    kind: str,
    actor: Account,
    status: Status | None = None,
) -> None:
    """Tell each local recipient (never the actor themselves) that actor did kind."""
    assert kind in KINDS
    for recipient in recipients:
        if recipient.is_local and recipient.id != actor.id:
            await ctx.store.insert_notification(
                recipient.id, kind, actor.id, status.id if status else None
            )


async def list_notifications(ctx: Context, account: Account, page: Page) -> list[Notification]:
    return await ctx.store.notifications(account.id, page)
