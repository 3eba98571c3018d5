"""Conversation threads: the posts above and below a post that a viewer may see."""

from __future__ import annotations

from fedchirp.services import audience
from fedchirp.services.context import Context
from fedchirp.store.models import Account, Status

MAX_ANCESTORS = 40
MAX_DESCENDANTS = 200


async def context(
    ctx: Context, viewer: Account | None, status: Status
) -> tuple[list[Status], list[Status]]:
    """(ancestors oldest first, descendants in reply order), visible ones only."""
    ancestors: list[Status] = []
    parent_id = status.in_reply_to_id
    while parent_id is not None and len(ancestors) < MAX_ANCESTORS:
        parent = await ctx.store.get_status(parent_id)
        if parent is None:
            break
        ancestors.append(parent)
        parent_id = parent.in_reply_to_id
    ancestors.reverse()

    descendants: list[Status] = []
    frontier = [status.id]
    while frontier and len(descendants) < MAX_DESCENDANTS:
        children = await ctx.store.replies_to(frontier)
        descendants.extend(children)
        frontier = [c.id for c in children]
    return (
        await audience.visible_only(ctx, viewer, ancestors),
        await audience.visible_only(ctx, viewer, descendants[:MAX_DESCENDANTS]),
    )
