"""Time-ordered 63-bit ids, so ordering by id is ordering by time.

The high bits are milliseconds since the Unix epoch and the low 16 bits tell
apart ids of the same millisecond, like Mastodon's snowflake ids. Ids for the
present are issued in strictly increasing order (two posts written in one
millisecond keep their order); ids for the past (a remote post published
earlier) take random low bits, and a collision is retried by the store with random
low bits (the order of issue lives in memory: after a restart the first ids of a
millisecond that already has posts would otherwise collide in sequence).
Remote posts get ids from their own publication time, so a home timeline
merging local and remote posts is simply ORDER BY id.
"""

from __future__ import annotations

import secrets
from datetime import datetime

SEQUENCE_BITS = 16
_last_issued = 0


def id_for_time(moment: datetime) -> int:
    global _last_issued
    base = int(moment.timestamp() * 1000) << SEQUENCE_BITS
    if base >= (_last_issued >> SEQUENCE_BITS) << SEQUENCE_BITS:
        _last_issued = max(base, _last_issued + 1)
        return _last_issued
    return random_id_for_time(moment)


def first_id_at(moment: datetime) -> int:
    """The smallest id of the moment's millisecond: a bound for ranges (issues nothing)."""
    return int(moment.timestamp() * 1000) << SEQUENCE_BITS


def random_id_for_time(moment: datetime) -> int:
    """An id of the moment's millisecond with random low bits."""
    return (int(moment.timestamp() * 1000) << SEQUENCE_BITS) | secrets.randbits(SEQUENCE_BITS)
