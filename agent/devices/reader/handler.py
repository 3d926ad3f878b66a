"""Mews `PassportScanner` commands, and the kiosk's document and booking-code reads, on the document reader.

A Mews command (``PassportScannerId``, ``CustomerId``, ``ReservationId``) asks the
guest for a document (the display shows it, the kiosk screen too), reads it from
``[reader]``, and returns it as a platform record for the customer's profile
(agent.documents.platform) that the Mews source queues in the durable outbox. A read that fails its check digits is discarded and
the guest may present the document again until ``reader.timeout``; a scan made
before the command arrived is discarded; an expired document sends nothing.

A local job (the kiosk) gets the document or booking code back in its outcome's
``result`` (in memory only). Nothing about the document is logged but its type and
issuing country.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time

from agent.config import Config
from agent.devices.reader import KIND
from agent.devices.reader.config import ReaderConfig
from agent.documents import platform
from agent.documents.booking import parse_booking_code
from agent.documents.mrz import Unreadable, looks_like_mrz, parse
from agent.runtime.handler import CommandRejected, DeviceError, Progress, serves_job
from agent.runtime.jobs import Job, Outcome, OutcomeState, PlatformRecord, Source

log = logging.getLogger(__name__)

_UUID = re.compile(r"^[0-9a-fA-F-]{8,64}$")
ASK = "present the document"
AGAIN = "could not read it: present the document again"


class ReaderHandler:
    """Reads identity documents (MRZ) and booking QR codes."""

    device_types = KIND.device_types
    kinds = KIND.job_kinds
    name = KIND.label
    retry_after_crash = False  # the guest has left the reader by then: staff ask again

    def __init__(self, cfg: ReaderConfig, *, reader=None, today=dt.date.today):
        self.cfg = cfg
        self.device = cfg.device
        if reader is None:
            from hal.reader import open_reader

            reader = open_reader(cfg.port, baudrate=cfg.baudrate, framing=cfg.framing, gap=cfg.gap)
        self.reader = reader
        self.today = today
        if cfg.port.startswith("evdev:"):
            # A keyboard wedge types into whatever has focus until it is grabbed: take it at start-up.
            try:
                reader.open()
            except DeviceError as e:
                log.warning("reader: %s (grabbed at the first read instead)", e)

    def serves(self, job: Job) -> bool:
        return serves_job(self, job)

    def ready(self) -> bool:
        return True

    def run(self, job: Job, progress: Progress) -> Outcome:
        if job.source is Source.MEWS:
            return self._for_customer(job.data, progress)
        timeout = job.data.get("timeout") if isinstance(job.data, dict) else None
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
            timeout = self.cfg.timeout
        found = self._read(progress, min(float(timeout), self.cfg.timeout), bookings=bool(job.data.get("bookings")),
                           ask=str(job.data.get("ask") or ASK), local=True)
        if isinstance(found, str):  # nothing usable: the caller says what to the guest
            return Outcome(OutcomeState.FAILED, found)
        if hasattr(found, "reservation_id"):
            return Outcome(OutcomeState.DONE, "booking code read", {"booking": found})
        return Outcome(OutcomeState.DONE, f"{found.type} read", {"document": found})

    def _for_customer(self, data: dict, progress: Progress) -> Outcome:
        """A PassportScanner command: the document read, for the customer's profile (the source sends it)."""
        customer_id = data.get("CustomerId") if isinstance(data, dict) else None
        if not isinstance(customer_id, str) or not _UUID.match(customer_id):
            raise CommandRejected("the command names no customer (CustomerId): the document would belong to nobody")
        found = self._read(progress, self.cfg.timeout, bookings=False, ask=ASK)
        if isinstance(found, str):
            raise DeviceError(found, retryable=False)
        if found.expired(self.today()):
            log.info("reader: an expired %s was presented; nothing is sent", found.type)
            raise DeviceError(f"the guest's {_kind(found)} has expired: nothing was sent; ask for a valid document",
                              retryable=False)
        where = found.issuing_country or "no ISO country"
        log.info("reader: %s (%s) read for a PassportScanner command", found.type, where)
        unsent = "" if found.nationality else "; the nationality has no ISO code and was not sent"
        return Outcome.done(f"{_kind(found)} read ({where}) and sent to the customer's profile{unsent}",
                            {"document": found}, (PlatformRecord("document", platform.payload(found, customer_id)),))

    def _read(self, progress: Progress, timeout: float, *, bookings: bool, ask: str, local: bool = False):
        """A valid document (or booking code when ``bookings``), or a note saying why there is none."""
        self.reader.discard()  # what was scanned before the request is not the guest's answer
        deadline, shown = time.monotonic() + timeout, time.time() + timeout
        progress.activity(ask, deadline=shown)
        unreadable = 0
        next_check = 0.0
        while True:
            def check(unreadable: int = unreadable) -> None:  # called within this pass only
                nonlocal next_check
                now = time.monotonic()
                if now >= next_check:  # cancelled by the platform / the kiosk, or the agent stopping
                    next_check = now + 0.5
                    if not local:  # a local caller's screen shows the countdown, never a 0-of-1 bar
                        progress.step(0, 1, AGAIN if unreadable else ask)
                    progress.activity(AGAIN if unreadable else ask, deadline=shown)
            scan = self.reader.read(deadline, check)
            if scan is None:
                if unreadable:
                    return (f"the document could not be read ({unreadable} "
                            f"{'try' if unreadable == 1 else 'tries'} in {timeout:.0f} s): check it is laid flat "
                            "on the glass, or enter it by hand")
                return f"no document was presented within {timeout:.0f} s"
            if bookings and (code := parse_booking_code(scan)) is not None:
                return code
            try:
                return parse(scan, self.today())
            except Unreadable as e:
                if not looks_like_mrz(scan) and not bookings:
                    log.info("reader: ignored a scan that is no document")
                    continue
                unreadable += 1
                log.info("reader: unreadable scan discarded (%s)", e)
                progress.activity(AGAIN, deadline=shown)

    def close(self) -> None:
        self.reader.close()


def _kind(doc) -> str:
    return {"Passport": "passport", "IdentityCard": "identity card", "Visa": "visa"}.get(doc.type, "document")


def from_config(cfg: Config) -> ReaderHandler | None:
    return ReaderHandler(cfg.reader) if cfg.reader is not None else None
