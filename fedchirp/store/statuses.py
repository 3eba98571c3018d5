"""Posts and boosts: writing them with everything that belongs to them, and reading them."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import BigInteger, bindparam, delete, exists, func, select, union, update
from sqlalchemy.ext.asyncio import AsyncConnection

from fedchirp.clock import now_iso
from fedchirp.store.counters import bump_account, bump_status
from fedchirp.store.db import Queries
from fedchirp.store.dialect import insert_ignore
from fedchirp.store.errors import DuplicateIdempotencyKey, IdCollision, MediaUnavailable
from fedchirp.store.ids import id_for_time, random_id_for_time
from fedchirp.store.models import FOLLOWER_VISIBLE, Account, Status
from fedchirp.store.query import Prepared, Read, ids_param, record, records
from fedchirp.store.schema import (
    accounts,
    followed_tags,
    follows,
    home_feed,
    local_users,
    media_attachments,
    status_idempotency,
    status_recipients,
    status_tags,
    statuses,
    tombstones,
)
from fedchirp.store.visibility import not_blocked

T = TypeVar("T")

ID_ATTEMPTS = 8

# Reads that every page of statuses makes, prepared once (store/query.py Prepared).
_STATUSES_BY_ID = Prepared(select(statuses).where(statuses.c.id.in_(ids_param())))
_RECIPIENTS_OF = Prepared(
    select(status_recipients).where(status_recipients.c.status_id.in_(ids_param()))
)
_MENTIONS_OF = Prepared(
    select(status_recipients.c.status_id, accounts)
    .join(accounts, accounts.c.id == status_recipients.c.account_id)
    .where(status_recipients.c.status_id.in_(ids_param()), status_recipients.c.mentioned == 1)
    .order_by(status_recipients.c.status_id, accounts.c.id)
)
_TAGS_OF = Prepared(
    select(status_tags)
    .where(status_tags.c.status_id.in_(ids_param()))
    .order_by(status_tags.c.status_id, status_tags.c.tag)
)


def recipients_read(status_ids: Iterable[int]) -> Read[dict[int, list[tuple[int, bool]]]]:
    ids = list(set(status_ids))
    return Read(
        _RECIPIENTS_OF,
        {"ids": ids},
        lambda rows: _grouped(ids, rows, lambda row: (row["account_id"], bool(row["mentioned"]))),
    )


def mentions_read(status_ids: Iterable[int]) -> Read[dict[int, list[Account]]]:
    """The accounts each status mentions."""
    ids = list(set(status_ids))
    return Read(
        _MENTIONS_OF,
        {"ids": ids},
        lambda rows: _grouped(ids, rows, lambda row: record(Account, _without_status_id(row))),
    )


def _without_status_id(row: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in row.items() if name != "status_id"}


def tags_read(status_ids: Iterable[int]) -> Read[dict[int, list[str]]]:
    ids = list(set(status_ids))
    return Read(_TAGS_OF, {"ids": ids}, lambda rows: _grouped(ids, rows, lambda row: row["tag"]))


def _grouped(
    status_ids: list[int], rows: list[dict[str, Any]], value: Callable[[dict[str, Any]], T]
) -> dict[int, list[T]]:
    """Rows' values by their status_id, in row order; an empty list for ids without any."""
    found: dict[int, list[T]] = {sid: [] for sid in status_ids}
    for row in rows:
        found[row["status_id"]].append(value(row))
    return found


