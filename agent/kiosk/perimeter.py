"""Who may drive the kiosk API: a WSGI layer in front of the app that refuses what the screen never sends.

The kiosk's API acts on a guest's session (and money, and keys), so only the kiosk's
own page may call it. A web page open in any browser on the unit or the LAN can make
that browser send requests here; this layer refuses them (docs/kiosk-api.md, README
"Safety: who may drive the kiosk"):

- ``Host`` must name the kiosk as bound (or localhost / 127.0.0.1 / [::1]) on its port:
  a DNS-rebinding page sends its own name -> 421.
- A state-changing request (POST, PUT, PATCH, DELETE with a body) must be
  ``application/json``, which a cross-origin page cannot send without a CORS preflight
  that this server never grants; with an ``Origin``, it must be the kiosk's own -> 403.
- With ``kiosk.screen_token`` set, every ``/api/`` request must present it in
  ``X-Kiosk-Screen`` -> 403.
- A declared body over 64 KB -> 413 before it is read (the server enforces the same
  limit for chunked bodies).

Every answer, refused or not, static or API, carries the security headers.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time

from agent.kiosk.address import WILDCARDS, is_ip_literal

log = logging.getLogger("agent.kiosk")

MAX_BODY = 64 * 1024
SCREEN_HEADER = "X-Kiosk-Screen"
# index.html's own meta policy plus what only a header can say (framing); the UI needs nothing more
CSP = ("default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'")
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
)
STATE_CHANGING = frozenset(("POST", "PUT", "PATCH", "DELETE"))
LOCAL_NAMES = frozenset(("localhost", "127.0.0.1", "::1"))
LOG_EVERY = 60.0  # seconds: one log line per kind of refusal, however many arrive


class Refused(Exception):
    """A request the kiosk's screen would never send; ``why`` is for the log (no header values)."""

    def __init__(self, status: int, message_id: str, why: str):
        super().__init__(why)
        self.status, self.message_id, self.why = status, message_id, why


STATUS_TEXT = {403: "403 Forbidden", 413: "413 Content Too Large", 421: "421 Misdirected Request"}


def error_body(message_id: str) -> bytes:
    """The API's JSON error shape (docs/kiosk-api.md)."""
    return json.dumps({"error": {"id": message_id, "params": {}}}).encode()


class Perimeter:
    """WSGI middleware: ``Perimeter(app, address, screen_token)``; ``address()`` is the bound (host, port)."""

    def __init__(self, app, address, screen_token: str = ""):
        self.app, self.address = app, address
        self._token = screen_token.encode("latin-1") if screen_token else b""
        self._logged: dict[str, float] = {}
        self._log_lock = threading.Lock()

    def __call__(self, environ, start_response):
        try:
            self.check(environ)
        except Refused as e:
            self._note(environ.get("REQUEST_METHOD", "?"), e.why)
            body = error_body(e.message_id)
            start_response(STATUS_TEXT[e.status], [("Content-Type", "application/json"),
                                                   ("Content-Length", str(len(body))),
                                                   ("Cache-Control", "no-store"), *SECURITY_HEADERS])
            return [body]

        def start(status, headers, exc_info=None):
            given = {name.lower() for name, _ in headers}
            extra = [(name, value) for name, value in SECURITY_HEADERS if name.lower() not in given]
            return start_response(status, list(headers) + extra, exc_info)

        return self.app(environ, start)

    # ---- the checks ---------------------------------------------------------------------

    def check(self, environ) -> None:
        """Raise Refused for a request the kiosk's own screen would never send."""
        host = environ.get("HTTP_HOST", "")
        if not self.host_allowed(host):
            raise Refused(421, "error.forbidden", "Host is not the kiosk")
        length = environ.get("CONTENT_LENGTH", "").strip()
        if length and (not length.isdigit() or int(length) > MAX_BODY):
            raise Refused(413, "error.too_large", "body over 64 KB")
        method = environ.get("REQUEST_METHOD", "").upper()
        if method in STATE_CHANGING:
            origin = environ.get("HTTP_ORIGIN")
            if origin is not None and origin.strip().lower() != "http://" + host.strip().lower():
                raise Refused(403, "error.forbidden", "cross-origin request")
            has_body = (length not in ("", "0")) or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
            media = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
            if (method != "DELETE" or has_body) and media != "application/json":
                raise Refused(403, "error.forbidden", "not application/json")
        if self._token and environ.get("PATH_INFO", "").startswith("/api/"):
            given = environ.get("HTTP_X_KIOSK_SCREEN", "").encode("latin-1", "replace")
            if not hmac.compare_digest(given, self._token):
                raise Refused(403, "error.forbidden", "screen token missing or wrong")

    def host_allowed(self, header: str) -> bool:
        """``header`` names this kiosk: the bound host, or a local name, on the bound port."""
        bound_host, port = self.address()
        text = header.strip().lower()
        if text.startswith("["):
            name, _, rest = text[1:].partition("]")
            if rest and not rest.startswith(":"):
                return False
            given_port = rest[1:]
        else:
            name, sep, given_port = text.rpartition(":")
            if not sep:
                name, given_port = text, ""
        ports = {str(port), ""} if str(port) == "80" else {str(port)}  # browsers leave out :80
        if not name or given_port not in ports:
            return False
        if name in LOCAL_NAMES or name == str(bound_host).lower():
            return True
        # Bound to every address (a LAN screen, screen token required): a numeric Host cannot be a
        # rebinding attack, which needs a name the attacker controls.
        return bound_host in WILDCARDS and is_ip_literal(name)

    def _note(self, method: str, why: str) -> None:
        now = time.monotonic()
        with self._log_lock:
            if now - self._logged.get(why, -LOG_EVERY) < LOG_EVERY:
                return
            self._logged[why] = now
        log.warning("kiosk API: refused a %s request: %s (one line per minute for each reason)", method, why)
