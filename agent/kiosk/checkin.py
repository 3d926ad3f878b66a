"""Check-in: find the booking, confirm details, room ready, balance, start, keys, welcome slip."""

from __future__ import annotations

import dataclasses
from datetime import time as dtime

from agent.kiosk import fields as guest_fields
from agent.kiosk import masking, pay, preauth, receipts
from agent.kiosk.booking import Bookings
from agent.kiosk.documents import DOCUMENT_SCREENS, DocumentSteps
from agent.kiosk.names import same_name
from agent.kiosk.refusals import platform_refusal
from agent.kiosk.session import Session, failed, refused
from agent.mews import errors as mews_errors
from agent.mews.models import Customer, Space
from agent.runtime.jobs import Job, JobKind, Source

PAID = 0.005  # a balance at or under this is settled


def _text(fields: dict, name: str) -> str:
    value = fields.get(name)
    return " ".join(value.split()) if isinstance(value, str) else ""


def _real_changes(current: dict, changes: dict) -> dict:
    """Only what differs from the profile; an address keeps the parts the guest left empty or never saw.

    The screen posts every field it shows, so "unchanged" is the usual case and sends nothing, and an
    update carries the stored Line2 (not on the screen) instead of clearing it."""
    out = {}
    for key, value in changes.items():
        if key == "Address":
            stored = dict(current.get("Address") or {})
            merged = {**stored, **{k: v for k, v in value.items() if v is not None}}
            if {k: v for k, v in merged.items() if v is not None} != {k: v for k, v in stored.items() if v is not None}:
                out[key] = merged
        elif current.get(key) != value:
            out[key] = value
    return out


