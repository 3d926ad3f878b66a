"""Payment records through the durable outbox: a network loss after the terminal approved never loses one."""

from __future__ import annotations

import time


class OutboxRecorder:
    """Queues a payment record in the store's outbox; ``record`` waits up to ``timeout`` for delivery."""

    def __init__(self, store, wake=lambda: None):
        self.store, self.wake = store, wake

    def record(self, body: dict, timeout: float, operation: str = "payments/addCreditCard") -> bool:
        row = self.store.enqueue_call(operation, body)
        self.wake()
        end = time.monotonic() + timeout
        while self.store.pending(row):
            if time.monotonic() >= end:
                return False  # stays queued: the outbox delivers it later
            time.sleep(0.05)
        return not any(r.id == row for r in self.store.reports(dead=True))  # refused: staff must look
