"""The client's address: the one function everything that keys on "who is asking" goes through
(``ClientKeyMiddleware`` hashes its answer for the rate limits and drops it).

Behind a load balancer the peer is the balancer, and every youth would share one rate-limit
bucket. A forwarded header is believed only when the peer is a configured proxy, and only as far
as the chain of configured proxies goes: ``X-Forwarded-For`` / ``Forwarded`` are read from the
right (each proxy appends the peer it saw), skipping our own proxies; the first hop that is not
one of them is the client. Anything left of that was written by the client and is ignored.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from starlette.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_FOR = re.compile(r'(?:^|;)\s*for\s*=\s*("[^"]*"|[^;,\s]*)', re.IGNORECASE)


def client_address(scope: Scope, proxies: Sequence[Network] = (),
                   header: str = "x-forwarded-for") -> str:
    """The address of the client that sent this request ("unknown" when there is none)."""
    client = scope.get("client")
    peer = normalise(client[0]) if client else "unknown"
    if not proxies or not trusted(peer, proxies):
        return peer
    hops = forwarded_hops(scope, header)
    for hop in reversed(hops):
        if not trusted(hop, proxies):
            return hop
    # Every hop is one of our proxies (or there is no header): the leftmost is the best we know.
    return hops[0] if hops else peer


def forwarded_hops(scope: Scope, header: str) -> list[str]:
    """The addresses in every ``header`` line, left to right, normalised."""
    name = header.encode("latin-1")
    values = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k.lower() == name]
    hops: list[str] = []
    for value in values:
        for element in value.split(","):
            if header == "forwarded":
                m = _FOR.search(element.strip())
                if m is None:
                    continue
                element = m[1].strip('"')
            hops.append(normalise(element))
    return [h for h in hops if h]


def normalise(raw: str) -> str:
    """An address as one spelling: no port, no brackets, IPv4-mapped IPv6 as IPv4. Text that is
    not an address (a proxy's "unknown", an obfuscated ``_name``) is kept as it is."""
    text = raw.strip()
    if text.startswith("["):  # [v6] or [v6]:port
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return text[:64]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in proxies)
