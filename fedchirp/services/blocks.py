"""Blocks: a user shuts another account out, here and on its server.

A block (either way) severs the follows between the two, and the one visibility
predicate (store/visibility.py) then hides each from the other on every read path;
fan-out, notifications, follows and deliveries check it too. Ours go out as Block
(Undo Block to lift it) to the blocked account's own inbox, like Mastodon's; theirs
come in through the inbox dispatcher (services/inbox.py).
"""

from __future__ import annotations

import secrets

from fedchirp.federation import documents
from fedchirp.federation.vocab import Activity
from fedchirp.services import follows
from fedchirp.services.context import Context
from fedchirp.services.errors import Invalid
from fedchirp.store.models import Account


async def block(ctx: Context, blocker: Account, target: Account) -> None:
    """blocker (local) blocks target: follows both ways end, and a remote target's
    server is sent Block."""
    if blocker.id == target.id:
        raise Invalid("you cannot block yourself")
    if await ctx.store.get_block(blocker.id, target.id) is not None:
        return
    uri = ctx.urls.activity(blocker.username, "blocks", secrets.token_hex(8))
    async with ctx.store.atomic():
        if await ctx.store.insert_block(blocker.id, target.id, uri) is None:
            return
        await sever(ctx, blocker, target)
        if not target.is_local:
            activity = documents.block_activity(uri, blocker, target)
            await ctx.delivery.enqueue(activity, blocker, [target.inbox_url])


async def unblock(ctx: Context, blocker: Account, target: Account) -> None:
    """Lift a block; a remote target's server is sent Undo(Block). Follows stay ended."""
    existing = await ctx.store.get_block(blocker.id, target.id)
    if existing is None:
        return
    async with ctx.store.atomic():
        await ctx.store.delete_block(existing.id)
        if not target.is_local:
            undo = documents.undo_activity(
                blocker, documents.block_activity(existing.uri, blocker, target)
            )
            await ctx.delivery.enqueue(undo, blocker, [target.inbox_url])


async def sever(ctx: Context, local: Account, other: Account) -> None:
    """End the follows (and requests) between a local account and another, both ways:
    the local one's follow is undone (Undo Follow to a remote followee), the other's is
    removed (Reject Follow to a remote follower, so its server drops it too)."""
    await follows.unfollow(ctx, local, other)
    await follows.remove_follower(ctx, local, other)


async def without_separated(ctx: Context, viewer: Account, others: list[Account]) -> list[Account]:
    """The others, less those a block (either way) or a domain block of viewer's keeps
    apart from viewer."""
    hidden = await ctx.store.hidden_accounts(viewer.id, (a.id for a in others))
    return [a for a in others if a.id not in hidden]


# -- incoming -----------------------------------------------------------------


async def on_block(ctx: Context, activity: Activity, actor: Account, _: object) -> str:
    """A remote account blocks a local one: record it (so the local one sees blocked_by
    and neither sees the other) and end the follows between them."""
    target = await _local_account(ctx, activity.object_id)
    if target is None:
        return "Block of an unknown account, ignored"
    if await ctx.store.insert_block(actor.id, target.id, activity.id) is not None:
        follow = await ctx.store.get_follow(actor.id, target.id)
        if follow is not None:  # they ended it on their side already: no Reject needed
            await ctx.store.delete_follow(follow.id)
        await follows.unfollow(ctx, target, actor)
    return f"{actor.acct()} blocked {target.username}"


async def receive_undo_block(
    ctx: Context, actor: Account, uri: str | None, target_uri: str | None
) -> str:
    """Undo(Block): by the Block's id, or by the pair when the id is unknown here."""
    found = await ctx.store.get_block_by_uri(uri) if uri else None
    if found is None:
        target = await _local_account(ctx, target_uri)
        found = await ctx.store.get_block(actor.id, target.id) if target is not None else None
    if found is None or found.account_id != actor.id:
        return "Undo of an unknown block, ignored"
    await ctx.store.delete_block(found.id)
    return f"{actor.acct()} unblocked someone"


async def _local_account(ctx: Context, uri: str | None) -> Account | None:
    if uri is None or not ctx.urls.is_local(uri):
        return None
    account = await ctx.store.get_account_by_uri(uri)
    return account if account is not None and account.is_local else None
