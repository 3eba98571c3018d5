"""Command line: init, serve, web, worker, jobs, user (create, list, password, disable,
enable, promote, demote, delete), migrate, db copy, demo.

Errors are one line on stderr and a non-zero exit status; nothing is changed
by a command that fails.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import secrets
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from fedchirp import __version__
from fedchirp.clock import to_iso
from fedchirp.config import Config, ConfigError, config_from_dict, load_config, render_toml
from fedchirp.processes import run_web, run_worker
from fedchirp.services import accounts
from fedchirp.services.errors import ServiceError
from fedchirp.store import SchemaError, Store
from fedchirp.store.copy import CopyError, copy_database
from fedchirp.urls import Urls

DEFAULT_CONFIG = "config.toml"
ADMIN_USERNAME = "admin"
USER_CHANGES = (  # (command, what it printed when done, help)
    ("disable", "disabled", "stop a user signing in, and end their sessions and tokens"),
    ("enable", "enabled", "let a disabled user sign in again"),
    ("promote", "is an admin", "make a user an admin"),
    ("demote", "is no longer an admin", "take admin away from a user"),
    ("delete", "deleted", "delete a local account and its posts (here only; not federated)"),
)


class CliError(Exception):
    """A command cannot go on; the message is printed as is."""


def _config_path(args: argparse.Namespace) -> Path:
    return Path(args.config or os.environ.get("FEDCHIRP_CONFIG") or DEFAULT_CONFIG)


def _load(args: argparse.Namespace) -> Config:
    path = _config_path(args)
    if not path.exists():
        raise CliError(f"{path} does not exist; run `fedchirp init` first")
    return load_config(path)


async def _open_store(config: Config) -> Store:
    store = Store(config.database_url)
    await store.open()
    return store


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
    path = _config_path(args)
    new_config = not path.exists()
    config = load_config(path) if not new_config else _initial_config(args, path)
    store = await _open_store(config)
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
    if not _config_path(args).exists():
        asyncio.run(init(argparse.Namespace(**{**vars(args), "domain": None, "port": None})))
    run_web(_load(args), with_workers=True)
    return 0


def web_only(args: argparse.Namespace) -> int:
    run_web(_load(args), with_workers=False)
    return 0


def worker(args: argparse.Namespace) -> int:
    if args.concurrency is not None and args.concurrency < 1:
        raise CliError("--concurrency must be at least 1")
    run_worker(_load(args), args.concurrency)
    return 0


async def jobs(args: argparse.Namespace) -> int:
    """How many jobs wait, and the dead ones with their last error; then the remote hosts
    deliveries are failing to, and the unavailable ones (for admins)."""
    store = await _open_store(_load(args))
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


# -- user ---------------------------------------------------------------------


async def user_create(args: argparse.Namespace) -> int:
    config = _load(args)
    password = args.password or secrets.token_urlsafe(12)
    store = await _open_store(config)
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
    store = await _open_store(_load(args))
    try:
        users = await accounts.local_users(store)
    finally:
        await store.close()
    print(f"{'username':<30} {'admin':<5} {'disabled':<8} created")
    for account, user in users:
        admin, disabled = "yes" if user.is_admin else "no", "yes" if user.disabled else "no"
        print(f"{account.username:<30} {admin:<5} {disabled:<8} {user.created_at}")
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
    config = _load(args)
    password = _new_password(args)
    accounts.check_password(password)  # before asking the database anything
    store = await _open_store(config)
    try:
        account = await accounts.reset_password(store, args.username, password)
    finally:
        await store.close()
    print(f"password of {account.username} changed; signed out everywhere")
    if args.generate:
        print(f"password: {password}")
    return 0


def _user_change(change: str, done: str) -> Callable[[argparse.Namespace], Awaitable[int]]:
    """A command that changes one local user: disable, enable, promote, demote, delete."""

    async def run(args: argparse.Namespace) -> int:
        if change == "delete" and not args.yes:
            raise CliError(f"deleting {args.username} cannot be undone: add --yes")
        store = await _open_store(_load(args))
        try:
            if change in ("disable", "enable"):
                account = await accounts.set_disabled(store, args.username, change == "disable")
            elif change in ("promote", "demote"):
                account = await accounts.set_admin(store, args.username, change == "promote")
            else:
                account = await accounts.delete_local_account(store, args.username)
        finally:
            await store.close()
        print(f"{account.username} {done}")
        return 0

    return run


# -- migrate / demo -----------------------------------------------------------


async def migrate(args: argparse.Namespace) -> int:
    config = _load(args)
    store = await _open_store(config)  # opening applies pending migrations
    try:
        print(f"schema version {await store.schema_version()}")
    finally:
        await store.close()
    return 0


# -- db copy --------------------------------------------------------------------


async def db_copy(args: argparse.Namespace) -> int:
    """Copy the configured database into another (empty) one, e.g. SQLite to PostgreSQL."""
    config = _load(args)
    target_url = args.to
    if not target_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise CliError("--to must be a sqlite+aiosqlite:// or postgresql+asyncpg:// URL")
    if target_url == config.database_url:
        raise CliError("--to names the database the config already uses")
    source = await _open_store(config)
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
    print(f'to use it, set in {_config_path(args)}:\n[database]\nurl = "{shown}"')
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
