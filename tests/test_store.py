"""The store: time-ordered ids, numbered migrations, WAL."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from fedchirp.store import Store
from fedchirp.store.ids import SEQUENCE_BITS, id_for_time
from fedchirp.store.sqlite import available_migrations


def test_ids_of_one_millisecond_keep_their_order():
    moment = datetime.now(UTC)
    ids = [id_for_time(moment) for _ in range(5000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    later = id_for_time(moment + timedelta(milliseconds=5))
    assert later > ids[-1]


def test_ids_for_the_past_sort_by_their_time():
    now = datetime.now(UTC)
    recent = id_for_time(now)
    yesterday = id_for_time(now - timedelta(days=1))
    last_year = id_for_time(now - timedelta(days=365))
    assert last_year < yesterday < recent
    assert yesterday >> SEQUENCE_BITS == int((now - timedelta(days=1)).timestamp() * 1000)


async def test_migrations_apply_once_in_order(tmp_path):
    path = tmp_path / "db.sqlite3"
    store = Store(path)
    await store.open()
    versions = [v for v, _ in available_migrations()]
    assert versions == sorted(versions) and versions[0] == 1
    assert await store.schema_version() == versions[-1]
    assert await store.migrate() == []  # nothing left to apply
    await store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    applied = [row[0] for row in conn.execute("SELECT version FROM schema_migrations")]
    assert applied == versions
    conn.close()


async def test_an_unreadable_database_fails_cleanly(tmp_path):
    path = tmp_path / "db.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    store = Store(path)
    with pytest.raises(sqlite3.DatabaseError):
        await store.open()
    assert path.read_bytes() == b"this is not a database" * 100
