"""`fedchirp announcement ...`: add, list, publish, unpublish and delete the
announcements users see in their apps (services/announcements.py)."""

from __future__ import annotations

import argparse
from typing import Any

from fedchirp.cli_common import CliError, load_args_config, open_store
from fedchirp.html import to_text
from fedchirp.services import announcements
from fedchirp.store.announcement_models import Announcement
from fedchirp.urls import Urls


def _line(item: Announcement) -> str:
    state = "published" if item.published else "draft"
    when = " ".join(
        f"{label} {value[:16]}"
        for label, value in (("from", item.starts_at), ("to", item.ends_at))
        if value
    )
    text = to_text(item.content).replace("\n", " ")
    short = text if len(text) <= 60 else text[:59] + "\u2026"
    return f"{item.id:<6} {state:<10} {when + '  ' if when else ''}{short}"


async def announcement_add(args: argparse.Namespace) -> int:
    config = load_args_config(args)
    store = await open_store(config)
    try:
        draft = announcements.Draft(
            text=args.text,
            starts_at=args.starts_at,
            ends_at=args.ends_at,
            all_day=args.all_day,
            published=args.publish,
        )
        tell = announcements.announcer_outside(store)
        added = await announcements.add(
            store, Urls(config.base_url), config.server.domain, draft, tell
        )
    finally:
        await store.close()
    print(f"announcement {added.id} added ({'published' if added.published else 'draft'})")
    return 0


async def announcement_list(args: argparse.Namespace) -> int:
    store = await open_store(load_args_config(args))
    try:
        found = await store.announcements_all()
    finally:
        await store.close()
    for item in found:
        print(_line(item))
    return 0


def _id(args: argparse.Namespace) -> int:
    if not args.id.isdigit() or len(args.id) > 18:
        raise CliError(f"{args.id!r} is not an announcement id")
    return int(args.id)


async def announcement_publish(args: argparse.Namespace) -> int:
    published = args.announcement_command == "publish"
    store = await open_store(load_args_config(args))
    try:
        tell = announcements.announcer_outside(store)
        await announcements.publish(store, _id(args), published, tell)
    finally:
        await store.close()
    print(f"announcement {args.id} {'published' if published else 'unpublished'}")
    return 0


async def announcement_delete(args: argparse.Namespace) -> int:
    store = await open_store(load_args_config(args))
    try:
        await announcements.delete(store, _id(args), announcements.announcer_outside(store))
    finally:
        await store.close()
    print(f"announcement {args.id} deleted")
    return 0


def add_announcement_commands(commands: Any) -> None:
    """The `announcement` command and its subcommands, on the main parser's subparsers."""
    cmd = commands.add_parser("announcement", help="announcements users see in their apps")
    sub = cmd.add_subparsers(dest="announcement_command", required=True)
    add_cmd = sub.add_parser("add", help="add an announcement (a draft unless --publish)")
    add_cmd.add_argument("text", help="plain text; links, @mentions and #hashtags are linked")
    add_cmd.add_argument("--starts-at", help="when the event starts: 2030-01-31 or ISO time")
    add_cmd.add_argument("--ends-at", help="when it ends; not shown after that")
    add_cmd.add_argument("--all-day", action="store_true", help="the event lasts whole days")
    add_cmd.add_argument("--publish", action="store_true", help="show it to users now")
    add_cmd.set_defaults(handler=announcement_add, is_async=True)
    list_cmd = sub.add_parser("list", help="list announcements, newest first")
    list_cmd.set_defaults(handler=announcement_list, is_async=True)
    for name, text, handler in (
        ("publish", "show an announcement to users", announcement_publish),
        ("unpublish", "take an announcement back (kept as a draft)", announcement_publish),
        ("delete", "delete an announcement", announcement_delete),
    ):
        one = sub.add_parser(name, help=text)
        one.add_argument("id")
        one.set_defaults(handler=handler, is_async=True)
