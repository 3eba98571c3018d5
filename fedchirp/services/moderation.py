"""Admin moderation of accounts: suspend, silence (limit) and disable, and undoing them.

What each one hides is decided in one place, store/moderation.py, which every read
path uses. Here are the rules of who may do what:
- suspend: a local user cannot sign in and every token and session ends, their actor
  answers 410 and their posts are hidden from everyone; a remote account's incoming
  activities are dropped and nothing is delivered to it. Unsuspending brings the
  posts back (nothing was deleted) but not the ended sessions.
- silence: the account's posts are left out of the public timelines and hidden from
  anyone who does not follow it, and so are its notifications to them.
- disable (local users only): the user cannot sign in (services/accounts.py).
An admin cannot act on their own account, so an instance cannot lock out its last admin
by mistake. Functions take the store, not a Context, so the CLI can use them.
"""

from __future__ import annotations

from fedchirp.clock import now_iso
from fedchirp.services import accounts
from fedchirp.services.accounts import parse_handle
from fedchirp.services.errors import Forbidden, Invalid, NotFound
from fedchirp.store import Store
from fedchirp.store.models import Account, LocalUser, Page, Report
from fedchirp.store.moderation import AccountFilter

ACTIONS = ("none", "disable", "silence", "suspend")
UNDO_ACTIONS = ("unsuspend", "unsilence", "enable")
STATUSES = ("active", "pending", "disabled", "silenced", "suspended")
ORIGINS = ("local", "remote")


def is_suspended(account: Account) -> bool:
    return account.suspended_at is not None


async def find_account(store: Store, handle: str, local_domain: str) -> Account:
    """An account by 'user' (local), 'user@host' or '@user@host', as the CLI names them."""
    user, host = parse_handle(handle)
    domain = "" if host is None or host == local_domain.lower() else host
    account = await store.find_account(user, domain)
    if account is None:
        raise NotFound(f"no account {handle!r} known here")
    return account


async def list_accounts(
    store: Store, filters: AccountFilter, page: Page
) -> list[tuple[Account, LocalUser | None]]:
    if filters.origin is not None and filters.origin not in ORIGINS:
        raise Invalid(f"origin must be one of {', '.join(ORIGINS)}")
    if filters.status is not None and filters.status not in STATUSES:
        raise Invalid(f"status must be one of {', '.join(STATUSES)}")
    return await store.admin_accounts(filters, page)


async def take_action(
    store: Store,
    admin: Account | None,
    target: Account,
    action: str,
    report: Report | None = None,
) -> None:
    """Do one of ACTIONS to target; a report it answers is resolved by admin (None: the
    command line, which acts for the instance)."""
    if action not in ACTIONS:
        raise Invalid(f"type must be one of {', '.join(ACTIONS)}")
    if action != "none":
        _check_not_self(admin, target)
    if action == "suspend":
        await store.set_suspended(target.id, True)
    elif action == "silence":
        await store.set_silenced(target.id, True)
    elif action == "disable":
        await _local_user(store, target)
        await accounts.set_disabled(store, target.username, True)
    if report is not None:
        await store.update_report(
            report.id, action_taken_at=now_iso(), action_taken_by_id=admin.id if admin else None
        )


async def undo_action(store: Store, admin: Account | None, target: Account, undo: str) -> None:
    """unsuspend, unsilence or enable."""
    if undo not in UNDO_ACTIONS:
        raise Invalid(f"unknown action {undo!r}")
    _check_not_self(admin, target)
    if undo == "unsuspend":
        await store.set_suspended(target.id, False)
    elif undo == "unsilence":
        await store.set_silenced(target.id, False)
    else:
        await _local_user(store, target)
        await accounts.set_disabled(store, target.username, False)


def _check_not_self(admin: Account | None, target: Account) -> None:
    if admin is not None and admin.id == target.id:
        raise Forbidden("admins cannot moderate their own account")


async def _local_user(store: Store, account: Account) -> LocalUser:
    user = await store.get_local_user(account.id)
    if user is None:
        raise Invalid("only local accounts can be disabled or enabled")
    return user
