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
from fedchirp.services import scheduling, timelines
from fedchirp.services.accounts import instance_signer
from fedchirp.services.context import Context
from fedchirp.store import Store
from fedchirp.urls import Urls
from fedchirp.web import activitypub, wellknown
from fedchirp.web.api import ROUTE_TABLES as API_ROUTE_TABLES
from fedchirp.web.errors import error_middleware, frame_guard_middleware
from fedchirp.web.pages import ROUTE_TABLES as PAGE_ROUTE_TABLES
from fedchirp.web.pages import setup_templates
from fedchirp.web.state import ACTIVITY_OBSERVERS, CONFIG, CTX

log = logging.getLogger(__name__)


def create_app(config: Config, run_delivery_worker: bool = True) -> web.Application:
    app = web.Application(
        client_max_size=config.server.max_request_bytes,
        middlewares=[frame_guard_middleware, error_middleware],
    )
    app[CONFIG] = config
    app[ACTIVITY_OBSERVERS] = []
    app.cleanup_ctx.append(_services(run_delivery_worker))
    app.add_routes(wellknown.routes)
    app.add_routes(activitypub.routes)
    for table in API_ROUTE_TABLES:
        app.add_routes(table)
    setup_templates(app)
    for table in PAGE_ROUTE_TABLES:
        app.add_routes(table)
    config.media_dir.mkdir(parents=True, exist_ok=True)
    app.router.add_static("/media", config.media_dir, append_version=False)
    return app


def _services(run_delivery_worker: bool) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        config = app[CONFIG]
        store = Store(config.database_url)
        await store.open()
        http = HttpClient.create(config)
        urls = Urls(config.base_url)
        signer, _ = await instance_signer(store, urls)
        resolver = Resolver(config, store, http, signer)
        delivery = DeliveryQueue(config, store, http)
        ctx = Context(config, store, urls, http, resolver, delivery)
        app[CTX] = ctx
        workers = [
            asyncio.create_task(scheduling.run_forever(ctx)),
            asyncio.create_task(timelines.trim_forever(ctx)),
        ]
        if run_delivery_worker:
            workers.append(asyncio.create_task(delivery.run_forever()))
        try:
            yield
        finally:
            for worker in workers:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
            await http.close()
            await store.close()

    return lifecycle
