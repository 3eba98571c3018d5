"""What every service function gets: the instance's config and its shared parts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fedchirp.config import Config
from fedchirp.federation.delivery import DeliveryQueue
from fedchirp.federation.domain_blocks import DomainBlockCache
from fedchirp.federation.http import HttpClient
from fedchirp.federation.resolver import Resolver
from fedchirp.federation.vocab import Activity
from fedchirp.media_storage import MediaStorage
from fedchirp.services.jobs import Jobs
from fedchirp.store import Store
from fedchirp.urls import Urls

if TYPE_CHECKING:
    from fedchirp.services.streaming import StreamHub


@dataclass
class Context:
    config: Config
    store: Store
    urls: Urls
    http: HttpClient
    resolver: Resolver
    delivery: DeliveryQueue
    jobs: Jobs
    media_storage: MediaStorage
    # Told (activity, outcome) of every incoming activity once applied; the demo prints them.
    observers: list[Callable[[Activity, str], None]] = field(default_factory=list)

    @property
    def domain_blocks(self) -> DomainBlockCache:
        """The instance's domain blocks as this process knows them (one copy, shared by
        the resolver and the delivery queue)."""
        return self.resolver.domain_blocks

    # This process's live subscribers (/api/v1/streaming).
    streams: StreamHub = field(default_factory=lambda: _new_stream_hub())


def _new_stream_hub() -> StreamHub:
    from fedchirp.services.streaming import StreamHub  # it needs this module: import late

    return StreamHub()
