"""Sends the durable outbox in order: command state reports to Mews, events to a local forward_url.

Failures retry with backoff (honouring Retry-After); answers that can never
succeed (400, 403, 404, 409, 413) are dead-lettered with the reason, never
retried forever. Every report we send is remembered as an expected echo, so the
websocket event it triggers is not mistaken for news.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections import OrderedDict

from agent.mews import errors as mews_errors
from agent.runtime.backoff import Backoff
from agent.runtime.logs import redact
from agent.runtime.store import Report, StateError, Store

log = logging.getLogger(__name__)


class SendOutcome(enum.Enum):
    """What one pass over a kind of report did."""

    SENT = "sent"      # a batch went out: more may be waiting
    EMPTY = "empty"    # nothing to send
    FAILED = "failed"  # stopped at a report that must wait


class Echoes:
    """Recently sent (command id, state) pairs: the platform echoes each as an event."""

    def __init__(self, size: int = 4096):
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def expect(self, command_id: str, state: str) -> None:
        with self._lock:
            self._seen[(command_id, state)] = None
            self._seen.move_to_end((command_id, state))
            while len(self._seen) > self._size:
                self._seen.popitem(last=False)

    def is_echo(self, command_id: str, state: str) -> bool:
        with self._lock:
            return (command_id, state) in self._seen


class OutboxSender:
    """A thread that drains the outbox; ``wake()`` when something was queued."""

    def __init__(self, store: Store, client, *, forward_url: str = "", forward_session=None,
                 echoes: Echoes | None = None, on_delivered=lambda ok: None, backoff: Backoff | None = None):
        self.store = store
        self.client = client
        self.forward_url = forward_url
        self.forward_session = forward_session
        self.echoes = echoes or Echoes()
        self.on_delivered = on_delivered  # called with True after a success, False after a network failure
        self.backoff = backoff or Backoff(0.5, 60.0, reset_after=0)
        self.forward_backoff = Backoff(1.0, 300.0, reset_after=0)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._not_before = {"command": 0.0, "forward": 0.0, "call": 0.0, "document": 0.0}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, flush_timeout: float = 5.0) -> None:
        """Stop the thread, then try to deliver what is left for up to ``flush_timeout`` seconds."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(max(flush_timeout, 1.0) + 15.0)
        self.flush(flush_timeout)

    def flush(self, timeout: float) -> bool:
        """Send until the outbox is empty or ``timeout`` passed; True when empty."""
        deadline = time.monotonic() + timeout
        self._not_before = {"command": 0.0, "forward": 0.0, "call": 0.0, "document": 0.0}
        while time.monotonic() < deadline:
            sent_any = False
            for kind in ("command", "call", "document", "forward"):
                if kind == "forward" and not self.forward_url:
                    continue
                status = self._send_some(kind, deadline)
                sent_any = sent_any or status is SendOutcome.SENT
                if status is SendOutcome.FAILED:
                    return False
            if self.store.outbox.depth()[0] == 0 or not sent_any:
                return self.store.outbox.depth()[0] == 0
        return self.store.outbox.depth()[0] == 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            self._wake.wait(self.send_round())

    def send_round(self) -> float:
        """Send what is due now; returns how long the thread may sleep before the next round."""
        waits = []
        for kind in ("command", "call", "document", "forward"):
            if kind == "forward" and not self.forward_url:
                continue
            now = time.monotonic()
            if now < self._not_before[kind]:
                waits.append(self._not_before[kind] - now)
                continue
            try:
                status = self._send_some(kind)
            except Exception:  # a bug here must not end delivery for good
                log.exception("outbox: unexpected failure")
                status = SendOutcome.FAILED
                self._not_before[kind] = time.monotonic() + 5.0
            if status is SendOutcome.FAILED:
                waits.append(max(0.05, self._not_before[kind] - time.monotonic()))
            elif status is SendOutcome.SENT:
                waits.append(0.0)  # a full batch went out: more may be waiting
        return min(waits) if waits else 5.0

    def _send_some(self, kind: str, deadline: float | None = None) -> SendOutcome:
        """Send pending reports of one kind in order (stops at the first that must wait)."""
        reports = self.store.outbox.next_reports(kind)
        if not reports:
            return SendOutcome.EMPTY
        for report in reports:
            if deadline is not None and time.monotonic() >= deadline:
                return SendOutcome.FAILED
            if not self._deliver(report):
                return SendOutcome.FAILED
        return SendOutcome.SENT

    def _deliver(self, report: Report) -> bool:
        """One report; True when it left the queue (sent or dead-lettered)."""
        kind = report.kind
        try:
            if kind == "command":
                p = report.payload
                self.echoes.expect(p["CommandId"], p["State"])
                self.client.update_command(p["CommandId"], p["State"], progress=p.get("Progress"),
                                           notes=p.get("Notes"))
            elif kind == "call":
                if self._got_through(report):
                    log.info("outbox: report %d was recorded by the platform already: not sent again", report.id)
                else:
                    self.client.call(report.payload["Operation"], report.payload["Body"])
            elif kind == "document":
                from agent.documents.platform import deliver

                deliver(self.client, report.payload)
            else:
                self._forward(report.payload)
        except mews_errors.RateLimited as e:
            return self._retry_later(report, e, e.retry_after)
        except (mews_errors.BadRequest, mews_errors.Forbidden, mews_errors.NotFound, mews_errors.Conflict,
                mews_errors.InvalidResponse, PermanentForwardError) as e:
            reason = e.describe() if isinstance(e, mews_errors.MewsError) else str(e)
            log.error("outbox: report %d (%s %s) dead-lettered: %s", report.id, report.command_id or kind,
                      report.state or "", reason)
            self.store.outbox.dead_letter(report.id, reason)
            return True
        except (mews_errors.MewsError, OSError, ForwardError) as e:
            return self._retry_later(report, e, None)
        self.store.outbox.sent(report.id)
        if kind == "command":
            self.backoff.succeeded()
            self.on_delivered(True)
        else:
            self.forward_backoff.succeeded()
        return True

    def _got_through(self, report: Report) -> bool:
        """A call that may have reached the platform before (an attempt whose answer was not seen) and that
        says how to check: True when the platform holds it. The first attempt is noted before it leaves."""
        recorded = report.payload.get("Recorded")
        if not recorded:
            return False
        if report.attempts == 0 and report.last_error is None:
            self.store.outbox.sending(report.id)
            return False
        return self.client.payment_recorded(recorded["AccountId"], recorded["Receipt"]) is True

    def _retry_later(self, report: Report, error: Exception, retry_after: float | None) -> bool:
        backoff = self.forward_backoff if report.kind == "forward" else self.backoff
        delay = backoff.next_delay()  # also when Retry-After was 0 or unreadable (None): never hammer
        if retry_after is not None:  # already capped at MAX_RETRY_AFTER by the client
            delay = max(retry_after, 0.05)
        text = error.describe() if isinstance(error, mews_errors.MewsError) else f"{type(error).__name__}: {error}"
        try:
            self.store.outbox.failed(report.id, redact(text))
        except StateError:
            pass  # the attempt count is bookkeeping; the store shows its own fault
        self._not_before[report.kind] = time.monotonic() + delay
        if retry_after is not None:
            log.warning("outbox: rate limited by the platform; pausing %s reports for %.1f s (Retry-After)",
                        report.kind, delay)
        else:
            log.info("outbox: %s not delivered (%s); pausing %.1f s", report.kind, redact(text), delay)
        if report.kind == "command":
            self.on_delivered(False)
        return False

    def _forward(self, event: dict) -> None:
        if self.forward_session is None:
            from agent.net import urequests

            self.forward_session = urequests.Session()
        try:
            resp = self.forward_session.request("POST", self.forward_url, json=event, timeout=10)
        except OSError as e:
            raise ForwardError(str(e)) from None
        try:
            if 200 <= resp.status_code < 300:
                return
            if 400 <= resp.status_code < 500 and resp.status_code not in (408, 429):
                raise PermanentForwardError(f"forward_url answered {resp.status_code} {resp.reason}")
            raise ForwardError(f"forward_url answered {resp.status_code} {resp.reason}")
        finally:
            resp.close()


class ForwardError(Exception):
    """The local forward target failed; retry."""


class PermanentForwardError(Exception):
    """The local forward target refused the event; do not retry."""
