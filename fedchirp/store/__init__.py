"""Persistence behind one interface. SQLite is the default (and only, for now) backend."""

from fedchirp.store.errors import DuplicateIdempotencyKey, IdCollision, MediaUnavailable
from fedchirp.store.sqlite import SqliteStore

Store = SqliteStore

__all__ = ["DuplicateIdempotencyKey", "IdCollision", "MediaUnavailable", "SqliteStore", "Store"]
