"""Time-ordered 63-bit ids, so ordering by id is ordering by time.

The high bits are milliseconds since the Unix epoch and the low 16 bits are
random, like Mastodon's snowflake ids. Remote posts get ids from their own
publication time, so a home timeline merging local and remote posts is simply
ORDER BY id.
"""

from __future__ import annotations

import secrets
from datetime import datetime

SEQUENCE_BITS = 16


def id_for_time(moment: datetime) -> int:
    millis = int(moment.timestamp() * 1000)
    return (millis << SEQUENCE_BITS) | secrets.randbits(SEQUENCE_BITS)


def lowest_id_for_time(moment: datetime) -> int:
    return int(moment.timestamp() * 1000) << SEQUENCE_BITS
