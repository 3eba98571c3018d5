"""Requests a process is answering, for its workers to yield to (services/jobs.py)."""

from __future__ import annotations

import time


class InFlight:
    """Requests this process is answering (counted by the web app). It stays busy for a
    moment after the last one ends: a client sending one request after another leaves
    the count at 0 between them, and a job started then would hold the writer."""

    GRACE_SECONDS = 0.01

    def __init__(self) -> None:
        self.count = 0
        self.last_ended = float("-inf")  # time.monotonic()

    def ended(self) -> None:
        self.count -= 1
        self.last_ended = time.monotonic()

    def __bool__(self) -> bool:
        return self.count > 0 or time.monotonic() - self.last_ended < self.GRACE_SECONDS
