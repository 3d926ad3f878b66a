"""``kiosk.listen`` as a (host, port) pair, and whether it stays on this machine.

Kept free of the web stack: the config checks use it at load, the service at start.
"""

from __future__ import annotations

import ipaddress

WILDCARDS = ("0.0.0.0", "::")


def parse_listen(text: str) -> tuple[str, int]:
    """``"127.0.0.1:8765"``, ``"[::1]:8765"``, ``":8765"`` -> (host, port); ValueError says what is wrong."""
    host, sep, port = str(text).strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f'expected "host:port" with a port from 0 to 65535, got "{text}"')
    host = host.strip()
    if host.startswith("[") != host.endswith("]"):
        raise ValueError(f'unbalanced brackets in "{text}"')
    host = host.strip("[]") or "127.0.0.1"
    if any(c.isspace() or c in "/?#@[]" for c in host):
        raise ValueError(f'"{host}" is not a host name or address')
    return host, int(port)


def is_loopback(host: str) -> bool:
    """True when only this machine can reach ``host`` (localhost, 127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve to anything


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False
