"""MewsSimulator: the simulated platform served by aiohttp in a background thread, plus test helpers."""

from __future__ import annotations

import asyncio
import base64
import collections
import inspect
import logging
import threading
import uuid
from pathlib import Path

from aiohttp import web

from sim.mews import seed as seed_mod
from sim.mews.admin import admin_routes
from sim.mews.commands import CommandBook
from sim.mews.faults import Faults, RateLimiter
from sim.mews.routes import API_PREFIX, REQUEST_ID, ConnectorApi, error_response
from sim.mews.sessions import Sessions
from sim.mews.state import Enterprise
from sim.mews.websocket import Hub

log = logging.getLogger("sim.mews")

DEMO_CONNECTOR_TOKEN = "C66EF7B239D24632943D115EDE9CB810-EA00F8FD8294692C940F6B5A8F9453D"
# Today's published examples: the integration's ClientToken and the property's AccessToken.
DEMO_CLIENT_TOKEN = "E0D439EE522F44368DC78E1BFB03710C-D24FB11DBE31D4621C4817E028D9E1D"
DEMO_ACCESS_TOKEN = DEMO_CONNECTOR_TOKEN
GENERATIONS = ("current", "seed")
_HTTP_MESSAGES = {404: "Not found.", 405: "Method not allowed: every operation is a POST.",
                  413: "Request body too large."}


