"""Admin moderation of accounts: suspended and silenced (limited) accounts, as SQL
conditions every read path uses, and the admin's account list.

The one rule of what moderation hides (the visibility rule in store/visibility.py
adds it, the public timelines and notifications too):
- a suspended account's posts, and boosts of them, are shown to nobody;
- a silenced account's posts are shown only to the account itself and to its
  accepted followers, and never in the public timelines;
- notifications from a suspended account are shown to nobody, those from a
  silenced one only to its followers (and to those whose notification policy
  accepts limited accounts).
Suspending changes nothing else in the data, so unsuspending brings it all back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, not_, or_, select, update
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import BindParameter

from fedchirp.clock import now_iso
from fedchirp.store.accounts import _sign_out_everywhere as sign_out_everywhere
from fedchirp.store.db import Queries
from fedchirp.store.models import Account, LocalUser, Page
from fedchirp.store.query import newest_first, paged, record
from fedchirp.store.schema import (
    accounts,
    follows,
    local_users,
    notification_policies,
    notifications,
    statuses,
)

Viewer = int | BindParameter[Any] | ColumnElement[Any] | None

# Made once, as the aliases of store/visibility.py: the rule is built for every read.
_MODERATED_ORIGINAL = statuses.alias("moderated_original")


def _follows(viewer_id: Viewer, author_id: ColumnElement[Any]) -> ColumnElement[bool]:
    return exists().where(
        follows.c.follower_id == viewer_id,
        follows.c.followee_id == author_id,
        follows.c.state == "accepted",
    )


def _is(author_id: ColumnElement[Any], column: str) -> ColumnElement[bool]:
    return exists().where(accounts.c.id == author_id, accounts.c[column].is_not(None))


def shown_by_moderation(viewer_id: Viewer) -> ColumnElement[bool]:
    """True for the statuses rows that moderation lets this viewer (None: anonymous) see:
    one lookup of the author, one of a boosted post's author."""
    hidden = accounts.c.suspended_at.is_not(None)
    silenced = accounts.c.silenced_at.is_not(None)
    if viewer_id is None:
        hidden = or_(hidden, silenced)
    else:
        not_theirs = and_(accounts.c.id != viewer_id, not_(_follows(viewer_id, accounts.c.id)))
        hidden = or_(hidden, and_(silenced, not_theirs))
    original = _MODERATED_ORIGINAL
    boosts_suspended = (
        exists()
        .where(original.c.id == statuses.c.reblog_of_id, _is(original.c.account_id, "suspended_at"))
        .correlate_except(original)
    )
    author_hidden = exists().where(accounts.c.id == statuses.c.account_id, hidden)
    return and_(not_(author_hidden), not_(boosts_suspended))


def shown_publicly() -> ColumnElement[bool]:
    """Statuses the public and tag timelines may list: neither suspended nor silenced
    authors (Mastodon's PublicFeed leaves silenced accounts out for everyone)."""
    return not_(
        exists().where(
            accounts.c.id == statuses.c.account_id,
            or_(accounts.c.suspended_at.is_not(None), accounts.c.silenced_at.is_not(None)),
        )
    )


def notification_shown() -> ColumnElement[bool]:
    """Notifications rows moderation lets their recipient see (one whose notification
    policy accepts limited accounts sees those of silenced ones)."""
    sender, recipient = notifications.c.from_account_id, notifications.c.account_id
    accepts_limited = exists().where(
        notification_policies.c.account_id == recipient,
        notification_policies.c.for_limited_accounts == "accept",
    )
    return and_(
        not_(_is(sender, "suspended_at")),
        or_(not_(_is(sender, "silenced_at")), _follows(recipient, sender), accepts_limited),
    )


@dataclass(frozen=True)
class AccountFilter:
    """The admin's narrowing of the account list (Mastodon's v2 admin accounts)."""

    origin: str | None = None  # 'local' | 'remote'
    status: str | None = None  # 'active' | 'disabled' | 'silenced' | 'suspended' | 'pending'
    username: str | None = None
    display_name: str | None = None
    by_domain: str | None = None
    staff: bool = False


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class ModerationQueries(Queries):
    async def set_suspended(self, account_id: int, suspended: bool) -> None:
        """Suspend (a local user is signed out everywhere) or unsuspend an account."""
        async with self.db.atomic() as db:
            await db.execute(
                update(accounts)
                .where(accounts.c.id == account_id)
                .values(suspended_at=now_iso() if suspended else None)
            )
            if suspended:
                await sign_out_everywhere(db, account_id)
        self.suspensions_made += 1  # type: ignore[attr-defined]  # Store's, see store/__init__

    async def set_silenced(self, account_id: int, silenced: bool) -> None:
        await self.db.write(
            update(accounts)
            .where(accounts.c.id == account_id)
            .values(silenced_at=now_iso() if silenced else None)
        )

    async def admin_accounts(
        self, filters: AccountFilter, page: Page
    ) -> list[tuple[Account, LocalUser | None]]:
        """Accounts with their user rows (None for remote ones), newest first."""
        user_columns = [c.label(f"user_{c.name}") for c in local_users.c]
        statement = select(accounts, *user_columns).select_from(
            accounts.outerjoin(local_users, local_users.c.account_id == accounts.c.id)
        )
        statement = statement.where(*_account_conditions(filters))
        rows = await self.db.all(paged(statement, accounts.c.id, page))
        found = []
        for row in rows:
            values = dict(row)
            user = {c.name: values.pop(f"user_{c.name}") for c in local_users.c}
            account = record(Account, values)
            assert account is not None
            local = record(LocalUser, user) if user["account_id"] is not None else None
            found.append((account, local))
        return newest_first(found, page)


def _account_conditions(filters: AccountFilter) -> list[ColumnElement[bool]]:
    # Local users and remote accounts (not the instance actor's row: services/reports.py).
    conditions: list[ColumnElement[bool]] = [
        or_(local_users.c.account_id.is_not(None), accounts.c.domain != "")
    ]
    if filters.origin == "local":
        conditions.append(local_users.c.account_id.is_not(None))
    elif filters.origin == "remote":
        conditions.append(accounts.c.domain != "")
    if filters.by_domain:
        conditions.append(func.lower(accounts.c.domain) == filters.by_domain.lower())
    if filters.username:
        conditions.append(accounts.c.username.ilike(_like(filters.username), escape="\\"))
    if filters.display_name:
        conditions.append(accounts.c.display_name.ilike(_like(filters.display_name), escape="\\"))
    if filters.staff:
        conditions.append(local_users.c.is_admin == 1)
    status = filters.status
    if status == "suspended":
        conditions.append(accounts.c.suspended_at.is_not(None))
    elif status == "silenced":
        conditions.append(accounts.c.silenced_at.is_not(None))
    elif status == "disabled":
        conditions.append(local_users.c.disabled == 1)
    elif status == "pending":
        conditions.append(local_users.c.approved == 0)
    elif status == "active":
        conditions.append(accounts.c.suspended_at.is_(None))
        conditions.append(or_(local_users.c.disabled.is_(None), local_users.c.disabled == 0))
    return conditions
