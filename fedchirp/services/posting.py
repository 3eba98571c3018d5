"""Posts: writing, editing and deleting local ones; taking in remote ones."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fedchirp import html
from fedchirp.clock import now_iso, utcnow
from fedchirp.federation import documents
from fedchirp.services import (
    audience,
    blocks,
    circles,
    conversations,
    emojis,
    history,
    link_cards,
    media,
    polls,
    streaming,
)
from fedchirp.services.accounts import resolve_account
from fedchirp.services.context import Context
from fedchirp.services.errors import Forbidden, Invalid, NotFound, ServiceError
from fedchirp.services.notifications import notify
from fedchirp.store.errors import DuplicateIdempotencyKey, MediaUnavailable
from fedchirp.store.models import Account, Status

LOCAL_VISIBILITIES = ("public", "unlisted", "private", "direct", "limited")
URL_LENGTH = 23  # every link counts as 23 characters, as on Mastodon
MAX_MENTIONS = 30
MAX_SPOILER = 500


def counted_length(text: str) -> int:
    """Length for the post limit: URLs count 23, remote mentions count only '@user'."""
    text = html.URL_RE.sub("x" * URL_LENGTH, text)
    text = html.MENTION_RE.sub(lambda m: f"@{m.group('user')}", text)
    return len(text)


@dataclass(frozen=True)
class Draft:
    """What a post will be, checked, before anything is written."""

    text: str
    visibility: str
    spoiler_text: str
    media_ids: list[int]
    circle_members: list[Account] | None
    poll: polls.PollDraft | None = None


async def check_draft(
    ctx: Context,
    author: Account,
    text: str,
    *,
    visibility: str | None = None,
    spoiler_text: str = "",
    language: str | None = None,
    circle_id: int | None = None,
    media_ids: Sequence[int] = (),
    poll: dict[str, Any] | None = None,
) -> Draft:
    """Every rule a new post must pass (also used before scheduling one)."""
    text = text.strip()
    poll_draft = polls.check_poll(poll, with_media=bool(media_ids))
    media_ids = await media.attachable(ctx, author, media_ids)
    _check_text(ctx, text, spoiler_text, allow_blank=bool(media_ids))
    visibility = visibility or ("limited" if circle_id is not None else "public")
    if visibility not in LOCAL_VISIBILITIES:
        raise Invalid(f"visibility must be one of {', '.join(LOCAL_VISIBILITIES)}")
    if language is not None and not re.fullmatch(r"[a-z]{2,3}", language):
        raise Invalid("language must be an ISO 639 code like 'en'")
    members = await _circle_audience(ctx, author, visibility, circle_id)
    if members is not None:
        visibility = "limited"
    return Draft(text, visibility, spoiler_text.strip(), media_ids, members, poll_draft)


async def create_status(
    ctx: Context,
    author: Account,
    text: str,
    *,
    visibility: str | None = None,
    spoiler_text: str = "",
    sensitive: bool = False,
    in_reply_to_id: int | None = None,
    language: str | None = None,
    circle_id: int | None = None,
    media_ids: Sequence[int] = (),
    poll: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    claim: Callable[[], Awaitable[None]] | None = None,
) -> Status:
    """Publish a local post and queue it for every remote inbox in its audience.

    With circle_id the post is "limited": addressed to that follower group's
    members (and anyone it mentions), nobody else. Visibility defaults to public,
    or to limited when a circle is given. A request repeated with the same
    idempotency_key returns the post the first one made. claim runs first in the
    post's unit of work: what it writes commits with the post, and if it raises,
    no post is written (a scheduled post takes its schedule entry so)."""
    if idempotency_key:
        earlier = await ctx.store.status_for_idempotency_key(author.id, idempotency_key)
        if earlier is not None:
            return earlier  # written with its deliveries in one unit, so nothing is missing
    draft = await check_draft(
        ctx,
        author,
        text,
        visibility=visibility,
        spoiler_text=spoiler_text,
        language=language,
        circle_id=circle_id,
        media_ids=media_ids,
        poll=poll,
    )
    parent = await _reply_target(ctx, author, in_reply_to_id)
    # Nobody is mentioned (addressed, notified, delivered to) across a block.
    named = await _resolve_mentions(ctx, draft.text)
    mentioned = await blocks.without_separated(ctx, author, named)
    if draft.visibility == "direct" and not mentioned:
        raise Invalid("a direct post must mention at least one account")
    mentioned_ids = {a.id for a in mentioned}
    group_only = [a for a in draft.circle_members or [] if a.id not in mentioned_ids]
    username = author.username
    try:
        async with ctx.store.atomic():  # the post, its mentions and its deliveries, or nothing
            if claim is not None:
                await claim()
            status = await ctx.store.insert_status(
                {
                    "account_id": author.id,
                    "local": 1,
                    "content": _render(ctx, draft.text, mentioned),
                    "source_text": draft.text,
                    "spoiler_text": draft.spoiler_text,
                    "sensitive": int(sensitive or bool(draft.spoiler_text)),
                    "visibility": draft.visibility,
                    "language": language,
                    "in_reply_to_id": parent.id if parent else None,
                    "in_reply_to_uri": parent.uri if parent else None,
                    "in_reply_to_account_id": parent.account_id if parent else None,
                    "circle_id": circle_id if draft.circle_members is not None else None,
                    "created_at": now_iso(),
                },
                utcnow(),
                recipients=[(a.id, True) for a in mentioned] + [(a.id, False) for a in group_only],
                tags=html.find_hashtags(draft.text),
                media_ids=draft.media_ids,
                idempotency_key=idempotency_key,
                uris_for=lambda sid: {
                    "uri": ctx.urls.status(username, sid),
                    "url": ctx.urls.status_page(username, sid),
                },
            )
            if draft.poll is not None:
                await polls.attach(ctx, status, draft.poll)
            await notify(ctx, mentioned, "mention", author, status)
            await conversations.file_status(ctx, status)
            await _federate_create(ctx, author, status)
            await link_cards.queue_card(ctx, status)
            await streaming.announce(ctx, "status", status.id)
    except MediaUnavailable as exc:  # attached elsewhere meanwhile
        raise Invalid(str(exc)) from exc
    except DuplicateIdempotencyKey:  # the same request, twice at once
        earlier = await ctx.store.status_for_idempotency_key(author.id, idempotency_key or "")
        assert earlier is not None
        return earlier
    return status


async def _federate_create(ctx: Context, author: Account, status: Status) -> None:
    """Queue the Create of a local post for every remote inbox in its audience."""
    recipients = await audience.status_recipients(ctx, status)
    note = await note_document(ctx, status, author, recipients)
    inboxes = await audience.status_inboxes(ctx, author, status, recipients.all)
    await ctx.delivery.enqueue(documents.create_activity(note), author, inboxes, status.id)


async def _circle_audience(
    ctx: Context, author: Account, visibility: str, circle_id: int | None
) -> list[Account] | None:
    """The members a circle post goes to, or None for a post that is not to a circle."""
    if circle_id is None:
        if visibility == "limited":
            raise Invalid("a limited post needs a circle_id (the follower group to post to)")
        return None
    if visibility not in ("limited", "private"):
        raise Invalid("a post to a follower group cannot also be public, unlisted or direct")
    members = await circles.members(ctx, author, circle_id)
    if not members:
        raise Invalid("this follower group has no members")
    return members


async def edit_status(
    ctx: Context, author: Account, status: Status, text: str, spoiler_text: str = ""
) -> Status:
    """Change a local post's text and send an Update to its audience."""
    _require_own(author, status)
    if status.reblog_of_id is not None:
        raise Invalid("a boost has no text to edit")
    text = text.strip()
    has_media = bool((await ctx.store.media_of([status.id]))[status.id])
    _check_text(ctx, text, spoiler_text, allow_blank=has_media)
    recipients = await audience.status_recipients(ctx, status)
    edited_at = now_iso()
    content = _render(ctx, text, recipients.all)
    async with ctx.store.atomic():
        await history.record_edit(
            ctx, status, content, spoiler_text.strip(), status.sensitive, edited_at
        )
        await ctx.store.update_status(
            status.id,
            content=content,
            source_text=text,
            spoiler_text=spoiler_text.strip(),
            edited_at=edited_at,
        )
        await ctx.store.replace_tags(status.id, html.find_hashtags(text))
        await streaming.announce(ctx, "status.update", status.id)
        updated = await ctx.store.get_status(status.id)
        assert updated is not None
        await link_cards.queue_card(ctx, updated, previous_content=status.content)
        note = await note_document(ctx, updated, author, recipients)
        inboxes = await audience.status_inboxes(ctx, author, updated, recipients.all)
        await ctx.delivery.enqueue(
            documents.update_activity(note, edited_at), author, inboxes, status.id
        )
    return updated


