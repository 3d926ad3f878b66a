"""The kiosk's HTTP server: waitress with limits a slow or hostile client cannot talk its way past.

waitress reads every connection in one asyncore loop and hands a request to a worker
only once it has arrived whole, so slow clients cost a socket, not a worker. What
stopped the screen answering was waitress's ``connection_limit``: at 100 open
connections it stops accepting, and 150 connections trickling a header byte every few
seconds (slow-loris) or 1000 idle ones kept the screen's own requests in the listen
backlog until they went away. Here the server never stops accepting: once
``CONNECTIONS`` are open, each new connection closes the oldest one that has no
request in progress (an idle keep-alive, an unfinished request), so the newest - the
screen's - is always served. Bodies over 64 KB are refused as soon as their headers
say so (chunked ones once they pass it), and waitress's own error answers (400, 413,
431) carry the API's JSON shape and the security headers like every other answer.
"""

from __future__ import annotations

import errno
import logging
import resource
import socket
import time

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask

from agent.kiosk.perimeter import MAX_BODY, SECURITY_HEADERS, error_body

log = logging.getLogger("agent.kiosk")

LINGER = 2.0  # seconds a closing connection may still send what we drop (see KioskChannel)
CONNECTIONS = 250  # open connections before the oldest idle one makes room (a screen uses a few)
ACCEPT_BATCH = 64  # connections taken from the listen queue per loop turn
WANTED_FILES = 4096  # RLIMIT_NOFILE soft limit asked for: sockets, the store, serial ports, with room

ADJUSTMENTS = dict(
    threads=4,
    channel_timeout=30,  # seconds of silence before an idle or half-sent connection is closed
    cleanup_interval=5,
    backlog=1024,
    max_request_body_size=MAX_BODY + 1,  # waitress refuses sizes >= this: 64 KB exactly still passes
    max_request_header_size=16 * 1024,
    asyncore_use_poll=True,  # select() cannot watch a descriptor numbered 1024 or above
    ident="kiosk-agent",
    clear_untrusted_proxy_headers=True,
    expose_tracebacks=False,
)


class JsonErrorTask(ErrorTask):
    """waitress's answer to a request it could not parse or accept, in the API's JSON error shape."""

    def execute(self):
        error = self.request.error
        message_id = "error.too_large" if error.code == 413 else (
            "error.bad_request" if error.code < 500 else "failed.unavailable")
        body = error_body(message_id)
        self.status = f"{error.code} {error.reason}"
        self.response_headers.extend([("Content-Type", "application/json"), ("Cache-Control", "no-store"),
                                      *SECURITY_HEADERS])
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class KioskChannel(HTTPChannel):
    """waitress's channel with a lingering close.

    Closing a socket with unread input makes the kernel answer with a reset, and the
    client then loses the answer it has not read yet (a 413 for a body still arriving).
    So a close from our side first sends our FIN, then reads and drops what still comes
    until the client closes, for at most ``LINGER`` seconds.
    """

    error_task_class = JsonErrorTask
    lingering_until = 0.0

    def handle_close(self):
        if self.lingering_until or not self.connected or self.requests:
            return self.close_now()
        try:
            self.socket.shutdown(socket.SHUT_WR)
        except OSError:
            return self.close_now()
        self.lingering_until = time.time() + LINGER
        self.will_close = self.close_when_flushed = False

    def close_now(self):
        HTTPChannel.handle_close(self)

    def readable(self):
        return True if self.lingering_until else super().readable()

    def writable(self):
        return self.will_close if self.lingering_until else super().writable()

    def handle_read(self):
        if not self.lingering_until:
            return super().handle_read()
        try:
            data = self.recv(self.adj.recv_bytes)
        except OSError:
            data = b""
        if not data:
            self.close_now()


class KioskServer(TcpWSGIServer):
    """waitress's TCP server that makes room instead of refusing to accept (see the module's doc)."""

    channel_class = KioskChannel
    evicted = 0  # connections closed to make room (tests, bench)
    next_channel_cleanup: float  # waitress's (untyped) server sets it

    def readable(self):
        now = time.time()
        if now >= self.next_channel_cleanup:
            self.next_channel_cleanup = now + self.adj.cleanup_interval
            self.maintenance(now)
        return self.accepting

    def maintenance(self, now):
        super().maintenance(now)
        for channel in [c for c in self.active_channels.values() if 0 < c.lingering_until < now]:
            channel.close_now()

    def handle_accept(self):
        # Take every waiting connection, not one per loop turn: behind a flood of new connections
        # the screen's own waits in the listen queue only as long as one turn takes.
        for _ in range(ACCEPT_BATCH):
            if self.socket is None:
                break  # closed by stop() between two accepts
            before = len(self.active_channels)
            super().handle_accept()
            if len(self.active_channels) == before:
                break  # nothing more waiting (or a connection that died before we took it)
        if len(self.active_channels) > CONNECTIONS:
            self._make_room(len(self.active_channels) - CONNECTIONS)

    def _make_room(self, count: int) -> None:
        # Runs in the server's loop thread, which owns every channel; a channel with a request
        # queued or in a worker is never closed (its answer is on its way).
        idle = sorted((c for c in self.active_channels.values() if not c.requests),
                      key=lambda c: (not c.lingering_until, c.creation_time))  # closing ones first
        for channel in idle[:count]:
            channel.close_now()
            self.evicted += 1


class CannotListen(OSError):
    """``kiosk.listen`` cannot be bound: "cannot listen on 127.0.0.1:8765: address in use"."""

    def __str__(self) -> str:
        return self.strerror or super().__str__()


WHY = {errno.EADDRINUSE: "address in use",
       errno.EADDRNOTAVAIL: "no such address on this unit",
       errno.EACCES: "permission denied (ports below 1024 need privileges)"}


def create(app, host: str, port: int) -> KioskServer:
    """A bound, listening server for ``app``; CannotListen when the address is taken or not ours."""
    raise_file_limit()
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        adj = Adjustments(host=host, port=port, **ADJUSTMENTS)
        return KioskServer(app, adj=adj, sockinfo=adj.listen[0])
    except socket.gaierror as e:
        raise CannotListen(errno.EADDRNOTAVAIL, f"cannot listen on {where}: unknown host ({e.strerror})") from None
    except OSError as e:
        why = WHY.get(e.errno or 0, e.strerror or str(e))
        raise CannotListen(e.errno, f"cannot listen on {where}: {why}") from None
    except ValueError as e:  # waitress's own check of host and port
        raise CannotListen(errno.EINVAL, f"cannot listen on {where}: {e}") from None


def raise_file_limit(wanted: int = WANTED_FILES) -> None:
    """Soft RLIMIT_NOFILE up to ``wanted`` (never above the hard limit): sockets are files."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        if soft != resource.RLIM_INFINITY and soft < target:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError) as e:  # a container may forbid it; the connection cap still holds
        log.debug("kiosk: open-file limit not raised: %s", e)
