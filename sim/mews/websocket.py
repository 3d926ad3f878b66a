"""The connector websocket: token check before the upgrade, one ordered sender per client, faults."""

from __future__ import annotations

import asyncio
import json
import logging
from urllib.parse import unquote

from aiohttp import WSCloseCode, WSMsgType, web

from sim.mews.faults import Faults
from sim.mews.routes import REQUEST_ID
from sim.mews.sessions import Sessions

log = logging.getLogger("sim.mews.ws")

DISPLACED_CODE = 4001  # application close code: the access token is no longer valid


def cookie_tokens(header: str) -> dict:
    """``ClientToken=...;AccessToken=...`` -> dict (tolerates spaces and quotes)."""
    out = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            out[name.strip()] = unquote(value.strip().strip('"'))
    return out


class Connection:
    def __init__(self, ws: web.WebSocketResponse, token: str, transport):
        self.ws = ws
        self.token = token
        self.transport = transport
        self.queue: asyncio.Queue = asyncio.Queue()

    async def send_forever(self) -> None:
        while True:
            message = await self.queue.get()
            if self.ws.closed:
                return
            try:
                await self.ws.send_str(message)
            except (ConnectionError, RuntimeError):
                return


class Hub:
    """Connected clients; every method runs in the server's event loop."""

    def __init__(self, sessions: Sessions, faults: Faults):
        self.sessions = sessions
        self.faults = faults
        self.connections: set[Connection] = set()

    def publish(self, events: list) -> None:
        if self.faults.silence_websockets or not self.connections:
            return  # a silent (half-open) socket loses what happens meanwhile
        message = json.dumps({"Events": events})
        for conn in self.connections:
            conn.queue.put_nowait(message)

    def drop_all(self) -> None:
        """Cut every connection without a close frame, like a network failure."""
        for conn in list(self.connections):
            if conn.transport is not None:
                conn.transport.abort()

    async def close_token(self, token: str) -> None:
        """Close the sockets of a displaced session."""
        for conn in [c for c in self.connections if c.token == token]:
            await conn.ws.close(code=DISPLACED_CODE, message=b"Access token is no longer valid (another client signed in)")

    async def close_all(self) -> None:
        await asyncio.gather(*(c.ws.close(code=WSCloseCode.GOING_AWAY, message=b"Server shutdown")
                               for c in list(self.connections)), return_exceptions=True)

    async def trickle(self, transport) -> None:
        """A text frame announced whole, then sent one byte per ``trickle_interval`` (a stuck peer)."""
        payload = json.dumps({"Events": [{"Type": "DeviceCommand", "Id": "x" * 200, "State": "Pending"}]})
        data = payload.encode()
        transport.write(bytes([0x81, 126]) + len(data).to_bytes(2, "big"))
        for i in range(len(data)):
            await asyncio.sleep(self.faults.trickle_interval)
            if transport.is_closing():
                return
            transport.write(data[i:i + 1])

    async def handle(self, request: web.Request) -> web.StreamResponse:
        rid = request[REQUEST_ID]
        if self.faults.stall_websockets:
            await asyncio.sleep(3600)  # accepts TCP, never answers the upgrade (cancelled at shutdown)
        if self.faults.drop_websockets:
            return web.json_response({"Message": "Websocket service unavailable.", "RequestId": rid}, status=503)
        cookies = cookie_tokens(request.headers.get("Cookie", ""))
        candidates = [request.query.get("AccessToken"), cookies.get("AccessToken")]
        token = next((t for t in candidates if self.sessions.valid(t)), None)
        if token is None:
            missing = not any(candidates)
            message = "Missing AccessToken." if missing else "Invalid AccessToken."
            return web.json_response({"Message": message, "RequestId": rid}, status=401)
        # Pings are answered by hand so that a "silenced" socket can stop answering them.
        ws = web.WebSocketResponse(autoping=False)
        ws.headers["Request-Id"] = rid
        await ws.prepare(request)
        conn = Connection(ws, token, request.transport)
        self.connections.add(conn)
        sender = asyncio.ensure_future(conn.send_forever())
        log.info("websocket connected (%d open)", len(self.connections))
        trickle = asyncio.ensure_future(self.trickle(request.transport)) if self.faults.trickle_websockets else None
        try:
            if not self.sessions.valid(token):  # displaced while upgrading
                await ws.close(code=DISPLACED_CODE, message=b"Access token is no longer valid")
            async for msg in ws:
                if msg.type == WSMsgType.PING and not self.faults.silence_websockets:
                    await ws.pong(msg.data)
                elif msg.type == WSMsgType.ERROR:
                    break
        except ConnectionError:
            pass
        finally:
            self.connections.discard(conn)
            sender.cancel()
            if trickle is not None:
                trickle.cancel()
            log.info("websocket closed (%d open)", len(self.connections))
        return ws