async def delete_status(ctx: Context, author: Account, status: Status) -> None:
    """Delete a local post and tell every server that received it (or a boost of it)."""
    _require_own(author, status)
    if status.reblog_of_id is not None:
        raise Invalid("this is a boost; undo it with unreblog")
    recipients = (await audience.status_recipients(ctx, status)).all
    addressing = audience.addressing_for(author, status.visibility, recipients)
    inboxes = await audience.status_inboxes(ctx, author, status, recipients)
    # Also every server the post was ever sent to or that acted on it (removed group
    # members, former followers): they hold a copy that should go too.
    inboxes |= await ctx.store.outbound_inboxes(documents.create_activity_id(status.uri))
    inboxes |= await ctx.store.remote_interactor_inboxes(status.id)
    uploads = (await ctx.store.media_of([status.id]))[status.id]
    async with ctx.store.atomic():
        await ctx.store.delete_status(status)
        await ctx.delivery.enqueue(
            documents.delete_activity(status, author, addressing), author, inboxes
        )
        await streaming.announce(ctx, "delete", status.id)
    await media.remove_files(ctx, uploads)


async def note_document(
    ctx: Context, status: Status, author: Account, recipients: audience.Recipients | None = None
) -> dict[str, Any]:
    """A local status as the Note other servers receive (recipients: if already read)."""
    recipients = recipients or await audience.status_recipients(ctx, status)
    tags = (await ctx.store.tags_of([status.id]))[status.id]
    hashtags = [(tag, ctx.urls.tag(tag)) for tag in tags]
    attachments = [
        documents.attachment_document(
            media.url_of(ctx, m.file_name) or m.remote_url or "",
            m.mime_type,
            m.description,
            m.blurhash,
            (m.width, m.height),
            (m.focus_x, m.focus_y),
        )
        for m in (await ctx.store.media_of([status.id]))[status.id]
    ]
    note = documents.note_document(
        status,
        author,
        audience.addressing_for(author, status.visibility, recipients.all),
        recipients.mentioned,
        status.in_reply_to_uri,
        hashtags,
        attachments,
    )
    note["tag"] += await emojis.note_tags(ctx, status.source_text, status.spoiler_text)
    return await polls.question(ctx, status, note)


