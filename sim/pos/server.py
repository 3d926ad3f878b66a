"""ConcertPOS gateway simulator: one websocket port per shard, one shared ``Gateway`` state.

    sim = PosGatewaySimulator(ports=[0, 0, 0], instance="my-venue", api_key="k")
    sim.start()
    cfg: url_template=sim.url_template, shards=sim.shards   # shard name = port number
    sim.kill_shard(0); sim.broadcast_updatepos(); sim.drop_after_next("payitems", execute=True)
    sim.stop()

Clients connect to ``ws://HOST:PORT/INSTANCE``; the shard name is the port, so
the agent's ``url_template`` is ``ws://127.0.0.1:{shard}/{instance}``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import threading

from sim.pos.gateway import Gateway, broadcast

log = logging.getLogger(__name__)


class PosGatewaySimulator:
    """The gateway in a background thread (aiohttp); thread-safe helpers for tests."""

    def __init__(self, host: str = "127.0.0.1", ports=(0, 0, 0), instance: str = "my-venue",
                 api_key: str = "demo-api-key", seed: dict | None = None, window: float = 30.0):
        self.host = host
        self.instance = instance
        self.api_key = api_key
        self.gateway = Gateway(instance, api_key, seed, window=window)
        self._requested_ports = list(ports)
        self.ports: list[int] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runners: list = []
        self._clients: list[set] = []  # per shard: open WebSocketResponses

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "PosGatewaySimulator":
        ready = threading.Event()
        failure: list[BaseException] = []

        def run():
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self._start_all())
            except BaseException as e:  # report bind errors to start()
                failure.append(e)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._stop_all())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="pos-gateway-sim", daemon=True)
        self._thread.start()
        ready.wait(30)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- addresses ---------------------------------------------------------------------------

    @property
    def shards(self) -> list[str]:
        return [str(p) for p in self.ports]

    @property
    def url_template(self) -> str:
        return f"ws://{self.host}:{{shard}}/{{instance}}"

    @property
    def urls(self) -> list[str]:
        return [f"ws://{self.host}:{p}/{self.instance}" for p in self.ports]

    # -- test helpers (thread-safe) ----------------------------------------------------------

    def kill_shard(self, index: int) -> None:
        """Stop one shard: its connections are cut (no close handshake) and its port closes."""
        self._call(self._kill(index))

    def revive_shard(self, index: int) -> None:
        """Serve a killed shard again on its old port."""
        self._call(self._serve(index, self.ports[index]))

    def broadcast(self, message: str, parameters: dict | None = None) -> int:
        """Send a broadcast to the clients of every shard; returns how many received it."""
        return self._call(self._broadcast(broadcast(message, parameters)))

    def broadcast_updatepos(self) -> int:
        return self.broadcast("updatepos")

    def drop_after_next(self, command: str, execute: bool = True) -> None:
        """The next ``command`` is received, run (or not, ``execute=False``), then the connection cut unanswered."""
        self.gateway.arm(command, drop=True, execute=execute)

    def delay_next(self, command: str, seconds: float) -> None:
        """The next ``command`` is answered only after ``seconds``."""
        self.gateway.arm(command, delay=seconds)

    def book(self, pos_id: int, method: int, products: list[tuple[int, int]]) -> list[dict]:
        """Book a sale as another till would (no budget), e.g. to make a reconciliation ambiguous."""
        return self.gateway.book(pos_id, method, products)

    def set_products(self, pos_id: int, products: list[dict]) -> None:
        with self.gateway.lock:
            self.gateway.data["products"][str(pos_id)] = [dict(p) for p in products]

    def set_payment_methods(self, pos_id: int, methods: list[dict]) -> None:
        with self.gateway.lock:
            self.gateway.data["payment_methods"][str(pos_id)] = [dict(m) for m in methods]

    def set_deposit(self, price) -> None:
        with self.gateway.lock:
            self.gateway.data["deposit"]["Price"] = price

    def set_license(self, license: dict | None) -> None:
        """None makes getlicense answer the ``getlicense`` error."""
        with self.gateway.lock:
            self.gateway.data["license"] = license

    def add_instance(self, slug: str, api_key: str) -> None:
        """Another instance slug on the same data; ``api_key=""`` = an instance without a key."""
        with self.gateway.lock:
            self.gateway.instances[slug] = api_key

    @property
    def ratelimit_answers(self) -> int:
        return self.gateway.ratelimit_answers

    @property
    def transactions(self) -> list[dict]:
        with self.gateway.lock:
            return [dict(t) for t in self.gateway.transactions]

    @property
    def devices(self) -> dict[str, dict]:
        with self.gateway.lock:
            return {k: dict(v) for k, v in self.gateway.devices.items()}

    def requests(self, command: str | None = None) -> int:
        with self.gateway.lock:
            if command is None:
                return sum(self.gateway.requests.values())
            return self.gateway.requests.get(command, 0)

    def connections(self) -> list[int]:
        """Open client connections per shard."""
        return [len(c) for c in self._clients]

    # -- aiohttp -----------------------------------------------------------------------------

    def _call(self, coro):
        if self._loop is None:
            raise RuntimeError("simulator not started")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(15)

    async def _start_all(self):
        self._runners = [None] * len(self._requested_ports)
        self._clients = [set() for _ in self._requested_ports]
        self.ports = [0] * len(self._requested_ports)
        for i, port in enumerate(self._requested_ports):
            await self._serve(i, port)

    async def _serve(self, index: int, port: int):
        from aiohttp import web

        if self._runners[index] is not None:
            return
        app = web.Application()
        app.router.add_get("/{instance:.*}", functools.partial(self._ws_handler, index))
        runner = web.AppRunner(app, shutdown_timeout=0.5, handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, port, reuse_address=True)
        await site.start()
        self._runners[index] = runner
        self.ports[index] = runner.addresses[0][1]

    async def _kill(self, index: int):
        for ws in list(self._clients[index]):
            _abort(ws)
        runner, self._runners[index] = self._runners[index], None
        if runner is not None:
            await runner.cleanup()

    async def _stop_all(self):
        for i in range(len(self._runners)):
            await self._kill(i)

    async def _broadcast(self, msg: dict) -> int:
        text, sent = json.dumps(msg), 0
        for clients in self._clients:
            for ws in list(clients):
                try:
                    await ws.send_str(text)
                    sent += 1
                except Exception:
                    pass
        return sent

    async def _ws_handler(self, shard: int, request):
        from aiohttp import WSMsgType, web

        instance = request.match_info.get("instance", "")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        ws._sim_transport = request.transport
        self._clients[shard].add(ws)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    text = msg.data
                elif msg.type == WSMsgType.BINARY:
                    text = msg.data.decode("utf-8", "replace")
                else:
                    break
                answer = self.gateway.handle(instance, text)
                if answer.delay:
                    await asyncio.sleep(answer.delay)
                if answer.drop:
                    _abort(ws)
                    break
                if answer.reply is not None:
                    await ws.send_str(json.dumps(answer.reply))
        except Exception as e:  # a cut connection ends here; the gateway keeps serving the others
            log.debug("pos sim: connection ended: %s", e)
        finally:
            self._clients[shard].discard(ws)
        return ws


def _abort(ws) -> None:
    """Cut a connection the hard way (no close frame), like a crashed shard or a network loss."""
    transport = getattr(ws, "_sim_transport", None)
    if transport is not None:
        transport.abort()
