"""What the inbox does with Follow, Accept and Reject (services/inbox.py dispatches)."""

from __future__ import annotations

from typing import Any

from fedchirp.federation.vocab import Activity
from fedchirp.services import follows
from fedchirp.services.accounts import local_account_by_uri
from fedchirp.services.context import Context
from fedchirp.store.models import Account, Follow


async def _follow_named_by(ctx: Context, activity: Activity, remote: Account) -> Follow | None:
    """The local->remote follow an Accept/Reject refers to, by id or by its embedded Follow."""
    if activity.object_id:
        found = await ctx.store.get_follow_by_uri(activity.object_id)
        if found is not None:
            return found
    if activity.object is not None:
        follower = await local_account_by_uri(ctx, activity.object.get("actor"))
        if follower is not None:
            return await ctx.store.get_follow(follower.id, remote.id)
    return None


async def on_follow(ctx: Context, activity: Activity, actor: Account, _: Any) -> str:
    target = await local_account_by_uri(ctx, activity.object_id)
    if target is None:
        return "Follow of an unknown account, ignored"
    await follows.receive_follow(ctx, actor, target, activity.id)
    return f"{actor.acct()} follows {target.username}"


async def on_accept(ctx: Context, activity: Activity, actor: Account, _: Any) -> str:
    follow = await _follow_named_by(ctx, activity, actor)
    if follow is None:
        return "Accept of an unknown follow, ignored"
    await follows.receive_accept(ctx, actor, follow)
    return f"{actor.acct()} accepted a follow"


async def on_reject(ctx: Context, activity: Activity, actor: Account, _: Any) -> str:
    follow = await _follow_named_by(ctx, activity, actor)
    if follow is None:
        return "Reject of an unknown follow, ignored"
    await follows.receive_reject(ctx, actor, follow)
    return f"{actor.acct()} rejected a follow"
