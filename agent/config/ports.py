"""What counts as a typo in a device port (``printer.port``, ``encoder.port``), decided at config load.

A port is accepted when it is
- an absolute path (``/dev/ttyUSB0``, ``/dev/serial/by-id/...``, a pty): whether the
  device is there is NOT checked, so an unplugged USB printer or encoder leaves the
  config valid (the agent waits for it and the doctor reports it);
- a pyserial URL with a scheme pyserial knows (``socket://``, ``rfc2217://``,
  ``loop://``, ``spy://``, ``hwgrep://``, ``alt://``, ``cp2110://``); ``socket://`` and
  ``rfc2217://`` need ``host:port`` with a port number.
Anything else (``ttyUSB0``, ``dev/ttyUSB0``, ``COM3``, ``sokcet://...``, spaces around
the value) is a typo no retry can cure: a config error naming the key.
"""

from __future__ import annotations

SCHEMES = ("socket", "rfc2217", "loop", "spy", "hwgrep", "alt", "cp2110")
NEEDS_HOST_PORT = ("socket", "rfc2217")


def port_problem(value: str, *, tcp: bool = False) -> str | None:
    """Why ``value`` cannot be a serial port (None when it can); ``tcp`` also allows ``tcp://HOST:PORT`` (printers)."""
    if not value:
        return "is empty: expected a device path such as /dev/ttyUSB0 or a pyserial URL such as socket://host:9100"
    if value != value.strip():
        return f'"{value}" has spaces around it'
    if "://" in value:
        scheme, _, rest = value.partition("://")
        known = SCHEMES + (("tcp",) if tcp else ())
        if scheme.lower() not in known:
            return (f'unknown pyserial URL scheme "{scheme}://" in "{value}" '
                    f"(known: {', '.join(s + '://' for s in known)})")
        if scheme.lower() in NEEDS_HOST_PORT + ("tcp",):
            host, sep, port = rest.split("?")[0].rstrip("/").rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                return f'"{value}": expected {scheme}://HOST:PORT, e.g. {scheme}://192.168.1.50:9100'
        return None
    if value.startswith("/"):
        return None
    hint = f" (did you mean /dev/{value.removeprefix('dev/')}?)" if value.startswith(("tty", "dev/", "serial")) else ""
    return f'"{value}" is neither an absolute device path nor a pyserial URL{hint}'
