"""`fedchirp invite ...` (create, list, revoke) and `fedchirp rule ...` (add, list, remove):
what lets people sign up and what they agree to."""

from __future__ import annotations

import argparse
import time
from typing import Any

from fedchirp.cli_common import CliError, load_args_config, open_store
from fedchirp.services import accounts, invites
from fedchirp.store import Store
from fedchirp.store.models import Account


async def _creator(store: Store, username: str | None) -> Account:
    """--by USER, or the first admin: an invite belongs to someone (Mastodon's too)."""
    if username:
        account, _ = await accounts.local_user(store, username)
        return account
    admins = [account for account, user in await accounts.local_users(store) if user.is_admin]
    if not admins:
        raise CliError("no admin account to create the invite as: use --by USERNAME")
    return min(admins, key=lambda account: account.id)


async def invite_create(args: argparse.Namespace) -> int:
    config = load_args_config(args)
    expires_in = invites.parse_duration(args.expires_in) if args.expires_in else None
    store = await open_store(config)
    try:
        creator = await _creator(store, args.by)
        invite = await invites.create_invite(store, creator, args.max_uses, expires_in)
    finally:
        await store.close()
    print(invites.invite_url(config.base_url, invite.code))
    return 0


def _expiry(expires_at: float | None, now: float) -> str:
    if expires_at is None:
        return "never"
    if expires_at <= now:
        return "expired"
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(expires_at))


async def invite_list(args: argparse.Namespace) -> int:
    store = await open_store(load_args_config(args))
    try:
        found = await invites.list_invites(store)
    finally:
        await store.close()
    now = time.time()
    print(f"{'code':<14} {'uses':<9} {'expires':<20} usable")
    for invite in found:
        uses = f"{invite.uses}/{invite.max_uses if invite.max_uses is not None else '-'}"
        usable = "yes" if invite.usable(now) else "no"
        print(f"{invite.code:<14} {uses:<9} {_expiry(invite.expires_at, now):<20} {usable}")
    return 0


async def invite_revoke(args: argparse.Namespace) -> int:
    store = await open_store(load_args_config(args))
    try:
        invite = await invites.revoke_invite(store, args.code)
    finally:
        await store.close()
    print(f"invite {invite.code} revoked")
    return 0


async def rule_add(args: argparse.Namespace) -> int:
    store = await open_store(load_args_config(args))
    try:
        rule = await invites.add_rule(store, args.text, args.hint or "")
    finally:
        await store.close()
    print(f"rule {rule.id} added")
    return 0


async def rule_list(args: argparse.Namespace) -> int:
    store = await open_store(load_args_config(args))
    try:
        found = await invites.list_rules(store)
    finally:
        await store.close()
    for rule in found:
        print(f"{rule.id:>4}  {rule.text}" + (f"  ({rule.hint})" if rule.hint else ""))
    return 0


async def rule_remove(args: argparse.Namespace) -> int:
    store = await open_store(load_args_config(args))
    try:
        await invites.remove_rule(store, args.id)
    finally:
        await store.close()
    print(f"rule {args.id} removed")
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_signup_commands(commands: Any) -> None:
    """The `invite` and `rule` commands, on the main parser's subparsers."""
    invite_cmd = commands.add_parser("invite", help="invite links to sign up")
    invite_commands = invite_cmd.add_subparsers(dest="invite_command", required=True)
    create = invite_commands.add_parser("create", help="create an invite link and print it")
    create.add_argument("--max-uses", type=_positive, help="(default: no limit)")
    create.add_argument("--expires-in", help="e.g. 30m, 12h, 7d, 2w (default: never)")
    create.add_argument("--by", help="the local user it is from (default: the first admin)")
    create.set_defaults(handler=invite_create, is_async=True)
    invite_commands.add_parser("list", help="list invites").set_defaults(
        handler=invite_list, is_async=True
    )
    revoke = invite_commands.add_parser("revoke", help="end an invite now")
    revoke.add_argument("code")
    revoke.set_defaults(handler=invite_revoke, is_async=True)

    rule_cmd = commands.add_parser("rule", help="the server's rules, shown at sign-up")
    rule_commands = rule_cmd.add_subparsers(dest="rule_command", required=True)
    add = rule_commands.add_parser("add", help="add a rule")
    add.add_argument("text")
    add.add_argument("--hint", help="a longer explanation")
    add.set_defaults(handler=rule_add, is_async=True)
    rule_commands.add_parser("list", help="list the rules").set_defaults(
        handler=rule_list, is_async=True
    )
    remove = rule_commands.add_parser("remove", help="remove a rule")
    remove.add_argument("id", type=int)
    remove.set_defaults(handler=rule_remove, is_async=True)
