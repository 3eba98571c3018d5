"""What every table is made of: the metadata they share, id and real types, references."""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, MetaData
from sqlalchemy.dialects.sqlite import REAL

metadata = MetaData()

# 64-bit ids on PostgreSQL; on SQLite an INTEGER PRIMARY KEY is the 64-bit rowid.
Id = BigInteger().with_variant(Integer(), "sqlite")
# Double precision; named REAL on SQLite, as the first release's tables have it.
Real = Float().with_variant(REAL(), "sqlite")


def ref(target: str, on_delete: str = "CASCADE") -> ForeignKey:
    return ForeignKey(target, ondelete=on_delete)
