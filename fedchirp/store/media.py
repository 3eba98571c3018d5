"""Media attachments: local uploads and remote attachments of posts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, select, update

from fedchirp.store.db import Queries
from fedchirp.store.models import MediaAttachment
from fedchirp.store.query import Prepared, Read, ids_param, record, records
from fedchirp.store.schema import media_attachments

# Read for every page of statuses: prepared once (store/query.py Prepared).
_MEDIA_OF = Prepared(
    select(media_attachments)
    .where(media_attachments.c.status_id.in_(ids_param()))
    .order_by(media_attachments.c.position)
)


def media_read(status_ids: Iterable[int]) -> Read[dict[int, list[MediaAttachment]]]:
    ids = list(set(status_ids))

    def shape(rows: list[dict[str, Any]]) -> dict[int, list[MediaAttachment]]:
        found: dict[int, list[MediaAttachment]] = {sid: [] for sid in ids}
        for media in records(MediaAttachment, rows):
            found[media.status_id].append(media)  # type: ignore[index]
        return found

    return Read(_MEDIA_OF, {"ids": ids}, shape)


class MediaQueries(Queries):
    async def insert_media(self, values: dict[str, Any]) -> MediaAttachment:
        """Store an attachment; return it as stored."""
        rows = await self.db.write_returning(
            insert(media_attachments).values(values).returning(media_attachments)
        )
        found = record(MediaAttachment, rows[0])
        assert found is not None
        return found

    async def get_media(self, media_id: int) -> MediaAttachment | None:
        row = await self.db.one(select(media_attachments).where(media_attachments.c.id == media_id))
        return record(MediaAttachment, row)

    async def update_media(self, media_id: int, **fields: Any) -> None:
        """Change the given columns of an attachment."""
        await self.db.write(
            update(media_attachments).where(media_attachments.c.id == media_id).values(**fields)
        )

    async def media_of(self, status_ids: Iterable[int]) -> dict[int, list[MediaAttachment]]:
        """Each status's attachments in order (an empty list for one without any)."""
        return await self.db.read(media_read(status_ids))