class MewsSimulator:
    """The Mews platform on one port: REST under /api/connector/v1, websocket at /ws/connector, admin under /_sim."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, connector_token: str = DEMO_CONNECTOR_TOKEN,
                 seed: str | Path | dict | None = None, space_events: bool = False, rate_limit: bool = True,
                 generation: str = "current", client_token: str = DEMO_CLIENT_TOKEN,
                 access_token: str = DEMO_ACCESS_TOKEN, record: bool = False):
        """``generation``: "current" (today's published API: ClientToken + AccessToken, retired paths 404,
        required fields checked) or "seed" (the spec documents' forms, signIn with the connector token)."""
        if generation not in GENERATIONS:
            raise ValueError(f"generation must be one of {', '.join(GENERATIONS)}, got {generation!r}")
        self.host = host
        self.port = port
        self.generation = generation
        self.connector_token = connector_token
        self.client_token, self.access_token = client_token, access_token
        self.space_events = space_events
        self.faults = Faults(rate_limit=rate_limit)
        self.limiter = RateLimiter(self.faults)
        # Today there is no sign-in: the property's AccessToken is the one valid token (REST and websocket).
        self.sessions = Sessions(access_token if generation == "current" else connector_token, self._displaced)
        self.exchanges: list[dict] | None = [] if record else None  # contract tests: every request and answer
        self.enterprise = Enterprise(seed_mod.load(seed), self._emit, space_events=space_events)
        self.commands = CommandBook(self.enterprise, self._emit)
        self.last_client: dict | None = None  # ClientToken/Client of the latest request that sent them
        self._counts: collections.Counter = collections.Counter()
        self._counts_lock = threading.Lock()
        self.rate_limited = 0  # 429 answers given (benchmarks check that clients provoke none)
        self._lifecycle = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._hub: Hub | None = None
        self._runner: web.AppRunner | None = None

    # ---- lifecycle

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> "MewsSimulator":
        """Serve in a background thread; returns once listening (a restart reuses the port)."""
        with self._lifecycle:
            if self._thread is not None:
                raise RuntimeError("MewsSimulator is already running")
            ready = threading.Event()
            failure: list[BaseException] = []
            thread = threading.Thread(target=self._serve, args=(ready, failure), name="mews-sim", daemon=True)
            thread.start()
            ready.wait()
            if failure:
                thread.join()
                raise failure[0]
            self._thread = thread
            log.info("Mews simulator listening on %s", self.url)
            return self

    def stop(self) -> None:
        """Close websockets and the listener, end the thread. Safe to call twice."""
        with self._lifecycle:
            thread, loop = self._thread, self._loop
            if thread is None or loop is None:
                return
            try:
                asyncio.run_coroutine_threadsafe(self._close(), loop).result(timeout=15)
            except Exception:  # a failed clean close must not keep the thread alive
                log.exception("Mews simulator: unclean shutdown")
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=15)
            self._thread = None

    def __enter__(self) -> "MewsSimulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _serve(self, ready: threading.Event, failure: list) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._open(loop))
        except BaseException as e:  # reported to start()'s caller
            failure.append(e)
            self._loop = self._hub = None
            loop.close()
            ready.set()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            self._loop = self._hub = None
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _open(self, loop: asyncio.AbstractEventLoop) -> None:
        @web.middleware
        async def envelope(request: web.Request, handler):
            rid = str(uuid.uuid4())
            request[REQUEST_ID] = rid
            try:
                response = await handler(request)
            except web.HTTPException as e:
                response = error_response(e.status, _HTTP_MESSAGES.get(e.status, e.reason), rid)
            except Exception:
                log.exception("simulator bug while serving %s", request.path)
                response = error_response(500, "Internal simulator error.", rid)
            if not response.prepared:
                response.headers["Request-Id"] = rid
            # Path only: a websocket query string carries tokens.
            log.info("%s %s -> %d", request.method, request.path, response.status)
            return response

        app = web.Application(middlewares=[envelope], client_max_size=64 * 1024 * 1024)
        hub = Hub(self.sessions, self.faults)
        app.router.add_post(API_PREFIX + "{operation:.+}", ConnectorApi(self).handle)
        app.router.add_get("/ws/connector", hub.handle)
        app.add_routes(admin_routes(self))
        # A short grace period on stop; aiohttp moved the setting from the site to the runner in 3.10.
        grace = {"shutdown_timeout": 1.0}
        on_runner = "shutdown_timeout" in inspect.signature(web.BaseRunner.__init__).parameters
        runner = web.AppRunner(app, access_log=None, handle_signals=False, **(grace if on_runner else {}))
        await runner.setup()
        self._loop, self._hub = loop, hub
        try:
            site = web.TCPSite(runner, self.host, self.port, **({} if on_runner else grace))
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]

    async def _close(self) -> None:
        if self._hub is not None:
            await self._hub.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ---- plumbing called by the model and the routes (any thread)

    def _emit(self, events: list) -> None:
        loop, hub = self._loop, self._hub
        if loop is None or hub is None:
            return  # not serving: nobody to tell
        try:
            loop.call_soon_threadsafe(hub.publish, events)
        except RuntimeError:
            pass  # loop closing

    def _displaced(self, token: str) -> None:
        loop, hub = self._loop, self._hub
        if loop is None or hub is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(hub.close_token(token), loop)
        except RuntimeError:
            pass

    def count_request(self, operation: str) -> None:
        with self._counts_lock:
            self._counts[operation] += 1

    def record_exchange(self, operation: str, body: dict | None, status: int, answer) -> None:
        """Keep one request and its answer (only when constructed with ``record=True``)."""
        if self.exchanges is not None:
            with self._counts_lock:
                self.exchanges.append({"operation": operation, "request": body, "status": status,
                                       "answer": answer})

    @property
    def token(self) -> str:
        """The token a client starts with: the AccessToken today, the connector token in the seed generation."""
        return self.access_token if self.generation == "current" else self.connector_token

    def record_client(self, body: dict) -> None:
        if "ClientToken" in body or "Client" in body:
            self.last_client = {"ClientToken": body.get("ClientToken"), "Client": body.get("Client")}

    # ---- in-process helpers for tests, the demo and benchmarks (thread-safe)

    def add_printer_command(self, data: bytes, file_type: str = "application/pdf", copy_count: int = 1,
                            printer_id: str | None = None) -> str:
        """Create a Printer command for ``data``; returns its Id."""
        return self.commands.add_printer(base64.b64encode(data).decode("ascii"), file_type, copy_count, printer_id)

    def add_key_cutter_command(self, reservation_id: str | None = None, key_count: int = 1, type: str = "KeyCutter",
                               key_cutter_id: str | None = None) -> str:
        """Create a KeyCutter/VisiOnlineKeyCutter command (default reservation: an in-house guest)."""
        return self.commands.add_key_cutter(reservation_id, key_count, type, key_cutter_id)

    def add_passport_scanner_command(self, customer_id: str | None = None, reservation_id: str | None = None,
                                     scanner_id: str | None = None) -> str:
        """Create a PassportScanner command (default customer: an in-house guest's)."""
        return self.commands.add_passport_scanner(customer_id, reservation_id, scanner_id)

    def command(self, id: str) -> dict:
        """The command as GET /_sim/commands/{id} returns it, with ``History``."""
        return self.commands.get(id)

    def all_commands(self) -> list[dict]:
        return self.commands.all()

    def cancel_command(self, id: str) -> dict:
        """Platform-side cancel of a command that is not final."""
        return self.commands.cancel(id)

    def set_space_state(self, space_id: str, state: str) -> dict:
        """Housekeeping change on the platform (pushes a Resource or Space event)."""
        return self.enterprise.set_space_state(space_id, state)

    def set_faults(self, **faults) -> dict:
        """Same keys as POST /_sim/faults; raises ValueError for an unknown key or a bad value."""
        self.faults.update(**faults)
        if faults.get("drop_websockets"):
            loop, hub = self._loop, self._hub
            if loop is not None and hub is not None:
                loop.call_soon_threadsafe(hub.drop_all)
        if faults.get("displace"):
            self.sessions.displace()
        return self.faults.snapshot()

    def request_count(self, path: str | None = None) -> int:
        """API requests served, all or for one operation (``"spaces/getAll"`` or the full path)."""
        with self._counts_lock:
            if path is None:
                return sum(self._counts.values())
            if path.startswith(API_PREFIX):
                path = path[len(API_PREFIX):]
            return self._counts[path.lstrip("/")]

    def request_counts(self) -> dict:
        with self._counts_lock:
            return dict(self._counts)
