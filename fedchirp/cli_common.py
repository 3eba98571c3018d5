"""What every command needs: the config it names, the store, and how it fails."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from fedchirp.config import Config, load_config
from fedchirp.store import Store

DEFAULT_CONFIG = "config.toml"


class CliError(Exception):
    """A command cannot go on; the message is printed as is."""


def config_path(args: argparse.Namespace) -> Path:
    return Path(args.config or os.environ.get("FEDCHIRP_CONFIG") or DEFAULT_CONFIG)


def load_args_config(args: argparse.Namespace) -> Config:
    path = config_path(args)
    if not path.exists():
        raise CliError(f"{path} does not exist; run `fedchirp init` first")
    return load_config(path)


async def open_store(config: Config) -> Store:
    store = Store(config.database_url)
    await store.open()
    return store
