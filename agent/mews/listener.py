"""The Mews websocket in its own thread, with our own reconnect loop and bounds.

We drive ``websocket.WebSocket`` ourselves (not ``WebSocketApp``) so that every
wait is bounded: the handshake has ``handshake_timeout`` (a server that accepts
TCP and never answers is retried with backoff); reads poll every
``POLL_INTERVAL`` so ``stop()`` returns within 2 s; a frame must arrive whole
within ``frame_timeout`` and a message may not exceed ``MAX_FRAME_BYTES`` (1 MB;
DeviceCommand frames are tiny), otherwise the socket is closed and reopened with
one log line. Pings detect half-open connections. Reconnects use exponential
backoff with full jitter, reset after a stable minute. Auth headers and the
query are computed at each connect so a fresh AccessToken is used. A handshake
refused with 401 even after a fresh sign-in is reported as ``TokenRejected``.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from agent.mews.errors import TokenRejected
from agent.mews.events import Event, EventFormatError, parse_frame
from agent.runtime.logs import redact

if TYPE_CHECKING:  # websocket-client is imported when the listener connects
    import websocket
from agent.mews.malformed import MalformedCounter
from agent.runtime.backoff import Backoff

log = logging.getLogger(__name__)

# Half-open connections are detected within PING_INTERVAL + PING_TIMEOUT (45 s).
PING_INTERVAL = 25.0
PING_TIMEOUT = 20.0
HANDSHAKE_TIMEOUT = 15.0
FRAME_TIMEOUT = 15.0  # a frame that started must be complete this long after
MAX_FRAME_BYTES = 1 << 20
POLL_INTERVAL = 0.5
DISPLACED_CLOSE_CODE = 4001


class FrameRefused(Exception):
    """A frame or message beyond the limits: the connection is closed and reopened."""


def _bounded_frames(base, limit: int):
    """A websocket-client frame buffer that refuses a frame or message longer than ``limit``."""

    class Bounded(base):
        message_bytes = 0

        def recv_length(self) -> None:
            super().recv_length()
            if self.length is not None and self.length > limit:
                raise FrameRefused(f"a frame of {self.length} bytes (limit {limit})")

        def recv_frame(self):
            frame = super().recv_frame()
            if frame.opcode in (0x0, 0x1, 0x2):  # data and continuation frames make up a message
                self.message_bytes += len(frame.data)
                if self.message_bytes > limit:
                    raise FrameRefused(f"a message of more than {limit} bytes")
                if frame.fin:
                    self.message_bytes = 0
            return frame

        def in_progress(self) -> bool:
            return self.header is not None or any(self.recv_buffer)

    return Bounded


class EventListener:
    """Connects to ``{ws_base}/ws/connector`` and hands parsed events to ``on_events``.

    ``on_disconnected(reason, error)`` gets ``error`` = ``TokenRejected`` when the
    handshake was refused with 401 even after a fresh sign-in (a person must fix
    the token); otherwise it is called with the reason alone.
    """

    def __init__(self, cfg, client, *, on_events: Callable[[list[Event]], None],
                 on_connected: Callable[[], None] = lambda: None,
                 on_disconnected: Callable[..., None] = lambda reason, error=None: None,
                 ping_interval: float = PING_INTERVAL, ping_timeout: float = PING_TIMEOUT,
                 backoff: Backoff | None = None, handshake_timeout: float | None = None,
                 frame_timeout: float = FRAME_TIMEOUT, max_frame_bytes: int = MAX_FRAME_BYTES):
        self.cfg = cfg  # MewsConfig
        self.client = client
        self.on_events = on_events
        self.on_connected = on_connected
        self.on_disconnected = on_disconnected
        self.ping_interval, self.ping_timeout = ping_interval, ping_timeout
        self.handshake_timeout = handshake_timeout or min(HANDSHAKE_TIMEOUT, getattr(cfg, "timeout", 15.0) or 15.0)
        self.frame_timeout, self.max_frame_bytes = frame_timeout, max_frame_bytes
        self.backoff = backoff or Backoff(0.5, 60.0, reset_after=60.0)
        self.connected = False
        self.frames = MalformedCounter("websocket frame", log)
        self.unknown = 0
        self.refused_frames = 0  # frames closed for size or slowness
        self.last_event_at: float | None = None
        self._stop = threading.Event()
        self._ws: websocket.WebSocket | None = None
        self._thread: threading.Thread | None = None
        self._refused_401 = False  # the previous handshake was refused with 401

    @property
    def malformed(self) -> int:
        """Malformed frames and entries so far (nested ones included)."""
        return self.frames.total

    # ---- lifecycle ------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="mews-websocket", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop and close; returns within ``timeout`` (2 s) whatever the connection does."""
        self._stop.set()
        self._abort()
        if self._thread:
            self._thread.join(timeout)

    def _abort(self) -> None:
        ws = self._ws
        sock = getattr(ws, "sock", None) if ws is not None else None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked read at once
            except OSError:
                pass

    # ---- connection -----------------------------------------------------------

    def url(self) -> str:
        base = self.cfg.ws_base + "/ws/connector"
        if self.cfg.websocket_auth in ("query", "both"):
            params = {}
            if self.cfg.client_token:
                params["ClientToken"] = self.cfg.client_token
            params["AccessToken"] = self.client.access_token
            base += "?" + urlencode(params)
        return base

    def headers(self) -> list[str]:
        if self.cfg.websocket_auth not in ("cookie", "both"):
            return []
        parts = []
        if self.cfg.client_token:
            parts.append(f"ClientToken={self.cfg.client_token}")
        parts.append(f"AccessToken={self.client.access_token}")
        return ["Cookie: " + ";".join(parts)]

    def _sslopt(self) -> dict:
        import ssl

        if not self.cfg.tls_verify:
            return {"cert_reqs": ssl.CERT_NONE, "check_hostname": False}
        opt = {"cert_reqs": ssl.CERT_REQUIRED}
        if self.cfg.ca_file:
            opt["ca_certs"] = self.cfg.ca_file
        return opt

    def _run(self) -> None:
        while not self._stop.is_set():
            error: BaseException | None = None
            try:
                reason = self._session()
            except TokenRejected as e:
                reason, error = e.describe(), e
            except Exception as e:  # never let a network error end the thread
                reason = f"{type(e).__name__}: {e}"
            finally:
                ws, self._ws = self._ws, None
                if ws is not None:
                    try:
                        ws.close(timeout=0.2) if self.connected else ws.shutdown()
                    except Exception:
                        pass
            was_connected, self.connected = self.connected, False
            if self._stop.is_set():
                break
            reason = redact(str(reason))
            if error is None:
                self._callback(self.on_disconnected, reason)
            else:
                self._callback(self.on_disconnected, reason, error)
            delay = self.backoff.next_delay()
            if error is not None:
                delay = max(delay, 60.0)  # a person must fix the token: retry slowly
            if was_connected:
                log.warning("websocket lost (%s); reconnecting in %.1f s", reason, delay)
            else:
                log.info("websocket connect failed (%s); retrying in %.1f s", reason, delay)
            self._stop.wait(delay)

    def _session(self) -> str:
        """One connection from handshake to close; returns why it ended."""
        import websocket

        ws = websocket.WebSocket(sslopt=self._sslopt(), enable_multithread=True)
        ws.frame_buffer.__class__ = _bounded_frames(type(ws.frame_buffer), self.max_frame_bytes)
        self._ws = ws
        url, headers = self.url(), self.headers()  # may sign in (network)
        guard = threading.Timer(self.handshake_timeout + 1.0, self._abort)  # a trickled handshake too
        guard.daemon = True
        guard.start()
        try:
            ws.connect(url, header=headers, timeout=self.handshake_timeout, suppress_origin=True)
        except websocket.WebSocketBadStatusException as e:
            if getattr(e, "status_code", None) == 401:
                self._handshake_refused()
            return f"handshake refused (HTTP {getattr(e, 'status_code', '?')})"
        except (TimeoutError, websocket.WebSocketTimeoutException):
            return f"no handshake answer within {self.handshake_timeout:g} s"
        finally:
            guard.cancel()
        self._refused_401 = False
        if self._stop.is_set():
            return "stopped"
        ws.settimeout(POLL_INTERVAL)
        self._opened()
        return self._receive(ws)

    def _handshake_refused(self) -> None:
        """401 at the handshake: sign in once; a second 401 after a fresh sign-in is TokenRejected."""
        if not getattr(self.cfg, "signs_in", self.cfg.sign_in) or self._refused_401:
            self._refused_401 = False
            what = TokenRejected.CURRENT if getattr(self.cfg, "current", False) else TokenRejected.DEFAULT
            raise TokenRejected(f"{what} (websocket handshake refused with 401)", 401)
        self._refused_401 = True
        try:
            self.client.sign_in()
        except TokenRejected:
            self._refused_401 = False
            raise
        except Exception as e:
            log.warning("sign-in after websocket 401 failed: %s", redact(str(e)))

    def _receive(self, ws) -> str:
        import websocket

        frames = ws.frame_buffer
        last_in = last_ping = time.monotonic()
        frame_started: float | None = None
        while not self._stop.is_set():
            try:
                opcode, data = ws.recv_data(control_frame=True)
            except (TimeoutError, websocket.WebSocketTimeoutException):
                now = time.monotonic()
                if frames.in_progress():
                    frame_started = frame_started or now
                    if now - frame_started > self.frame_timeout:
                        return self._refuse(f"a frame did not arrive whole within {self.frame_timeout:g} s")
                if self.ping_interval and now - last_ping >= self.ping_interval:
                    ws.ping()
                    last_ping = now
                if self.ping_timeout and last_ping > last_in and now - last_ping > self.ping_timeout:
                    return f"no answer to a ping within {self.ping_timeout:g} s (half-open connection)"
                continue
            except FrameRefused as e:
                return self._refuse(str(e))
            except websocket.WebSocketConnectionClosedException:
                return "closed by the platform"
            last_in, frame_started = time.monotonic(), None
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
                text = data[2:].decode("utf-8", "replace")
                if code == DISPLACED_CLOSE_CODE:
                    return f"displaced: closed by the platform ({code} {text})"
                return f"closed by the platform ({code} {text})" if code else "closed by the platform"
            if opcode in (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY):
                self._message(data)
        return "stopped"

    def _refuse(self, what: str) -> str:
        self.refused_frames += 1
        log.warning("websocket: %s; closing and reconnecting", what)
        return what

    def _opened(self) -> None:
        self.connected = True
        self.backoff.connected()
        log.info("websocket connected")
        self._callback(self.on_connected)

    def _message(self, msg) -> None:
        self.backoff.check_stable()
        try:
            events, malformed = parse_frame(msg)
        except EventFormatError as e:
            text = msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)
            self.frames.note(f"{e}: {text[:200]}")
            return
        if malformed:
            self.frames.note(f"{malformed} event entries without a usable Type/Id/State", malformed)
        self._callback(self.on_events, events)
        self.last_event_at = time.time()

    @staticmethod
    def _callback(callback, *args) -> None:
        """Run one of our callbacks as websocket-client runs its own: an exception is logged, never
        raised into the listener (it would end its thread or tear a good connection down)."""
        try:
            callback(*args)
        except Exception as e:
            log.exception("websocket: error from callback %s: %s", getattr(callback, "__name__", callback),
                          redact(str(e)))
