"""The SSRF guard: outbound requests may only reach public internet addresses.

Checked twice: once on the URL (scheme, IP literals) and again on every address
the resolver returns, so a hostname that resolves to 127.0.0.1 or 10.x is refused
at connect time too (no DNS-rebinding window between check and use).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver


class BlockedAddress(Exception):
    """The URL points somewhere outbound requests may not go."""


# IPv6 ranges that carry an IPv4 address inside (NAT64, IPv4-compatible): on a
# network that routes them they reach that IPv4 address.
_EMBEDDING_NETWORKS = [ipaddress.ip_network(n) for n in ("64:ff9b::/96", "64:ff9b:1::/48", "::/96")]


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client's address
    if any(ip in network for network in _EMBEDDING_NETWORKS):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None and not is_public_address(str(inner)):
            return False
    return ip.is_global and not ip.is_multicast


def check_url(url: str, allow_http: bool, allow_private: bool) -> None:
    """Raise BlockedAddress unless url is one we may fetch or post to."""
    parts = urlsplit(url)
    allowed_schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in allowed_schemes:
        raise BlockedAddress(f"scheme {parts.scheme!r} is not allowed for {url}")
    if not parts.hostname:
        raise BlockedAddress(f"no host in {url}")
    if allow_private:
        return
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        if parts.hostname.lower() in ("localhost",) or parts.hostname.endswith(".localhost"):
            raise BlockedAddress(f"{parts.hostname} is a loopback name") from None
        return  # a name: its addresses are checked by GuardedResolver at connect time
    if not is_public_address(str(literal)):
        raise BlockedAddress(f"{parts.hostname} is not a public address")


class GuardedResolver(AbstractResolver):
    """A resolver that drops every non-public address it is given."""

    def __init__(self, allow_private: bool) -> None:
        self._inner = ThreadedResolver()
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if self._allow_private:
            return results
        public = [r for r in results if is_public_address(r["host"])]
        if not public:
            raise OSError(f"{host} resolves only to non-public addresses")
        return public

    async def close(self) -> None:
        await self._inner.close()
