"""Persistence behind one interface. SQLite is the default (and only, for now) backend."""

from fedchirp.store.sqlite import SqliteStore

Store = SqliteStore

__all__ = ["SqliteStore", "Store"]
