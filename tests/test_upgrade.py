"""A database written by the first release (its SQL migrations 0001-0005) upgrades in
place on first start, with every row kept and the new tables filled."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from fedchirp.store import SchemaError, Store
from fedchirp.store.migrate import head_revision
from fedchirp.store.models import AccountStats, Page, StatusStats

LEGACY_SCHEMA = Path(__file__).parent / "legacy_schema"
NOW = "2026-01-01T00:00:00.000Z"
KEY = "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----"
# Time-ordered status ids (ms << 16), oldest first.
POST_IDS = [(1_767_225_600_000 + n) << 16 for n in range(6)]


def build_first_release_database(path: Path) -> None:
    """Apply the first release's schema files as it did, then write rows into every table
    that holds user data."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    for script in sorted(LEGACY_SCHEMA.glob("*.sql")):
        conn.executescript(script.read_text(encoding="utf-8"))
        conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (int(script.name[:4]), NOW))
    conn.executescript(_ROWS)
    conn.commit()
    conn.close()


def _account(account_id: int, username: str, domain: str = "") -> str:
    host = domain or "local.test"
    uri = f"https://{host}/users/{username}"
    shared_inbox = f"'https://{host}/inbox'" if domain else "NULL"
    return (
        "INSERT INTO accounts (id, username, domain, uri, inbox_url, shared_inbox_url,"
        " followers_url, public_key_id, public_key_pem, created_at) VALUES"
        f" ({account_id}, '{username}', '{domain}', '{uri}', '{uri}/inbox', {shared_inbox},"
        f" '{uri}/followers', '{uri}#main-key', '{KEY}', '{NOW}');"
    )


def _status(index: int, account_id: int, visibility: str, local: int, extra: str = "") -> str:
    status_id = POST_IDS[index]
    return (
        "INSERT INTO statuses (id, uri, account_id, local, content, visibility, created_at"
        f"{', circle_id' if extra else ''}) VALUES ({status_id},"
        f" 'https://x.test/s/{index}', {account_id}, {local}, 'post {index}', '{visibility}',"
        f" '2026-01-01T00:00:0{index}.000Z'{', ' + extra if extra else ''});"
    )


# alice(1) and bob(2) are local, carol(3) is remote. bob follows alice; alice follows
# carol; dave(4, remote) asked to follow alice and waits.
_ROWS = "\n".join(
    [
        _account(1, "alice"),
        _account(2, "bob"),
        _account(3, "carol", "remote.test"),
        _account(4, "dave", "remote.test"),
        "INSERT INTO local_users VALUES (1, 'hash-a', 'key-a', 1, '" + NOW + "');",
        "INSERT INTO local_users VALUES (2, 'hash-b', 'key-b', 0, '" + NOW + "');",
        "INSERT INTO follows VALUES (1, 2, 1, 'https://local.test/f/1', 'accepted', '"
        + NOW
        + "');",
        "INSERT INTO follows VALUES (2, 1, 3, 'https://local.test/f/2', 'accepted', '"
        + NOW
        + "');",
        "INSERT INTO follows VALUES (3, 4, 1, 'https://remote.test/f/3', 'pending', '"
        + NOW
        + "');",
        "INSERT INTO circles VALUES (1, 1, 'friends', '" + NOW + "');",
        "INSERT INTO circle_members VALUES (1, 2, '" + NOW + "');",
        _status(0, 1, "public", 1),
        _status(1, 1, "private", 1),
        _status(2, 3, "public", 0),
        _status(3, 3, "direct", 0),
        _status(4, 1, "limited", 1, "1"),
        _status(5, 3, "unlisted", 0),
        f"INSERT INTO status_recipients VALUES ({POST_IDS[3]}, 1, 1);",
        f"INSERT INTO status_recipients VALUES ({POST_IDS[4]}, 2, 0);",
        f"INSERT INTO status_tags VALUES ({POST_IDS[0]}, 'hello');",
        f"INSERT INTO favourites VALUES (1, 2, {POST_IDS[0]}, 'https://local.test/l/1', '{NOW}');",
        f"INSERT INTO notifications VALUES (1, 1, 'favourite', 2, {POST_IDS[0]}, '{NOW}');",
        "INSERT INTO oauth_apps VALUES (1, 'app', NULL, 'urn:ietf:wg:oauth:2.0:oob', 'read',"
        f" 'cid', 'secret', '{NOW}');",
        f"INSERT INTO oauth_tokens VALUES (1, 'token-hash', 1, 1, 'read', '{NOW}', NULL);",
        "INSERT INTO media_attachments (id, account_id, status_id, type, mime_type, file_name,"
        f" created_at) VALUES (1, 1, {POST_IDS[0]}, 'image', 'image/png', 'a.png', '{NOW}');",
        "INSERT INTO deliveries (activity_uri, activity_type, inbox_url, body, signer_id,"
        f" status_id, next_attempt_at, created_at) VALUES ('https://x.test/s/0#create',"
        f" 'Create', 'https://remote.test/inbox', '{{}}', 1, {POST_IDS[0]}, 0, '{NOW}');",
        f"INSERT INTO web_sessions VALUES ('session-hash', 1, 'csrf', '{NOW}', 9e9);",
        "INSERT INTO scheduled_statuses (account_id, scheduled_at, params, created_at)"
        f" VALUES (1, '2030-01-01T00:00:00.000Z', '{{\"text\": \"later\"}}', '{NOW}');",
        f"INSERT INTO status_idempotency VALUES (1, 'key-1', {POST_IDS[0]}, '{NOW}');",
        "INSERT INTO settings VALUES ('instance_key', 'k');",
    ]
)