class CheckIn(DocumentSteps, Session):
    flow = "check-in"
    prompt_id = "checkin.find.prompt"
    actions_by_screen = {"find": ("find", "scan"), "details": ("confirm", "back"), "payment": ("pay",), "keys": ("keys",),
                         "done": (), "refused": ("staff", "restart"), "failed": ("staff", "restart"),
                         **DOCUMENT_SCREENS}

    def __init__(self, ctx, language: str = "en"):
        super().__init__(ctx, language)
        self.space: Space | None = None
        self.paid_part: list[str] = []  # approvals of this session while a rest is still due ("10.00 GBP")

    @property
    def room_number(self) -> str:
        """The assigned room (confirm refuses a stay without an inspected room: every later step has one)."""
        if self.space is None:
            raise RuntimeError("check-in: a step after confirm ran without a room")
        return self.space.number or ""

    def forget(self) -> None:
        self.stay = None
        self.space = None
        self.shown_contact: dict = {}

    def where_reservation(self) -> str | None:
        return self.stay.number if self.stay is not None else None

    def on_leave(self) -> None:
        if self.paid_part and self.name == "payment":
            due = self.data.get("amount") or {}
            self.ctx.tasks.raise_task(
                f"part payment: {', '.join(self.paid_part)} paid at the kiosk, {due.get('Value', 0):.2f} "
                f"{due.get('Currency', '')} still due; not checked in - {self.where()}",
                "the guest left the kiosk before paying the rest")

    def where(self) -> str:
        parts: list[str] = []
        if self.stay is not None:
            parts.append(f"reservation {self.stay.number}")
        if self.space is not None:
            parts.append(f"room {self.space.number}")
        return ", ".join(parts)

    # ---- find -------------------------------------------------------------------------

    def on_find(self, fields: dict) -> None:
        number, last_name = _text(fields, "number"), _text(fields, "last_name")
        ctx = self.ctx

        def find():
            stay = Bookings(ctx.client, ctx.cfg.mews.reservations_version, ctx.clock).by_number(number)
            return stay if stay is not None and same_name(last_name, stay.customer.last_name) else None

        stay = self.lookup({"number": number, "last_name": last_name}, find, "booking")
        if stay is not None:
            self.found(stay)

    def found(self, stay) -> None:
        """The booking is found (typed, or a scanned booking code): today? open yet? then document, details."""
        ctx = self.ctx
        self.stay = stay
        self.result["reservation"] = stay.number
        now = ctx.local()
        if ctx.local(stay.start_utc).date() != now.date():
            raise refused("refused.not_today", why="not arriving today")
        opens = dtime.fromisoformat(ctx.cfg.kiosk.checkin_from)
        if now.time() < opens:
            raise refused("refused.too_early", {"time": ctx.cfg.kiosk.checkin_from}, why="before check-in time")
        if not self.document_step():
            self._show_details()

    def _show_details(self) -> None:
        s = self.booking
        c = s.customer
        spaces = self.ctx.fresh_spaces()
        self.space = next((x for x in spaces.spaces if x.id == s.space_id), None)
        category = None
        if self.space is not None:
            category = next((k.name for k in spaces.space_categories if k.id == self.space.category_id), None)
        a = c.address
        editable = list(guest_fields.EDITABLE) + (list(guest_fields.PASSPORT) if self.asks_passport() else [])
        # Today passports live in identityDocuments/* (one request, only when the kiosk asks for them).
        self.passport = self.ctx.client.get_passport(c) if self.asks_passport() else None
        self.shown_contact = masking.masked_contact(c.email, c.phone)
        guest = {"first_name": c.first_name, "last_name": c.last_name, **self.shown_contact,
                 "address": {"line1": a.line1 if a else None, "city": a.city if a else None,
                             "postal_code": a.postal_code if a else None, "country": a.country_code if a else None},
                 "nationality": c.nationality_code,
                 # never on the screen: a number already on file is kept unless the guest types a new one
                 "passport_number": None, "passport_on_file": bool(self.passport and self.passport.number),
                 "passport_expiry": (self.passport.expiration_utc or "")[:10] or None if self.passport else None}
        stay = {"number": s.number, "arrival": self.ctx.local_text(s.start_utc),
                "departure": self.ctx.local_text(s.end_utc), "category": category, "adults": s.adults,
                "children": s.children}
        self.show("details", "checkin.details.prompt", guest=guest, stay=stay, editable=editable,
                  max_keys=self.max_keys())

    def max_keys(self) -> int:
        """Keys this guest may take: one per adult, at most ``kiosk.max_keys``."""
        return max(1, min(self.booking.adults, self.ctx.cfg.kiosk.max_keys))

    # ---- details ----------------------------------------------------------------------

    def on_confirm(self, fields: dict) -> None:
        ctx = self.ctx
        fields = masking.unchanged_dropped(fields, getattr(self, "shown_contact", {}))
        changes, errors = guest_fields.check(fields, ctx.local().date(), self.asks_passport())
        if errors:
            self.errors = errors
            return
        customer = self.booking.customer
        current = customer.to_json()
        passport = getattr(self, "passport", None)
        current["Passport"] = {k: v for k, v in (("Number", passport.number),
                                                 ("Expiration", (passport.expiration_utc or "")[:10] or None))
                               if v} if passport else None
        changes = _real_changes(current, changes)
        if changes:
            updated = ctx.client.update_customer_fields(customer, changes)
            self.stay = dataclasses.replace(self.booking, customer=updated)
        if self.space is None or self.space.state != "Inspected":
            room = self.space.number if self.space is not None else "none assigned"
            raise refused("refused.room_not_ready", task=f"room not ready for check-in (room {room})",
                          why=f"room {room} is {self.space.state if self.space else 'not assigned'}")
        self.result["room"] = self.space.number
        due = pay.balance_due(ctx, customer.id)
        amount = due.amount
        self.result["balance"] = amount
        if due.blocked is not None:
            raise refused("refused.payment_pending", task=f"card payment {due.blocked.reference} of "
                          f"{due.blocked.amount_text} not confirmed in Mews ({due.blocked.state}): settle it before "
                          "check-in", why=f"open charge {due.blocked.reference}")
        if amount["Value"] <= PAID:
            self.background("checkin.starting", {}, self._start)
        elif ctx.terminal is None:
            raise refused("refused.balance_due", {"amount": amount}, task=f"balance due {amount['Value']:.2f} "
                          f"{amount['Currency']} before check-in", why="balance due, no terminal")
        else:
            self.show("payment", "checkin.payment.prompt", {"amount": amount}, amount=amount)

    def on_pay(self, fields: dict) -> None:
        amount = self.data["amount"]

        def work():
            paid = pay.settle(self.ctx, self.booking.customer.id, self.booking.number, amount)
            self.paid_part.append(paid.approved_text)
            if paid.other_currency:
                raise pay.other_currency(paid, amount, "settle at reception")
            if paid.rest > pay.PAID:
                rest = {"Currency": amount["Currency"], "Value": float(paid.rest)}
                with self.lock:
                    self.show("payment", "payment.partial", {"paid": paid.approved, "amount": rest}, amount=rest)
                return
            if not paid.recorded:
                self.ctx.tasks.raise_task(f"card payment {paid.reference} of {paid.approved_text} not yet recorded "
                                          f"in Mews (kept for delivery) - {self.where()}")
            self.paid_part = []
            self.result["balance"] = {"Currency": amount["Currency"], "Value": 0.0}
            self._start()

        self.background("payment.follow_terminal", {"amount": amount}, work)

    # ---- start, keys, slip ---------------------------------------------------------------

    def _start(self) -> None:
        ctx, stay = self.ctx, self.booking
        if ctx.cfg.kiosk.preauthorization != "off":  # a hold for incidentals before the stay starts
            with self.lock:
                self.message = ("payment.follow_terminal", {"amount": {
                    "Currency": self.result["balance"]["Currency"], "Value": float(preauth.amount(ctx, stay))}})
            preauth.hold(ctx, stay, self.result["balance"]["Currency"])
        with self.lock:
            self.message = ("checkin.starting", {})
        try:
            ctx.client.start_reservation(stay.id)
        except mews_errors.Forbidden as e:
            # A start whose answer was lost and that the HTTP layer sent again is refused as "already
            # checked in": read the reservation before telling the guest anything.
            if Bookings(ctx.client, ctx.cfg.mews.reservations_version, ctx.clock).reread(stay) != "Started":
                raise platform_refusal(e.message, (stay.customer.first_name, stay.customer.last_name), "check-in",
                                       e.describe()) from None
        except (mews_errors.Retryable, mews_errors.InvalidResponse) as e:
            state = Bookings(ctx.client, ctx.cfg.mews.reservations_version, ctx.clock).reread(stay)
            if state != "Started":
                raise failed("failed.platform", task="check-in did not go through (network)",
                             why=f"{e.describe()}; state now {state}") from None
        self.started_at = ctx.clock()
        self.result["result"] = "checked in"
        # Checked in, no key yet: until all keys are made a mark on disk says so, and staff hear of a guest
        # who walks away now, a key job that fails or a unit that restarts (KioskService.report_keys_missing).
        ctx.key_marks.mark(stay.number, self.room_number, 0)
        with self.lock:
            max_keys = self.max_keys()
            self.show("keys", "checkin.keys.prompt", {"max_keys": max_keys}, max_keys=max_keys)

    def on_keys(self, fields: dict) -> None:
        count, max_keys = fields.get("count"), self.data["max_keys"]
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= max_keys:
            self.errors = {"count": {"id": "field.keys", "params": {"max": max_keys}}}
            return
        self.background("checkin.keys.present", {"n": 1, "total": count}, lambda: self._keys(count))

    def _keys(self, count: int) -> None:
        ctx, stay = self.ctx, self.booking
        c = stay.customer
        data = {"LockIds": [self.room_number] + [str(x) for x in ctx.cfg.kiosk.common_areas], "KeyCount": count,
                "StartUtc": self.started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "EndUtc": stay.end_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "FirstName": c.first_name or "", "LastName": c.last_name or "", "ReservationNumber": stay.number}
        mark = ctx.key_marks.mark(stay.number, self.room_number, count)
        outcome = self.run_job(Job(kind=JobKind.CUT_KEYS, data=data, source=Source.KIOSK),
                               "checkin.keys.present", lambda p: {"n": min(p.done + 1, count), "total": count})
        ctx.key_marks.clear(mark)  # the outcome reaches staff through this session (the task below)
        made = int(outcome.result.get("keys_made", count if outcome.ok else 0))
        self.result["keys"] = made
        if not outcome.ok or made < count:
            self.result["result"] = "failed"
            if made:
                raise failed("failed.keys_partial", {"made": made, "total": count},
                             task=f"checked in, {made} of {count} keys made", why=outcome.note)
            raise failed("failed.keys_after_start", task=f"checked in, 0 of {count} keys made", why=outcome.note)
        self._slip(made)

    def _slip(self, keys: int) -> None:
        ctx, stay, k = self.ctx, self.booking, self.ctx.cfg.kiosk
        room = self.room_number
        # The floor only when configured: "Room 401, 401" told the guest nothing twice.
        floor = next((f.split("=", 1)[1] for f in k.floors if "=" in f and room.startswith(f.split("=", 1)[0])),
                     None)
        with self.lock:
            self.message = ("checkin.printing", {})
        png = receipts.welcome_slip(hotel=ctx.hotel_name, guest=" ".join(
            p for p in (stay.customer.first_name, stay.customer.last_name) if p), room=room, floor=floor or "",
            arrival=ctx.local_text(self.started_at), departure=ctx.local_text(stay.end_utc),
            lines=[str(x) for x in k.slip_lines], qr_url=k.slip_qr_url, logo=k.logo)
        outcome = self.run_job(Job(kind=JobKind.PRINT_DOCUMENT, data=receipts.print_data(png), source=Source.KIOSK),
                               "checkin.printing")
        self.result["printed"] = outcome.ok
        with self.lock:
            done_id = "checkin.done.no_slip" if not outcome.ok else "checkin.done" if floor else "checkin.done.room"
            self.show("done", done_id, {"room": room, "floor": floor}, room=room, floor=floor, keys=keys,
                      printed=outcome.ok, departure=ctx.local_text(stay.end_utc), reservation=stay.number,
                      balance=self.result.get("balance"))
            self.forget_guest()

    def forget_guest(self) -> None:
        """At the end, keep only what the done screen shows (no guest personal data)."""
        # a customer with nothing in it, not even the id
        self.stay = dataclasses.replace(self.stay, customer=Customer(id="")) if self.stay else None
