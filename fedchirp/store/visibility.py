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

and in every case its author is not suspended (by an admin, or with their whole
domain: services/domain_blocks.py). Posts of silenced authors stay visible to
those who may see them, but leave the public timelines (not_silenced).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, or_
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import BindParameter

from fedchirp.store.models import PUBLICLY_LISTED
from fedchirp.store.schema import accounts, follows, status_recipients, statuses


def visible_to(viewer_id: int | BindParameter[Any] | None) -> ColumnElement[bool]:
    """True for the statuses rows this viewer (None: anonymous) may see; the viewer may
    be a bind parameter, for prepared statements."""
    # An OR of equalities rather than IN (...): prepared reads take no literal lists.
    listed = or_(*(statuses.c.visibility == visibility for visibility in PUBLICLY_LISTED))
    if viewer_id is None:
        return and_(listed, not_suspended())
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
    return and_(
        or_(listed, statuses.c.account_id == viewer_id, addressed, accepted_follower),
        not_suspended(),
    )


def _author_stamped(column: str) -> ColumnElement[bool]:
    """The status's author has this stamp (a primary-key lookup per row)."""
    return exists().where(
        accounts.c.id == statuses.c.account_id, accounts.c[column].is_not(None)
    )


_boosted = statuses.alias("boosted")


def not_suspended() -> ColumnElement[bool]:
    """Neither the author nor, for a boost, the boosted post's author is suspended."""
    boost_of_suspended = exists().where(
        _boosted.c.id == statuses.c.reblog_of_id,
        accounts.c.id == _boosted.c.account_id,
        accounts.c.suspended_at.is_not(None),
    )
    return and_(~_author_stamped("suspended_at"), ~boost_of_suspended)


def not_silenced() -> ColumnElement[bool]:
    """For the public timelines: silenced authors reach only their followers."""
    return ~_author_stamped("silenced_at")
