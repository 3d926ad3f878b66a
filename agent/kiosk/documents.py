"""The kiosk's document step and booking-code lookup (issue 26 item 4), mixed into the check-in session.

After the booking is found, ``kiosk.documents`` decides whether the guest shows an
identity document: ``"none"``, ``"foreign"`` (nationality on the booking differs from
``kiosk.hotel_country``; unknown counts as foreign), ``"all"``. The document's name must
match the booking's guest (the lookup's tolerant matching: MUELLER = Müller), an expired
one ends the session with a staff task, and the guest confirms only name, nationality,
expiry and the number's last characters before it is queued for the platform (the
outbox's ``document`` row; agent.documents.platform). With no reader attached the
details screen asks for the passport number and expiry instead (typing remains).

A booking QR code from the confirmation e-mail finds the booking without typing.
The document lives in this session only; ``wipe`` and a restart drop it.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from agent.documents import platform
from agent.kiosk.booking import Bookings, Stay
from agent.kiosk.names import same_name
from agent.kiosk.session import Session, refused
from agent.mews.models import ReservationsPage
from agent.runtime.jobs import Job, JobKind, Source

log = logging.getLogger("agent.kiosk")

SCAN_SECONDS = 30.0  # a guest holding a phone or passport to the glass: at most this long per try
DOCUMENT_SCREENS = {"document": ("scan_document",), "document_confirm": ("confirm_document", "scan_document")}


def _by_id(ctx, reservation_id: str):
    """The Confirmed booking with this id, as a Stay (either reservations/getAll form)."""
    bookings = Bookings(ctx.client, ctx.cfg.mews.reservations_version, ctx.clock)
    if ctx.cfg.mews.reservations_version == "2023-06-06":
        op = "reservations/getAll/2023-06-06"
        raw = ctx.client.call(op, {"ReservationIds": [reservation_id], "States": ["Confirmed"],
                                   "Limitation": {"Count": 5}})
        return bookings._first(ctx.client._parse(ReservationsPage, raw, op).reservations)
    now = ctx.clock()
    found = ctx.client.get_all_reservations(now - timedelta(days=2), now + timedelta(days=2), ["Confirmed"])
    return next((bookings._v1(r) for r in found.reservations if r.id == reservation_id and r.customer), None)


class DocumentSteps(Session):
    """CheckIn's document steps (CheckIn(DocumentSteps, Session)): the ``scan``, ``scan_document`` and
    ``confirm_document`` actions."""

    if TYPE_CHECKING:  # CheckIn defines them
        def found(self, stay: Stay) -> None: ...

        def _show_details(self) -> None: ...

    document = None  # agent.documents.mrz.IdentityDocument while the guest confirms it
    typed_document = False  # no reader: the details screen asks for the passport instead

    # ---- the booking code -------------------------------------------------------------

    def reader_attached(self) -> bool:
        return self.ctx.jobs.serves(JobKind.READ_DOCUMENT)

    def on_scan(self, fields: dict) -> None:
        """The guest holds the confirmation e-mail's QR code to the reader."""
        if not self.reader_attached():
            self.message = ("checkin.scan.no_reader", {})
            return

        def work():
            outcome = self.run_job(Job(kind=JobKind.READ_DOCUMENT, source=Source.KIOSK,
                                       data={"bookings": True, "timeout": SCAN_SECONDS,
                                             "ask": "show the booking code"}), "checkin.scan.present")
            code = outcome.result.get("booking") if outcome.ok else None
            if code is None:
                with self.lock:
                    self.message = ("checkin.scan.unreadable", {})
                return
            ctx = self.ctx
            stay = self.lookup({"code": code.reservation_id}, lambda: _by_id(ctx, code.reservation_id), "booking")
            with self.lock:
                self.found(stay)

        self.background("checkin.scan.present", {}, work)

    # ---- the identity document --------------------------------------------------------

    def document_needed(self) -> bool:
        k = self.ctx.cfg.kiosk
        if k.documents == "all":
            return True
        if k.documents == "foreign":
            nationality = getattr(self.booking.customer, "nationality_code", None)
            return not nationality or nationality.upper() != k.hotel_country
        return False

    def document_step(self) -> bool:
        """True when the document screen is shown (the details follow once it is confirmed)."""
        if not self.document_needed():
            return False
        if not self.reader_attached():
            self.typed_document = True
            return False
        self.show("document", "checkin.document.prompt")
        return True

    def asks_passport(self) -> bool:
        return self.ctx.cfg.kiosk.ask_passport or self.typed_document

    def on_scan_document(self, fields: dict) -> None:
        self.document = None

        def work():
            outcome = self.run_job(Job(kind=JobKind.READ_DOCUMENT, source=Source.KIOSK,
                                       data={"timeout": SCAN_SECONDS, "ask": "present your document"}),
                                   "checkin.document.present")
            doc = outcome.result.get("document") if outcome.ok else None
            with self.lock:
                if doc is None:
                    self.show("document", "checkin.document.unreadable")
                    return
                self._check(doc)

        self.background("checkin.document.present", {}, work)

    def _check(self, doc) -> None:
        customer = self.booking.customer
        if not same_name(doc.surname, customer.last_name):
            log.info("kiosk check-in: the document's name does not match the booking - %s", self.where())
            self.show("document", "checkin.document.mismatch")
            return
        if doc.expired(self.ctx.local().date()):
            raise refused("refused.document_expired", task="expired identity document presented at check-in",
                          why="document expired")
        self.document = doc
        self.show("document_confirm", "checkin.document.confirm", document={
            "type": doc.type, "name": " ".join(p for p in (doc.given_names, doc.surname) if p),
            "nationality": doc.nationality or doc.nationality_code, "expiry": doc.expiry.isoformat(),
            "number": doc.masked_number})

    def on_confirm_document(self, fields: dict) -> None:
        doc, self.document = self.document, None
        if doc is None:
            self.show("document", "checkin.document.prompt")
            return
        row = platform.payload(doc, self.booking.customer.id)
        ledger = self.ctx.ledger
        if ledger is not None:  # durable until delivered, then wiped (the outbox's document row)
            ledger.store.outbox.enqueue_document(row)
            ledger.wake_outbox()
        else:
            platform.deliver(self.ctx.client, row)
        log.info("kiosk check-in: %s (%s) queued for the guest's profile - %s", doc.type,
                 doc.issuing_country or "no ISO country", self.where())
        self._show_details()

    def screen(self) -> dict:
        out = super().screen()
        if "scan" in out["actions"] and not self.reader_attached():  # no reader: no button that cannot work
            out["actions"].remove("scan")
        return out

    # ---- guest data -------------------------------------------------------------------

    def wipe(self) -> None:
        self.document, self.typed_document = None, False
        super().wipe()

    def _restart(self) -> None:
        self.document, self.typed_document = None, False
        super()._restart()
