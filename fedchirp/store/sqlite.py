"""SQLite backend: one write connection behind a lock, one read connection.

WAL mode lets reads proceed while a write transaction is open; the lock keeps
concurrent tasks from interleaving statements inside each other's transactions.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from fedchirp.clock import now_iso
from fedchirp.store.errors import DuplicateIdempotencyKey, IdCollision, MediaUnavailable
from fedchirp.store.ids import id_for_time
from fedchirp.store.models import (
    FOLLOWER_VISIBLE,
    Account,
    Circle,
    Delivery,
    Favourite,
    Follow,
    LocalUser,
    MediaAttachment,
    Notification,
    OAuthApp,
    OAuthCode,
    OAuthToken,
    Page,
    ScheduledStatus,
    Status,
    StatusFilters,
    WebSession,
)

T = TypeVar("T")

_BOOL_FIELDS: dict[type, tuple[str, ...]] = {}


def _record(cls: type[T], row: sqlite3.Row | dict[str, Any] | None) -> T | None:
    if row is None:
        return None
    if cls not in _BOOL_FIELDS:
        _BOOL_FIELDS[cls] = tuple(
            f.name for f in dataclasses.fields(cls) if f.type in ("bool", bool)
        )
    values = dict(row)
    for name in _BOOL_FIELDS[cls]:
        values[name] = bool(values[name])
    return cls(**values)


def _records(cls: type[T], rows: Iterable[sqlite3.Row]) -> list[T]:
    return [_record(cls, row) for row in rows]  # type: ignore[misc]


def _paged(sql_where: str, params: list[Any], page: Page, column: str = "id") -> tuple[str, list]:
    """Append Mastodon paging bounds and order to a WHERE clause."""
    where, args = [sql_where], list(params)
    if page.max_id is not None:
        where.append(f"{column} < ?")
        args.append(page.max_id)
    if page.since_id is not None:
        where.append(f"{column} > ?")
        args.append(page.since_id)
    if page.min_id is not None:
        where.append(f"{column} > ?")
        args.append(page.min_id)
    order = "ASC" if page.min_id is not None else "DESC"
    args.append(page.limit)
    return f"WHERE {' AND '.join(where)} ORDER BY {column} {order} LIMIT ?", args


def _newest_first(items: list[T], page: Page) -> list[T]:
    return list(reversed(items)) if page.min_id is not None else items


class SqliteStore:
    """All persistence for one instance. Methods speak in records, never in JSON."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._write_conn: aiosqlite.Connection | None = None
        self._read_conn: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    # -- lifecycle ---------------------------------------------------------

    async def open(self) -> None:
        """Connect and migrate; on any failure nothing is left open (an open aiosqlite
        connection owns a thread that would keep the process alive)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._write_conn = await self._connect()
            await self._write_conn.execute("PRAGMA journal_mode=WAL")
            await self.migrate()
            self._read_conn = await self._connect()
        except BaseException:
            await self.close()
            raise

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA busy_timeout=10000")
            await conn.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            await conn.close()
            raise
        return conn

    async def close(self) -> None:
        for conn in (self._read_conn, self._write_conn):
            if conn is not None:
                await conn.close()
        self._read_conn = self._write_conn = None

    async def migrate(self) -> list[int]:
        """Apply numbered migrations not yet applied; return the versions applied."""
        assert self._write_conn is not None
        await self._write_conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        async with self._write_conn.execute("SELECT version FROM schema_migrations") as cur:
            done = {row[0] for row in await cur.fetchall()}
        applied = []
        for version, sql in available_migrations():
            if version in done:
                continue
            # executescript commits first, so wrap the script and its record in one
            # explicit transaction: a failed migration leaves no trace.
            try:
                await self._write_conn.executescript(
                    f"BEGIN IMMEDIATE;\n{sql}\n"
                    f"INSERT INTO schema_migrations VALUES ({version}, '{now_iso()}');\nCOMMIT;"
                )
            except sqlite3.Error:
                if self._write_conn.in_transaction:
                    await self._write_conn.execute("ROLLBACK")
                raise
            applied.append(version)
        return applied

    async def schema_version(self) -> int:
        row = await self._one("SELECT MAX(version) AS v FROM schema_migrations")
        return row["v"] if row and row["v"] is not None else 0

    # -- primitives --------------------------------------------------------

    # Reads run execute and fetch in one call on the connection's thread. A cursor
    # left open between awaits would keep its statement active, and while any
    # statement is active the connection stays on an old WAL snapshot: concurrent
    # requests could then miss rows committed a moment ago.

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        rows = await self._all(sql, params)
        return rows[0] if rows else None

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        assert self._read_conn is not None, "store is not open"
        return list(await self._read_conn.execute_fetchall(sql, params))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """An IMMEDIATE write transaction; rolled back if the block raises."""
        assert self._write_conn is not None, "store is not open"
        async with self._write_lock:
            await self._write_conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._write_conn
            except BaseException:
                await self._write_conn.execute("ROLLBACK")
                raise
            await self._write_conn.execute("COMMIT")

    async def _write(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one write statement; return how many rows it changed."""
        async with self.transaction() as db:
            cur = await db.execute(sql, params)
            return cur.rowcount

    # -- settings ----------------------------------------------------------

    async def get_setting(self, key: str) -> str | None:
        row = await self._one("SELECT value FROM settings WHERE key = ?", (key,))
        return row["value"] if row else None

    async def set_setting_if_absent(self, key: str, value: str) -> str:
        """Store value unless the key exists; return whichever value is stored."""
        await self._write("INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)", (key, value))
        stored = await self.get_setting(key)
        assert stored is not None
        return stored

    # -- accounts ----------------------------------------------------------

    async def insert_local_account(
        self, account: dict[str, Any], password_hash: str, private_key_pem: str, is_admin: bool
    ) -> Account:
        async with self.transaction() as db:
            account_id = await self._insert_row(db, "accounts", account)
            await db.execute(
                "INSERT INTO local_users (account_id, password_hash, private_key_pem, is_admin,"
                " created_at) VALUES (?, ?, ?, ?, ?)",
                (account_id, password_hash, private_key_pem, int(is_admin), account["created_at"]),
            )
        return await self.get_account(account_id)  # type: ignore[return-value]

    async def upsert_remote_account(self, account: dict[str, Any]) -> Account:
        """Insert or refresh a remote actor, keyed by its uri."""
        columns = ", ".join(account)
        marks = ", ".join("?" for _ in account)
        updates = ", ".join(
            f"{c} = excluded.{c}" for c in account if c not in ("uri", "created_at")
        )
        async with self.transaction() as db:
            await db.execute(
                f"INSERT INTO accounts ({columns}) VALUES ({marks}) "
                f"ON CONFLICT (uri) DO UPDATE SET {updates}",
                tuple(account.values()),
            )
        found = await self.get_account_by_uri(account["uri"])
        assert found is not None
        return found

    @staticmethod
    async def _insert_row(db: aiosqlite.Connection, table: str, values: dict[str, Any]) -> int:
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        cur = await db.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(values.values())
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    async def get_account(self, account_id: int) -> Account | None:
        return _record(
            Account, await self._one("SELECT * FROM accounts WHERE id = ?", (account_id,))
        )

    async def get_accounts(self, account_ids: Iterable[int]) -> dict[int, Account]:
        ids = list(set(account_ids))
        if not ids:
            return {}
        marks = ", ".join("?" for _ in ids)
        rows = await self._all(f"SELECT * FROM accounts WHERE id IN ({marks})", ids)
        return {a.id: a for a in _records(Account, rows)}

    async def get_account_by_uri(self, uri: str) -> Account | None:
        return _record(Account, await self._one("SELECT * FROM accounts WHERE uri = ?", (uri,)))

    async def get_account_by_key_id(self, key_id: str) -> Account | None:
        row = await self._one("SELECT * FROM accounts WHERE public_key_id = ?", (key_id,))
        return _record(Account, row)

    async def find_account(self, username: str, domain: str) -> Account | None:
        """Find by username (case-insensitive, as WebFinger lookups are) and domain."""
        row = await self._one(
            "SELECT * FROM accounts WHERE lower(username) = lower(?) AND lower(domain) = lower(?)",
            (username, domain),
        )
        return _record(Account, row)

    async def search_accounts(self, text: str, limit: int) -> list[Account]:
        """Accounts whose username or display name starts with text, local first."""
        pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = await self._all(
            "SELECT * FROM accounts WHERE username LIKE ? ESCAPE '\\'"
            " OR display_name LIKE ? ESCAPE '\\' ORDER BY domain != '', username LIMIT ?",
            (pattern, pattern, limit),
        )
        return _records(Account, rows)

    async def get_local_user(self, account_id: int) -> LocalUser | None:
        row = await self._one("SELECT * FROM local_users WHERE account_id = ?", (account_id,))
        return _record(LocalUser, row)

    async def count_active_local_users(self, since_iso: str) -> int:
        """Local accounts that posted at or after since_iso."""
        row = await self._one(
            "SELECT COUNT(DISTINCT s.account_id) AS n FROM statuses s"
            " JOIN local_users u ON u.account_id = s.account_id WHERE s.created_at >= ?",
            (since_iso,),
        )
        return row["n"] if row else 0

    async def count_local_users(self) -> int:
        row = await self._one("SELECT COUNT(*) AS n FROM local_users")
        return row["n"] if row else 0

    async def delete_account(self, account_id: int) -> None:
        await self._write("DELETE FROM accounts WHERE id = ?", (account_id,))

    # -- statuses ----------------------------------------------------------

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
        """Insert a status with a time-ordered id, in one transaction with what belongs to
        it: recipients (account_id, mentioned), hashtags, local uploads to attach (in
        order; they must be the author's and unattached) and remote attachment rows.

        uris_for(id) supplies uri/url for local statuses, whose ids name them.
        """
        recipients, tags = list(recipients), list(dict.fromkeys(tags))
        for _attempt in range(8):
            status_id = id_for_time(published)
            row = {"id": status_id, **status, **(uris_for(status_id) if uris_for else {})}
            try:
                async with self.transaction() as db:
                    await self._insert_row(db, "statuses", row)
                    await db.executemany(
                        "INSERT OR IGNORE INTO status_recipients (status_id, account_id, mentioned)"
                        " VALUES (?, ?, ?)",
                        [(status_id, account_id, int(m)) for account_id, m in recipients],
                    )
                    await db.executemany(
                        "INSERT INTO status_tags (status_id, tag) VALUES (?, ?)",
                        [(status_id, tag) for tag in tags],
                    )
                    for position, media_id in enumerate(media_ids):
                        cur = await db.execute(
                            "UPDATE media_attachments SET status_id = ?, position = ?"
                            " WHERE id = ? AND account_id = ? AND status_id IS NULL",
                            (status_id, position, media_id, status["account_id"]),
                        )
                        if cur.rowcount != 1:
                            raise MediaUnavailable(media_id)
                    if idempotency_key is not None:
                        await db.execute(
                            "INSERT INTO status_idempotency (account_id, key, status_id,"
                            " created_at) VALUES (?, ?, ?, ?)",
                            (status["account_id"], idempotency_key, status_id, now_iso()),
                        )
                    for position, media in enumerate(remote_media):
                        await self._insert_row(
                            db,
                            "media_attachments",
                            {
                                **media,
                                "status_id": status_id,
                                "position": position,
                                "account_id": status["account_id"],
                                "created_at": now_iso(),
                            },
                        )
            except sqlite3.IntegrityError as exc:
                if "statuses.id" in str(exc):
                    continue  # two statuses in the same millisecond drew the same low bits
                if "status_idempotency" in str(exc):
                    raise DuplicateIdempotencyKey(idempotency_key) from exc
                raise
            found = await self.get_status(status_id)
            assert found is not None
            return found
        raise IdCollision("could not allocate a status id")

    async def status_for_idempotency_key(self, account_id: int, key: str) -> Status | None:
        row = await self._one(
            "SELECT s.* FROM status_idempotency k JOIN statuses s ON s.id = k.status_id"
            " WHERE k.account_id = ? AND k.key = ?",
            (account_id, key),
        )
        return _record(Status, row)

    async def get_status(self, status_id: int) -> Status | None:
        return _record(Status, await self._one("SELECT * FROM statuses WHERE id = ?", (status_id,)))

    async def get_statuses(self, status_ids: Iterable[int]) -> dict[int, Status]:
        ids = list(set(status_ids))
        if not ids:
            return {}
        marks = ", ".join("?" for _ in ids)
        rows = await self._all(f"SELECT * FROM statuses WHERE id IN ({marks})", ids)
        return {s.id: s for s in _records(Status, rows)}

    async def get_status_by_uri(self, uri: str) -> Status | None:
        return _record(Status, await self._one("SELECT * FROM statuses WHERE uri = ?", (uri,)))

    async def get_status_by_url(self, url: str) -> Status | None:
        """A post by the address of its web page (posts are found by uri first)."""
        row = await self._one(
            "SELECT * FROM statuses WHERE url = ? AND reblog_of_id IS NULL LIMIT 1", (url,)
        )
        return _record(Status, row)

    async def find_reblog(self, account_id: int, status_id: int) -> Status | None:
        row = await self._one(
            "SELECT * FROM statuses WHERE account_id = ? AND reblog_of_id = ?",
            (account_id, status_id),
        )
        return _record(Status, row)

    async def update_status(self, status_id: int, **fields: Any) -> None:
        assignments = ", ".join(f"{name} = ?" for name in fields)
        await self._write(
            f"UPDATE statuses SET {assignments} WHERE id = ?", (*fields.values(), status_id)
        )

    async def delete_status(self, status: Status) -> None:
        """Delete a status (its boosts, likes and recipients cascade) and remember its uri."""
        async with self.transaction() as db:
            await db.execute("DELETE FROM statuses WHERE id = ?", (status.id,))
            if status.reblog_of_id is None:
                await db.execute(
                    "INSERT OR IGNORE INTO tombstones (uri, deleted_at) VALUES (?, ?)",
                    (status.uri, now_iso()),
                )

    async def remember_tombstone(self, uri: str) -> None:
        await self._write(
            "INSERT OR IGNORE INTO tombstones (uri, deleted_at) VALUES (?, ?)", (uri, now_iso())
        )

    async def is_tombstoned(self, uri: str) -> bool:
        return await self._one("SELECT 1 FROM tombstones WHERE uri = ?", (uri,)) is not None

    async def status_recipients(self, status_id: int) -> list[tuple[int, bool]]:
        rows = await self._all(
            "SELECT account_id, mentioned FROM status_recipients WHERE status_id = ?", (status_id,)
        )
        return [(row["account_id"], bool(row["mentioned"])) for row in rows]

    async def is_status_recipient(self, status_id: int, account_id: int) -> bool:
        row = await self._one(
            "SELECT 1 FROM status_recipients WHERE status_id = ? AND account_id = ?",
            (status_id, account_id),
        )
        return row is not None

    async def account_statuses(
        self,
        account_id: int,
        visibilities: Sequence[str],
        page: Page,
        filters: StatusFilters | None = None,
    ) -> list[Status]:
        marks = ", ".join("?" for _ in visibilities)
        where, params = [f"account_id = ? AND visibility IN ({marks})"], [account_id, *visibilities]
        filters = filters or StatusFilters()
        if filters.exclude_replies:  # threads of one's own posts are not "replies"
            where.append("(in_reply_to_id IS NULL OR in_reply_to_account_id = account_id)")
        if filters.exclude_reblogs:
            where.append("reblog_of_id IS NULL")
        if filters.only_media:
            where.append(
                "id IN (SELECT status_id FROM media_attachments WHERE status_id IS NOT NULL)"
            )
        if filters.tagged:
            where.append("id IN (SELECT status_id FROM status_tags WHERE tag = ?)")
            params.append(filters.tagged.lower())
        clause, args = _paged(" AND ".join(where), params, page)
        rows = await self._all(f"SELECT * FROM statuses {clause}", args)
        return _newest_first(_records(Status, rows), page)

    async def home_timeline(self, account_id: int, page: Page) -> list[Status]:
        """Own posts, posts by accepted followees that followers may see, and posts addressed
        to the account, newest first."""
        marks = ", ".join("?" for _ in FOLLOWER_VISIBLE)
        clause, args = _paged(
            "(account_id = ?"
            " OR (visibility IN (" + marks + ") AND account_id IN"
            "     (SELECT followee_id FROM follows WHERE follower_id = ? AND state = 'accepted'))"
            " OR id IN (SELECT status_id FROM status_recipients WHERE account_id = ?))",
            [account_id, *FOLLOWER_VISIBLE, account_id, account_id],
            page,
        )
        rows = await self._all(f"SELECT * FROM statuses {clause}", args)
        return _newest_first(_records(Status, rows), page)

    async def public_timeline(self, local_only: bool, page: Page) -> list[Status]:
        where = "visibility = 'public' AND reblog_of_id IS NULL"
        if local_only:
            where += " AND local = 1"
        clause, args = _paged(where, [], page)
        rows = await self._all(f"SELECT * FROM statuses {clause}", args)
        return _newest_first(_records(Status, rows), page)

    async def count_statuses(self, account_id: int | None = None, local_only: bool = False) -> int:
        where, args = ["reblog_of_id IS NULL"], []
        if account_id is not None:
            where.append("account_id = ?")
            args.append(account_id)
        if local_only:
            where.append("local = 1")
        row = await self._one(
            f"SELECT COUNT(*) AS n FROM statuses WHERE {' AND '.join(where)}", args
        )
        return row["n"] if row else 0

    async def status_counts(self, status_id: int) -> dict[str, int]:
        row = await self._one(
            "SELECT (SELECT COUNT(*) FROM statuses WHERE reblog_of_id = :id) AS reblogs,"
            " (SELECT COUNT(*) FROM favourites WHERE status_id = :id) AS favourites,"
            " (SELECT COUNT(*) FROM statuses WHERE in_reply_to_id = :id) AS replies",
            {"id": status_id},
        )
        assert row is not None
        return dict(row)

    async def last_status_at(self, account_id: int) -> str | None:
        row = await self._one(
            "SELECT created_at FROM statuses WHERE account_id = ? ORDER BY id DESC LIMIT 1",
            (account_id,),
        )
        return row["created_at"] if row else None

    async def remote_interactor_inboxes(self, status_id: int) -> set[str]:
        """Delivery inboxes of remote accounts that boosted or liked a status."""
        rows = await self._all(
            "SELECT DISTINCT COALESCE(a.shared_inbox_url, a.inbox_url) AS inbox FROM accounts a"
            " WHERE a.domain != '' AND a.id IN ("
            " SELECT account_id FROM statuses WHERE reblog_of_id = :id"
            " UNION SELECT account_id FROM favourites WHERE status_id = :id)",
            {"id": status_id},
        )
        return {row["inbox"] for row in rows}

    async def has_local_follower(self, account_id: int) -> bool:
        row = await self._one(
            "SELECT 1 FROM follows f JOIN accounts a ON a.id = f.follower_id"
            " WHERE f.followee_id = ? AND f.state = 'accepted' AND a.domain = '' LIMIT 1",
            (account_id,),
        )
        return row is not None

    async def tags_of(self, status_ids: Iterable[int]) -> dict[int, list[str]]:
        ids = list(set(status_ids))
        found: dict[int, list[str]] = {sid: [] for sid in ids}
        if not ids:
            return found
        marks = ", ".join("?" for _ in ids)
        rows = await self._all(
            f"SELECT status_id, tag FROM status_tags WHERE status_id IN ({marks}) ORDER BY rowid",
            ids,
        )
        for row in rows:
            found[row["status_id"]].append(row["tag"])
        return found

    async def replace_tags(self, status_id: int, tags: Iterable[str]) -> None:
        async with self.transaction() as db:
            await db.execute("DELETE FROM status_tags WHERE status_id = ?", (status_id,))
            await db.executemany(
                "INSERT INTO status_tags (status_id, tag) VALUES (?, ?)",
                [(status_id, tag) for tag in dict.fromkeys(tags)],
            )

    async def tag_timeline(self, tag: str, local_only: bool, page: Page) -> list[Status]:
        where = "visibility = 'public' AND id IN (SELECT status_id FROM status_tags WHERE tag = ?)"
        if local_only:
            where += " AND local = 1"
        clause, args = _paged(where, [tag.lower()], page)
        rows = await self._all(f"SELECT * FROM statuses {clause}", args)
        return _newest_first(_records(Status, rows), page)

    # -- media -------------------------------------------------------------

    async def insert_media(self, values: dict[str, Any]) -> MediaAttachment:
        async with self.transaction() as db:
            media_id = await self._insert_row(db, "media_attachments", values)
        found = await self.get_media(media_id)
        assert found is not None
        return found

    async def get_media(self, media_id: int) -> MediaAttachment | None:
        row = await self._one("SELECT * FROM media_attachments WHERE id = ?", (media_id,))
        return _record(MediaAttachment, row)

    async def update_media(self, media_id: int, **fields: Any) -> None:
        assignments = ", ".join(f"{name} = ?" for name in fields)
        await self._write(
            f"UPDATE media_attachments SET {assignments} WHERE id = ?",
            (*fields.values(), media_id),
        )

    async def media_of(self, status_ids: Iterable[int]) -> dict[int, list[MediaAttachment]]:
        ids = list(set(status_ids))
        found: dict[int, list[MediaAttachment]] = {sid: [] for sid in ids}
        if not ids:
            return found
        marks = ", ".join("?" for _ in ids)
        rows = await self._all(
            f"SELECT * FROM media_attachments WHERE status_id IN ({marks}) ORDER BY position",
            ids,
        )
        for media in _records(MediaAttachment, rows):
            found[media.status_id].append(media)  # type: ignore[index]
        return found

    # -- follows -----------------------------------------------------------

    async def insert_follow(
        self, follower_id: int, followee_id: int, uri: str, state: str
    ) -> Follow:
        """Record a follow; an existing one for the same pair is kept (with its state)."""
        await self._write(
            "INSERT INTO follows (follower_id, followee_id, uri, state, created_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (follower_id, followee_id) DO NOTHING",
            (follower_id, followee_id, uri, state, now_iso()),
        )
        found = await self.get_follow(follower_id, followee_id)
        assert found is not None
        return found

    async def get_follow(self, follower_id: int, followee_id: int) -> Follow | None:
        row = await self._one(
            "SELECT * FROM follows WHERE follower_id = ? AND followee_id = ?",
            (follower_id, followee_id),
        )
        return _record(Follow, row)

    async def get_follow_by_id(self, follow_id: int) -> Follow | None:
        return _record(Follow, await self._one("SELECT * FROM follows WHERE id = ?", (follow_id,)))

    async def get_follow_by_uri(self, uri: str) -> Follow | None:
        return _record(Follow, await self._one("SELECT * FROM follows WHERE uri = ?", (uri,)))

    async def accept_follow(self, follow_id: int) -> None:
        await self._write("UPDATE follows SET state = 'accepted' WHERE id = ?", (follow_id,))

    async def delete_follow(self, follow_id: int) -> None:
        await self._write("DELETE FROM follows WHERE id = ?", (follow_id,))

    async def follow_counts(self, account_id: int) -> tuple[int, int]:
        """(followers, following), counting accepted follows only."""
        row = await self._one(
            "SELECT (SELECT COUNT(*) FROM follows WHERE followee_id = :id AND state = 'accepted')"
            " AS followers, (SELECT COUNT(*) FROM follows WHERE follower_id = :id"
            " AND state = 'accepted') AS following",
            {"id": account_id},
        )
        assert row is not None
        return row["followers"], row["following"]

    async def follow_page(
        self, account_id: int, direction: str, page: Page
    ) -> list[tuple[int, Account]]:
        """Accepted followers (direction='followers') or followees as (follow id, account),
        newest follow first, paged by follow id."""
        mine, theirs = (
            ("followee_id", "follower_id")
            if direction == "followers"
            else ("follower_id", "followee_id")
        )
        clause, args = _paged(
            f"f.{mine} = ? AND f.state = 'accepted'", [account_id], page, column="f.id"
        )
        rows = await self._all(
            f"SELECT f.id AS follow_id, a.* FROM follows f JOIN accounts a ON a.id = f.{theirs}"
            f" {clause}",
            args,
        )
        pairs = []
        for row in rows:
            values = dict(row)
            follow_id = values.pop("follow_id")
            pairs.append((follow_id, _record(Account, values)))
        return _newest_first(pairs, page)  # type: ignore[arg-type]

    async def replies_to(self, status_ids: Sequence[int]) -> list[Status]:
        if not status_ids:
            return []
        marks = ", ".join("?" for _ in status_ids)
        rows = await self._all(
            f"SELECT * FROM statuses WHERE in_reply_to_id IN ({marks}) ORDER BY id", status_ids
        )
        return _records(Status, rows)

    async def pending_follows(self, followee_id: int) -> list[Follow]:
        rows = await self._all(
            "SELECT * FROM follows WHERE followee_id = ? AND state = 'pending' ORDER BY id",
            (followee_id,),
        )
        return _records(Follow, rows)

    async def remote_follower_inboxes(self, account_id: int) -> set[str]:
        """Distinct delivery inboxes (shared where offered) of accepted remote followers."""
        rows = await self._all(
            "SELECT DISTINCT COALESCE(a.shared_inbox_url, a.inbox_url) AS inbox"
            " FROM follows f JOIN accounts a ON a.id = f.follower_id"
            " WHERE f.followee_id = ? AND f.state = 'accepted' AND a.domain != ''",
            (account_id,),
        )
        return {row["inbox"] for row in rows}

    # -- circles -----------------------------------------------------------

    async def insert_circle(self, account_id: int, title: str) -> Circle:
        async with self.transaction() as db:
            circle_id = await self._insert_row(
                db, "circles", {"account_id": account_id, "title": title, "created_at": now_iso()}
            )
        found = await self.get_circle(circle_id)
        assert found is not None
        return found

    async def get_circle(self, circle_id: int) -> Circle | None:
        return _record(Circle, await self._one("SELECT * FROM circles WHERE id = ?", (circle_id,)))

    async def find_circle(self, account_id: int, title: str) -> Circle | None:
        row = await self._one(
            "SELECT * FROM circles WHERE account_id = ? AND title = ?", (account_id, title)
        )
        return _record(Circle, row)

    async def circles_of(self, account_id: int) -> list[Circle]:
        rows = await self._all(
            "SELECT * FROM circles WHERE account_id = ? ORDER BY title, id", (account_id,)
        )
        return _records(Circle, rows)

    async def rename_circle(self, circle_id: int, title: str) -> None:
        await self._write("UPDATE circles SET title = ? WHERE id = ?", (title, circle_id))

    async def delete_circle(self, circle_id: int) -> None:
        """Delete a circle. Its past posts keep the audience they had: they are detached
        first, so the membership triggers do not take access away from anyone."""
        async with self.transaction() as db:
            await db.execute(
                "UPDATE statuses SET circle_id = NULL WHERE circle_id = ?", (circle_id,)
            )
            await db.execute("DELETE FROM circles WHERE id = ?", (circle_id,))

    async def circle_members(self, circle_id: int) -> list[Account]:
        rows = await self._all(
            "SELECT a.* FROM circle_members m JOIN accounts a ON a.id = m.account_id"
            " WHERE m.circle_id = ? ORDER BY m.created_at, a.id",
            (circle_id,),
        )
        return _records(Account, rows)

    async def add_circle_members(self, circle_id: int, account_ids: Sequence[int]) -> int:
        """Add accounts that are accepted followers of the circle's owner; return how many
        were added (others are skipped)."""
        async with self.transaction() as db:
            before = db.total_changes
            await db.executemany(
                "INSERT OR IGNORE INTO circle_members (circle_id, account_id, created_at)"
                " SELECT c.id, f.follower_id, ? FROM circles c JOIN follows f"
                " ON f.followee_id = c.account_id AND f.state = 'accepted'"
                " WHERE c.id = ? AND f.follower_id = ?",
                [(now_iso(), circle_id, account_id) for account_id in account_ids],
            )
            return db.total_changes - before

    async def remove_circle_members(self, circle_id: int, account_ids: Sequence[int]) -> None:
        async with self.transaction() as db:
            await db.executemany(
                "DELETE FROM circle_members WHERE circle_id = ? AND account_id = ?",
                [(circle_id, account_id) for account_id in account_ids],
            )

    # -- favourites --------------------------------------------------------

    async def insert_favourite(self, account_id: int, status_id: int, uri: str) -> bool:
        """Record a like; False if this account already liked the status."""
        changed = await self._write(
            "INSERT OR IGNORE INTO favourites (account_id, status_id, uri, created_at)"
            " VALUES (?, ?, ?, ?)",
            (account_id, status_id, uri, now_iso()),
        )
        return bool(changed)

    async def get_favourite(self, account_id: int, status_id: int) -> Favourite | None:
        row = await self._one(
            "SELECT * FROM favourites WHERE account_id = ? AND status_id = ?",
            (account_id, status_id),
        )
        return _record(Favourite, row)

    async def get_favourite_by_uri(self, uri: str) -> Favourite | None:
        return _record(Favourite, await self._one("SELECT * FROM favourites WHERE uri = ?", (uri,)))

    async def delete_favourite(self, favourite_id: int) -> None:
        await self._write("DELETE FROM favourites WHERE id = ?", (favourite_id,))

    async def viewer_flags(self, account_id: int, status_ids: Sequence[int]) -> dict[int, set[str]]:
        """Which of the statuses this account has 'favourited' / 'reblogged'."""
        flags: dict[int, set[str]] = {sid: set() for sid in status_ids}
        if not status_ids:
            return flags
        marks = ", ".join("?" for _ in status_ids)
        for flag, sql in (
            (
                "favourited",
                f"SELECT status_id AS s FROM favourites WHERE account_id = ?"
                f" AND status_id IN ({marks})",
            ),
            (
                "reblogged",
                f"SELECT reblog_of_id AS s FROM statuses WHERE account_id = ?"
                f" AND reblog_of_id IN ({marks})",
            ),
        ):
            for row in await self._all(sql, (account_id, *status_ids)):
                flags[row["s"]].add(flag)
        return flags

    # -- notifications -----------------------------------------------------

    async def insert_notification(
        self, account_id: int, type_: str, from_account_id: int, status_id: int | None = None
    ) -> None:
        await self._write(
            "INSERT INTO notifications (account_id, type, from_account_id, status_id, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (account_id, type_, from_account_id, status_id, now_iso()),
        )

    async def notifications(
        self,
        account_id: int,
        page: Page,
        types: Sequence[str] = (),
        exclude_types: Sequence[str] = (),
    ) -> list[Notification]:
        where, params = ["account_id = ?"], [account_id]
        for names, operator in ((types, "IN"), (exclude_types, "NOT IN")):
            if names:
                where.append(f"type {operator} ({', '.join('?' for _ in names)})")
                params.extend(names)
        clause, args = _paged(" AND ".join(where), params, page)
        rows = await self._all(f"SELECT * FROM notifications {clause}", args)
        return _newest_first(_records(Notification, rows), page)

    # -- inbox -------------------------------------------------------------

    async def activity_seen(self, activity_uri: str) -> bool:
        row = await self._one("SELECT 1 FROM inbox_seen WHERE activity_uri = ?", (activity_uri,))
        return row is not None

    async def mark_activity_seen(self, activity_uri: str, type_: str, actor_uri: str) -> None:
        """Remember an incoming activity id, so a repeat delivery changes nothing."""
        await self._write(
            "INSERT OR IGNORE INTO inbox_seen (activity_uri, type, actor_uri, received_at)"
            " VALUES (?, ?, ?, ?)",
            (activity_uri, type_, actor_uri, now_iso()),
        )

    # -- delivery queue ----------------------------------------------------

    async def enqueue_deliveries(
        self,
        activity_uri: str,
        activity_type: str,
        body: str,
        signer_id: int,
        inboxes: Iterable[str],
        now: float,
        status_id: int | None = None,
    ) -> int:
        """Queue one delivery per inbox; an activity already queued for an inbox is kept once."""
        created = now_iso()
        rows = [
            (activity_uri, activity_type, inbox, body, signer_id, status_id, now, created)
            for inbox in sorted(set(inboxes))
        ]
        async with self.transaction() as db:
            before = db.total_changes
            await db.executemany(
                "INSERT OR IGNORE INTO deliveries (activity_uri, activity_type, inbox_url, body,"
                " signer_id, status_id, next_attempt_at, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            return db.total_changes - before

    async def claim_due_deliveries(
        self, now: float, lease_seconds: float, limit: int
    ) -> list[Delivery]:
        """Lease up to `limit` due deliveries so no other worker sends them meanwhile.

        Only the oldest queued delivery of each inbox may go, and only when it is due
        and not in flight: a later activity never overtakes an earlier one that is
        waiting to be retried, so a Follow and its Undo (or a Create and its Update)
        reach a server in the order they were made.
        """
        async with (
            self.transaction() as db,
            db.execute(
                "UPDATE deliveries SET lease_until = :lease WHERE id IN ("
                " SELECT d.id FROM deliveries d JOIN (SELECT MIN(id) AS head FROM deliveries"
                "  WHERE state = 'queued' GROUP BY inbox_url) h ON d.id = h.head"
                " WHERE d.next_attempt_at <= :now AND d.lease_until <= :now"
                " ORDER BY d.id LIMIT :limit) RETURNING *",
                {"lease": now + lease_seconds, "now": now, "limit": limit},
            ) as cur,
        ):
            rows = await cur.fetchall()
        return sorted(_records(Delivery, rows), key=lambda d: d.id)

    async def finish_delivery(
        self, delivery_id: int, state: str, status: int | None, error: str | None
    ) -> None:
        await self._write(
            "UPDATE deliveries SET state = ?, attempts = attempts + 1, last_status = ?,"
            " last_error = ?, lease_until = 0, finished_at = ? WHERE id = ?",
            (state, status, error, now_iso(), delivery_id),
        )

    async def retry_delivery(
        self, delivery_id: int, next_attempt_at: float, status: int | None, error: str
    ) -> None:
        await self._write(
            "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_status = ?,"
            " last_error = ?, lease_until = 0 WHERE id = ?",
            (next_attempt_at, status, error, delivery_id),
        )

    async def get_delivery(self, delivery_id: int) -> Delivery | None:
        row = await self._one("SELECT * FROM deliveries WHERE id = ?", (delivery_id,))
        return _record(Delivery, row)

    async def deliveries_for(self, activity_uri: str) -> list[Delivery]:
        rows = await self._all(
            "SELECT * FROM deliveries WHERE activity_uri = ? ORDER BY inbox_url", (activity_uri,)
        )
        return _records(Delivery, rows)

    async def next_delivery_due(self) -> float | None:
        """When the next delivery may be claimed: the earliest time any inbox's oldest
        queued delivery is due and out of its lease (later ones wait behind it)."""
        row = await self._one(
            "SELECT MIN(MAX(d.next_attempt_at, d.lease_until)) AS t FROM deliveries d"
            " JOIN (SELECT MIN(id) AS head FROM deliveries WHERE state = 'queued'"
            " GROUP BY inbox_url) h ON d.id = h.head"
        )
        return row["t"] if row else None

    # -- web sessions --------------------------------------------------------

    async def insert_session(self, values: dict[str, Any]) -> None:
        async with self.transaction() as db:
            await self._insert_row(db, "web_sessions", values)

    async def get_session(self, token_hash: str, now: float) -> WebSession | None:
        row = await self._one(
            "SELECT * FROM web_sessions WHERE token_hash = ? AND expires_at > ?",
            (token_hash, now),
        )
        return _record(WebSession, row)

    async def delete_session(self, token_hash: str) -> None:
        await self._write("DELETE FROM web_sessions WHERE token_hash = ?", (token_hash,))

    # -- analytics -----------------------------------------------------------

    async def follower_history(self, account_id: int) -> list[tuple[str, int]]:
        """(day, net change in followers) for each day with a change, oldest first."""
        rows = await self._all(
            "SELECT substr(occurred_at, 1, 10) AS day, SUM(delta) AS change"
            " FROM follower_events WHERE account_id = ? GROUP BY day ORDER BY day",
            (account_id,),
        )
        return [(row["day"], row["change"]) for row in rows]

    async def delivery_stats(self, signer_id: int, status_id: int | None = None) -> dict[str, int]:
        """How many deliveries are delivered, failed or still queued (for one post, or all
        of an account's)."""
        where, args = "signer_id = ?", [signer_id]
        if status_id is not None:
            where += " AND status_id = ?"
            args.append(status_id)
        rows = await self._all(
            f"SELECT state, COUNT(*) AS n FROM deliveries WHERE {where} GROUP BY state", args
        )
        stats = {"delivered": 0, "failed": 0, "queued": 0}
        stats.update({row["state"]: row["n"] for row in rows})
        return stats

    async def interactions_received(self, account_id: int) -> dict[str, int]:
        """Boosts, likes and replies others gave an account's posts."""
        row = await self._one(
            "SELECT"
            " (SELECT COUNT(*) FROM statuses b JOIN statuses s ON s.id = b.reblog_of_id"
            "  WHERE s.account_id = :id AND b.account_id != :id) AS reblogs,"
            " (SELECT COUNT(*) FROM favourites f JOIN statuses s ON s.id = f.status_id"
            "  WHERE s.account_id = :id AND f.account_id != :id) AS favourites,"
            " (SELECT COUNT(*) FROM statuses r WHERE r.in_reply_to_account_id = :id"
            "  AND r.account_id != :id) AS replies",
            {"id": account_id},
        )
        assert row is not None
        return dict(row)

    # -- scheduled posts -----------------------------------------------------

    async def insert_scheduled(
        self, account_id: int, scheduled_at: str, params: str, idempotency_key: str
    ) -> int:
        async with self.transaction() as db:
            return await self._insert_row(
                db,
                "scheduled_statuses",
                {
                    "account_id": account_id,
                    "scheduled_at": scheduled_at,
                    "params": params,
                    "created_at": now_iso(),
                    "idempotency_key": idempotency_key,
                },
            )

    async def get_scheduled(self, scheduled_id: int) -> ScheduledStatus | None:
        row = await self._one("SELECT * FROM scheduled_statuses WHERE id = ?", (scheduled_id,))
        return _record(ScheduledStatus, row)

    async def scheduled_of(self, account_id: int) -> list[ScheduledStatus]:
        rows = await self._all(
            "SELECT * FROM scheduled_statuses WHERE account_id = ? ORDER BY scheduled_at, id",
            (account_id,),
        )
        return _records(ScheduledStatus, rows)

    async def due_scheduled(self, now_iso_text: str, limit: int) -> list[ScheduledStatus]:
        rows = await self._all(
            "SELECT * FROM scheduled_statuses WHERE scheduled_at <= ? ORDER BY scheduled_at, id"
            " LIMIT ?",
            (now_iso_text, limit),
        )
        return _records(ScheduledStatus, rows)

    async def reschedule(self, scheduled_id: int, scheduled_at: str) -> None:
        await self._write(
            "UPDATE scheduled_statuses SET scheduled_at = ? WHERE id = ?",
            (scheduled_at, scheduled_id),
        )

    async def delete_scheduled(self, scheduled_id: int) -> None:
        await self._write("DELETE FROM scheduled_statuses WHERE id = ?", (scheduled_id,))

    # -- oauth -------------------------------------------------------------

    async def insert_app(self, values: dict[str, Any]) -> OAuthApp:
        async with self.transaction() as db:
            app_id = await self._insert_row(db, "oauth_apps", values)
        row = await self._one("SELECT * FROM oauth_apps WHERE id = ?", (app_id,))
        return _record(OAuthApp, row)  # type: ignore[return-value]

    async def insert_code(self, values: dict[str, Any]) -> None:
        async with self.transaction() as db:
            await self._insert_row(db, "oauth_codes", values)

    async def take_code(self, code_hash: str) -> OAuthCode | None:
        """Remove and return an authorization code: a code works once."""
        async with (
            self.transaction() as db,
            db.execute(
                "DELETE FROM oauth_codes WHERE code_hash = ? RETURNING *", (code_hash,)
            ) as cur,
        ):
            row = await cur.fetchone()
        return _record(OAuthCode, row)

    async def get_app_by_client_id(self, client_id: str) -> OAuthApp | None:
        row = await self._one("SELECT * FROM oauth_apps WHERE client_id = ?", (client_id,))
        return _record(OAuthApp, row)

    async def insert_token(
        self, token_hash: str, app_id: int | None, account_id: int | None, scopes: str
    ) -> None:
        await self._write(
            "INSERT INTO oauth_tokens (token_hash, app_id, account_id, scopes, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (token_hash, app_id, account_id, scopes, now_iso()),
        )

    async def get_token(self, token_hash: str) -> OAuthToken | None:
        row = await self._one(
            "SELECT * FROM oauth_tokens WHERE token_hash = ? AND revoked_at IS NULL", (token_hash,)
        )
        return _record(OAuthToken, row)

    async def revoke_token(self, token_hash: str, app_id: int) -> None:
        await self._write(
            "UPDATE oauth_tokens SET revoked_at = ? WHERE token_hash = ? AND app_id = ?",
            (now_iso(), token_hash, app_id),
        )


def available_migrations() -> list[tuple[int, str]]:
    """(version, sql) for every numbered file in store/migrations, in order."""
    folder = resources.files("fedchirp.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), entry.read_text(encoding="utf-8")))
    return sorted(found)
