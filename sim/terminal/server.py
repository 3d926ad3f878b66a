"""Simulated payment terminal over TCP (JSON lines, see hal/payment/simclient.py).

What the next charge does is set per charge with ``{"op": "mode", "next": M}`` or
``--mode``: ``approve`` (default), ``decline``, ``timeout`` (no answer, nothing
charged), ``lose`` (charged and approved, then the connection is dropped before
the answer: the client must learn it with ``status``), ``slow`` (the guest takes
``timeout`` seconds at the terminal, then it approves; an abort meanwhile ends it
not charged), ``late`` (as slow, but the card was already tapped: it approves even
after an abort), ``partial`` (approves ``partial_amount`` of the amount asked, as a
prepaid card with too little on it would) and ``currency`` (approves the amount in
another currency, as a terminal set up for dynamic currency conversion might).
While a charge is in progress ``status`` answers ``pending``. It records every charge.
``{"op": "mode", "next": M, "holder": NAME}`` (or ``next_holder``) also names the
card holder of the next approval, so a test can look for a unique name.
"""

from __future__ import annotations

import itertools
import json
import socketserver
import threading
import time

MODES = ("approve", "decline", "timeout", "lose", "slow", "late", "partial", "currency")
CARD = {"card_type": "Visa", "number": "411111******1111", "expiration": "12/2030", "holder": "A CARDHOLDER"}


class TerminalSimulator:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, mode: str = "approve", timeout: float = 3.0):
        self.mode = mode
        self.timeout = timeout  # how long a "timeout" charge hangs before closing (and a slow one takes)
        self.partial_amount = "10.00"  # what a "partial" charge approves
        self.aborts = 0
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
            with self.lock:
                self.aborts += 1
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
            self.charges[reference] = {"status": "pending"}
        amount, currency = str(request.get("amount")), str(request.get("currency"))
        result: dict
        if mode == "decline":
            result = {"status": "declined", "reason": "card declined"}
        elif mode in ("timeout", "slow", "late"):
            self._abort.clear()
            aborted = self._abort.wait(self.timeout)
            if mode == "timeout" or (aborted and mode == "slow"):
                with self.lock:
                    self.charges[reference] = {"status": "not_charged",
                                               "reason": "aborted" if aborted else "timed out"}
                if mode == "timeout":
                    return None
                return dict(self.charges[reference])
            result = self._approval(amount, currency, holder)
        elif mode == "partial":
            result = self._approval(self.partial_amount, currency, holder)
        elif mode == "currency":
            result = self._approval(amount, "EUR" if currency != "EUR" else "GBP", holder)
        else:
            result = self._approval(amount, currency, holder)
        with self.lock:
            self.charges[reference] = result
        return None if mode == "lose" else dict(result)

    def _approval(self, amount: str, currency: str, holder: str = CARD["holder"]) -> dict:
        return {"status": "approved", "terminal_reference": f"SIM{next(self._seq):06d}", "amount": amount,
                "currency": currency, **CARD, "holder": holder}

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
