"""The processes an instance runs as: one that does everything, or web and workers apart.

- `fedchirp serve`: web and workers in one process (the one-command default, SQLite).
- `fedchirp web`: answers requests only; several can share one port (SO_REUSEPORT).
- `fedchirp worker --concurrency N`: applies incoming activities, delivers, publishes
  scheduled posts; any number, on any machine that reaches the database.

Web processes queue work in the database and workers claim it there (services/jobs.py,
federation/delivery.py), so any mix of them shares one PostgreSQL database. On SIGTERM
a worker stops claiming and gives back the jobs it holds; a web process finishes the
requests in hand (aiohttp's graceful shutdown).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from aiohttp import web

from fedchirp import __version__
from fedchirp.app import background_workers, create_app, instance_context
from fedchirp.config import Config, replace
from fedchirp.web import access_log

log = logging.getLogger(__name__)


# How long a thread may hold the GIL while another waits for it (Python's default is
# 5 ms). The event loop hands work to threads (the SQLite writer's group commit, RSA
# signing) and waits for the answer; with the default, a busy loop kept such a thread
# waiting up to 5 ms for each hand-off, and every request waiting for that commit with it.
GIL_SWITCH_SECONDS = 0.0005


def setup_process() -> None:
    """What every FedChirp process sets first: logging, and quick GIL hand-offs."""
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def run_web(config: Config, with_workers: bool) -> None:
    """Serve HTTP until stopped; with_workers also runs the background workers."""
    setup_process()
    role = "serving" if with_workers else "serving (web only)"
    print(
        f"FedChirp {__version__} {role} {config.base_url} "
        f"on http://{config.server.listen_host}:{config.server.listen_port}"
    )
    app = create_app(config, run_workers=with_workers)
    app.on_cleanup.append(_flush_access_log)
    web.run_app(
        app,
        host=config.server.listen_host,
        port=config.server.listen_port,
        reuse_port=not with_workers,
        access_log_class=access_log.BatchedAccessLogger,
        print=None,
    )


async def _flush_access_log(_app: web.Application) -> None:
    access_log.flush()


def run_worker(config: Config, concurrency: int | None) -> None:
    """Run the background workers until SIGTERM or SIGINT."""
    setup_process()
    if concurrency is not None:
        config = replace(config, jobs={"concurrency": concurrency})
    print(f"FedChirp {__version__} worker for {config.base_url}, {config.jobs.concurrency} jobs")
    asyncio.run(_work(config))


async def _work(config: Config) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with instance_context(config) as ctx, background_workers(ctx):
        log.info("working: up to %d jobs and %d deliveries at once",
                 config.jobs.concurrency, config.delivery.concurrency)  # fmt: skip
        await stop.wait()
        log.info("stopping: giving back claimed jobs")
