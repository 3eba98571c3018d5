"""`fedchirp emoji ...`: add, list and remove this server's custom emoji
(services/emojis.py). Images are re-encoded as PNG, at most 400 px and 256 KB."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from fedchirp.cli_common import CliError, load_args_config, open_store
from fedchirp.media_storage import open_media_storage
from fedchirp.services import emojis


async def emoji_add(args: argparse.Namespace) -> int:
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc.strerror}") from exc
    config = load_args_config(args)
    store = await open_store(config)
    try:
        async with open_media_storage(config) as storage:
            emoji = await emojis.add_local(
                store, storage, config.base_url, args.shortcode, data, args.category
            )
            url = emojis.image_url(storage, emoji)
    finally:
        await store.close()
    print(f":{emoji.shortcode}: added ({url})")
    return 0


async def emoji_list(args: argparse.Namespace) -> int:
    config = load_args_config(args)
    store = await open_store(config)
    try:
        found = await store.local_emojis()
    finally:
        await store.close()
    for emoji in found:
        category = f"  [{emoji.category}]" if emoji.category else ""
        print(f":{emoji.shortcode}:{category}")
    return 0


async def emoji_remove(args: argparse.Namespace) -> int:
    config = load_args_config(args)
    store = await open_store(config)
    try:
        async with open_media_storage(config) as storage:
            await emojis.remove_local(store, storage, args.shortcode.strip(":"))
    finally:
        await store.close()
    print(f":{args.shortcode.strip(':')}: removed")
    return 0


def add_emoji_commands(commands: Any) -> None:
    """The `emoji` command and its subcommands, on the main parser's subparsers."""
    cmd = commands.add_parser("emoji", help="this server's custom emoji")
    sub = cmd.add_subparsers(dest="emoji_command", required=True)
    add_cmd = sub.add_parser("add", help="add an emoji from an image file")
    add_cmd.add_argument("shortcode", help="its name, used as :shortcode: in posts")
    add_cmd.add_argument("file", help="PNG, GIF, WebP or JPEG image")
    add_cmd.add_argument("--category", default=None, help="group shown in emoji pickers")
    add_cmd.set_defaults(handler=emoji_add, is_async=True)
    list_cmd = sub.add_parser("list", help="list this server's emoji")
    list_cmd.set_defaults(handler=emoji_list, is_async=True)
    remove_cmd = sub.add_parser("remove", help="remove an emoji")
    remove_cmd.add_argument("shortcode")
    remove_cmd.set_defaults(handler=emoji_remove, is_async=True)