def _check_text(ctx: Context, text: str, spoiler_text: str, allow_blank: bool = False) -> None:
    if not text and not allow_blank:
        raise Invalid("text can't be blank")
    limit = ctx.config.posts.max_chars
    if counted_length(text) + len(spoiler_text) > limit:
        raise Invalid(f"text is longer than {limit} characters")
    if len(spoiler_text) > MAX_SPOILER:
        raise Invalid(f"spoiler_text is longer than {MAX_SPOILER} characters")


def _require_own(author: Account, status: Status) -> None:
    if status.account_id != author.id:
        raise Forbidden("this is not your post")


async def _reply_target(ctx: Context, author: Account, status_id: int | None) -> Status | None:
    if status_id is None:
        return None
    parent = await ctx.store.get_status(status_id)
    if parent is None or not await audience.can_see(ctx, author, parent):
        raise NotFound("the post you reply to does not exist")
    if parent.reblog_of_id is not None:
        raise Invalid("reply to the boosted post, not to the boost")
    return parent


async def _resolve_mentions(ctx: Context, text: str) -> list[Account]:
    """Accounts named by @mentions that we can find; unknown names stay plain text."""
    found: dict[int, Account] = {}
    for user, host in html.find_mentions(text)[:MAX_MENTIONS]:
        handle = f"{user}@{host}" if host else user
        try:
            account = await resolve_account(ctx, handle)
        except ServiceError:
            continue
        found.setdefault(account.id, account)
    return list(found.values())


async def render_text(ctx: Context, text: str) -> str:
    """Typed text as post HTML (links, mentions we can find, hashtags): bios use it too."""
    return _render(ctx, text, await _resolve_mentions(ctx, text))


def _render(ctx: Context, text: str, mentioned: list[Account]) -> str:
    by_handle = {}
    for account in mentioned:
        by_handle[(account.username.lower(), account.domain or None)] = account
        if account.is_local:
            by_handle[(account.username.lower(), ctx.config.server.domain.lower())] = account

    def mention_link(user: str, host: str | None) -> tuple[str, str] | None:
        account = by_handle.get((user.lower(), host))
        return (account.url or account.uri, account.username) if account else None

    return html.render_plain_text(text, mention_link, ctx.urls.tag)


# -- remote posts -------------------------------------------------------------
