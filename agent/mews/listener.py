"""The Mews websocket in its own thread, with our own reconnect loop.

websocket-client's built-in reconnect is off (a fixed delay that hides auth
failures); we reconnect with exponential backoff and full jitter, reset after a
stable minute. Pings detect half-open connections. Auth headers and the query
are computed at each connect so a fresh AccessToken is used.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable
from urllib.parse import urlencode

from agent.logs import redact
from agent.mews.events import Event, EventFormatError, parse_message
from agent.runtime.backoff import Backoff

log = logging.getLogger(__name__)

# Half-open connections are detected within PING_INTERVAL + PING_TIMEOUT (45 s).
PING_INTERVAL = 25.0
PING_TIMEOUT = 20.0


class EventListener:
    """Connects to ``{ws_base}/ws/connector`` and hands parsed events to ``on_events``."""

    def __init__(self, cfg, client, *, on_events: Callable[[list[Event]], None],
                 on_connected: Callable[[], None] = lambda: None,
                 on_disconnected: Callable[[str], None] = lambda reason: None,
                 ping_interval: float = PING_INTERVAL, ping_timeout: float = PING_TIMEOUT,
                 backoff: Backoff | None = None):
        self.cfg = cfg  # MewsConfig
        self.client = client
        self.on_events = on_events
        self.on_connected = on_connected
        self.on_disconnected = on_disconnected
        self.ping_interval, self.ping_timeout = ping_interval, ping_timeout
        self.backoff = backoff or Backoff(0.5, 60.0, reset_after=60.0)
        self.connected = False
        self.malformed = 0
        self.unknown = 0
        self._stop = threading.Event()
        self._app = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="mews-websocket", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        app = self._app
        if app is not None:
            try:
                app.close()
            except Exception:
                pass
        if self._thread:
            self._thread.join(timeout)

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
        import websocket

        while not self._stop.is_set():
            reason = "closed"
            try:
                url = self.url()  # may sign in (network): inside the try
                app = websocket.WebSocketApp(
                    url, header=self.headers,
                    on_open=lambda ws: self._opened(),
                    on_message=lambda ws, msg: self._message(msg),
                    on_error=lambda ws, err: self._error(err))
                self._app = app
                app.run_forever(ping_interval=self.ping_interval, ping_timeout=self.ping_timeout,
                                reconnect=0, sslopt=self._sslopt())
                reason = getattr(self, "_last_error", None) or "closed by the platform"
            except Exception as e:  # never let a network error end the thread
                reason = f"{type(e).__name__}: {e}"
            self._last_error = None
            self._app = None
            was_connected, self.connected = self.connected, False
            if self._stop.is_set():
                break
            self._maybe_refresh_token(reason)
            self.on_disconnected(redact(str(reason)))
            delay = self.backoff.next_delay()
            if was_connected:
                log.warning("websocket lost (%s); reconnecting in %.1f s", redact(str(reason)), delay)
            else:
                log.info("websocket connect failed (%s); retrying in %.1f s", redact(str(reason)), delay)
            self._stop.wait(delay)

    def _maybe_refresh_token(self, reason: str) -> None:
        """A 401 at the handshake means our AccessToken is stale: sign in again (once per failure)."""
        if "401" in reason and self.cfg.sign_in:
            try:
                self.client.sign_in()
            except Exception as e:
                log.warning("sign-in after websocket 401 failed: %s", redact(str(e)))

    def _opened(self) -> None:
        self.connected = True
        self.backoff.connected()
        log.info("websocket connected")
        self.on_connected()

    def _error(self, err) -> None:
        self._last_error = f"{type(err).__name__}: {err}"

    def _message(self, msg) -> None:
        self.backoff.check_stable()
        try:
            events = parse_message(msg)
        except EventFormatError as e:
            self.malformed += 1
            text = msg if isinstance(msg, str) else repr(msg)
            log.warning("skipped malformed websocket frame (%s): %s", e, redact(text[:200]))
            return
        try:
            self.on_events(events)
        except Exception:  # a bug in a consumer must not kill the connection
            log.exception("event handling failed")
        self.last_event_at = time.time()
