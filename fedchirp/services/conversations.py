"""Conversations, as Mastodon keeps them: each local user's direct-message threads.

A direct post is filed, in its unit, in the conversation of every local account in it
(its author, if local, and its local recipients), keyed as on Mastodon by the thread
(its root post) and the other accounts in the post. A post received marks the
conversation unread; one's own post marks it read. Reading goes through the one
visibility rule (store/conversations.py), so blocks, mutes and moderation apply.
Each filing is announced to the owner's `direct` stream.
"""

from __future__ import annotations

from collections.abc import Iterable

from fedchirp.services import audience, streaming
from fedchirp.services.context import Context
from fedchirp.services.errors import NotFound
from fedchirp.store.conversations import Conversation
from fedchirp.store.models import Account, Page, Status

MAX_ANCESTORS = 40  # as far up a thread as its root is looked for


async def file_status(ctx: Context, status: Status, mentions: Iterable[str] = ()) -> None:
    """File a direct post in its local accounts' conversations. mentions: the uris a
    remote post mentions (only its local recipients are stored; the others, if known
    here, are participants too, as on the sender's server)."""
    if status.visibility != "direct" or status.reblog_of_id is not None:
        return
    addressed = {account_id for account_id, _ in await ctx.store.status_recipients(status.id)}
    in_it = {status.account_id, *addressed}
    everyone = in_it | set(await _known_accounts(ctx, mentions))
    accounts = await ctx.store.get_accounts(in_it)
    owners = [account for account in accounts.values() if account.is_local]
    root = await _thread_root(ctx, status)
    for owner in owners:
        if not await audience.can_see(ctx, owner, status):  # a block since, say
            continue
        conversation_id = await ctx.store.conversation_add_status(
            owner.id,
            root,
            sorted(everyone - {owner.id}),
            status.id,
            unread=owner.id != status.account_id,
        )
        await streaming.announce(ctx, "conversation", conversation_id)


async def _known_accounts(ctx: Context, uris: Iterable[str]) -> list[int]:
    """Ids of the accounts already known here by these uris (nothing is fetched)."""
    found = [await ctx.store.get_account_by_uri(uri) for uri in dict.fromkeys(uris)]
    return [account.id for account in found if account is not None]


async def _thread_root(ctx: Context, status: Status) -> int:
    """The id of the thread's root: the first post up the reply chain that a
    conversation already names a root for, else the topmost post known here."""
    current = status
    for _ in range(MAX_ANCESTORS):
        if current.in_reply_to_id is None:
            break
        parent = await ctx.store.get_status(current.in_reply_to_id)
        if parent is None:
            break
        known = await ctx.store.conversation_root_among([parent.id])
        if known is not None:
            return known
        current = parent
    return current.id


async def page(ctx: Context, viewer: Account, wanted: Page) -> list[Conversation]:
    return await ctx.store.conversation_page(viewer.id, wanted)


async def mark_read(ctx: Context, viewer: Account, conversation_id: int) -> Conversation:
    if not await ctx.store.conversation_mark_read(viewer.id, conversation_id):
        raise NotFound("Record not found")
    found = await ctx.store.conversation_of(viewer.id, conversation_id)
    assert found is not None
    return found


async def remove(ctx: Context, viewer: Account, conversation_id: int) -> None:
    """Remove a conversation for the viewer only; a new post in it starts it again."""
    if not await ctx.store.conversation_delete(viewer.id, conversation_id):
        raise NotFound("Record not found")
