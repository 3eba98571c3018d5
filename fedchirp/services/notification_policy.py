"""The notification policy: what happens to a notification before it is stored.

As Mastodon 4.3's NotifyService: each condition the sender meets (not followed by the
recipient, not following the recipient for 3 days, an account under 30 days old, a
private mention out of the blue, limited by a moderator) names the recipient's choice
for it; any `drop` and the notification is not stored, else any `filter` and it waits
in a notification request, else it is accepted. A sender whose request the recipient
accepted, a local admin's mention, and poll endings are never filtered.

Limited (silenced) senders differ in one point: store/moderation.py already hides
their notifications from non-followers while they stay limited (unlimiting brings them
back), so `filter` leaves that rule to do the holding back; `accept` lifts it, and
`drop` stores nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from fedchirp.clock import parse_iso, utcnow
from fedchirp.services.context import Context
from fedchirp.services.errors import Invalid
from fedchirp.store.models import Account, Page, Status
from fedchirp.store.notification_policy import (
    POLICY_FIELDS,
    NotificationPolicy,
    NotificationRequest,
    SenderStanding,
)

CHOICES = ("accept", "filter", "drop")
FILTERABLE = ("mention", "reblog", "follow", "follow_request", "favourite")
NEW_ACCOUNT = timedelta(days=30)
NEW_FOLLOWER = timedelta(days=3)
MEANINGFUL_COUNT = 100  # Mastodon's summary counts stop here


async def verdicts(
    ctx: Context, recipients: Sequence[Account], kind: str, sender: Account, status: Status | None
) -> dict[int, str]:
    """accept, filter or drop, for each recipient's id."""
    accept_all = {r.id: "accept" for r in recipients}
    if kind not in FILTERABLE or not recipients:
        return accept_all
    policies = await ctx.store.notification_policies_of(r.id for r in recipients)
    private = kind == "mention" and status is not None and status.visibility == "direct"
    if not private and all(_only_defaults(p) for p in policies.values()):
        return accept_all  # the defaults hold back private mentions only: one read, not four
    standings = await ctx.store.notification_policy_standings(sender.id, policies)
    staff = False
    if kind == "mention" and sender.is_local:
        user = await ctx.store.get_local_user(sender.id)
        staff = user is not None and user.is_admin
    return {
        r.id: "accept" if staff else _verdict(standings[r.id], r, kind, sender, status)
        for r in recipients
    }


def _only_defaults(policy: NotificationPolicy) -> bool:
    default = NotificationPolicy(policy.account_id)
    return all(getattr(policy, name) == getattr(default, name) for name in POLICY_FIELDS)


def _verdict(
    standing: SenderStanding, recipient: Account, kind: str, sender: Account, status: Status | None
) -> str:
    if standing.permitted:
        return "accept"
    policy, now = standing.policy, utcnow()
    not_following = not standing.following
    since = parse_iso(standing.followed_since)
    created = parse_iso(sender.created_at)
    choices = []
    if not_following:
        choices.append(policy.for_not_following)
    if since is None or since > now - NEW_FOLLOWER:
        choices.append(policy.for_not_followers)
    if created is not None and created > now - NEW_ACCOUNT:
        choices.append(policy.for_new_accounts)
    if (
        kind == "mention"
        and status is not None
        and status.visibility == "direct"
        and not_following
        and status.in_reply_to_account_id != recipient.id  # not an answer to them
    ):
        choices.append(policy.for_private_mentions)
    if sender.silenced_at and not_following and policy.for_limited_accounts == "drop":
        choices.append("drop")
    if "drop" in choices:
        return "drop"
    return "filter" if "filter" in choices else "accept"


async def policy(ctx: Context, account: Account) -> NotificationPolicy:
    return await ctx.store.notification_policy_of(account.id)


async def update_policy(
    ctx: Context, account: Account, changes: dict[str, str]
) -> NotificationPolicy:
    """Change some for_* settings; Invalid names the first that is not a choice."""
    for name, value in changes.items():
        if name not in POLICY_FIELDS or value not in CHOICES:
            raise Invalid(f"{name} must be one of {', '.join(CHOICES)}")
    return await ctx.store.notification_policy_save(account.id, changes)


async def summary(ctx: Context, account: Account) -> tuple[int, int]:
    """(pending requests, notifications in them), each counted up to 100 requests."""
    found = await ctx.store.notification_requests_page(account.id, Page(limit=MEANINGFUL_COUNT))
    return len(found), sum(r.notifications_count for r in found)


async def requests(ctx: Context, account: Account, page: Page) -> list[NotificationRequest]:
    return await ctx.store.notification_requests_page(account.id, page)


async def request(ctx: Context, account: Account, request_id: int) -> NotificationRequest | None:
    found = await ctx.store.notification_requests_page(account.id, Page(limit=1), request_id)
    return found[0] if found else None


async def settle(ctx: Context, account: Account, request_ids: Sequence[int], accept: bool) -> None:
    """Accept or dismiss requests of the account (ids of others' are ignored)."""
    await ctx.store.notification_requests_settle(account.id, request_ids, accept)
