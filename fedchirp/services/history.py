"""Edit history of posts (Mastodon's StatusEdit list) and the source of one's own."""

from __future__ import annotations

from fedchirp.services.context import Context
from fedchirp.services.errors import NotFound
from fedchirp.store.models import Account, Status, StatusEdit


async def record_edit(
    ctx: Context, status: Status, content: str, spoiler_text: str, sensitive: bool, at: str
) -> None:
    """Keep the version an edit makes (and, at the first edit, the original), in the
    edit's unit of work. An Update that changes none of these is no new version."""
    if (content, spoiler_text, sensitive) == (
        status.content,
        status.spoiler_text,
        status.sensitive,
    ):
        return
    versions = []
    if not await ctx.store.status_edits_of(status.id):
        versions.append(_version(status.content, status.spoiler_text, status.sensitive,
                                 status.edited_at or status.created_at))
    versions.append(_version(content, spoiler_text, sensitive, at))
    await ctx.store.insert_status_edits(status.id, versions)


def _version(content: str, spoiler_text: str, sensitive: bool, at: str) -> dict[str, object]:
    return {
        "content": content,
        "spoiler_text": spoiler_text,
        "sensitive": int(sensitive),
        "created_at": at,
    }


async def versions(ctx: Context, status: Status) -> list[StatusEdit]:
    """Every version, oldest first; a post never edited is its own only version."""
    edits = await ctx.store.status_edits_of(status.id)
    if edits:
        return edits
    return [
        StatusEdit(
            0, status.id, status.content, status.spoiler_text, status.sensitive, status.created_at
        )
    ]


def own_source(author: Account, status: Status) -> Status:
    """One's own post, for its source text (someone else's is not found, as on Mastodon)."""
    if status.account_id != author.id or status.reblog_of_id is not None:
        raise NotFound("post not found")
    return status
