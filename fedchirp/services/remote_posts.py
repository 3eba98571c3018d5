"""Posts from other servers: kept when they arrive (or are fetched) and changed when
their author edits them. services/posting.py makes ours."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from fedchirp import html
from fedchirp.clock import to_iso, utcnow
from fedchirp.federation.vocab import Note
from fedchirp.services import (
    audience,
    conversations,
    emojis,
    history,
    link_cards,
    media,
    polls,
    streaming,
)
from fedchirp.services.context import Context
from fedchirp.services.notifications import notify
from fedchirp.services.posting import MAX_SPOILER
from fedchirp.store.models import Account, Status


async def store_remote_note(ctx: Context, note: Note, author: Account) -> Status | None:
    """Keep a remote post (already checked to come from its author). None if deleted."""
    if await ctx.store.is_tombstoned(note.id):
        return None
    existing = await ctx.store.get_status_by_uri(note.id)
    if existing is not None:
        return existing
    parent = await ctx.store.get_status_by_uri(note.in_reply_to) if note.in_reply_to else None
    recipients = await audience.local_recipients_of_remote(ctx, note)
    published = _published(note.published)
    # A domain blocked with reject_media: its attachments are not kept.
    attachments = [] if await ctx.domain_blocks.rejects_media(author.domain) else note.attachments
    async with ctx.store.atomic():
        await emojis.remember(ctx, note.emojis, author.domain)
        status = await ctx.store.insert_status(
            {
                "uri": note.id,
                "url": note.url,
                "account_id": author.id,
                "local": 0,
                "content": html.sanitize_capped(note.content),
                "spoiler_text": html.to_text(html.sanitize(note.summary))[:MAX_SPOILER],
                "sensitive": int(note.sensitive),
                "visibility": audience.visibility_from_addressing(
                    note.to, note.cc, author.followers_url, note.mentions
                ),
                "language": note.language,
                "in_reply_to_id": parent.id if parent else None,
                "in_reply_to_uri": note.in_reply_to,
                "in_reply_to_account_id": parent.account_id if parent else None,
                "created_at": to_iso(published),
            },
            published,
            recipients=[(account.id, mentioned) for account, mentioned in recipients],
            tags=note.hashtags,
            remote_media=media.remote_rows(attachments),
        )
        if note.poll is not None:
            await polls.store_remote(ctx, status, note.poll)
        mentioned = [a for a, mentioned in recipients if mentioned]
        await notify(ctx, mentioned, "mention", author, status)
        await conversations.file_status(ctx, status, note.mentions)
        await link_cards.queue_card(ctx, status)
        await streaming.announce(ctx, "status", status.id)
    return status


async def update_remote_note(ctx: Context, note: Note, status: Status) -> None:
    changed = {
        "content": html.sanitize_capped(note.content),
        "spoiler_text": html.to_text(html.sanitize(note.summary))[:MAX_SPOILER],
        "sensitive": note.sensitive,
    }
    edited_at = to_iso(note.updated or utcnow())
    async with ctx.store.atomic():
        if note.poll is not None and await polls.update_remote(ctx, status, note):
            return  # new counts only: the post itself is unchanged
        await history.record_edit(ctx, status, at=edited_at, **changed)
        await emojis.remember_for(ctx, note.emojis, status.account_id)
        await ctx.store.update_status(
            status.id, **changed | {"sensitive": int(note.sensitive)}, edited_at=edited_at
        )
        await ctx.store.replace_tags(status.id, note.hashtags)
        edited = dataclasses.replace(status, content=changed["content"])
        await link_cards.queue_card(ctx, edited, previous_content=status.content)
        await streaming.announce(ctx, "status.update", status.id)


def _published(moment: datetime | None) -> datetime:
    """A remote publication time, but never in the future (ids must not run ahead)."""
    now = utcnow()
    return now if moment is None or moment > now else moment
