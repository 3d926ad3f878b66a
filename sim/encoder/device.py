"""VirtualEncoder: a PMS "Industry Standard" key encoder on a pty or a TCP port, with a key log."""

from __future__ import annotations

import json
import os
import select
import socket
import threading
import time
import tty
from collections import Counter, deque

from hal.encoder.protocol import (F_DENIED, F_EJECT, F_ENCODER, F_FROM, F_GRANTED, F_OPERATOR, F_ROOMS,
                                  F_TEXT, F_UNTIL, KEY_FIELDS, parse_local)
from sim.encoder.session import EncoderSession

ERROR_TEXT = "simulated failure"


class VirtualEncoder:
    """A faithful peer for tests and the demo; ``.keys`` lists every key issued."""

    def __init__(self, card_delay: float = 0.0, log_path: str | None = None, *, port: int | None = None,
                 host: str = "127.0.0.1", known_rooms=None, on_key=None, reads_cards: bool = True):
        self.card_delay = card_delay
        self.log_path = log_path
        self.known_rooms = set(known_rooms) if known_rooms is not None else None  # None: every room exists
        self.on_key = on_key
        self.reads_cards = reads_cards  # False: an encoder without LT (answers ES)
        self.requests: list[str] = []  # the command of every request frame taken (ACKed)
        self._card: list[str] | None = None  # fields of the card in the slot (None: no card read yet)
        self._lost: deque = deque()  # (made, then_mute) per reply to lose
        self.keys: list[dict] = []
        self.checkouts: list[str] = []
        self.stats: Counter = Counter()
        self.muted = False
        self._tcp = port is not None
        self._host, self._port = host, port
        self._lock = threading.Lock()
        self._faults: Counter = Counter()
        self._fail_codes: deque = deque()
        self._series: dict[str, int] = {}  # room -> keys issued in its current series
        self._checked_out: set[str] = set()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._fds: list[int] = []
        self._sockets: list[socket.socket] = []
        self.url = ""
        self.path = ""
        self.port = 0

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> "VirtualEncoder":
        """Start listening; ``.url`` is then the pty path or ``socket://host:port``."""
        if self._tcp:
            srv = socket.create_server((self._host, self._port or 0))
            srv.settimeout(0.2)
            self._sockets.append(srv)
            self.port = srv.getsockname()[1]
            self.url = f"socket://{self._host}:{self.port}"
            self._spawn(self._serve_tcp, srv)
        else:
            master, slave = os.openpty()
            tty.setraw(slave)  # no echo, no line discipline: the pty must carry bytes verbatim
            self._fds += [master, slave]  # holding the slave keeps the master readable between clients
            self.path = self.url = os.ttyname(slave)
            self._spawn(self._serve_pty, master)
        return self

    def stop(self) -> None:
        self._stop.set()
        for s in self._sockets:
            try:
                s.close()
            except OSError:
                pass
        for t in self._threads:
            t.join(timeout=5)
        for fd in self._fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds.clear()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- faults for tests ----------------------------------------------------

    def fail_next(self, code: str, times: int = 1) -> None:
        """Answer the next ``times`` commands with error ``code`` ("EP", "TD", "EG", ...)."""
        with self._lock:
            self._fail_codes.extend([code] * times)

    def corrupt_next_reply(self, times: int = 1) -> None:
        """Send the next ``times`` replies (or resends) with a wrong LRC."""
        self._add_fault("corrupt_replies", times)

    def nak_next_frames(self, times: int = 1) -> None:
        """NAK the next ``times`` good request frames (line noise as the encoder saw it)."""
        self._add_fault("nak_frames", times)

    def nak_next_enq(self, times: int = 1) -> None:
        """Answer the next ``times`` ENQs with NAK (not ready)."""
        self._add_fault("nak_enq", times)

    def lose_next_reply(self, times: int = 1, *, made: bool = True, then_mute: bool = False,
                        command: str | None = None) -> None:
        """ACK the next ``times`` key requests (``CN``/``CC``, or only ``command``), never answer them.

        ``made``: the key is encoded all the same (else a blank card stays in the slot);
        ``then_mute``: the encoder goes silent too (answers nothing after that ACK).
        """
        with self._lock:
            self._lost.extend([(made, then_mute, command)] * times)

    def take_lost_reply(self, fields: list[str]) -> bool:
        """For a request just ACKed: True when its reply is to be lost (the fault then ran)."""
        with self._lock:
            self.requests.append(fields[0] if fields else "")
            if not self._lost or not fields or fields[0] not in ("CN", "CC"):
                return False
            made, then_mute, command = self._lost[0]
            if command not in (None, fields[0]):
                return False
            self._lost.popleft()
        if made:
            self.handle(fields)
        else:
            with self._lock:
                self._card = [""] * KEY_FIELDS  # the guest's blank card, nothing written on it
        if then_mute:
            self.mute()
        return True

    def mute(self, muted: bool = True) -> None:
        """Stop answering anything: a dead or unplugged encoder."""
        self.muted = muted

    def _add_fault(self, name: str, times: int) -> None:
        with self._lock:
            self._faults[name] += times

    def take(self, name: str) -> bool:
        """Consume one pending fault of this kind; True if there was one."""
        with self._lock:
            if self._faults[name] > 0:
                self._faults[name] -= 1
                return True
            return False

    def count(self, name: str) -> None:
        with self._lock:
            self.stats[name] += 1

    # -- commands ------------------------------------------------------------

    def handle(self, fields: list[str]) -> list[str]:
        """The reply fields for a request (after the card delay for card commands)."""
        command = fields[0] if fields else ""
        with self._lock:
            code = self._fail_codes.popleft() if self._fail_codes else None
        if command in ("CN", "CC", "LT"):
            self._stop.wait(self.card_delay)  # the guest presents a card
        if code:
            return [code, ERROR_TEXT] if code == "EG" else [code]
        if command in ("CN", "CC"):
            return self._key(command, fields)
        if command == "LT":
            return self._read_card(fields) if self.reads_cards else ["ES"]
        if command == "CO" and len(fields) == 3 and fields[2]:
            with self._lock:
                self._checked_out.add(fields[2])
                self._series.pop(fields[2], None)
                self.checkouts.append(fields[2])
            return list(fields)
        return ["ES"]

    def _key(self, command: str, fields: list[str]) -> list[str]:
        if len(fields) != KEY_FIELDS or fields[F_EJECT] not in ("E", "R", "T"):
            return ["ES"]
        rooms = [r for r in fields[F_ROOMS] if r]
        if not rooms:
            return ["ES"]
        try:
            start, end = parse_local(fields[F_FROM]), parse_local(fields[F_UNTIL])
        except ValueError:
            return ["ES"]
        if self.known_rooms is not None and any(r not in self.known_rooms for r in rooms):
            return ["TD"]
        with self._lock:
            if command == "CC" and any(r in self._checked_out for r in rooms):
                return ["EA"]
            if command == "CN":
                for r in rooms:
                    self._checked_out.discard(r)
                    self._series[r] = 0
            copy = max(self._series.get(r, 0) for r in rooms)
            for r in rooms:
                self._series[r] = copy + 1
            key = {
                "command": command, "rooms": rooms,
                "valid_from": start.isoformat(timespec="minutes"), "valid_until": end.isoformat(timespec="minutes"),
                "copy": copy, "text": [t for t in fields[F_TEXT] if t], "encoder_id": fields[F_ENCODER],
                "operator": fields[F_OPERATOR], "granted": fields[F_GRANTED], "denied": fields[F_DENIED],
                "fields": list(fields), "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            self.keys.append(key)
            self._card = None  # the slot holds the card just made: keys[-1]
            if self.log_path:
                with open(self.log_path, "a", encoding="utf-8") as f:
                    f.write(json.dumps({k: v for k, v in key.items() if k != "fields"}, ensure_ascii=False) + "\n")
        if self.on_key:
            self.on_key(key)
        return list(fields)

    def _read_card(self, fields: list[str]) -> list[str]:
        with self._lock:
            card = self._card if self._card is not None else (self.keys[-1]["fields"] if self.keys else None)
        reply = list(card) if card else [""] * KEY_FIELDS
        reply[0], reply[F_ENCODER] = "LT", fields[1] if len(fields) > 1 else ""
        return reply

    # -- transports ----------------------------------------------------------

    def _spawn(self, target, *args) -> None:
        t = threading.Thread(target=target, args=args, daemon=True, name="virtual-encoder")
        t.start()
        self._threads.append(t)

    def _serve_pty(self, master: int) -> None:
        session = EncoderSession(self, lambda data: os.write(master, data))
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([master], [], [], 0.1)
                if ready:
                    session.feed(os.read(master, 4096))
            except OSError:
                if self._stop.is_set():
                    return
                time.sleep(0.05)

    def _serve_tcp(self, srv: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = srv.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            self._sockets.append(conn)
            self._spawn(self._serve_conn, conn)

    def _serve_conn(self, conn: socket.socket) -> None:
        conn.settimeout(0.1)
        session = EncoderSession(self, conn.sendall)
        with conn:
            while not self._stop.is_set():
                try:
                    data = conn.recv(4096)
                except (TimeoutError, socket.timeout):
                    continue
                except OSError:
                    return
                if not data:
                    return
                try:
                    session.feed(data)
                except OSError:
                    return
