"""The jobs of polls: result updates of our polls, and the end of any poll.

An update job sends the poll's Update(Question), with the counts as they are when
it runs, to the post's audience and to every remote account that voted. The close
job of a local poll marks it closed, sends the final Update(Question) and tells
the author and the local voters (notification "poll"); that of a remote poll only
tells our voters (its author's server closes it for everyone else).
"""

from __future__ import annotations

from typing import Any

from fedchirp.clock import now_iso
from fedchirp.federation import documents
from fedchirp.services import audience, polls, posting, streaming
from fedchirp.services.context import Context
from fedchirp.store.models import Account, Status


def register_jobs(ctx: Context) -> None:
    ctx.jobs.register(polls.UPDATE_QUEUE, lambda payload: send_update(ctx, payload))
    ctx.jobs.register(polls.CLOSE_QUEUE, lambda payload: close(ctx, payload))


async def _poll_post(ctx: Context, payload: dict[str, Any]) -> tuple[Status, Account] | None:
    status = await ctx.store.get_status(payload["status_id"])
    if status is None or await ctx.store.get_poll(status.id) is None:
        return None  # deleted meanwhile
    author = await ctx.store.get_account(status.account_id)
    return (status, author) if author is not None else None


async def send_update(ctx: Context, payload: dict[str, Any]) -> None:
    found = await _poll_post(ctx, payload)
    if found is None or not found[0].local:
        return
    poll = await ctx.store.get_poll(found[0].id)
    if poll is not None and not poll.closed_at:  # closing sent the final counts
        await _federate_update(ctx, *found)


async def _federate_update(ctx: Context, status: Status, author: Account) -> None:
    recipients = await audience.status_recipients(ctx, status)
    note = await posting.note_document(ctx, status, author, recipients)
    inboxes = await audience.status_inboxes(ctx, author, status, recipients.all)
    voters = await ctx.store.get_accounts(await ctx.store.poll_voter_ids(status.id))
    inboxes |= {a.delivery_inbox for a in voters.values() if not a.is_local}
    # No "updated": the post was not edited, only its counts changed (Mastodon reads
    # an Update(Question) without it so).
    sent_at = now_iso()
    update = documents.activity(
        "Update",
        f"{status.uri}#poll/{sent_at}",
        author.uri,
        documents.strip_context(note),
        to=note["to"],
        cc=note["cc"],
    )
    await ctx.delivery.enqueue(update, author, inboxes, status.id)


async def close(ctx: Context, payload: dict[str, Any]) -> None:
    found = await _poll_post(ctx, payload)
    if found is None:
        return
    status, author = found
    poll = await ctx.store.get_poll(status.id)
    if poll is None or (status.local and poll.closed_at):
        return  # a second run
    voters = await ctx.store.get_accounts(await ctx.store.poll_voter_ids(status.id))
    told = [a for a in voters.values() if a.is_local]
    async with ctx.store.atomic():
        if status.local:
            await ctx.store.update_poll(status.id, closed_at=now_iso())
            await _federate_update(ctx, status, author)
            if author.id not in voters:
                told.append(author)
        await ctx.store.insert_notifications([(a.id, "poll", author.id, status.id) for a in told])
        for account in told:
            await streaming.announce(ctx, "notification", account.id)
        await streaming.announce(ctx, "status.update", status.id)
