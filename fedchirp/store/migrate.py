"""Bring a database to the current schema with Alembic.

Three starting points:
- an empty database: the tables are made from store/schema.py and stamped at the
  head revision (Alembic's advice for new databases: no replay of history);
- a database of the first release (its own `schema_migrations` table at version 5):
  stamped at revision 0005, which describes that schema, then upgraded;
- a database Alembic already manages: upgraded from its revision.
Each runs in one transaction on the connection given, so a failed upgrade leaves
the database as it was.
"""

from __future__ import annotations

import logging

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from fedchirp.store.schema import metadata

log = logging.getLogger(__name__)
# Alembic says "Context impl SQLiteImpl" at INFO on every open; we log what was applied.
logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)

FIRST_RELEASE_REVISION = "0005"
FIRST_RELEASE_VERSION = 5


class SchemaError(Exception):
    """The database is not one this release can use or upgrade."""


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", "fedchirp.store:migrations")
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config(None)).get_current_head()  # type: ignore[arg-type]
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: Connection) -> list[str]:
    """Bring the schema to the head revision; return the revisions applied (in order)."""
    config = _config(connection)
    tables = set(inspect(connection).get_table_names())
    if "alembic_version" not in tables:
        if "schema_migrations" in tables:
            _check_first_release(connection)
            command.stamp(config, FIRST_RELEASE_REVISION)
        elif tables:
            raise SchemaError(f"not a FedChirp database (it has tables {sorted(tables)[:5]})")
        else:
            metadata.create_all(connection)
            command.stamp(config, "head")
            return [head_revision()]
    before = current_revision(connection)
    command.upgrade(config, "head")
    applied = _revisions_between(config, before, current_revision(connection))
    if applied:
        log.info("database schema upgraded: %s", ", ".join(applied))
    return applied


def _check_first_release(connection: Connection) -> None:
    version = connection.execute(text("SELECT MAX(version) FROM schema_migrations")).scalar()
    if version != FIRST_RELEASE_VERSION:
        raise SchemaError(
            f"database is at the first release's schema version {version}; open it once"
            f" with FedChirp 0.1 (which brings it to {FIRST_RELEASE_VERSION}) before upgrading"
        )


def _revisions_between(config: Config, before: str | None, after: str | None) -> list[str]:
    if before == after or after is None:
        return []
    script = ScriptDirectory.from_config(config)
    walked = [rev.revision for rev in script.iterate_revisions(after, before)]
    return list(reversed(walked))
