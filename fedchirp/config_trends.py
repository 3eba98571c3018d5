"""The [trends] section: whether this instance shows trending hashtags and posts
(services/trends.py; kept apart so config.py stays small)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrendsConfig:
    enabled: bool = True

    def check(self) -> None:
        return None


TRENDS_HELP = {
    "trends.enabled": "list trending hashtags and posts (/api/v1/trends/...), computed from "
    "the public posts of discoverable accounts this instance has seen; false: the lists "
    "are empty",
}
