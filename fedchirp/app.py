"""Builds the aiohttp Application: store, keys, HTTP client, routes, delivery worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from fedchirp.config import Config
from fedchirp.federation.delivery import DeliveryQueue
from fedchirp.federation.http import HttpClient
from fedchirp.federation.resolver import Resolver
from fedchirp.media_storage import open_media_storage
from fedchirp.services import (
    inbox,
    link_cards,
    poll_jobs,
    push_delivery,
    refreshes,
    relme,
    scheduling,
    timelines,
)
from fedchirp.services.accounts import instance_signer
from fedchirp.services.context import Context
from fedchirp.services.jobs import Jobs
from fedchirp.store import Store
from fedchirp.store.signals import WORK_CHANNEL, WorkSignal
from fedchirp.urls import Urls
from fedchirp.web import activitypub, media, wellknown
from fedchirp.web.api import ROUTE_TABLES as API_ROUTE_TABLES
from fedchirp.web.api.streaming import listening, setup_streaming
from fedchirp.web.errors import Handler, error_middleware, frame_guard_middleware
from fedchirp.web.pages import ROUTE_TABLES as PAGE_ROUTE_TABLES
from fedchirp.web.pages import setup_templates
from fedchirp.web.pages.refusals import route_limits_middleware
from fedchirp.web.ratelimit import rate_limits_context
from fedchirp.web.state import ACTIVITY_OBSERVERS, CONFIG, CTX, ActivityObserver

log = logging.getLogger(__name__)


def create_app(config: Config, run_workers: bool = True) -> web.Application:
    """The web application; with run_workers it also runs the background workers
    (`fedchirp serve`), without them it only answers requests (`fedchirp web`)."""
    # With workers in this process, they yield to requests (services/jobs.py).
    counting = [_count_in_flight] if run_workers else []
    app = web.Application(
        client_max_size=config.server.max_request_bytes,
        middlewares=[
            *counting,
            frame_guard_middleware,
            error_middleware,
            # Mastodon answers /oauth/authorize/ as /oauth/authorize (toot's login uses it):
            # a path that matches nothing is sent, with a 308, to itself without the slash.
            web.normalize_path_middleware(append_slash=False, remove_slash=True),
            route_limits_middleware,
            _upload_size,
        ],
    )
    app[CONFIG] = config
    app[ACTIVITY_OBSERVERS] = []
    app.cleanup_ctx.append(_services(run_workers))
    app.cleanup_ctx.append(rate_limits_context)
    app.add_routes(wellknown.routes)
    app.add_routes(activitypub.routes)
    for table in API_ROUTE_TABLES:
        app.add_routes(table)
    setup_templates(app)
    setup_streaming(app)
    for table in PAGE_ROUTE_TABLES:
        app.add_routes(table)
    if config.media.backend == "local":
        config.media_dir.mkdir(parents=True, exist_ok=True)
        app.router.add_static("/media", config.media_dir, append_version=False)
    else:
        # Read from the bucket: any web process can serve any upload, and links already
        # sent to other servers keep working after s3_public_url is set.
        app.add_routes(media.routes)
    return app


# Routes that take a picture: their bodies may be as large as media.max_upload_bytes plus
# the other form fields (at most server.max_request_bytes). Every other route keeps
# server.max_request_bytes, which aiohttp enforces (413) as it reads the body.
UPLOAD_ROUTES = frozenset(
    {
        "/api/v1/media",
        "/api/v2/media",
        "/compose",
        "/api/v1/accounts/update_credentials",
        "/settings/profile",
    }
)


@web.middleware
async def _upload_size(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method in ("POST", "PATCH") and request.path in UPLOAD_ROUTES:
        config = request.app[CONFIG]
        limit = config.media.max_upload_bytes + config.server.max_request_bytes
        request = request.clone(client_max_size=max(limit, request.client_max_size))
    return await handler(request)


@web.middleware
async def _count_in_flight(request: web.Request, handler: Handler) -> web.StreamResponse:
    in_flight = request.app[CTX].jobs.requests
    in_flight.count += 1
    try:
        return await handler(request)
    finally:
        in_flight.ended()


def _services(run_workers: bool) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        async with instance_context(app[CONFIG], app[ACTIVITY_OBSERVERS]) as ctx:
            app[CTX] = ctx
            async with listening(ctx), background_workers(ctx, run_workers):
                yield

    return lifecycle


@contextlib.asynccontextmanager
async def instance_context(
    config: Config, observers: list[ActivityObserver] | None = None
) -> AsyncIterator[Context]:
    """Everything a web or worker process shares: store, HTTP client, resolver, queues,
    media storage."""
    store = Store(config.database_url)
    await store.open()
    http = HttpClient.create(config)
    work_signal = WorkSignal(store)  # wakes the worker processes when work is queued
    try:
        urls = Urls(config.base_url)
        signer, _ = await instance_signer(store, urls)
        resolver = Resolver(config, store, http, signer)
        delivery = DeliveryQueue(
            config,
            store,
            http,
            instance_signer=signer,
            domain_blocks=resolver.domain_blocks,
            announce=work_signal.queued,
        )
        settings = config.jobs
        jobs = Jobs(
            store,
            settings.concurrency,
            settings.lease_seconds,
            settings.poll_seconds,
            announce=work_signal.queued,
        )
        async with open_media_storage(config) as media_storage:
            ctx = Context(
                config,
                store,
                urls,
                http,
                resolver,
                delivery,
                jobs,
                media_storage,
                [] if observers is None else observers,
            )
            inbox.register_jobs(ctx)
            scheduling.register_jobs(ctx)
            poll_jobs.register_jobs(ctx)
            refreshes.register_jobs(ctx)  # and the resolver queues stale actors' refreshes
            relme.register_jobs(ctx)
            link_cards.register_jobs(ctx)
            push_delivery.register_jobs(ctx)
            yield ctx
    finally:
        await work_signal.close()
        await http.close()
        await store.close()


@contextlib.asynccontextmanager
async def background_workers(ctx: Context, run: bool = True) -> AsyncIterator[None]:
    """Run the workers (jobs, scheduled posts among them; deliveries; feed trims) while
    inside; on the way out they stop and give back what they had claimed."""
    workers = []
    stop_listening = None
    if run:
        workers = [
            asyncio.create_task(ctx.jobs.run_forever()),
            asyncio.create_task(ctx.delivery.run_forever()),
            asyncio.create_task(timelines.trim_forever(ctx)),
        ]
        if ctx.store.signals_between_processes:  # work queued by other processes
            stop_listening = await ctx.store.listen(WORK_CHANNEL, lambda _: _wake_workers(ctx))
    try:
        yield
    finally:
        if stop_listening is not None:
            await stop_listening()
        for worker in workers:
            worker.cancel()
        for worker in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker


def _wake_workers(ctx: Context) -> None:
    ctx.jobs.wake()
    ctx.delivery.wake()
