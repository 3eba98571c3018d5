"""A local account deleting itself (from the settings page, or `fedchirp user delete`).

Delete(actor) is queued to every server that knew the account (the inboxes of its
remote followers and of those it follows) in the same unit of work that erases its
data, so the activity is on its way before the data goes and neither happens without
the other. The activity names only the actor id, so it needs none of what is erased.

The account and user rows stay: the name stays taken (a new account of that name would
have another key, and other servers would take it for the old one), and the private key
keeps signing the Delete until every server has it. The actor id is a tombstone, so the
actor, profile and WebFinger answer as for nobody.
"""

from __future__ import annotations

from fedchirp.federation.documents import actor_delete_activity
from fedchirp.services.context import Context
from fedchirp.services.errors import NotFound
from fedchirp.store.models import Account

# The profile columns of an erased account.
BLANK_PROFILE = {
    "display_name": "",
    "note": "",
    "avatar_url": "",
    "header_url": "",
    "fields": "[]",
    "discoverable": 0,
}


async def delete_local_account(ctx: Context, account: Account) -> int:
    """Federate the deletion and erase the account's data; return how many inboxes
    the Delete was queued for."""
    user = await ctx.store.get_local_user(account.id)
    if user is None or not account.is_local or await ctx.store.is_account_deleted(account):
        raise NotFound(f"no local account {account.username!r}")
    files = await ctx.store.local_media_names(account.id)
    files += [name for name in (user.avatar_file, user.header_file) if name]
    async with ctx.store.atomic():
        inboxes = await ctx.store.known_inboxes(account.id)
        queued = await ctx.delivery.enqueue(actor_delete_activity(account), account, inboxes)
        await ctx.store.erase_local_account(account, BLANK_PROFILE)
    for name in files:
        await ctx.media_storage.delete(name)
    return queued
