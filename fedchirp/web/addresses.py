"""Who is asking: the client address every rate limit counts by, and logs name.

The peer of the TCP connection, unless the peer is one of server.trusted_proxies: then
X-Forwarded-For is read from the right (each proxy appends the address it saw) and the
first address that is not a trusted proxy is the client. Anything further left was
written by the client itself and proves nothing. From any other peer the header is
ignored, else anyone could claim a fresh address with every guess.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from aiohttp import web

from fedchirp.web.state import CONFIG

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"  # a peer with no IP address (a Unix socket)


def client_address(request: web.Request) -> str:
    """The client's IP address as text (IPv4-mapped IPv6 addresses as IPv4)."""
    peer = _ip(request.remote or "")
    if peer is None:
        return request.remote or UNKNOWN
    proxies = _networks(request.app[CONFIG].server.trusted_proxies)
    if not _trusted(peer, proxies):
        return str(peer)
    client = peer
    for hop in reversed(_forwarded_for(request)):
        found = _ip(hop)
        if found is None:
            break  # not an address a proxy of ours wrote: trust nothing further left
        client = found
        if not _trusted(found, proxies):
            break
    return str(client)


def _forwarded_for(request: web.Request) -> list[str]:
    """Every X-Forwarded-For entry, in order, over all the headers sent."""
    return [
        part.strip()
        for header in request.headers.getall("X-Forwarded-For", [])
        for part in header.split(",")
        if part.strip()
    ]


def _ip(text: str) -> IpAddress | None:
    if text.startswith("["):  # [2001:db8::1]:4711, as some proxies write it
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # 192.0.2.1:4711
        text = text.partition(":")[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _trusted(ip: IpAddress, proxies: tuple[Network, ...]) -> bool:
    return any(ip in network for network in proxies)


@lru_cache(maxsize=8)
def _networks(configured: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(value, strict=False) for value in configured)
