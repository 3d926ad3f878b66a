"""One websocket to one ConcertPOS shard: requests matched to replies, broadcasts passed on.

The protocol has no request ids: a reply is the event named after the command
(``payitems`` answers ``payitem``) or an error model. So one request is in
flight per connection at a time, and a reader thread sorts incoming frames:
broadcasts go to a callback at once, everything else to the waiting request.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time

from agent.pos.errors import ConnectionLost, InvalidReply, PosRateLimited, PosReplyTimeout, from_reply
from agent.pos.models import BroadcastMessage, CommandMessage, ErrorMessage, EventMessage, parse_message

log = logging.getLogger(__name__)

# event names answering a command, where they differ from the command
REPLY_EVENTS = {"payitems": ("payitem", "payitems")}
_CLOSED = object()


def reply_events(command: str) -> tuple[str, ...]:
    return REPLY_EVENTS.get(command, (command,))


class Connection:
    """An open websocket to ``url``; ``on_broadcast(msg)`` runs on the reader thread and must not block."""

    def __init__(self, url: str, shard: str, *, connect_timeout: float, on_broadcast=None, ws_factory=None):
        import websocket  # websocket-client; imported here so `kiosk-agent --help` stays light

        factory = ws_factory or websocket.create_connection
        self.url, self.shard = url, shard
        self._on_broadcast = on_broadcast
        self._replies: queue.Queue = queue.Queue()
        self._request_lock = threading.Lock()
        self._closed = threading.Event()
        self.last_rx = time.monotonic()
        try:
            self._ws = factory(url, timeout=connect_timeout, enable_multithread=True)
        except Exception as e:  # refused, DNS, handshake status, TLS: all "this shard is not reachable"
            raise ConnectionLost(f"cannot connect to shard {shard}: {_reason(e)}", sent=False) from None
        self._ws.settimeout(None)  # the reader blocks; close() aborts it
        self._reader = threading.Thread(target=self._read_loop, name=f"pos-reader-{shard}", daemon=True)
        self._reader.start()

    @property
    def alive(self) -> bool:
        return not self._closed.is_set()

    def request(self, command: str, parameters: dict, *, timeout: float) -> dict:
        """Send one request and return the reply event's parameters; errors raise mapped exceptions."""
        wanted = reply_events(command)
        with self._request_lock:
            self._drain_stale()
            if not self.alive:
                raise ConnectionLost(f"connection to shard {self.shard} is closed", sent=False, command=command)
            frame = json.dumps({"command": command, "parameters": parameters})
            try:
                self._ws.send(frame)
            except Exception as e:
                # a failed send may still have put bytes on the wire: only a local refusal is "not sent"
                self.close()
                raise ConnectionLost(f"sending {command} to shard {self.shard} failed: {_reason(e)}",
                                     sent=True, command=command) from None
            deadline = time.monotonic() + timeout
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PosReplyTimeout(f"no reply to {command} from shard {self.shard} within {timeout:g} s",
                                       sent=True, command=command)
                try:
                    msg = self._replies.get(timeout=remaining)
                except queue.Empty:
                    continue
                if msg is _CLOSED:
                    self._replies.put(_CLOSED)  # stays visible to later callers
                    raise ConnectionLost(f"shard {self.shard} closed the connection before replying to {command}",
                                         sent=True, command=command)
                if isinstance(msg, EventMessage):
                    if msg.event in wanted:
                        return msg.parameters
                    log.info("pos: ignoring event %r from shard %s while waiting for %s",
                             msg.event, self.shard, command)
                elif isinstance(msg, ErrorMessage):
                    err = from_reply(msg.error, msg.code)
                    if isinstance(err, PosRateLimited) and err.command and err.command != command:
                        log.info("pos: ignoring a ratelimit answer for %s while waiting for %s", err.command, command)
                        continue
                    raise err
                elif isinstance(msg, InvalidReply):
                    raise msg
                else:
                    log.info("pos: ignoring %r from shard %s", msg, self.shard)

    def ping(self) -> None:
        """Send a websocket ping; the pong refreshes ``last_rx`` (half-open detection)."""
        try:
            self._ws.ping(b"kiosk")
        except Exception as e:
            log.info("pos: ping to shard %s failed: %s", self.shard, _reason(e))
            self.close()

    def close(self) -> None:
        """Close at once (a dying shard must not hold us): abort wakes the reader."""
        if self._closed.is_set():
            return
        self._closed.set()
        try:
            self._ws.abort()
        except Exception:
            pass
        try:
            self._ws.shutdown()
        except Exception:
            pass
        self._replies.put(_CLOSED)

    def _drain_stale(self) -> None:
        """Late replies to an abandoned request must not answer the next one."""
        while True:
            try:
                msg = self._replies.get_nowait()
            except queue.Empty:
                return
            if msg is _CLOSED:
                self._replies.put(_CLOSED)
                return
            log.info("pos: discarding a late message from shard %s: %r", self.shard, msg)

    def _read_loop(self) -> None:
        import websocket

        try:
            while not self._closed.is_set():
                opcode, data = self._ws.recv_data_frame(True)
                self.last_rx = time.monotonic()
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    break
                if opcode not in (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY):
                    continue  # ping/pong: only liveness
                payload = data.data if hasattr(data, "data") else data
                try:
                    msg = parse_message(payload)
                except InvalidReply as e:
                    log.warning("pos: %s", e)
                    self._replies.put(e)
                    continue
                if isinstance(msg, BroadcastMessage):
                    self._deliver_broadcast(msg)
                elif isinstance(msg, CommandMessage):
                    log.info("pos: command model from shard %s: %s", self.shard, msg.command)
                else:
                    self._replies.put(msg)
        except Exception as e:
            if not self._closed.is_set():
                log.info("pos: connection to shard %s lost: %s", self.shard, _reason(e))
        finally:
            self.close()

    def _deliver_broadcast(self, msg: BroadcastMessage) -> None:
        log.info("pos: broadcast %r from shard %s", msg.message, self.shard)
        if self._on_broadcast is not None:
            try:
                self._on_broadcast(msg)
            except Exception:
                log.exception("pos: broadcast handler failed")


def _reason(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    return text if len(text) < 200 else text[:200] + "…"
