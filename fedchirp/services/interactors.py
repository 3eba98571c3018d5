"""Who liked or boosted a post (/api/v1/statuses/:id/favourited_by, /reblogged_by), as
the viewer may see them: only of a post they may see, without suspended accounts or
accounts a block keeps apart from them."""

from __future__ import annotations

from fedchirp.services import blocks, moderation, timelines
from fedchirp.services.context import Context
from fedchirp.store.models import Account, Page


async def of_status(
    ctx: Context, viewer: Account | None, status_id: int, boosts: bool, page: Page
) -> tuple[list[int], list[Account]]:
    """(the page's positions, for paging; the accounts shown) of those who liked the
    post, or with boosts of those who boosted it, newest first."""
    status = await timelines.visible_status(ctx, viewer, status_id)
    read = ctx.store.interactor_reblogs_page if boosts else ctx.store.interactor_favourites_page
    found = await read(status.id, page)
    shown = [account for _, account in found if not moderation.is_suspended(account)]
    if viewer is not None:
        kept = {a.id for a in await blocks.without_separated(ctx, viewer, shown)}
        shown = [account for account in shown if account.id in kept]
    return [position for position, _ in found], shown
