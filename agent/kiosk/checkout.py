"""Check-out: identify by the key card or the confirmation number (+ last name), the bill, pay, process, folio.

Room + last name identifies the guest only where the hotel chose it (``kiosk.checkout_by_room``):
a room number and a surname are easy to learn (a door, a breakfast list), and a stranger must
not be able to check another guest out.
"""

from __future__ import annotations

from agent.kiosk import pay, receipts
from agent.kiosk.booking import Bookings, space_named, utc
from agent.kiosk.checkin import PAID, _text
from agent.kiosk.names import same_name
from agent.kiosk.refusals import platform_refusal
from agent.kiosk.session import ActionRefused, Session, failed, refused
from agent.mews import errors as mews_errors
from agent.runtime.jobs import Job, JobKind, Source


class CheckOut(Session):
    flow = "check-out"
    prompt_id = "checkout.find.prompt"
    actions_by_screen = {"find": ("find", "read_card"), "bill": ("pay", "checkout", "back"), "goodbye": (),
                         "refused": ("staff", "restart"), "failed": ("staff", "restart")}

    def __init__(self, ctx, language: str = "en"):
        super().__init__(ctx, language)
        self.room: str | None = None
        self.card_room: str | None = None
        self.items: list[dict] = []
        self.paid_part: list[str] = []

    @property
    def find_by(self) -> str:
        return "room" if self.ctx.cfg.kiosk.checkout_by_room else "number"

    def opening(self) -> tuple[str, dict]:
        return ("checkout.find.prompt" if self.find_by == "room" else "checkout.find.prompt_number"), \
            {"find_by": self.find_by}

    def offered(self) -> tuple[str, ...]:
        # A settled bill offers "Check out", a bill with a balance offers the terminal: never both, and
        # never "Pay on the terminal" for nothing to pay (``pay`` on a settled bill still checks out).
        if self.name == "bill":
            balance = (self.data.get("balance") or {}).get("Value", 0)
            back = () if self.paid_part else ("back",)  # once money is taken, the way is forward only
            return (("pay",) if balance > PAID else ("checkout",)) + back
        return super().offered()

    def on_back(self, fields: dict) -> None:
        if self.paid_part:
            raise ActionRefused(409, "error.not_allowed")
        super().on_back(fields)

    def on_leave(self) -> None:
        if self.paid_part and self.name == "bill":
            due = self.data.get("balance") or {}
            self.ctx.tasks.raise_task(
                f"part payment: {', '.join(self.paid_part)} paid at the kiosk, {due.get('Value', 0):.2f} "
                f"{due.get('Currency', '')} still due; not checked out - {self.where()}",
                "the guest left the kiosk before paying the rest")

    def forget(self) -> None:
        self.stay, self.items, self.card_room = None, [], None

    def where(self) -> str:
        parts = [f"reservation {self.stay.number}"] if self.stay is not None else []
        if self.room:
            parts.append(f"room {self.room}")
        return ", ".join(parts)

    def on_read_card(self, fields: dict) -> None:
        def work():
            outcome = self.run_job(Job(kind=JobKind.READ_CARD, data={}, source=Source.KIOSK), "checkout.card.present")
            rooms = outcome.result.get("rooms") or []
            with self.lock:
                if not outcome.ok:
                    self.message = ("failed.card_read", {})
                elif outcome.result.get("blank") or not rooms:
                    self.message = ("refused.card_blank", {})
                else:
                    self.card_room = str(rooms[0])
                    self.data = {"find_by": self.find_by, "card_room": self.card_room}
                    self.message = ("checkout.find.card_read", {"room": self.card_room})

        self.background("checkout.card.present", {}, work)

    def on_find(self, fields: dict) -> None:
        last_name = _text(fields, "last_name")
        ctx = self.ctx
        bookings = Bookings(ctx.client, ctx.cfg.mews.reservations_version, ctx.clock)
        space = None

        def by_room(room):
            def find():
                nonlocal space
                space = space_named(ctx.spaces().spaces, room)
                if space is None:
                    return None
                return next((s for s in bookings.by_space(space.id) if same_name(last_name, s.customer.last_name)),
                            None)
            return find

        def by_number(number):
            def find():
                nonlocal space
                stay = bookings.by_number(number, states=("Started",))
                if stay is None or not same_name(last_name, stay.customer.last_name):
                    return None
                space = next((s for s in ctx.spaces().spaces if s.id == stay.space_id), None)
                return stay if space is not None else None
            return find

        if self.card_room:  # the key card on the encoder names the room
            stay = self.lookup({"last_name": last_name}, by_room(self.card_room), "check-out")
        elif self.find_by == "room":
            room = _text(fields, "room")
            stay = self.lookup({"room": room, "last_name": last_name}, by_room(room), "check-out")
        else:
            number = _text(fields, "number")
            stay = self.lookup({"number": number, "last_name": last_name}, by_number(number), "check-out")
        if stay is None or space is None:  # a stay is found only with its room
            return
        self.stay, self.room = stay, space.number
        self.result.update({"reservation": stay.number, "room": space.number})
        if ctx.local(stay.end_utc).date() > ctx.local().date():
            raise refused("refused.checkout_not_today", why="not the last day of the stay")
        self._bill()

    def _bill(self) -> None:
        ctx, stay = self.ctx, self.booking
        open_items = ctx.client.get_customers_open_items([stay.customer.id])
        self.items = [{"name": i.name or "", "date": ctx.local_text(utc(i.consumption_utc))[:10] if i.consumption_utc
                       else "", "amount": i.amount.to_json() if i.amount else None}
                      for c in open_items for i in c.items if i.amount is not None]
        owed = pay.balance_due(ctx, stay.customer.id)
        if owed.on_the_way and owed.blocked is None:
            # Paid here, not yet recorded: the platform would refuse the check-out; give the record a moment.
            pay.wait_recorded(ctx, [c.reference for c in owed.on_the_way], min(pay.RECORD_WAIT, 3.0))
            owed = pay.balance_due(ctx, stay.customer.id)
        amount = owed.amount
        self.result["balance"] = amount
        pending = owed.blocked or (owed.on_the_way[0] if owed.on_the_way else None)
        if pending is not None:
            raise refused("refused.payment_pending", task=f"check-out waits for card payment {pending.reference} of "
                          f"{pending.amount_text} to reach Mews ({pending.state}): check out at reception",
                          why=f"charge {pending.reference} not recorded")
        due = amount["Value"] > PAID
        if due and ctx.terminal is None:
            raise refused("refused.balance_due", {"amount": amount},
                          task=f"check-out: balance due {amount['Value']:.2f} {amount['Currency']}",
                          why="balance due, no terminal")
        stay_data = {"number": stay.number, "room": self.room, "arrival": ctx.local_text(stay.start_utc),
                     "departure": ctx.local_text(stay.end_utc)}
        self.show("bill", "checkout.bill.prompt" if due else "checkout.bill.settled", {"balance": amount},
                  items=[{k: v for k, v in i.items()} for i in self.items], balance=amount, stay=stay_data)

    def on_pay(self, fields: dict) -> None:
        amount = self.data["balance"]
        if amount["Value"] <= PAID:
            return self.on_checkout(fields)

        def work():
            paid = pay.settle(self.ctx, self.booking.customer.id, self.booking.number, amount)
            self.paid_part.append(paid.approved_text)
            self.items.append({"name": "Card payment", "date": self.ctx.local_text(self.ctx.clock())[:10],
                               "amount": {"Currency": paid.approved["Currency"], "Value": -paid.approved["Value"]}})
            if paid.other_currency:
                raise pay.other_currency(paid, amount, "check out at reception")
            if paid.rest > pay.PAID:
                rest = {"Currency": amount["Currency"], "Value": float(paid.rest)}
                with self.lock:
                    self.data = {**self.data, "balance": rest, "items": [dict(i) for i in self.items]}
                    self.name, self.message = "bill", ("payment.partial", {"paid": paid.approved, "amount": rest})
                return
            if not paid.recorded:
                raise failed("failed.checkout_unknown", task=f"card payment {paid.reference} of {paid.approved_text} "
                             "approved, not yet recorded in Mews: check out at reception", why="payment not delivered")
            self.paid_part = []
            self._process()

        self.background("payment.follow_terminal", {"amount": amount}, work)

    def on_checkout(self, fields: dict) -> None:
        if self.data["balance"]["Value"] > PAID:
            raise refused("refused.see_reception", why="balance due")
        self.background("checkout.processing", {}, self._process)

    def _process(self) -> None:
        ctx, stay = self.ctx, self.booking
        with self.lock:
            self.message = ("checkout.processing", {})
        try:
            ctx.client.process_reservation(stay.id)
        except mews_errors.Forbidden as e:
            raise platform_refusal(e.message, (stay.customer.first_name, stay.customer.last_name), "check-out",
                                       e.describe()) from None
        except (mews_errors.Retryable, mews_errors.InvalidResponse) as e:
            state = Bookings(ctx.client, ctx.cfg.mews.reservations_version, ctx.clock).reread(stay)
            if state not in ("Processed", None):
                raise failed("failed.checkout_unknown", task="check-out did not go through (network)",
                             why=f"{e.describe()}; state now {state}") from None
        self.result["result"] = "checked out"
        self.result["balance"] = {"Currency": self.data.get("balance", {}).get("Currency"), "Value": 0.0}
        k = ctx.cfg.kiosk
        with self.lock:
            self.message = ("checkout.printing", {})
        png = receipts.folio(hotel=ctx.hotel_name, guest=" ".join(
            p for p in (stay.customer.first_name, stay.customer.last_name) if p), number=stay.number, room=self.room or "",
            items=self.items, balance=self.result["balance"], printed_at=ctx.local_text(ctx.clock()), logo=k.logo)
        printed = self.run_job(Job(kind=JobKind.PRINT_DOCUMENT, data=receipts.print_data(png), source=Source.KIOSK),
                               "checkout.printing").ok
        self.result["printed"] = printed
        voided = False
        if k.void_key_on_checkout and self.card_room:
            voided = self.run_job(Job(kind=JobKind.CHECKOUT_CARD, data={"LockIds": [self.room]},
                                      source=Source.KIOSK), "checkout.card.present").ok
        with self.lock:
            message = "checkout.goodbye.no_folio" if not printed else (
                "checkout.goodbye.drop_cards" if voided else "checkout.goodbye")
            self.show("goodbye", message, {}, printed=printed, key_voided=voided, drop_cards=voided,
                      reservation=stay.number, room=self.room, balance=self.result["balance"])
            self.forget()
