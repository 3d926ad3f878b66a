"""Simulated payment terminal over TCP (JSON lines, see hal/payment/simclient.py).

What the next charge does is set per charge with ``{"op": "mode", "next": M}`` or
``--mode``: ``approve`` (default), ``decline``, ``timeout`` (no answer, nothing
charged) or ``lose`` (charged and approved, then the connection is dropped before
the answer: the client must learn it with ``status``). It records every charge.
``{"op": "mode", "next": M, "holder": NAME}`` (or ``next_holder``) also names the
card holder of the next approval, so a test can look for a unique name.
"""

from __future__ import annotations

import itertools
import json
import socketserver
import threading
import time

MODES = ("approve", "decline", "timeout", "lose")
CARD = {"card_type": "Visa", "number": "411111******1111", "expiration": "12/2030", "holder": "A CARDHOLDER"}


class TerminalSimulator:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, mode: str = "approve", timeout: float = 3.0):
        self.mode = mode
        self.timeout = timeout  # how long a "timeout" charge hangs before closing
        self.charges: dict[str, dict] = {}  # reference -> approval or {"status": ...}
        self.charge_requests = 0
        self.next_holder: str | None = None  # the next approval's holder name; then CARD's again
        self.lock = threading.Lock()
        self._seq = itertools.count(1)
        self._abort = threading.Event()
        sim = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                line = self.rfile.readline(65536)
                try:
                    request = json.loads(line)
                except ValueError:
                    request = None
                answer = sim.answer(request if isinstance(request, dict) else {})
                if answer is not None:
                    self.wfile.write((json.dumps(answer) + "\n").encode())

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server((host, port), Handler)
        self.port = self.server.server_address[1]
        self._thread: threading.Thread | None = None

    def answer(self, request: dict) -> dict | None:
        op = request.get("op")
        if op == "mode":
            if request.get("next") not in MODES:
                return {"status": "error", "reason": f"mode must be one of {', '.join(MODES)}"}
            self.mode = request["next"]
            if request.get("holder") is not None:
                self.next_holder = str(request["holder"])
            return {"status": "ok"}
        if op == "status":
            with self.lock:
                return dict(self.charges.get(str(request.get("reference")), {"status": "unknown"}))
        if op == "abort":
            self._abort.set()
            return {"status": "ok"}
        if op == "charges":
            with self.lock:
                return {"status": "ok", "requests": self.charge_requests, "charges": dict(self.charges)}
        if op != "charge":
            return {"status": "error", "reason": "unknown op"}
        reference = str(request.get("reference"))
        with self.lock:
            self.charge_requests += 1
            mode, self.mode = self.mode, "approve"
            holder, self.next_holder = self.next_holder or CARD["holder"], None
            if reference in self.charges:  # the same reference twice is never charged twice
                return dict(self.charges[reference])
        if mode == "decline":
            result = {"status": "declined", "reason": "card declined"}
        elif mode == "timeout":
            self._abort.clear()
            self._abort.wait(self.timeout)
            with self.lock:
                self.charges[reference] = {"status": "not_charged", "reason": "timed out"}
            return None
        else:
            result = {"status": "approved", "terminal_reference": f"SIM{next(self._seq):06d}",
                      "amount": request.get("amount"), "currency": request.get("currency"), **CARD, "holder": holder}
        with self.lock:
            self.charges[reference] = result
        return None if mode == "lose" else dict(result)

    def start(self) -> "TerminalSimulator":
        self._thread = threading.Thread(target=self.server.serve_forever, name="sim-terminal", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._abort.set()
        self.server.shutdown()
        self.server.server_close()


def set_mode(host: str, port: int, mode: str, holder: str | None = None) -> None:
    """Tell a running simulated terminal what its next charge does (tests, demo), and whose card it is."""
    import socket

    request = {"op": "mode", "next": mode, **({"holder": holder} if holder is not None else {})}
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall((json.dumps(request) + "\n").encode())
        s.makefile("rb").readline()
    time.sleep(0)
