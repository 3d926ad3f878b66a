"""The simulated enterprise: spaces, reservations, customers, bills, tasks and the platform's business rules.

No aiohttp here: every method is synchronous, takes the request body's fields and
returns the response body, raising ``ApiError`` (400 client bug, 403 business
rule with a message for the end user). All access goes through ``self.lock``;
events are emitted under the lock so their order is the order of the changes.
"""

from __future__ import annotations

import re
import threading
import uuid
from typing import Callable

from sim.mews import events, fields, kiosk
from sim.mews.errors import bad_request, forbidden
from sim.mews.seed import RESERVATION_STATES, SPACE_STATES

DEFAULT_STATES = ("Confirmed", "Started", "Processed")
CANCELLABLE = ("Enquired", "Requested", "Optional", "Confirmed")
CARD_TYPES = ("Visa", "MasterCard", "Amex", "Discover", "DinersClub", "Jcb", "EnRoute", "Maestro", "UnionPay")
_OBFUSCATED = re.compile(r"^\d{0,6}\*+\d{0,4}$")
_LAST_FOUR = re.compile(r"^\d{1,4}$")
_EXPIRATION = re.compile(r"^(0[1-9]|1[0-2])/\d{4}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_STATE_WORDS = {"Started": "it is already checked in", "Processed": "it is already checked out",
                "Canceled": "it is canceled"}


def _money(value: float) -> float:
    return round(value, 2) + 0.0  # + 0.0 turns -0.0 into 0.0


def _guest_name(c: dict) -> str:
    return " ".join(p for p in (c.get("FirstName"), c.get("LastName")) if p)


