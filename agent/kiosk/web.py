"""The kiosk JSON API (docs/kiosk-api.md) as a Bottle app; no flow logic here.

Bottle: one pure-Python module with no dependencies, routing and JSON bodies
built in, and a few hundred kB of RSS; served by waitress (a threaded, pure-Python
production WSGI server). Falcon is as well kept but larger and compiled.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import bottle

from agent.kiosk import brand
from agent.kiosk.session import ActionRefused

log = logging.getLogger("agent.kiosk")
STATIC = Path(__file__).with_name("static")


def _error(status: int, message_id: str, params: dict | None = None):
    bottle.response.status = status
    bottle.response.content_type = "application/json"
    bottle.response.set_header("Cache-Control", "no-store")
    return json.dumps({"error": {"id": message_id, "params": params or {}}})


def _json(value, status: int = 200):
    bottle.response.status = status
    bottle.response.content_type = "application/json"
    bottle.response.set_header("Cache-Control", "no-store")
    return json.dumps(value)


def _body() -> dict | None:
    try:
        raw = bottle.request.body.read(65536)
        value = json.loads(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def build_app(kiosk) -> bottle.Bottle:
    """``kiosk`` is the KioskService: config(), open(flow, language), get(id), close(id)."""
    app = bottle.Bottle(catchall=True)

    @app.get("/")
    def index():
        return bottle.static_file("index.html", root=str(STATIC))

    @app.get("/static/<path:path>")
    def static(path):
        return bottle.static_file(path, root=str(STATIC))

    @app.get(brand.LOGO_ROUTE)
    def logo():
        # kiosk.logo (the slip's PNG) on the screen's header; at most brand.LOGO_MAX_BYTES, PNG only.
        cfg = getattr(kiosk, "cfg", None)
        data = brand.read_logo(cfg.kiosk.logo) if cfg is not None else None
        if data is None:
            return _error(404, "error.bad_request")
        bottle.response.content_type = "image/png"
        bottle.response.set_header("Cache-Control", "no-cache")
        return data

    @app.get("/api/config")
    def config():
        return _json(kiosk.public_config())

    @app.post("/api/sessions")
    def open_session():
        body = _body()
        if body is None or body.get("flow") not in ("check-in", "check-out"):
            return _error(400, "error.bad_request")
        session = kiosk.open(body["flow"], str(body.get("language") or ""))
        if session is None:  # a guest's payment or keys are under way: their session goes on
            return _error(409, "error.kiosk_busy")
        return _json(session.screen(), 201)

    @app.get("/api/sessions/<sid>")
    def get_session(sid):
        session = kiosk.get(sid)
        return _json(session.screen()) if session else _error(404, "error.no_session")

    @app.post("/api/sessions/<sid>/input")
    def input_(sid):
        session = kiosk.get(sid)
        if session is None:
            return _error(404, "error.no_session")
        body = _body()
        if body is None or not isinstance(body.get("action"), str):
            return _error(400, "error.bad_request")
        fields = {k: v for k, v in body.items() if k != "action"}
        try:
            return _json(session.act(body["action"], fields))
        except ActionRefused as e:
            return _error(e.status, e.message_id, e.params)

    @app.post("/api/sessions/<sid>/staff")
    def staff(sid):
        session = kiosk.get(sid)
        if session is None:
            return _error(404, "error.no_session")
        return _json(session.act("staff", {}))

    @app.post("/api/sessions/<sid>/activity")
    def activity(sid):
        session = kiosk.get(sid)
        if session is None:
            return _error(404, "error.no_session")
        session.touch()
        bottle.response.status = 204
        return ""

    @app.delete("/api/sessions/<sid>")
    def delete(sid):
        closed = kiosk.close(sid)
        if closed is None:  # busy: a payment is asked to abort, keys are finished; the session ends after
            return _error(409, "error.busy")
        if not closed:
            return _error(404, "error.no_session")
        bottle.response.status = 204
        return ""

    def on_error(err):
        if err.status_code >= 500:
            log.error("kiosk API: %s", err.exception if err.exception else err.status_line)
        return _error(err.status_code, "error.bad_request" if err.status_code < 500 else "failed.unavailable")

    for code in (400, 404, 405, 500):
        app.error(code)(on_error)
    return app
