"""The one rule of who may see a post, as a SQL condition on the statuses table.

Every read path uses it: a single post (`Store.visible_status_ids`, behind
services.audience.can_see), the home feed, an account's posts and thread
context. A viewer may see a status when

- it is public or unlisted (anyone, signed in or not);
- the viewer wrote it;
- the viewer is among its recipients (mentioned, addressed directly, or a
  current member of the follower group it went to: leaving a group removes the
  recipient row, see the triggers in schema.py);
- it is followers-only and the viewer's follow of the author is accepted
  (a pending follow request sees nothing more than a stranger);
and in every case admin moderation does not hide it (store/moderation.py: suspended
and silenced accounts), and, for a signed-in viewer, neither its author nor (for a boost) the
boosted post's author blocks the viewer or is blocked by them, nor lives on a domain
the viewer blocks (`not_blocked`), as Mastodon's StatusFilter has it. Mutes are not
part of it: a muted account's posts leave the timelines (`not_muted`) but stay on its
profile and in threads.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, or_
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import BindParameter

from fedchirp.store.models import PUBLICLY_LISTED
from fedchirp.store.moderation import shown_by_moderation
from fedchirp.store.moderation_tables import account_domain_blocks, blocks, mutes
from fedchirp.store.schema import accounts, follows, status_recipients, statuses

Viewer = int | BindParameter[Any] | ColumnElement[Any]

# Aliases are made once: making one and reading its columns (a proxy per column, with
# their foreign keys) cost more than the rest of building the statement, and the rule
# is built for every read. Each subquery that uses one never correlates it, so using
# the same alias in several places of one statement is safe.
_BLOCKED_ORIGINAL = statuses.alias("blocked_original")
_DOMAIN_BLOCKED_AUTHOR = accounts.alias("domain_blocked_author")
_MUTED_ORIGINAL = statuses.alias("muted_original")


def visible_to(viewer_id: int | BindParameter[Any] | None) -> ColumnElement[bool]:
    """True for the statuses rows this viewer (None: anonymous) may see; the viewer may
    be a bind parameter, for prepared statements."""
    # An OR of equalities rather than IN (...): prepared reads take no literal lists.
    listed = or_(*(statuses.c.visibility == visibility for visibility in PUBLICLY_LISTED))
    if viewer_id is None:
        return and_(listed, shown_by_moderation(None))
    addressed = exists().where(
        status_recipients.c.status_id == statuses.c.id,
        status_recipients.c.account_id == viewer_id,
    )
    accepted_follower = and_(
        statuses.c.visibility == "private",
        exists().where(
            follows.c.follower_id == viewer_id,
            follows.c.followee_id == statuses.c.account_id,
            follows.c.state == "accepted",
        ),
    )
    allowed = or_(listed, statuses.c.account_id == viewer_id, addressed, accepted_follower)
    return and_(allowed, shown_by_moderation(viewer_id), not_blocked(viewer_id))


def not_blocked(viewer: Viewer) -> ColumnElement[bool]:
    """True for the statuses rows that no block (either way) or domain block of the viewer
    hides: neither the author nor a boost's original author. Each test is a key lookup."""
    original = _BLOCKED_ORIGINAL
    return and_(
        ~hidden_account(viewer, statuses.c.account_id),
        ~exists()
        .where(
            original.c.id == statuses.c.reblog_of_id,
            hidden_account(viewer, original.c.account_id),
        )
        .correlate_except(original),
    )


def hidden_account(viewer: Viewer, account_id: ColumnElement[Any]) -> ColumnElement[bool]:
    """True when the viewer blocks this account, is blocked by it, or blocks its domain."""
    return or_(blocked_either_way(viewer, account_id), domain_blocked(viewer, account_id))


def blocked_either_way(viewer: Viewer, account_id: ColumnElement[Any]) -> ColumnElement[bool]:
    """A block between the two, in either direction (each an index lookup on the pair)."""
    return or_(
        exists().where(blocks.c.account_id == viewer, blocks.c.target_account_id == account_id),
        exists().where(blocks.c.account_id == account_id, blocks.c.target_account_id == viewer),
    )


def domain_blocked(viewer: Viewer, account_id: ColumnElement[Any]) -> ColumnElement[bool]:
    """The account lives on a domain the viewer blocks (local accounts never do)."""
    author = _DOMAIN_BLOCKED_AUTHOR
    return (
        exists()
        .where(
            author.c.id == account_id,
            account_domain_blocks.c.account_id == viewer,
            account_domain_blocks.c.domain == author.c.domain,
        )
        .correlate_except(author)
    )


def not_muted(viewer: Viewer, now: float | BindParameter[Any]) -> ColumnElement[bool]:
    """True for the statuses rows whose author (or boosted author) the viewer has not
    muted, counting only mutes that have not expired by now (unix seconds)."""
    original = _MUTED_ORIGINAL
    return and_(
        ~muted(viewer, statuses.c.account_id, now),
        ~exists()
        .where(
            original.c.id == statuses.c.reblog_of_id,
            muted(viewer, original.c.account_id, now),
        )
        .correlate_except(original),
    )


def muted(
    viewer: Viewer,
    account_id: ColumnElement[Any],
    now: float | BindParameter[Any],
    notifications: bool = False,
) -> ColumnElement[bool]:
    """The viewer mutes the account (and its notifications, if asked) until after now."""
    conditions = [
        mutes.c.account_id == viewer,
        mutes.c.target_account_id == account_id,
        or_(mutes.c.expires_at.is_(None), mutes.c.expires_at > now),
    ]
    if notifications:
        conditions.append(mutes.c.hide_notifications == 1)
    return exists().where(*conditions)
