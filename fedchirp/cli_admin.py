"""`fedchirp admin ...`: accounts (list), suspend, unsuspend, silence, unsilence,
reports (list) and resolve.

add_admin_commands returns the `admin` subparsers, so other admin commands (domain
blocks) are added to it from their own modules (see cli.py).
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import Any

from fedchirp.cli_common import CliError, load_args_config, open_store
from fedchirp.services import moderation, reports
from fedchirp.store.models import Account, Page
from fedchirp.store.moderation import AccountFilter

LIST_LIMIT = 200
# (command, what it does, what it printed when done); all take one ACCT.
ACCOUNT_ACTIONS = (
    ("suspend", "suspend an account (local: signed out, actor gone; remote: cut off)",
     "suspended"),
    ("unsuspend", "lift a suspension", "unsuspended"),
    ("silence", "hide an account's posts from public timelines and non-followers",
     "silenced"),
    ("unsilence", "lift a silence", "unsilenced"),
)  # fmt: skip


def _state(account: Account) -> str:
    marks = {"suspended": account.suspended_at, "silenced": account.silenced_at}
    return ",".join(word for word, when in marks.items() if when) or "active"


def _limit(args: argparse.Namespace) -> Page:
    if not 0 < args.limit <= LIST_LIMIT:
        raise CliError(f"--limit must be between 1 and {LIST_LIMIT}")
    return Page(limit=args.limit)


async def admin_accounts(args: argparse.Namespace) -> int:
    status = "suspended" if args.suspended else "silenced" if args.silenced else None
    origin = "local" if args.local else "remote" if args.remote else None
    store = await open_store(load_args_config(args))
    try:
        found = await moderation.list_accounts(
            store, AccountFilter(origin=origin, status=status), _limit(args)
        )
    finally:
        await store.close()
    print(f"{'id':<8} {'account':<40} {'state':<18} disabled")
    for account, user in found:
        disabled = "yes" if user and user.disabled else "no" if user else "-"
        print(f"{account.id:<8} {account.acct():<40} {_state(account):<18} {disabled}")
    return 0


def _account_action(
    undo_or_action: str, done: str
) -> Callable[[argparse.Namespace], Awaitable[int]]:
    async def run(args: argparse.Namespace) -> int:
        config = load_args_config(args)
        store = await open_store(config)
        try:
            account = await moderation.find_account(store, args.acct, config.server.domain)
            if undo_or_action in moderation.ACTIONS:
                await moderation.take_action(store, None, account, undo_or_action)
            else:
                await moderation.undo_action(store, None, account, undo_or_action)
        finally:
            await store.close()
        print(f"{account.acct()} {done}")
        return 0

    return run


async def admin_reports(args: argparse.Namespace) -> int:
    resolved = None if args.all else args.resolved
    page = _limit(args)
    store = await open_store(load_args_config(args))
    try:
        found = await reports.list_reports(store, resolved, page)
        people = await store.get_accounts(
            {r.account_id for r in found} | {r.target_account_id for r in found}
        )
    finally:
        await store.close()
    print(f"{'id':<8} {'state':<9} {'category':<10} {'by':<30} {'about':<30} comment")
    for report in found:
        state = "resolved" if report.action_taken_at else "open"
        by, about = people.get(report.account_id), people.get(report.target_account_id)
        comment = " ".join(report.comment.split())[:60]
        print(f"{report.id:<8} {state:<9} {report.category:<10} {by.acct() if by else '?':<30}"
              f" {about.acct() if about else '?':<30} {comment}")  # fmt: skip
    return 0


async def admin_resolve(args: argparse.Namespace) -> int:
    try:
        report_id = int(args.report_id)
    except ValueError:
        raise CliError(f"{args.report_id!r} is not a report id") from None
    store = await open_store(load_args_config(args))
    try:
        if not 0 < report_id < 2**63:
            raise CliError(f"no report {report_id}")
        report = await reports.report_by_id(store, report_id)
        await reports.resolve(store, report, None)
    finally:
        await store.close()
    print(f"report {report_id} resolved")
    return 0


def add_admin_commands(commands: Any) -> Any:
    """The `admin` command and its subcommands, on the main parser's subparsers; returns
    the admin subparsers, for more subcommands."""
    admin_cmd = commands.add_parser("admin", help="moderate accounts and handle reports")
    admin_commands = admin_cmd.add_subparsers(dest="admin_command", required=True)
    accounts_cmd = admin_commands.add_parser("accounts", help="list accounts, newest first")
    state = accounts_cmd.add_mutually_exclusive_group()
    state.add_argument("--suspended", action="store_true", help="only suspended ones")
    state.add_argument("--silenced", action="store_true", help="only silenced ones")
    origin = accounts_cmd.add_mutually_exclusive_group()
    origin.add_argument("--local", action="store_true", help="only local accounts")
    origin.add_argument("--remote", action="store_true", help="only remote accounts")
    accounts_cmd.add_argument("--limit", type=int, default=LIST_LIMIT)
    accounts_cmd.set_defaults(handler=admin_accounts, is_async=True)
    for name, about, done in ACCOUNT_ACTIONS:
        action_cmd = admin_commands.add_parser(name, help=about)
        action_cmd.add_argument("acct", help="user (local) or user@host")
        action_cmd.set_defaults(handler=_account_action(name, done), is_async=True)
    reports_cmd = admin_commands.add_parser("reports", help="list reports (open ones by default)")
    which = reports_cmd.add_mutually_exclusive_group()
    which.add_argument("--resolved", action="store_true", help="only resolved ones")
    which.add_argument("--all", action="store_true", help="open and resolved ones")
    reports_cmd.add_argument("--limit", type=int, default=LIST_LIMIT)
    reports_cmd.set_defaults(handler=admin_reports, is_async=True)
    resolve_cmd = admin_commands.add_parser("resolve", help="mark a report as handled")
    resolve_cmd.add_argument("report_id")
    resolve_cmd.set_defaults(handler=admin_resolve, is_async=True)
    return admin_commands
