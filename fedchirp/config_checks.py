"""The checks config sections share (fedchirp/config.py and the sections kept in modules
of their own, such as fedchirp/config_limits.py): each raises ConfigError with a one-line
reason naming the setting."""

from __future__ import annotations

import ipaddress
import re

import limits


class ConfigError(ValueError):
    """The configuration cannot be used; the message says why in one line."""


def check_positive(name: str, value: float) -> None:
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {value}")


def check_http_url(name: str, value: str) -> None:
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        raise ConfigError(f"{name} must be an http:// or https:// URL")


def check_port(name: str, value: int) -> None:
    if not 0 <= value <= 65535:
        raise ConfigError(f"{name} must be a port number, got {value}")


def check_rate(name: str, value: str) -> None:
    """A rate in the `limits` notation: "25/5 minutes", or several: "25/5 minutes; 50/hour"."""
    try:
        items = limits.parse_many(value)
    except ValueError:
        items = []
    if not items or any(item.amount <= 0 for item in items):
        raise ConfigError(
            f'{name} must be a rate such as "25/5 minutes" or "25/5 minutes; 50/hour", '
            f"got {value!r}"
        )


def check_networks(name: str, values: tuple[str, ...]) -> None:
    """Addresses or CIDR networks, such as ("127.0.0.1", "10.0.0.0/8", "fd00::/8")."""
    for value in values:
        try:
            if not isinstance(value, str):
                raise TypeError(value)
            ipaddress.ip_network(value, strict=False)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{name} must list IP addresses or networks such as 10.0.0.0/8, got {value!r}"
            ) from None
