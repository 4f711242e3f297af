"""What the edge of the web server is told at start-up: the host names it serves and the
proxies whose forwarded headers it believes (read by chat.config.load_config)."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from chat.errors import ConfigError

_HOST = re.compile(r"^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$")
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def parse_allowed_hosts(public_url: str, extra: str) -> frozenset[str]:
    """The public URL's host[:port] (also with the scheme's default port spelt out) and the
    comma-separated extra hosts, lowercase."""
    parts = urlsplit(public_url)
    if parts.scheme not in _DEFAULT_PORTS or not parts.netloc:
        raise ConfigError("HELSEPRAT_PUBLIC_URL must be http(s)://host[:port]")
    hosts = {parts.netloc.lower(), *(h.strip().lower() for h in extra.split(",") if h.strip())}
    for host in hosts:
        if not _HOST.match(host):
            raise ConfigError(f"HELSEPRAT_ALLOWED_HOSTS: {host!r} is not host[:port]")
    default = _DEFAULT_PORTS[parts.scheme]
    with_port = {f"{h}:{default}" for h in hosts if not _has_port(h)}
    return frozenset(hosts | with_port)


def _has_port(host: str) -> bool:
    m = _HOST.match(host)
    return m is not None and m[2] is not None


def parse_proxies(raw: str, setting: str = "HELSEPRAT_TRUSTED_PROXIES",
                  ) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Comma-separated addresses or CIDR blocks of the load balancers in front of us (or, with
    ``setting``, of another list of peers: the metrics scrapers)."""
    out = []
    for item in (x.strip() for x in raw.split(",")):
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(f"{setting}: {item!r} is not an address or CIDR block") from None
    return tuple(out)


def parse_forwarded_header(raw: str) -> str:
    header = raw.strip().lower()
    if header not in ("x-forwarded-for", "forwarded"):
        raise ConfigError("HELSEPRAT_FORWARDED_HEADER must be x-forwarded-for or forwarded")
    return header
