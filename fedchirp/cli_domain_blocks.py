"""`fedchirp domain-block ...`: add, remove, list, import and export instance-wide domain
blocks (services/domain_blocks.py). They change the database directly; a running
server picks a change up within federation/domain_blocks.REFRESH_SECONDS (30 s)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from fedchirp.cli_common import CliError, load_args_config, open_store
from fedchirp.services import domain_block_csv, domain_blocks
from fedchirp.services.domain_blocks import SEVERITIES, BlockRequest
from fedchirp.services.errors import Invalid
from fedchirp.store.domain_blocks import DomainBlock


async def block_add(args: argparse.Namespace) -> int:
    request = BlockRequest(
        domain=args.domain,
        severity=args.severity,
        reject_media=args.reject_media,
        reject_reports=args.reject_reports,
        private_comment=args.private_comment,
        public_comment=args.public_comment,
        obfuscate=args.obfuscate,
    )
    domain_blocks.checked(request)  # bad input fails before the database is opened
    store = await open_store(load_args_config(args))
    try:
        block = await domain_blocks.block(store, request)
    finally:
        await store.close()
    print(f"{block.domain} blocked: {_settings(block)}")
    return 0


async def block_remove(args: argparse.Namespace) -> int:
    store = await open_store(load_args_config(args))
    try:
        block = await domain_blocks.unblock_domain(store, args.domain)
    finally:
        await store.close()
    print(f"{block.domain} unblocked")
    return 0


async def block_list(args: argparse.Namespace) -> int:
    store = await open_store(load_args_config(args))
    try:
        blocks = await domain_blocks.list_blocks(store)
    finally:
        await store.close()
    for block in blocks:
        comment = f"  # {block.public_comment}" if block.public_comment else ""
        print(f"{block.domain:<40} {_settings(block)}{comment}")
    if not blocks:
        print("no domains are blocked")
    return 0


async def block_import(args: argparse.Namespace) -> int:
    try:
        text = Path(args.file).read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CliError(f"{args.file}: not UTF-8 text ({exc.reason})") from None
    try:
        domain_block_csv.parse_csv(text)  # bad input fails before the database is opened
    except Invalid as exc:
        raise CliError(f"{args.file} {exc}") from None
    store = await open_store(load_args_config(args))
    try:
        added, updated = await domain_block_csv.import_csv(store, text)
    finally:
        await store.close()
    print(f"imported {args.file}: {added} blocks added, {updated} updated")
    return 0


async def block_export(args: argparse.Namespace) -> int:
    store = await open_store(load_args_config(args))
    try:
        text = domain_block_csv.export_csv(await domain_blocks.list_blocks(store))
    finally:
        await store.close()
    if args.file in (None, "-"):
        sys.stdout.write(text)
    else:
        Path(args.file).write_text(text, encoding="utf-8")
        print(f"exported {text.count(chr(10)) - 1} blocks to {args.file}")
    return 0


def _settings(block: DomainBlock) -> str:
    flags = [
        name
        for name, on in (
            ("reject-media", block.reject_media),
            ("reject-reports", block.reject_reports),
            ("obfuscate", block.obfuscate),
        )
        if on
    ]
    return " ".join([block.severity, *flags])


def add_domain_block_commands(commands: Any) -> None:
    """The `domain-block` command and its subcommands, on the main parser's subparsers."""
    cmd = commands.add_parser("domain-block", help="block remote servers for the whole instance")
    sub = cmd.add_subparsers(dest="domain_block_command", required=True)
    add_cmd = sub.add_parser("add", help="block a domain (and its subdomains), or change a block")
    add_cmd.add_argument("domain")
    add_cmd.add_argument(
        "--severity", default="silence", help=f"{' | '.join(SEVERITIES)} (default silence)"
    )
    add_cmd.add_argument("--reject-media", action="store_true", help="keep none of its media")
    add_cmd.add_argument("--reject-reports", action="store_true", help="ignore its reports")
    add_cmd.add_argument("--private-comment", default="", help="a note for admins")
    add_cmd.add_argument("--public-comment", default="", help="the reason shown publicly")
    add_cmd.add_argument("--obfuscate", action="store_true", help="mask the domain in public")
    add_cmd.set_defaults(handler=block_add, is_async=True)
    remove_cmd = sub.add_parser("remove", help="lift a block")
    remove_cmd.add_argument("domain")
    remove_cmd.set_defaults(handler=block_remove, is_async=True)
    list_cmd = sub.add_parser("list", help="list the blocked domains")
    list_cmd.set_defaults(handler=block_list, is_async=True)
    import_cmd = sub.add_parser("import", help="apply a blocklist in Mastodon's CSV format")
    import_cmd.add_argument("file")
    import_cmd.set_defaults(handler=block_import, is_async=True)
    export_cmd = sub.add_parser("export", help="write the blocks as Mastodon's CSV")
    export_cmd.add_argument("file", nargs="?", help="(default: standard output)")
    export_cmd.set_defaults(handler=block_export, is_async=True)
