"""Who may see a post, how it is addressed on the wire, and where it is delivered.

Visibility mapping (the same as Mastodon's, so other servers show it right):
  public    to Public,     cc followers (+ mentions)
  unlisted  to followers,  cc Public (+ mentions)
  private   to followers   (cc mentions)        -- "followers-only"
  direct    to mentioned accounts only
  limited   to explicitly chosen accounts only  (follower groups)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fedchirp.federation.documents import Addressing
from fedchirp.federation.vocab import PUBLIC, Note
from fedchirp.services.context import Context
from fedchirp.store.models import PUBLICLY_LISTED, Account, Status


def addressing_for(author: Account, visibility: str, recipients: Iterable[Account]) -> Addressing:
    named = tuple(a.uri for a in recipients)
    if visibility == "public":
        return Addressing(to=(PUBLIC,), cc=(author.followers_url, *named))
    if visibility == "unlisted":
        return Addressing(to=(author.followers_url,), cc=(PUBLIC, *named))
    if visibility == "private":
        return Addressing(to=(author.followers_url,), cc=named)
    return Addressing(to=named, cc=())


async def delivery_inboxes(
    ctx: Context, author: Account, visibility: str, recipients: Iterable[Account]
) -> set[str]:
    """Remote inboxes a post must reach: one per server where one will do. Never an
    account's across a block (a shared inbox may still get it for other followers)."""
    remote = [a for a in recipients if not a.is_local and not a.suspended_at]
    kept_apart = await ctx.store.hidden_accounts(author.id, (a.id for a in remote))
    inboxes = {a.delivery_inbox for a in remote if a.id not in kept_apart}
    if visibility in ("public", "unlisted", "private"):
        inboxes |= await ctx.store.remote_follower_inboxes(author.id)
    return inboxes


async def status_inboxes(
    ctx: Context, author: Account, status: Status, recipients: Iterable[Account]
) -> set[str]:
    """Remote inboxes a local post (or its edit) goes to: its current audience, and for
    a publicly listed post also the author it replies to and whoever boosted or liked
    it. A restricted post reaches its audience as it is now: someone who left it (a
    removed group member, a former follower) is not sent edits, even if they liked it."""
    inboxes = await delivery_inboxes(ctx, author, status.visibility, recipients)
    if status.visibility not in PUBLICLY_LISTED:
        return inboxes
    if status.in_reply_to_account_id is not None:
        parent_author = await ctx.store.get_account(status.in_reply_to_account_id)
        if (
            parent_author is not None
            and not parent_author.is_local
            and not parent_author.suspended_at
        ):
            inboxes.add(parent_author.delivery_inbox)
    return inboxes | await ctx.store.remote_interactor_inboxes(status.id)


@dataclass(frozen=True)
class Recipients:
    """The accounts a status was explicitly addressed to, and those of them it mentions."""

    all: list[Account]
    mentioned: list[Account]


async def status_recipients(ctx: Context, status: Status) -> Recipients:
    pairs = await ctx.store.status_recipients(status.id)
    accounts = await ctx.store.get_accounts(account_id for account_id, _ in pairs)
    found = [(accounts[aid], mentioned) for aid, mentioned in pairs if aid in accounts]
    return Recipients([a for a, _ in found], [a for a, mentioned in found if mentioned])


async def can_see(ctx: Context, viewer: Account | None, status: Status) -> bool:
    """May this viewer (None = anonymous) see this status? The rule is the store's one
    visibility predicate (store/visibility.py), the same that filters every timeline."""
    return status.id in await ctx.store.visible_status_ids(_id(viewer), [status.id])


async def visible_only(ctx: Context, viewer: Account | None, found: list[Status]) -> list[Status]:
    """The statuses of the list this viewer may see, in order."""
    visible = await ctx.store.visible_status_ids(_id(viewer), (s.id for s in found))
    return [s for s in found if s.id in visible]


def _id(viewer: Account | None) -> int | None:
    return viewer.id if viewer is not None else None


def visibility_from_addressing(
    to: Sequence[str], cc: Sequence[str], followers_url: str, mentions: Sequence[str] = ()
) -> str:
    """Read a remote post's (or boost's) visibility from its addressing."""
    if PUBLIC in to:
        return "public"
    if PUBLIC in cc:
        return "unlisted"
    addressed = {*to, *cc}
    if followers_url and followers_url in addressed:
        return "private"
    if addressed and addressed <= set(mentions):
        return "direct"
    return "limited"


async def local_recipients_of_remote(ctx: Context, note: Note) -> list[tuple[Account, bool]]:
    """Local accounts a remote post names in to/cc or mentions, with whether mentioned."""
    mentioned = set(note.mentions)
    found: dict[int, tuple[Account, bool]] = {}
    for uri in dict.fromkeys((*note.audience, *note.mentions)):
        if not ctx.urls.is_local(uri):
            continue
        account = await ctx.store.get_account_by_uri(uri)
        if account is not None and account.is_local:
            found[account.id] = (account, uri in mentioned)
    return list(found.values())