class StatusQueries(Queries):
    async def insert_status(
        self,
        status: dict[str, Any],
        published: datetime,
        recipients: Iterable[tuple[int, bool]] = (),
        uris_for: Callable[[int], dict[str, str]] | None = None,
        tags: Iterable[str] = (),
        media_ids: Sequence[int] = (),
        remote_media: Sequence[dict[str, Any]] = (),
        idempotency_key: str | None = None,
    ) -> Status:
        """Insert a status with a time-ordered id, in one unit with what belongs to it:
        recipients (account_id, mentioned), hashtags, local uploads to attach (in order;
        they must be the author's and unattached), remote attachment rows, and its place
        in the home feeds of the local accounts that will see it.

        uris_for(id) supplies uri/url for local statuses, whose ids name them.
        """
        async with self.db.atomic() as db:
            row = await self._insert_status_row(db, status, published, uris_for)
            status_id, author_id = row["id"], row["account_id"]
            await self._insert_recipients(db, status_id, recipients)
            await self._insert_tags(db, status_id, tags)
            await self._attach_media(db, status_id, author_id, media_ids, remote_media)
            if idempotency_key is not None:
                await self._remember_idempotency_key(db, author_id, idempotency_key, status_id)
            visibility = row["visibility"]
            fan_out = _fan_out_statement(
                self.db.dialect, visibility in FOLLOWER_VISIBLE, visibility == "public"
            )
            with self.db.on_thread():  # a row per follower
                await db.execute(fan_out, {"status_id": status_id, "author_id": author_id})
            await _count(db, row, 1)
        return record(Status, row)  # type: ignore[return-value]

    async def _insert_status_row(
        self,
        db: AsyncConnection,
        status: dict[str, Any],
        published: datetime,
        uris_for: Callable[[int], dict[str, str]] | None,
    ) -> Any:
        for attempt in range(ID_ATTEMPTS):
            status_id = id_for_time(published) if attempt == 0 else random_id_for_time(published)
            values = {"id": status_id, **status, **(uris_for(status_id) if uris_for else {})}
            statement = _insert_status_statement(self.db.dialect)
            row = (await db.execute(statement, values)).mappings().first()
            if row is not None:
                return row
            # Taken: another status of the same millisecond has these low bits.
        raise IdCollision("could not allocate a status id")

    async def _insert_recipients(
        self, db: AsyncConnection, status_id: int, recipients: Iterable[tuple[int, bool]]
    ) -> None:
        rows = [
            {"status_id": status_id, "account_id": account_id, "mentioned": int(mentioned)}
            for account_id, mentioned in recipients
        ]
        if rows:
            await db.execute(insert_ignore(self.db.dialect, status_recipients), rows)

    @staticmethod
    async def _insert_tags(db: AsyncConnection, status_id: int, tags: Iterable[str]) -> None:
        rows = [{"status_id": status_id, "tag": tag} for tag in dict.fromkeys(tags)]
        if rows:
            await db.execute(status_tags.insert(), rows)

    @staticmethod
    async def _attach_media(
        db: AsyncConnection,
        status_id: int,
        author_id: int,
        media_ids: Sequence[int],
        remote_media: Sequence[dict[str, Any]],
    ) -> None:
        for position, media_id in enumerate(media_ids):
            result = await db.execute(
                update(media_attachments)
                .where(
                    media_attachments.c.id == media_id,
                    media_attachments.c.account_id == author_id,
                    media_attachments.c.status_id.is_(None),
                )
                .values(status_id=status_id, position=position)
            )
            if result.rowcount != 1:
                raise MediaUnavailable(media_id)
        created = now_iso()
        rows = [
            {
                **media,
                "status_id": status_id,
                "position": position,
                "account_id": author_id,
                "created_at": created,
            }
            for position, media in enumerate(remote_media)
        ]
        if rows:
            await db.execute(media_attachments.insert(), rows)

    async def _remember_idempotency_key(
        self, db: AsyncConnection, account_id: int, key: str, status_id: int
    ) -> None:
        statement = (
            insert_ignore(self.db.dialect, status_idempotency)
            .values(account_id=account_id, key=key, status_id=status_id, created_at=now_iso())
            .returning(status_idempotency.c.key)
        )
        if (await db.execute(statement)).first() is None:
            raise DuplicateIdempotencyKey(key)

    async def status_for_idempotency_key(self, account_id: int, key: str) -> Status | None:
        row = await self.db.one(
            select(statuses)
            .join(status_idempotency, status_idempotency.c.status_id == statuses.c.id)
            .where(status_idempotency.c.account_id == account_id, status_idempotency.c.key == key)
        )
        return record(Status, row)

    async def get_status(self, status_id: int) -> Status | None:
        return record(Status, await self.db.one(select(statuses).where(statuses.c.id == status_id)))

    async def get_statuses(self, status_ids: Iterable[int]) -> dict[int, Status]:
        ids = list(set(status_ids))
        if not ids:
            return {}
        rows = await self.db.fetch(_STATUSES_BY_ID, {"ids": ids})
        return {s.id: s for s in records(Status, rows)}

    async def get_status_by_uri(self, uri: str) -> Status | None:
        return record(Status, await self.db.one(select(statuses).where(statuses.c.uri == uri)))

    async def get_status_by_url(self, url: str) -> Status | None:
        """A post by the address of its web page (posts are found by uri first)."""
        row = await self.db.one(
            select(statuses)
            .where(statuses.c.url == url, statuses.c.reblog_of_id.is_(None))
            .limit(1)
        )
        return record(Status, row)

    async def find_reblog(self, account_id: int, status_id: int) -> Status | None:
        row = await self.db.one(
            select(statuses).where(
                statuses.c.account_id == account_id, statuses.c.reblog_of_id == status_id
            )
        )
        return record(Status, row)

    async def update_status(self, status_id: int, **fields: Any) -> None:
        await self.db.write(update(statuses).where(statuses.c.id == status_id).values(**fields))

    async def delete_status(self, status: Status) -> None:
        """Delete a status (its boosts, likes, recipients and feed entries cascade) and
        remember its uri."""
        async with self.db.atomic() as db:
            removed = (
                (
                    await db.execute(
                        delete(statuses).where(statuses.c.id == status.id).returning(statuses)
                    )
                )
                .mappings()
                .first()
            )
            if removed is not None:
                await _count(db, removed, -1)
            if status.reblog_of_id is None:
                await self.remember_tombstone(status.uri)

    async def remember_tombstone(self, uri: str) -> None:
        await self.db.write(
            insert_ignore(self.db.dialect, tombstones).values(uri=uri, deleted_at=now_iso())
        )

    async def is_tombstoned(self, uri: str) -> bool:
        found = await self.db.one(select(tombstones.c.uri).where(tombstones.c.uri == uri))
        return found is not None

    async def status_recipients(self, status_id: int) -> list[tuple[int, bool]]:
        return (await self.recipients_of([status_id]))[status_id]

    async def recipients_of(self, status_ids: Iterable[int]) -> dict[int, list[tuple[int, bool]]]:
        """(account_id, mentioned) of each status's recipients, for many statuses at once."""
        return await self.db.read(recipients_read(status_ids))

    async def count_statuses(self, account_id: int | None = None, local_only: bool = False) -> int:
        """Posts (not boosts): an account's from its counter, or the instance's."""
        if account_id is not None and not local_only:
            return (await self.account_stats_of([account_id]))[account_id].statuses_count
        statement = (
            select(func.count()).select_from(statuses).where(statuses.c.reblog_of_id.is_(None))
        )
        if account_id is not None:
            statement = statement.where(statuses.c.account_id == account_id)
        if local_only:
            statement = statement.where(statuses.c.local == 1)
        return await self.db.scalar(statement) or 0

    async def status_counts(self, status_id: int) -> dict[str, int]:
        """Boosts, likes and replies of a status, from its counters."""
        stats = (await self.status_stats_of([status_id]))[status_id]
        return {
            "reblogs": stats.reblogs_count,
            "favourites": stats.favourites_count,
            "replies": stats.replies_count,
        }

    async def tags_of(self, status_ids: Iterable[int]) -> dict[int, list[str]]:
        return await self.db.read(tags_read(status_ids))

    async def replace_tags(self, status_id: int, tags: Iterable[str]) -> None:
        async with self.db.atomic() as db:
            await db.execute(delete(status_tags).where(status_tags.c.status_id == status_id))
            await self._insert_tags(db, status_id, tags)

    async def replies_to(self, status_ids: Sequence[int]) -> list[Status]:
        if not status_ids:
            return []
        rows = await self.db.all(
            select(statuses)
            .where(statuses.c.in_reply_to_id.in_(list(status_ids)))
            .order_by(statuses.c.id)
        )
        return records(Status, rows)


