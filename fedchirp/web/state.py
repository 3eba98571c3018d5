"""Typed application state shared by the handlers."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from fedchirp.config import Config
from fedchirp.federation.vocab import Activity
from fedchirp.services.context import Context

CONFIG = web.AppKey("config", Config)
CTX = web.AppKey("ctx", Context)
# Called with (activity, outcome) for every accepted inbox activity; the demo prints them.
ActivityObserver = Callable[[Activity, str], None]
ACTIVITY_OBSERVERS = web.AppKey("activity_observers", list[ActivityObserver])


def ctx_of(request: web.Request) -> Context:
    return request.app[CTX]