class Enterprise:
    """One hotel's data and rules, shared by the REST routes, the admin routes and the test helpers."""

    def __init__(self, seed: dict, emit: Callable[[list], None], space_events: bool = False):
        self.lock = threading.RLock()
        self._emit = emit
        self.space_events = space_events
        self.info = seed["Enterprise"]
        self.currency = self.info["Currency"]
        self.categories = {c["Id"]: c for c in seed["SpaceCategories"]}
        self.spaces = {s["Id"]: s for s in seed["Spaces"]}
        self.customers = {c["Id"]: c for c in seed["Customers"]}
        self.groups = {g["Id"]: g for g in seed["ReservationGroups"]}
        self.reservations = {r["Id"]: r for r in seed["Reservations"]}
        self.accounting = {a["Id"]: a for a in seed["AccountingCategories"]}
        self.items = list(seed["OpenItems"])
        self.departments = {d["Id"]: d for d in seed["Departments"]}
        self.devices = {d["Id"]: d for d in seed["Devices"]}
        self.creator = seed["Creator"]
        self.tasks: list[dict] = []
        self.payments: list[dict] = []

    # ---- lookups (400 for unknown ids, as the platform answers)

    def reservation(self, reservation_id: str) -> dict:
        r = self.reservations.get(reservation_id)
        if r is None:
            raise bad_request(f"Invalid ReservationId: reservation {reservation_id} was not found.")
        return r

    def customer(self, customer_id: str) -> dict:
        c = self.customers.get(customer_id)
        if c is None:
            raise bad_request(f"Invalid CustomerId: customer {customer_id} was not found.")
        return c

    def enterprise_json(self) -> dict:
        return {"Id": self.info["Id"], "Name": self.info["Name"]}

    # ---- spaces

    def get_all_spaces(self, body: dict) -> dict:
        with self.lock:
            return {"Spaces": [dict(s) for s in self.spaces.values()],
                    "SpaceCategories": [dict(c) for c in self.categories.values()]}

    def get_all_resources(self, body: dict) -> dict:
        """The same spaces under the newer Resource names."""
        with self.lock:
            resources = [{"Id": s["Id"], "Type": s["Type"], "Number": s["Number"], "Name": s["Number"],
                          "ParentResourceId": s.get("ParentSpaceId"), "ResourceCategoryId": s["CategoryId"],
                          "State": s["State"], "IsActive": True} for s in self.spaces.values()]
            return {"Resources": resources, "ResourceCategories": [dict(c) for c in self.categories.values()]}

    def set_space_state(self, space_id: str, state: str) -> dict:
        """A housekeeping change made on the platform; pushes a Resource/Space event."""
        if state not in SPACE_STATES:
            raise bad_request(f"Invalid State {state!r}: expected one of {', '.join(SPACE_STATES)}.")
        with self.lock:
            s = self.spaces.get(space_id)
            if s is None:
                raise bad_request(f"Invalid SpaceId: space {space_id} was not found.")
            s["State"] = state
            self._emit([events.space(s, self.space_events)])
            return dict(s)

    # ---- reservations

    def customer_json(self, c: dict) -> dict:
        out = {k: c.get(k) for k in ("Id", "Title", "FirstName", "LastName", "Gender", "NationalityCode",
                                     "BirthDateUtc", "Email", "Phone", "CategoryId")}
        out["Address"] = dict(c.get("Address") or {})
        if c.get("Passport") is not None:
            out["Passport"] = dict(c["Passport"])
        return out

    def reservation_json(self, r: dict) -> dict:
        out = {k: r.get(k) for k in ("Id", "GroupId", "Number", "ChannelNumber", "ChannelManagerId", "State",
                                     "RequestedCategoryId", "AssignedSpaceId", "BusinessSegmentId", "CompanyId",
                                     "TravelAgencyId", "RateId", "AdultCount", "ChildCount")}
        for key in ("CreatedUtc", "UpdatedUtc", "StartUtc", "EndUtc"):
            out[key] = fields.format_utc(r[key])
        out["AssignedResourceId"] = r.get("AssignedSpaceId")
        out["RequestedResourceCategoryId"] = r.get("RequestedCategoryId")
        out["Customer"] = self.customer_json(self.customers[r["CustomerId"]])
        out["Companions"] = [self.customer_json(self.customers[c]) for c in r.get("CompanionIds", [])]
        return out

    def get_all_reservations(self, body: dict) -> dict:
        start = fields.utc(body, "StartUtc")
        end = fields.utc(body, "EndUtc")
        if end < start:
            raise bad_request("EndUtc must not be before StartUtc.")
        states = fields.text_list(body, "States", required=False) or list(DEFAULT_STATES)
        for s in states:
            if s not in RESERVATION_STATES:
                raise bad_request(f"Invalid States value {s!r}: expected {', '.join(RESERVATION_STATES)}.")
        with self.lock:
            found = [r for r in self.reservations.values()
                     if r["State"] in states and r["StartUtc"] < end and r["EndUtc"] > start]
            group_ids = list(dict.fromkeys(r["GroupId"] for r in found))
            return {"Reservations": [self.reservation_json(r) for r in found],
                    "ReservationGroups": [dict(self.groups[g]) for g in group_ids]}

    def _changed(self, r: dict, extra: list | None = None) -> None:
        r["UpdatedUtc"] = fields.now()
        self._emit([events.reservation(r, self.space_events)] + (extra or []))

    def start_reservation(self, body: dict) -> dict:
        rid = fields.text(body, "ReservationId")
        with self.lock:
            r = self.reservation(rid)
            number = r["Number"]
            if r["State"] != "Confirmed":
                why = _STATE_WORDS.get(r["State"], f"it is not confirmed yet ({r['State']})")
                raise forbidden(f"Reservation {number} cannot be checked in: {why}.")
            if r["StartUtc"] > fields.now():
                raise forbidden(f"Reservation {number} cannot be checked in before its arrival "
                                f"({fields.format_utc(r['StartUtc'])}).")
            space = self.spaces.get(r.get("AssignedSpaceId") or "")
            if space is None:
                raise forbidden(f"Reservation {number} cannot be checked in: no room is assigned.")
            if space["State"] != "Inspected":
                raise forbidden(f"Room {space['Number']} is not ready ({space['State']}): "
                                "it must be inspected before check-in.")
            kiosk.check_start(r)
            r["State"] = "Started"
            self._changed(r)
            if r.get("StartAnswerLost"):
                raise kiosk.AnswerLost()
            return {}

    def process_reservation(self, body: dict) -> dict:
        rid = fields.text(body, "ReservationId")
        with self.lock:
            r = self.reservation(rid)
            if r["State"] != "Started":
                why = {"Processed": "it is already checked out", "Canceled": "it is canceled"}.get(
                    r["State"], f"it is not checked in ({r['State']})")
                raise forbidden(f"Reservation {r['Number']} cannot be checked out: {why}.")
            for cid in [r["CustomerId"]] + list(r.get("CompanionIds", [])):
                balance = self.balance(cid)
                if abs(balance) >= 0.005:
                    raise forbidden(f"Reservation {r['Number']} cannot be checked out: the bill of "
                                    f"{_guest_name(self.customers[cid])} is not settled "
                                    f"({balance:.2f} {self.currency} open).")
            r["State"] = "Processed"
            extra = []
            space = self.spaces.get(r.get("AssignedSpaceId") or "")
            if space is not None and space["State"] not in ("OutOfService", "OutOfOrder"):
                space["State"] = "Dirty"  # a checked-out room needs housekeeping, as on the platform
                extra.append(events.space(space, self.space_events))
            self._changed(r, extra)
            return {}

    def cancel_reservation(self, body: dict) -> dict:
        rid = fields.text(body, "ReservationId")
        charge = fields.boolean(body, "ChargeCancellationFee")
        notes = fields.text(body, "Notes", empty_ok=True)
        with self.lock:
            r = self.reservation(rid)
            if r["State"] not in CANCELLABLE:
                why = _STATE_WORDS.get(r["State"], r["State"])
                raise forbidden(f"Reservation {r['Number']} cannot be canceled: {why}.")
            r["State"] = "Canceled"
            r["CancellationNotes"] = notes
            fee = self.info.get("CancellationFee") or {}
            if charge and fee.get("Value"):
                self.items.append(self._item(r["CustomerId"], f"Cancellation fee {r['Number']}",
                                             fee["Value"], fee.get("Currency", self.currency), order_id=r["Id"]))
            self._changed(r)
            return {}

    # ---- bills

    def _item(self, customer_id: str, name: str, value: float, currency: str, order_id: str | None = None,
              category_id: str | None = None) -> dict:
        return {"Id": str(uuid.uuid4()), "CustomerId": customer_id, "OrderId": order_id,
                "AccountingCategoryId": category_id, "Name": name, "ConsumptionUtc": fields.now(),
                "Amount": {"Currency": currency, "Tax": None, "TaxRate": None, "Value": _money(value)}}

    def _in_home_currency(self, amount: dict) -> float:
        rates = self.info["ExchangeRates"]
        return amount["Value"] * rates[amount["Currency"]] / rates[self.currency]

    def balance(self, customer_id: str) -> float:
        with self.lock:
            return _money(sum(self._in_home_currency(i["Amount"]) for i in self.items
                              if i["CustomerId"] == customer_id))

    def _balance_json(self, customer_id: str) -> dict:
        return {"Currency": self.currency, "Tax": None, "TaxRate": None, "Value": self.balance(customer_id)}

    def get_balance(self, body: dict) -> dict:
        cid = fields.text(body, "CustomerId")
        with self.lock:
            self.customer(cid)
            return self._balance_json(cid)

    def get_open_items(self, body: dict) -> dict:
        ids = fields.text_list(body, "CustomerIds")
        with self.lock:
            for cid in ids:
                self.customer(cid)
            out = []
            for cid in dict.fromkeys(ids):
                items = [{"Id": i["Id"], "OrderId": i.get("OrderId"),
                          "AccountingCategoryId": i.get("AccountingCategoryId"), "Name": i["Name"],
                          "ConsumptionUtc": fields.format_utc(i["ConsumptionUtc"]), "Amount": dict(i["Amount"])}
                         for i in self.items if i["CustomerId"] == cid]
                out.append({"CustomerId": cid, "Items": items})
            return {"Customers": out}

    def add_credit_card_payment(self, body: dict) -> dict:
        cid = fields.text(body, "CustomerId")
        amount = fields.obj(body, "Amount")
        currency = fields.text(amount, "Currency")
        value = fields.number(amount, "Value")
        card = fields.obj(body, "CreditCard")
        card_type = fields.text(card, "Type")
        number = fields.text(card, "Number").replace(" ", "").replace("-", "")
        expiration = fields.text(card, "Expiration")
        fields.text(card, "Name")
        category = fields.obj(body, "Category", required=False)
        receipt = fields.text(body, "ReceiptIdentifier", required=False)
        notes = fields.text(body, "Notes", required=False)
        if card_type not in CARD_TYPES:
            raise bad_request(f"Invalid CreditCard.Type {card_type!r}: expected one of {', '.join(CARD_TYPES)}.")
        # The number itself never goes into a message: it may be a full card number.
        if not (_OBFUSCATED.match(number) or _LAST_FOUR.match(number)):
            raise bad_request("Invalid CreditCard.Number: it must be obfuscated (at most the first six and the last "
                              "four digits, the digits in between replaced with '*'). Never send a full card number.")
        if not _EXPIRATION.match(expiration):
            raise bad_request("Invalid CreditCard.Expiration: expected MM/YYYY, e.g. 12/2016.")
        if currency not in self.info["AcceptedCurrencies"]:
            raise bad_request(f"Invalid Amount.Currency {currency!r}: the enterprise accepts "
                              f"{', '.join(self.info['AcceptedCurrencies'])}.")
        if value <= 0:
            raise bad_request("Invalid Amount.Value: a payment must be a positive amount.")
        category_id = None
        if category is not None:
            code = fields.text(category, "Code")
            category_id = next((a["Id"] for a in self.accounting.values() if a["Code"] == code), None)
        with self.lock:
            self.customer(cid)
            last_four = number[-4:] if number[-1:].isdigit() else ""
            item = self._item(cid, f"Credit card payment {card_type} {last_four}".rstrip(), -value, currency,
                              category_id=category_id)
            self.items.append(item)
            self.payments.append({"ItemId": item["Id"], "CustomerId": cid, "CardType": card_type,
                                  "CardNumber": number, "ReceiptIdentifier": receipt, "Notes": notes})
            return self._balance_json(cid)

    # ---- customers

    def update_customer(self, body: dict) -> dict:
        cid = fields.text(body, "CustomerId")
        last_name = fields.text(body, "LastName")
        first_name = fields.text(body, "FirstName", required=False)
        phone = fields.text(body, "Phone", required=False)
        nationality = fields.text(body, "NationalityCode", required=False)
        if nationality is not None and not _COUNTRY.match(nationality):
            raise bad_request("Invalid NationalityCode: expected an ISO 3166-1 alpha-2 code such as GB.")
        birth = fields.utc(body, "BirthDateUtc", required=False)
        passport = fields.obj(body, "Passport", required=False)
        if passport is not None:
            expiry = fields.utc(passport, "ExpirationUtc", required=False)
            passport = {"Number": fields.text(passport, "Number", required=False),
                        "ExpirationUtc": fields.format_utc(expiry)}
        with self.lock:
            c = self.customer(cid)
            # The platform replaces every updatable field: a field left out is cleared.
            c.update({"FirstName": first_name, "LastName": last_name, "Phone": phone,
                      "NationalityCode": nationality, "BirthDateUtc": fields.format_utc(birth),
                      "Passport": passport})
            c.update({k: body[k] for k in ("Email", "Address") if k in body})  # the current platform's fields
            return self.customer_json(c)

    # ---- tasks

    def add_task(self, body: dict) -> dict:
        name = fields.text(body, "Name")
        deadline = fields.utc(body, "DeadlineUtc")
        department = fields.text(body, "DepartmentId", required=False)
        description = fields.text(body, "Description", required=False)
        with self.lock:
            if department is not None and department not in self.departments:
                raise bad_request(f"Invalid DepartmentId: department {department} was not found.")
            self.tasks.append({"Id": str(uuid.uuid4()), "Name": name, "Description": description,
                               "DepartmentId": department, "DeadlineUtc": fields.format_utc(deadline),
                               "CreatedUtc": fields.format_utc(fields.now())})
            return {}

    def price_update(self, body: dict) -> dict:
        """Push a PriceUpdate event (admin route)."""
        start = fields.utc(body, "StartUtc", required=False) or fields.now()
        end = fields.utc(body, "EndUtc", required=False) or start
        rate_id = fields.text(body, "RateId", required=False)
        category_id = fields.text(body, "ResourceCategoryId", required=False) or fields.text(
            body, "SpaceCategoryId", required=False)
        with self.lock:
            event = events.price_update(fields.format_utc(start), fields.format_utc(end), rate_id, category_id,
                                        self.space_events)
            self._emit([event])
            return event
