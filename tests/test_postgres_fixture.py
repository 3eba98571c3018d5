"""The test machinery itself: the throwaway PostgreSQL cluster, fresh databases, backends."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.backends


async def _connect(url: str) -> asyncpg.Connection:
    parts = make_url(url)
    return await asyncpg.connect(
        host=parts.host, port=parts.port, user=parts.username, database=parts.database, ssl=False
    )


async def test_postgres_url_is_a_fresh_empty_database(postgres_url):
    assert postgres_url.startswith("postgresql+asyncpg://fedchirp@127.0.0.1:")
    connection = await _connect(postgres_url)
    try:
        assert await connection.fetchval("SELECT 1") == 1
        assert await connection.fetchval("SELECT current_database()") == make_url(
            postgres_url
        ).database
        tables = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        assert await connection.fetchval(tables) == 0
        assert await connection.fetchval("SHOW server_encoding") == "UTF8"
    finally:
        await connection.close()


async def test_backend_databases_are_one_per_key(backend, backend_databases):
    a = await backend_databases.url("a")
    b = await backend_databases.url("b")
    assert a != b
    assert await backend_databases.url("a") == a  # a restart finds its database again
    prefix = {"sqlite": "sqlite+aiosqlite:////", "postgresql": "postgresql+asyncpg://"}[backend]
    assert a.startswith(prefix) and b.startswith(prefix)
    if backend == "postgresql":
        names = set()
        for url in (a, b):
            connection = await _connect(url)
            try:
                assert await connection.fetchval("SELECT 1") == 1
                names.add(await connection.fetchval("SELECT current_database()"))
            finally:
                await connection.close()
        assert len(names) == 2


async def test_database_settings_name_a_fresh_database(backend, database_settings):
    if backend == "sqlite":
        assert database_settings == {}
    else:
        connection = await _connect(database_settings["database"]["url"])
        await connection.close()


def test_opted_in_tests_run_once_per_backend(request, backend):
    module = request.node.getparent(pytest.Module)
    ids = {item.name for item in module.collect()}  # all of them, whatever -k chose
    assert {
        "test_opted_in_tests_run_once_per_backend[sqlite]",
        "test_opted_in_tests_run_once_per_backend[postgresql]",
    } <= ids
    assert "test_opted_in_tests_run_once_per_backend" not in ids
    assert "test_sqlite_only_tests_keep_their_plain_id" in ids
    assert not any(name.startswith("test_sqlite_only_tests_keep_their_plain_id[") for name in ids)
    assert "test_a_test_can_pick_its_backend[postgresql]" in ids
    assert "test_a_test_can_pick_its_backend[sqlite]" not in ids
    # Tests that need no database are not doubled.
    assert "test_postgres_url_is_a_fresh_empty_database" in ids


@pytest.mark.sqlite_only
def test_sqlite_only_tests_keep_their_plain_id(backend):
    assert backend == "sqlite"


@pytest.mark.backends("postgresql")
def test_a_test_can_pick_its_backend(backend):
    assert backend == "postgresql"


async def test_each_instance_has_a_database_of_its_own(start, backend, tmp_path):
    a = await start("a")
    b = await start("b")
    assert a.config.database_url != b.config.database_url
    if backend == "sqlite":
        assert a.config.database.url == ""  # the SQLite file in data_dir, as ever
        assert a.config.database_path.exists()
    else:
        for instance in (a, b):
            connection = await _connect(instance.config.database_url)
            try:
                assert await connection.fetchval("SELECT count(*) FROM alembic_version") == 1
            finally:
                await connection.close()
    await a.stop()
    again = await start("a", port=a.port, data_dir=tmp_path / "a")
    assert again.config.database_url == a.config.database_url


async def test_make_store_opens_a_fresh_store_of_the_backend(make_store, backend):
    store = await make_store()
    other = await make_store()
    assert store.db.dialect == other.db.dialect == backend
    assert store.db.url != other.db.url
    assert await store.schema_version()
    again = await make_store("kept")
    assert (await make_store("kept")).db.url == again.db.url
