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
and silenced accounts).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, or_
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import BindParameter

from fedchirp.store.models import PUBLICLY_LISTED
from fedchirp.store.moderation import shown_by_moderation
from fedchirp.store.schema import follows, status_recipients, statuses


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
    return and_(allowed, shown_by_moderation(viewer_id))
