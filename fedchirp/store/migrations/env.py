"""Alembic runs revisions on the connection that store/migrate.py hands it."""

from alembic import context

from fedchirp.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
