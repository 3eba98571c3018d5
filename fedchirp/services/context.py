"""What every service function gets: the instance's config and its shared parts."""

from __future__ import annotations

from dataclasses import dataclass

from fedchirp.config import Config
from fedchirp.federation.delivery import DeliveryQueue
from fedchirp.federation.http import HttpClient
from fedchirp.federation.resolver import Resolver
from fedchirp.store import Store
from fedchirp.urls import Urls


@dataclass
class Context:
    config: Config
    store: Store
    urls: Urls
    http: HttpClient
    resolver: Resolver
    delivery: DeliveryQueue
