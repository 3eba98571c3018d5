"""Command line: init, serve, web, worker, jobs, user (create, list, password, disable,
enable, promote, demote, delete, approve, reject), admin (accounts, suspend, silence,
reports, resolve ...), domain-block, invite, rule, migrate, db copy, demo.

Errors are one line on stderr and a non-zero exit status; nothing is changed
by a command that fails.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from fedchirp import __version__
from fedchirp.cli_admin import add_admin_commands
from fedchirp.cli_announcements import add_announcement_commands
from fedchirp.cli_common import (
    DEFAULT_CONFIG,
    CliError,
    config_path,
    load_args_config,
    open_store,
)
from fedchirp.cli_domain_blocks import add_domain_block_commands
from fedchirp.cli_emoji import add_emoji_commands
from fedchirp.cli_signup import add_signup_commands
from fedchirp.cli_users import add_user_commands
from fedchirp.clock import to_iso
from fedchirp.config import Config, ConfigError, config_from_dict, load_config, render_toml
from fedchirp.processes import run_web, run_worker
from fedchirp.services import accounts
from fedchirp.services.errors import ServiceError
from fedchirp.store import SchemaError, Store
from fedchirp.store.copy import CopyError, copy_database
from fedchirp.urls import Urls

ADMIN_USERNAME = "admin"


def _shown_url(config: Config) -> str:
    """Where the database is, without its password."""
    if not config.database.url:
        return str(config.database_path)
    return make_url(config.database.url).render_as_string(hide_password=True)


# -- init ---------------------------------------------------------------------


async def init(args: argparse.Namespace) -> int:
    """Write a config (if none), create the database, and an admin account on first run.

    The database is opened before the config is written, so an init that fails
    (data_dir unusable, say) leaves no config behind."""
    path = config_path(args)
    new_config = not path.exists()
    config = load_config(path) if not new_config else _initial_config(args, path)
    store = await open_store(config)
    try:
        if new_config:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render_toml(config), encoding="utf-8")
            print(f"wrote {path}")
        else:
            print(f"using existing config {path}")
        version = await store.schema_version()
        print(f"database {_shown_url(config)} is at schema version {version}")
        if await store.count_local_users() == 0:
            password = secrets.token_urlsafe(12)
            await accounts.create_local_account(
                store, Urls(config.base_url), ADMIN_USERNAME, password, admin=True
            )
            print(f"created account {ADMIN_USERNAME!r} with password {password}")
            print("  (shown only this once; keep it somewhere safe)")
    finally:
        await store.close()
    return 0


def _initial_config(args: argparse.Namespace, path: Path) -> Config:
    server: dict = {}
    if args.domain:
        server["domain"] = args.domain
    if args.port:
        server["listen_port"] = args.port
        server.setdefault("domain", f"127.0.0.1:{args.port}")
    return config_from_dict({"server": server}, base_dir=path.resolve().parent)


# -- serve --------------------------------------------------------------------


def serve(args: argparse.Namespace) -> int:
    """Web and workers in one process, running init first if needed."""
    if not config_path(args).exists():
        asyncio.run(init(argparse.Namespace(**{**vars(args), "domain": None, "port": None})))
    run_web(load_args_config(args), with_workers=True)
    return 0


def web_only(args: argparse.Namespace) -> int:
    run_web(load_args_config(args), with_workers=False)
    return 0


def worker(args: argparse.Namespace) -> int:
    if args.concurrency is not None and args.concurrency < 1:
        raise CliError("--concurrency must be at least 1")
    run_worker(load_args_config(args), args.concurrency)
    return 0


async def jobs(args: argparse.Namespace) -> int:
    """How many jobs wait, and the dead ones with their last error; then the remote hosts
    deliveries are failing to, and the unavailable ones (for admins)."""
    store = await open_store(load_args_config(args))
    try:
        queued, dead = await store.count_jobs("queued"), await store.count_jobs("dead")
        running = await store.count_jobs("running")
        print(f"{queued} queued, {running} running, {dead} dead")
        for job in await store.dead_jobs(args.limit):
            print(f"dead {job.id} {job.queue} {job.key or ''} after {job.attempts} attempts,"
                  f" {job.finished_at}: {job.last_error}")  # fmt: skip
        await _unavailable_hosts(store, args.limit)
    finally:
        await store.close()
    return 0


async def _unavailable_hosts(store: Store, limit: int) -> None:
    """Said only when deliveries are failing somewhere."""
    failing = await store.count_host_failures()
    if not failing:
        return
    unavailable = await store.count_host_failures(unavailable=True)
    print(f"{failing} remote hosts failing, {unavailable} unavailable (nothing sent to them)")
    for host in await store.unavailable_host_failures(limit):
        print(f"unavailable {host.host}: failed on {host.failure_days} days since"
              f" {_when(host.failing_since)}, last {_when(host.last_failure_at)}")  # fmt: skip


def _when(seconds: float) -> str:
    return to_iso(datetime.fromtimestamp(seconds, UTC))


# -- migrate / demo -----------------------------------------------------------


async def migrate(args: argparse.Namespace) -> int:
    config = load_args_config(args)
    store = await open_store(config)  # opening applies pending migrations
    try:
        print(f"schema version {await store.schema_version()}")
    finally:
        await store.close()
    return 0


# -- db copy --------------------------------------------------------------------


async def db_copy(args: argparse.Namespace) -> int:
    """Copy the configured database into another (empty) one, e.g. SQLite to PostgreSQL."""
    config = load_args_config(args)
    target_url = args.to
    if not target_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise CliError("--to must be a sqlite+aiosqlite:// or postgresql+asyncpg:// URL")
    if target_url == config.database_url:
        raise CliError("--to names the database the config already uses")
    source = await open_store(config)
    try:
        target = Store(target_url)
        await target.open()
        try:
            counts = await copy_database(source, target)
        finally:
            await target.close()
    finally:
        await source.close()
    for table, rows in counts.items():
        print(f"{table:<20} {rows:>10} rows")
    shown = make_url(target_url).render_as_string(hide_password=True)
    print(f"copied {sum(counts.values())} rows to {shown}; row counts match")
    print(f'to use it, set in {config_path(args)}:\n[database]\nurl = "{shown}"')
    return 0


def demo(args: argparse.Namespace) -> int:
    from fedchirp.demo import run_demo

    return 0 if asyncio.run(run_demo(sys.stdout)) else 1


# -- parsing ------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fedchirp", description="A federated microblog server.")
    parser.add_argument(
        "--config", help=f"config file (default: $FEDCHIRP_CONFIG or {DEFAULT_CONFIG})"
    )
    parser.add_argument("--version", action="version", version=f"fedchirp {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    init_cmd = commands.add_parser("init", help="write a config, create the database and admin")
    init_cmd.add_argument("--domain", help="public host[:port] (default 127.0.0.1:8080)")
    init_cmd.add_argument("--port", type=int, help="port to listen on (default 8080)")
    init_cmd.set_defaults(handler=init, is_async=True)

    serve_cmd = commands.add_parser("serve", help="web and workers in one process (init if needed)")
    serve_cmd.set_defaults(handler=serve, is_async=False)

    web_cmd = commands.add_parser("web", help="serve requests only (workers run apart)")
    web_cmd.set_defaults(handler=web_only, is_async=False)

    worker_cmd = commands.add_parser("worker", help="run background jobs and deliveries")
    worker_cmd.add_argument("--concurrency", type=int, help="jobs run at once (jobs.concurrency)")
    worker_cmd.set_defaults(handler=worker, is_async=False)

    jobs_cmd = commands.add_parser(
        "jobs", help="count waiting jobs, list dead ones and unavailable remote hosts"
    )
    jobs_cmd.add_argument(
        "--limit", type=int, default=20, help="dead jobs and hosts shown (default 20)"
    )
    jobs_cmd.set_defaults(handler=jobs, is_async=True)

    add_user_commands(commands)
    add_admin_commands(commands)
    add_domain_block_commands(commands)
    add_emoji_commands(commands)
    add_announcement_commands(commands)
    add_signup_commands(commands)

    migrate_cmd = commands.add_parser("migrate", help="apply database migrations")
    migrate_cmd.set_defaults(handler=migrate, is_async=True)

    db_cmd = commands.add_parser("db", help="database tools")
    db_commands = db_cmd.add_subparsers(dest="db_command", required=True)
    copy_cmd = db_commands.add_parser(
        "copy", help="copy every row into another, empty database (stop the server first)"
    )
    copy_cmd.add_argument("--to", required=True, help="e.g. postgresql+asyncpg://user@host/db")
    copy_cmd.set_defaults(handler=db_copy, is_async=True)

    demo_cmd = commands.add_parser("demo", help="two instances on loopback follow and post")
    demo_cmd.set_defaults(handler=demo, is_async=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.is_async:
            return asyncio.run(args.handler(args))
        return args.handler(args)
    except (CliError, ConfigError, ServiceError, SchemaError, CopyError) as exc:
        print(f"fedchirp: {exc}", file=sys.stderr)
        return 2
    except DBAPIError as exc:  # the driver's own words, without SQLAlchemy's wrapping
        print(f"fedchirp: database: {exc.orig}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. port in use, data_dir is a file, permission denied
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"fedchirp: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
