"""Refreshing cached remote actors in the background, as jobs.

The resolver (federation/resolver.py) returns a stale actor from the cache at once
and asks for a refresh here. The job is keyed by the actor's id, so an actor read
by many requests, in many processes, is fetched once. A server that cannot be
reached just now is tried again with backoff. A permanent failure (gone, no longer
an actor, refused) is logged and the job ends: the cached record stays, it is still
the best we know. A refresh out of attempts is dropped rather than kept dead, since a
dead job would hold the actor's key and no later stale read could queue another.
"""

from __future__ import annotations

import logging
from typing import Any

from fedchirp.federation.resolver import ResolveError
from fedchirp.services import featured_tags
from fedchirp.services.context import Context
from fedchirp.services.jobs import Retry

log = logging.getLogger(__name__)

ACTOR_REFRESH_QUEUE = "actor.refresh"
ACTOR_REFRESH_RETRY = Retry(base_seconds=60.0, max_seconds=3600.0, attempts=6)


def register_jobs(ctx: Context) -> None:
    """Run actor refreshes as jobs, and have the resolver queue them."""
    ctx.jobs.register(
        ACTOR_REFRESH_QUEUE,
        lambda payload: refresh_actor(ctx, payload),
        ACTOR_REFRESH_RETRY,
        keep_dead=False,
    )
    ctx.resolver.queue_refresh = lambda uri: queue_actor_refresh(ctx, uri)


async def queue_actor_refresh(ctx: Context, uri: str) -> None:
    """Queue a refresh of the actor (dropped if one is queued already)."""
    await ctx.jobs.enqueue(ACTOR_REFRESH_QUEUE, uri, {"uri": uri})


async def refresh_actor(ctx: Context, payload: dict[str, Any]) -> None:
    """The job: fetch the actor again and store what its server says now."""
    uri = payload["uri"]
    try:
        account, actor = await ctx.resolver.fetch_actor(uri)
    except ResolveError as exc:
        if exc.transient:
            raise  # tried again with backoff
        log.info("refresh of %s failed, cached record kept: %s", uri, exc)
        return
    await featured_tags.refresh_remote(ctx, account, actor.featured_tags)
    log.info("refreshed actor %s", account.uri)
