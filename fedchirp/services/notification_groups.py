"""Grouped notifications (Mastodon 4.3's /api/v2/notifications).

Group keys follow Mastodon's Notification::Groups: favourites of one post, boosts of
one post, and follows get `<type>[-<status id>]-<hour>`, where hour counts hours since
the epoch; a new one joins the recipient's latest group of that kind if that group's
hour is less than 12 hours back, so a group spans at most 12 hours. Other types, and
filtered notifications, have no key: each is its own `ungrouped-<id>` group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fedchirp.clock import utcnow
from fedchirp.services.context import Context
from fedchirp.store.models import Account, Notification, Page
from fedchirp.store.notification_groups import GROUPABLE_TYPES, GroupData, group_key_of
from fedchirp.store.notifications import NotificationFilter

MAX_SPAN_HOURS = 12


async def new_key(ctx: Context, recipient: Account, kind: str, status_id: int | None) -> str | None:
    """The group key a new notification of kind for recipient gets (None: ungrouped)."""
    if kind not in GROUPABLE_TYPES:
        return None
    prefix = kind if kind == "follow" else f"{kind}-{status_id}"
    hour = int(utcnow().timestamp()) // 3600
    recent = [f"{prefix}-{h}" for h in range(hour - MAX_SPAN_HOURS + 1, hour + 1)]
    return await ctx.store.notification_group_key_among(recipient.id, recent) or f"{prefix}-{hour}"


@dataclass(frozen=True)
class Group:
    key: str
    newest: Notification  # the notification the group shows (type, status)
    data: GroupData


async def grouped(
    ctx: Context,
    account: Account,
    page: Page,
    wanted: NotificationFilter,
    grouped_types: Sequence[str] = GROUPABLE_TYPES,
) -> list[Group]:
    """A page of groups, newest first, each counted over the page's id range as
    Mastodon's load_grouped_notifications does (on the last page, the range runs on
    to the end the request left open)."""
    items = await ctx.store.notification_groups_page(account.id, page, wanted, grouped_types)
    if not items:
        return []
    begin: int | None = items[-1].id
    end: int | None = items[0].id
    if len(items) < page.limit:
        if page.min_id is not None:
            end = page.max_id - 1 if page.max_id is not None else None
        else:
            begin = page.since_id + 1 if page.since_id is not None else None
    keys = [group_key_of(item, grouped_types) for item in items]
    data = await ctx.store.notification_groups_data(account.id, keys, begin, end)
    return [
        Group(key, item, data.get(key) or _alone(item))
        for key, item in zip(keys, items, strict=True)
    ]


async def group(ctx: Context, account: Account, key: str) -> Group | None:
    newest = await ctx.store.notification_group_newest(account.id, key)
    if newest is None:
        return None
    data = await ctx.store.notification_groups_data(account.id, [key], None, None)
    return Group(key, newest, data.get(key) or _alone(newest))


def _alone(item: Notification) -> GroupData:
    return GroupData(item.id, 1, [item.from_account_id], item.id, item.created_at)


async def group_senders(ctx: Context, account: Account, key: str, page: Page) -> list[Notification]:
    return await ctx.store.notification_group_members(account.id, key, page)


async def dismiss_group(ctx: Context, account: Account, key: str) -> None:
    await ctx.store.notification_group_dismiss(account.id, key)


async def notification(ctx: Context, account: Account, notification_id: int) -> Notification | None:
    return await ctx.store.notification_of(account.id, notification_id)


async def dismiss(ctx: Context, account: Account, notification_id: int) -> bool:
    """Delete one of the account's notifications; False if it has none with that id."""
    return await ctx.store.notification_dismiss(account.id, notification_id)


async def clear(ctx: Context, account: Account) -> None:
    await ctx.store.notifications_clear(account.id)


async def unread_count(
    ctx: Context,
    account: Account,
    limit: int,
    wanted: NotificationFilter,
    grouped_types: Sequence[str] | None,
) -> int:
    """How many notifications (groups, if grouped_types is given) came after the
    notifications marker, counted up to limit."""
    markers = await ctx.store.get_markers(account.id, ["notifications"])
    marked = markers[0].last_read_id if markers else ""
    last_read = int(marked) if marked.isdigit() else None
    page = Page(min_id=last_read, limit=limit)
    if grouped_types is None:
        return len(await ctx.store.notifications(account.id, page, wanted=wanted))
    return len(await ctx.store.notification_groups_page(account.id, page, wanted, grouped_types))
