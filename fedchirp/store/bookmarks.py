"""Bookmarks, read markers and followed hashtags, and the pages of posts a user
bookmarked or liked."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table, bindparam, delete, select, update

from fedchirp.clock import now_iso
from fedchirp.store import dialect
from fedchirp.store.db import Queries
from fedchirp.store.models import FollowedTag, Marker, Page, Status
from fedchirp.store.query import (
    Prepared,
    newest_first,
    page_params,
    page_shape,
    paged,
    paged_by_params,
    prepared,
    record,
    records,
)
from fedchirp.store.schema import bookmarks, favourites, followed_tags, markers, statuses
from fedchirp.store.visibility import visible_to

MARKED = {"bookmarks": bookmarks, "favourites": favourites}


@prepared
def _marked_page(table_name: str, shape: tuple[bool, bool, bool]) -> Prepared:
    """Statuses a viewer marked (bookmarked or liked) and may still see, by mark id."""
    table: Table = MARKED[table_name]
    viewer = bindparam("viewer")
    statement = (
        select(table.c.id.label("mark_id"), statuses)
        .join(statuses, statuses.c.id == table.c.status_id)
        .where(table.c.account_id == viewer, visible_to(viewer))
    )
    return Prepared(paged_by_params(statement, table.c.id, shape))


class BookmarkQueries(Queries):
    async def insert_bookmark(self, account_id: int, status_id: int) -> None:
        """Bookmark a status; bookmarking it again changes nothing."""
        await self.db.write(
            dialect.insert_ignore(self.db.dialect, bookmarks).values(
                account_id=account_id, status_id=status_id, created_at=now_iso()
            )
        )

    async def delete_bookmark(self, account_id: int, status_id: int) -> None:
        await self.db.write(
            delete(bookmarks).where(
                bookmarks.c.account_id == account_id, bookmarks.c.status_id == status_id
            )
        )

    async def marked_statuses(
        self, kind: str, account_id: int, page: Page
    ) -> list[tuple[int, Status]]:
        """(mark id, status) of the statuses this account bookmarked or liked ("bookmarks"
        or "favourites") that it may still see, newest mark first; pages go by mark id."""
        params = {"viewer": account_id, **page_params(page)}
        rows = await self.db.fetch(_marked_page(kind, page_shape(page)), params)
        marked = []
        for row in rows:
            mark_id = row.pop("mark_id")
            marked.append((mark_id, record(Status, row)))
        return newest_first(marked, page)  # type: ignore[arg-type]

    async def get_markers(self, account_id: int, timelines: Sequence[str]) -> list[Marker]:
        rows = await self.db.all(
            select(markers).where(
                markers.c.account_id == account_id, markers.c.timeline.in_(list(timelines))
            )
        )
        return records(Marker, rows)

    async def save_marker(self, account_id: int, timeline: str, last_read_id: str) -> Marker:
        """Set where the account stopped reading a timeline; each save counts a version."""
        key = (markers.c.account_id == account_id) & (markers.c.timeline == timeline)
        values = {"last_read_id": last_read_id, "updated_at": now_iso()}
        async with self.db.atomic() as db:
            insert = dialect.insert_ignore(self.db.dialect, markers).values(
                account_id=account_id, timeline=timeline, version=1, **values
            )
            if (await db.execute(insert)).rowcount == 0:
                await db.execute(
                    update(markers).where(key).values(version=markers.c.version + 1, **values)
                )
            row = (await db.execute(select(markers).where(key))).mappings().one()
        found = record(Marker, row)
        assert found is not None
        return found

    async def follow_tag(self, account_id: int, tag: str) -> None:
        """Follow a hashtag (lowercase, no '#'); following it again changes nothing."""
        await self.db.write(
            dialect.insert_ignore(self.db.dialect, followed_tags).values(
                account_id=account_id, tag=tag, created_at=now_iso()
            )
        )

    async def unfollow_tag(self, account_id: int, tag: str) -> None:
        await self.db.write(
            delete(followed_tags).where(
                followed_tags.c.account_id == account_id, followed_tags.c.tag == tag
            )
        )

    async def follows_tag(self, account_id: int, tag: str) -> bool:
        found = await self.db.scalar(
            select(followed_tags.c.id).where(
                followed_tags.c.account_id == account_id, followed_tags.c.tag == tag
            )
        )
        return found is not None

    async def followed_tags_page(self, account_id: int, page: Page) -> list[FollowedTag]:
        """The hashtags an account follows, newest followed first; pages go by their id."""
        statement = select(followed_tags).where(followed_tags.c.account_id == account_id)
        rows = await self.db.all(paged(statement, followed_tags.c.id, page))
        return newest_first(records(FollowedTag, rows), page)