USER_TABLES = [
    "accounts", "local_users", "follows", "circles", "circle_members", "statuses",
    "status_recipients", "status_tags", "favourites", "notifications", "oauth_apps",
    "oauth_tokens", "media_attachments", "deliveries", "web_sessions", "scheduled_statuses",
    "status_idempotency", "settings", "follower_events", "tombstones", "inbox_seen",
]  # fmt: skip


def _counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        found = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return {
            t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in USER_TABLES
            if t in found
        }
    finally:
        conn.close()


async def test_a_first_release_database_upgrades_in_place_with_every_row(tmp_path):
    path = tmp_path / "fedchirp.sqlite3"
    build_first_release_database(path)
    before = _counts(path)
    assert before["statuses"] == 6 and before["follows"] == 3

    store = Store(path)
    await store.open()
    try:
        assert await store.schema_version() == head_revision()
        assert await store.migrate() == []
        # The home feeds were filled from what the old query showed.
        bob_home = await store.home_timeline(2, Page())
        assert [s.id for s in bob_home] == [POST_IDS[4], POST_IDS[1], POST_IDS[0]]
        alice_home = await store.home_timeline(1, Page())
        assert [s.id for s in alice_home] == [POST_IDS[i] for i in (5, 4, 3, 2, 1, 0)]
        # The counters were counted from the rows.
        stats = await store.account_stats_of([1, 2, 3])
        assert stats[1] == AccountStats(3, 1, 1, "2026-01-01T00:00:04.000Z")
        assert stats[2] == AccountStats(0, 0, 1, None)
        assert stats[3] == AccountStats(3, 1, 0, "2026-01-01T00:00:05.000Z")
        assert (await store.status_stats_of([POST_IDS[0]]))[POST_IDS[0]] == StatusStats(0, 0, 1)
        # The scheduled post got its publish job, due at its time (2030-01-01).
        job = await store.find_job("scheduled.publish", "1@2030-01-01T00:00:00.000Z")
        assert job is not None and (job.state, job.run_at) == ("queued", 1_893_456_000.0)
        # The queued delivery became a job of the "deliver" queue, in its inbox's lane;
        # its activity is stored once.
        [moved] = await store.outbound_deliveries("https://x.test/s/0#create")
        assert (moved.inbox_url, moved.state, moved.body) == (
            "https://remote.test/inbox",
            "queued",
            "{}",
        )
        job = await store.find_job("deliver", f"1:{moved.inbox_url}")
        assert job is not None and (job.lane, job.run_at, job.attempts) == (moved.inbox_url, 0, 0)
        assert await store.delivery_stats(1, POST_IDS[0]) == {
            "delivered": 0, "failed": 0, "queued": 1,
        }  # fmt: skip
        # The first release's triggers still keep their rules: bob stops following
        # alice, so he leaves her circle and loses her group post.
        await store.delete_follow(1)
        assert await store.circle_members(1) == []
        assert [s.id for s in await store.home_timeline(2, Page())] == []
    finally:
        await store.close()

    after = _counts(path)
    # Only what the last steps changed: one follow ended (recorded as a follower event),
    # and with it bob's circle membership and his access to the group post.
    # The deliveries table went: its one row is a job now (checked above).
    assert before.pop("deliveries") == 1 and "deliveries" not in after
    expected = dict(
        before,
        follows=2,
        circle_members=0,
        status_recipients=1,
        follower_events=before["follower_events"] + 1,
    )
    assert after == expected
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert "schema_migrations" not in tables
    assert {"home_feed", "account_stats", "status_stats"} <= tables
    fresh = Store(tmp_path / "new.sqlite3")
    await fresh.open()
    await fresh.close()
    assert _schema(path) == _schema(tmp_path / "new.sqlite3")


def _schema(path: Path) -> dict[str, object]:
    """Tables with their columns, keys and indexes, and the triggers, as SQLite reports
    them. An INTEGER PRIMARY KEY is never null, whether or not it was declared so."""
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        described: dict[str, object] = {}
        for table in tables:
            columns = [
                (name, kind, bool(notnull) or bool(pk))
                for _, name, kind, notnull, _default, pk in conn.execute(
                    f"PRAGMA table_info({table})"
                )
            ]
            keys = sorted(
                (row[2], row[3], row[4], row[6])  # table, from, to, on delete
                for row in conn.execute(f"PRAGMA foreign_key_list({table})")
            )
            indexes = sorted(
                (
                    bool(unique),
                    [c[2] for c in conn.execute(f"PRAGMA index_info('{name}')")],
                )
                for _, name, unique, *_rest in conn.execute(f"PRAGMA index_list({table})")
            )
            described[table] = (columns, keys, indexes)
        described["triggers"] = sorted(
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
        )
        return described
    finally:
        conn.close()


async def test_a_database_of_an_older_first_release_schema_is_refused(tmp_path):
    """Only the first release's final schema (version 5) is a known starting point."""
    path = tmp_path / "fedchirp.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
    conn.executescript((LEGACY_SCHEMA / "0001_initial.sql").read_text(encoding="utf-8"))
    conn.execute("INSERT INTO schema_migrations VALUES (1, 'then')")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaError, match="schema version 1"):
        await Store(path).open()