async def _count(db: AsyncConnection, row: Any, change: int) -> None:
    """Count a status written (change 1) or deleted (-1) where it counts: its author's
    posts, or the boosted post's boosts; and the replies of the post it answers."""
    if row["reblog_of_id"] is None:
        last = row["created_at"] if change > 0 else None
        await bump_account(db, row["account_id"], last, statuses_count=change)
    else:
        await bump_status(db, row["reblog_of_id"], reblogs_count=change)
    if row["in_reply_to_id"] is not None:
        await bump_status(db, row["in_reply_to_id"], replies_count=change)


@functools.cache
def _insert_status_statement(dialect: str) -> Any:
    """Built once, its values bound: building it for each status cost more than running it."""
    return insert_ignore(dialect, statuses, ["id"]).returning(statuses)


@functools.lru_cache(maxsize=8)
def _fan_out_statement(dialect: str, to_followers: bool, to_tag_followers: bool) -> Any:
    """Put a new status (status_id, by author_id) in the home feed of each local account
    that will see it: its author, the author's accepted followers (to_followers), its
    recipients and, for a public one (to_tag_followers), those who follow one of its
    hashtags, as Mastodon does; unless a block separates them. One statement, in the
    unit that writes the status, built once per kind: building it took longer than
    running it, and every status a worker applies runs it."""
    status_id = bindparam("status_id", type_=BigInteger)
    author_id = bindparam("author_id", type_=BigInteger)
    readers = [
        select(local_users.c.account_id, status_id).where(local_users.c.account_id == author_id),
        select(status_recipients.c.account_id, status_id)
        .join(local_users, local_users.c.account_id == status_recipients.c.account_id)
        .where(status_recipients.c.status_id == status_id),
    ]
    if to_followers:
        readers.append(
            select(follows.c.follower_id, status_id)
            .join(local_users, local_users.c.account_id == follows.c.follower_id)
            .where(follows.c.followee_id == author_id, follows.c.state == "accepted")
        )
    if to_tag_followers:
        readers.append(
            select(followed_tags.c.account_id, status_id)
            .join(status_tags, status_tags.c.tag == followed_tags.c.tag)
            .where(status_tags.c.status_id == status_id)
        )
    # Nobody gets a post into their feed across a block (or their domain block).
    everyone = union(*readers).subquery()
    unblocked = select(everyone.c.account_id, status_id).where(
        exists().where(statuses.c.id == status_id, not_blocked(everyone.c.account_id))
    )
    return insert_ignore(dialect, home_feed).from_select(["account_id", "status_id"], unblocked)
