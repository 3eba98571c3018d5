"""`fedchirp user ...`: create, list, password, disable, enable, promote, demote, delete,
approve and reject (a pending sign-up)."""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from fedchirp.cli_common import CliError, load_args_config, open_store
from fedchirp.config import Config
from fedchirp.services import account_deletion, accounts, registrations
from fedchirp.store.models import Account
from fedchirp.urls import Urls

USER_CHANGES = (  # (command, what it printed when done, help)
    ("disable", "disabled", "stop a user signing in, and end their sessions and tokens"),
    ("enable", "enabled", "let a disabled user sign in again"),
    ("promote", "is an admin", "make a user an admin"),
    ("demote", "is no longer an admin", "take admin away from a user"),
    (
        "delete",
        "deleted",
        "delete a local account and its posts, telling the servers that know it",
    ),
    ("approve", "approved", "let a sign-up that waits for approval in"),
    ("reject", "rejected (account deleted)", "refuse a sign-up that waits for approval"),
)


async def user_create(args: argparse.Namespace) -> int:
    config = load_args_config(args)
    password = args.password or secrets.token_urlsafe(12)
    store = await open_store(config)
    try:
        account = await accounts.create_local_account(
            store,
            Urls(config.base_url),
            args.username,
            password,
            display_name=args.display_name or "",
            locked=args.locked,
            admin=args.admin,
            actor_type=args.type,
        )
    finally:
        await store.close()
    print(f"created {account.username}@{config.server.domain} ({account.uri})")
    if not args.password:
        print(f"password: {password}")
    return 0


async def user_list(args: argparse.Namespace) -> int:
    store = await open_store(load_args_config(args))
    try:
        users = await accounts.local_users(store)
    finally:
        await store.close()
    print(f"{'username':<30} {'admin':<5} {'disabled':<8} {'pending':<7} created")
    for account, user in users:
        admin, disabled = "yes" if user.is_admin else "no", "yes" if user.disabled else "no"
        pending = "no" if user.approved else "yes"
        print(f"{account.username:<30} {admin:<5} {disabled:<8} {pending:<7} {user.created_at}")
    return 0


def _new_password(args: argparse.Namespace) -> str:
    """From --generate, --stdin (its first line), or asked twice on a terminal."""
    if args.generate:
        return secrets.token_urlsafe(12)
    if args.stdin:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
        if not password:
            raise CliError("no password on stdin")
        return password
    if not sys.stdin.isatty():
        raise CliError("stdin is not a terminal: use --stdin or --generate")
    password = getpass.getpass("new password: ")
    if getpass.getpass("again: ") != password:
        raise CliError("the passwords do not match")
    return password


async def user_password(args: argparse.Namespace) -> int:
    config = load_args_config(args)
    password = _new_password(args)
    accounts.check_password(password)  # before asking the database anything
    store = await open_store(config)
    try:
        account = await accounts.reset_password(store, args.username, password)
    finally:
        await store.close()
    print(f"password of {account.username} changed; signed out everywhere")
    if args.generate:
        print(f"password: {password}")
    return 0


def _user_change(change: str, done: str) -> Callable[[argparse.Namespace], Awaitable[int]]:
    """A command that changes one local user: disable, enable, promote, demote, delete,
    approve, reject."""

    async def run(args: argparse.Namespace) -> int:
        if change == "delete" and not args.yes:
            raise CliError(f"deleting {args.username} cannot be undone: add --yes")
        if change == "delete":
            account = await _delete_user(load_args_config(args), args.username)
            print(f"{account.username} {done}")
            return 0
        store = await open_store(load_args_config(args))
        try:
            if change in ("disable", "enable"):
                account = await accounts.set_disabled(store, args.username, change == "disable")
            elif change in ("promote", "demote"):
                account = await accounts.set_admin(store, args.username, change == "promote")
            else:  # approve or reject a pending sign-up
                found, _ = await accounts.local_user(store, args.username)
                decide = registrations.approve if change == "approve" else registrations.reject
                account = await decide(store, found.id)
        finally:
            await store.close()
        print(f"{account.username} {done}")
        return 0

    return run


async def _delete_user(config: Config, username: str) -> Account:
    """Delete as the account itself would: Delete(actor) is queued for the servers that
    know it (a running server sends it), then its data is erased."""
    # Imported here: the whole instance (HTTP client, queues) is only needed to delete.
    from fedchirp.app import instance_context

    async with instance_context(config) as ctx:
        account, _ = await accounts.local_user(ctx.store, username)
        await account_deletion.delete_local_account(ctx, account)
    return account


def add_user_commands(commands: Any) -> None:
    """The `user` command and its subcommands, on the main parser's subparsers."""
    user_cmd = commands.add_parser("user", help="manage local accounts")
    user_commands = user_cmd.add_subparsers(dest="user_command", required=True)
    create_cmd = user_commands.add_parser("create", help="create a local account")
    create_cmd.add_argument("username")
    create_cmd.add_argument("--password", help="(default: generate and print one)")
    create_cmd.add_argument("--display-name")
    create_cmd.add_argument("--admin", action="store_true")
    create_cmd.add_argument("--locked", action="store_true", help="approve followers by hand")
    create_cmd.add_argument("--type", default="Person", choices=accounts.ACTOR_TYPES)
    create_cmd.set_defaults(handler=user_create, is_async=True)
    list_cmd = user_commands.add_parser("list", help="list local accounts")
    list_cmd.set_defaults(handler=user_list, is_async=True)
    password_cmd = user_commands.add_parser(
        "password", help="set a new password (asked twice) and sign the user out everywhere"
    )
    password_cmd.add_argument("username")
    source = password_cmd.add_mutually_exclusive_group()
    source.add_argument("--stdin", action="store_true", help="read it from stdin's first line")
    source.add_argument("--generate", action="store_true", help="generate and print one")
    password_cmd.set_defaults(handler=user_password, is_async=True)
    for change, done, about in USER_CHANGES:
        change_cmd = user_commands.add_parser(change, help=about)
        change_cmd.add_argument("username")
        if change == "delete":
            change_cmd.add_argument("--yes", action="store_true", help="yes, delete it")
        change_cmd.set_defaults(handler=_user_change(change, done), is_async=True)
