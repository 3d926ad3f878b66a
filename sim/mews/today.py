"""Today's generation of the simulated platform: the published Connector API's forms.

What changes against the seed documents' forms (``sim.mews.state``): no sign-in (a
``ClientToken`` and an ``AccessToken`` in every body, with ``Client``); the retired
operations answer 404; a request without a field the published schema requires
answers 400; answers carry today's names and values (``Sex``, ``BirthDate``,
``Inquired``, resources with ``Data``, amounts with ``GrossValue``); balances come
from ``orderItems/getAll`` + ``payments/getAll``; passports live in
``identityDocuments/*``. The enterprise's data and rules are the seed
generation's (one ``Enterprise``), only the wire forms differ.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Callable

from sim.mews import fields, kiosk
from sim.mews.errors import ApiError, bad_request

if TYPE_CHECKING:
    from sim.mews.commands import CommandBook
    from sim.mews.state import Enterprise

# In no published file: signIn (a seed feature), spaces/getAll (2020), customers/getBalance (2016), and
# reservations/getAll ver 2017-04-12 (discontinued on the production platform on 2025-05-10).
RETIRED = ("app/signIn", "spaces/getAll", "customers/getBalance", "reservations/getAll")
# Each operation's required body fields as the published schemas have them (tokens and Client apart).
REQUIRED: dict[str, tuple[str, ...]] = {
    "services/getAll": ("Limitation",),
    "resources/getAll": ("Extent", "Limitation"),
    "resourceCategories/getAll": ("ServiceIds", "Limitation"),
    "resourceCategoryAssignments/getAll": ("ResourceCategoryIds", "Limitation"),
    "reservations/getAll/2023-06-06": ("Limitation",),
    "reservations/start": ("ReservationId",),
    "reservations/process": ("ReservationId",),
    "reservations/cancel": ("ReservationIds",),
    "customers/getAll": ("Extent", "Limitation"),
    "customers/getOpenItems": ("CustomerIds",),
    "customers/update": ("CustomerId",),
    "orderItems/getAll": ("Limitation",),
    "payments/getAll": ("Limitation",),
    "payments/addExternal": ("AccountId", "Amount"),
    "payments/addCreditCard": ("CustomerId", "Amount", "CreditCard"),
    "identityDocuments/getAll": ("CustomerIds", "Limitation"),
    "identityDocuments/add": ("IdentityDocuments",),
    "identityDocuments/update": ("IdentityDocuments",),
    "tasks/add": ("Name", "DeadlineUtc"),
    "commands/getAllActive": (),
    "commands/getAllByIds": ("CommandIds",),
    "commands/update": ("CommandId", "State"),
}
TITLES = {"Mr": "Mister", "Mrs": "Misses", "Ms": "Miss"}  # older spellings -> today's Title values
EXTERNAL_TYPES = ("Unspecified", "BadDebts", "Bacs", "WireTransfer", "Invoice", "ExchangeRateDifference",
                  "Complimentary", "Reseller", "ExchangeRoundingDifference", "Barter", "Commission", "BankCharges",
                  "CrossSettlement", "Cash", "CreditCard", "Prepayment", "Cheque", "Bancontact", "IDeal", "PayPal",
                  "GiftCard", "LoyaltyPoints", "ChequeVacances", "OnlinePayment", "CardCheck",
                  "PaymentHubRedirection", "Voucher", "MasterCard", "Visa", "Amex", "Discover", "DinersClub", "Jcb",
                  "UnionPay", "Twint", "Reka", "LoyaltyCard", "PosDiningAndSpaReward", "DirectDebit", "DepositCheck",
                  "DepositCash", "DepositCreditCard", "DepositWireTransfer")
DOCUMENT_TYPES = ("IdentityCard", "Passport", "Visa", "DriversLicense")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NAMESPACE = uuid.UUID("6f1b0c55-2f6e-4b8e-9d1e-4d2a1c0a7e11")
PROFILE = str(uuid.uuid5(_NAMESPACE, "profile"))


def stable_id(*parts: str) -> str:
    """A UUID that is the same for the same parts (ids the seed does not hold)."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def check_request(operation: str, body: dict) -> None:
    """400 for a request without a field the published schema requires (``Client`` included)."""
    for key in ("Client",) + REQUIRED.get(operation, ()):
        value = body.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise bad_request(f"Missing required field {key}.")


def state_out(state: str) -> str:
    return "Inquired" if state == "Enquired" else state


def state_in(state: str) -> str:
    return "Enquired" if state == "Inquired" else state


def amount(currency: str, gross: float, tax_rate: float | None = None) -> dict:
    """Today's extended amount."""
    gross = round(gross, 2) + 0.0
    net = round(gross / (1 + tax_rate), 2) + 0.0 if tax_rate else gross
    return {"Currency": currency, "NetValue": net, "GrossValue": gross,
            "TaxValues": [{"Code": None, "Value": round(gross - net, 2) + 0.0}] if tax_rate else [],
            "Breakdown": {"Items": [{"TaxRateCode": None, "NetValue": net, "TaxValue": round(gross - net, 2) + 0.0}]}}


def _date_of(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value)[:10]


def _limit(body: dict) -> int:
    return kiosk.limit(body)


class TodayApi:
    """The operations of today's generation over the shared enterprise and command book."""

    def __init__(self, ent: "Enterprise", book: "CommandBook"):
        self.ent, self.book = ent, book
        self.service_id = stable_id("service", ent.info["Id"])
        self.chain_id = stable_id("chain", ent.info["Id"])

    def operations(self) -> dict[str, Callable[[dict], dict]]:
        ent, book = self.ent, self.book
        return {
            "services/getAll": self.services, "resources/getAll": self.resources,
            "resourceCategories/getAll": self.categories,
            "resourceCategoryAssignments/getAll": self.assignments,
            "reservations/getAll/2023-06-06": self.reservations,
            "reservations/start": ent.start_reservation, "reservations/process": ent.process_reservation,
            "reservations/cancel": self.cancel, "customers/getAll": self.customers,
            "customers/getOpenItems": self.open_items_old, "customers/update": self.update_customer,
            "orderItems/getAll": self.order_items, "payments/getAll": self.payments,
            "payments/addExternal": self.add_external, "payments/addCreditCard": self.add_credit_card,
            "identityDocuments/getAll": self.documents, "identityDocuments/add": self.add_documents,
            "identityDocuments/update": self.update_documents, "tasks/add": self.add_task,
            "commands/getAllActive": book.get_all_active, "commands/getAllByIds": self.commands_by_ids,
            "commands/update": book.update,
        }

    # ---- shapes

    def _stamp(self) -> str:
        return fields.format_utc(fields.now())

    def customer_json(self, c: dict) -> dict:
        address = dict(c.get("Address") or {})
        address = {"Id": stable_id("address", c["Id"]), **{k: address.get(k) for k in
                                                          ("Line1", "Line2", "City", "PostalCode", "CountryCode")}}
        created = fields.format_utc(c.get("_Created") or fields.now())
        return {"Id": c["Id"], "ChainId": self.chain_id, "Number": str(abs(hash(c["Id"])) % 10 ** 8),
                "Title": TITLES.get(c.get("Title"), c.get("Title")), "Sex": c.get("Gender"),
                "FirstName": c.get("FirstName"), "LastName": c["LastName"],
                "NationalityCode": c.get("NationalityCode"),
                "BirthDate": c.get("BirthDate") or _date_of(c.get("BirthDateUtc")),
                "Email": c.get("Email"), "Phone": c.get("Phone"), "HasOtaEmail": False,
                "CreatedUtc": created, "UpdatedUtc": created, "Address": address, "AddressId": address["Id"],
                "Classifications": [], "Options": [], "IsActive": True, "PreferredSpaceFeatures": [],
                "CreatorProfileId": PROFILE, "UpdaterProfileId": PROFILE}

    def _category_of(self, r: dict) -> str:
        if r.get("RequestedCategoryId"):
            return r["RequestedCategoryId"]
        space = self.ent.spaces.get(r.get("AssignedSpaceId") or "")
        return space["CategoryId"] if space else next(iter(self.ent.categories))

    def reservation_json(self, r: dict) -> dict:
        counts = [{"AgeCategoryId": kiosk.ADULT_CATEGORY, "Count": r.get("AdultCount") or 0}]
        if r.get("ChildCount"):
            counts.append({"AgeCategoryId": kiosk.CHILD_CATEGORY, "Count": r["ChildCount"]})
        start, end = fields.format_utc(r["StartUtc"]), fields.format_utc(r["EndUtc"])
        started = r["State"] in ("Started", "Processed")
        return {"Id": r["Id"], "ServiceId": self.service_id, "AccountId": r["CustomerId"], "AccountType": "Customer",
                "CreatorProfileId": PROFILE, "UpdaterProfileId": PROFILE, "Number": r["Number"],
                "State": state_out(r["State"]), "Origin": "Connector",
                "CreatedUtc": fields.format_utc(r["CreatedUtc"]), "UpdatedUtc": fields.format_utc(r["UpdatedUtc"]),
                "Options": {"OwnerCheckedIn": started, "AllCompanionsCheckedIn": started,
                            "AnyCompanionCheckedIn": started, "ConnectorCheckIn": False},
                "RateId": r.get("RateId") or stable_id("rate"), "GroupId": r["GroupId"],
                "RequestedResourceCategoryId": self._category_of(r),
                "AssignedResourceId": r.get("AssignedSpaceId"), "ChannelNumber": r.get("ChannelNumber"),
                "StartUtc": start, "EndUtc": end, "ScheduledStartUtc": start, "ScheduledEndUtc": end,
                "ActualStartUtc": None, "ActualEndUtc": None, "PersonCounts": counts}

    # ---- resources

    def services(self, body: dict) -> dict:
        _limit(body)
        stamp = self._stamp()
        return {"Services": [{"Id": self.service_id, "EnterpriseId": self.ent.info["Id"], "IsActive": True,
                              "Names": {"en-US": "Stay"}, "Options": {"BillAsPackage": False}, "Ordering": 0,
                              "Data": {"Discriminator": "Bookable", "Value": {}},
                              "CreatedUtc": stamp, "UpdatedUtc": stamp}], "Cursor": None}

    def resources(self, body: dict) -> dict:
        count = _limit(body)
        fields.obj(body, "Extent")
        ids = fields.text_list(body, "ResourceIds", required=False)
        stamp = self._stamp()
        with self.ent.lock:
            found = [s for s in self.ent.spaces.values() if ids is None or s["Id"] in ids][:count]
            resources = [{"Id": s["Id"], "EnterpriseId": self.ent.info["Id"], "IsActive": True,
                          "ParentResourceId": s.get("ParentSpaceId"), "Name": s["Number"], "State": s["State"],
                          "Descriptions": {}, "CreatedUtc": stamp, "UpdatedUtc": stamp,
                          "Data": {"Discriminator": "Space", "Value": {"FloorNumber": s["Number"][:1] or "0"}},
                          "ExternalNames": {}, "Directions": {}} for s in found]
        return {"Resources": resources, "Cursor": None}

    def categories(self, body: dict) -> dict:
        count = _limit(body)
        services = fields.text_list(body, "ServiceIds")
        if self.service_id not in services:
            return {"ResourceCategories": [], "Cursor": None}
        with self.ent.lock:
            out = [{"Id": c["Id"], "EnterpriseId": self.ent.info["Id"], "ServiceId": self.service_id,
                    "IsActive": True, "Type": "Dorm" if "Dorm" in c["Name"] else "Room", "Classification": "Other",
                    "Names": {"en-US": c["Name"]}, "ShortNames": {"en-US": c.get("ShortName") or c["Name"]},
                    "Descriptions": {}, "Ordering": i, "Capacity": 2, "ExtraCapacity": 0}
                   for i, c in enumerate(self.ent.categories.values())]
        return {"ResourceCategories": out[:count], "Cursor": None}

    def assignments(self, body: dict) -> dict:
        count = _limit(body)
        wanted = set(fields.text_list(body, "ResourceCategoryIds"))
        stamp = self._stamp()
        with self.ent.lock:
            out = [{"Id": stable_id("assignment", s["Id"]), "IsActive": True, "ResourceId": s["Id"],
                    "CategoryId": s["CategoryId"], "CreatedUtc": stamp, "UpdatedUtc": stamp}
                   for s in self.ent.spaces.values() if s["CategoryId"] in wanted]
        return {"ResourceCategoryAssignments": out[:count], "Cursor": None}

    # ---- reservations and customers

    def reservations(self, body: dict) -> dict:
        count = _limit(body)
        filters = {name: fields.text_list(body, name, required=False)
                   for name in ("Numbers", "AssignedResourceIds", "States", "ReservationIds", "AccountIds")}
        states = None if filters["States"] is None else {state_in(s) for s in filters["States"]}
        with self.ent.lock:
            found = [r for r in self.ent.reservations.values()
                     if (filters["Numbers"] is None or r["Number"] in filters["Numbers"])
                     and (filters["AssignedResourceIds"] is None
                          or r.get("AssignedSpaceId") in filters["AssignedResourceIds"])
                     and (states is None or r["State"] in states)
                     and (filters["ReservationIds"] is None or r["Id"] in filters["ReservationIds"])
                     and (filters["AccountIds"] is None or r["CustomerId"] in filters["AccountIds"])]
            return {"Reservations": [self.reservation_json(r) for r in found[:count]], "Cursor": None}

    def cancel(self, body: dict) -> dict:
        ids = fields.text_list(body, "ReservationIds")
        if not ids:
            raise bad_request("Field ReservationIds must hold at least one id.")
        post = body.get("PostCancellationFee")
        if post is not None and not isinstance(post, bool):
            raise bad_request("Field PostCancellationFee must be a boolean.")
        notes = fields.text(body, "Notes", required=False) or ""
        for rid in ids:
            self.ent.cancel_reservation({"ReservationId": rid, "ChargeCancellationFee": bool(post), "Notes": notes})
        return {"ReservationIds": list(ids)}

    def customers(self, body: dict) -> dict:
        count = _limit(body)
        fields.obj(body, "Extent")
        ids = fields.text_list(body, "CustomerIds")
        with self.ent.lock:
            found = [self.customer_json(self.ent.customers[c]) for c in dict.fromkeys(ids) if c in self.ent.customers]
        return {"Customers": found[:count], "Cursor": None}

    def update_customer(self, body: dict) -> dict:
        cid = fields.text(body, "CustomerId")
        for retired in ("Passport", "IdentityCard", "Visa", "DriversLicense"):
            if body.get(retired) is not None:
                raise bad_request(f"Field {retired} is no longer accepted (discontinued 2026-01-10): use "
                                  "identityDocuments/add or identityDocuments/update.")
        if body.get("BirthDateUtc") is not None:
            raise bad_request("Unknown field BirthDateUtc: the field is BirthDate (a date, YYYY-MM-DD).")
        birth = fields.text(body, "BirthDate", required=False)
        if birth is not None and not _DATE.match(birth):
            raise bad_request("Invalid BirthDate: expected a date such as 1985-09-30.")
        nationality = fields.text(body, "NationalityCode", required=False)
        if nationality is not None and not re.match(r"^[A-Z]{2}$", nationality):
            raise bad_request("Invalid NationalityCode: expected an ISO 3166-1 alpha-2 code such as GB.")
        with self.ent.lock:
            c = self.ent.customer(cid)
            # Today a field left out (or null) stays as it is.
            for key in ("FirstName", "LastName", "Phone", "Email", "NationalityCode", "Title"):
                if body.get(key) is not None:
                    c[key] = fields.text(body, key, empty_ok=True)
            if body.get("Sex") is not None:
                c["Gender"] = fields.text(body, "Sex")
            if birth is not None:
                c["BirthDate"], c["BirthDateUtc"] = birth, f"{birth}T00:00:00Z"
            if body.get("Address") is not None:
                address = fields.obj(body, "Address")
                c["Address"] = {k: address.get(k) for k in ("Line1", "Line2", "City", "PostalCode", "CountryCode")}
            return self.customer_json(c)

    # ---- bills

    def _owned(self, body: dict, what: str) -> list[dict]:
        accounts = fields.text_list(body, "AccountIds", required=False)
        if accounts is None:
            raise bad_request(f"{what}: at least one filter is required (AccountIds).")
        states = fields.text_list(body, "AccountingStates", required=False)
        if states is not None and "Open" not in states:
            return []  # the simulator's items are all open
        return [i for i in self.ent.items if i["CustomerId"] in accounts]

    def _converted(self, item: dict, currency: str | None) -> tuple[str, float]:
        a = item["Amount"]
        if currency is None or currency == a["Currency"]:
            return a["Currency"], a["Value"]
        rates = self.ent.info["ExchangeRates"]
        if currency not in rates:
            raise bad_request(f"Invalid Currency {currency!r}.")
        return currency, a["Value"] * rates[a["Currency"]] / rates[currency]

    def order_items(self, body: dict) -> dict:
        count = _limit(body)
        currency = fields.text(body, "Currency", required=False)
        with self.ent.lock:
            out = []
            for i in self._owned(body, "orderItems/getAll"):
                if i["Amount"]["Value"] < 0:
                    continue  # a payment: payments/getAll
                cur, value = self._converted(i, currency)
                money = amount(cur, value, i["Amount"].get("TaxRate"))
                consumed = fields.format_utc(i["ConsumptionUtc"])
                out.append({"Id": i["Id"], "EnterpriseId": self.ent.info["Id"], "AccountId": i["CustomerId"],
                            "AccountType": "Customer", "ServiceId": self.service_id,
                            "ServiceOrderId": i.get("OrderId") or stable_id("order", i["Id"]),
                            "BillingName": i["Name"], "AccountingCategoryId": i.get("AccountingCategoryId"),
                            "UnitCount": 1, "UnitAmount": money, "Amount": money, "OriginalAmount": money,
                            "RevenueType": "Service", "CreatorProfileId": PROFILE, "UpdaterProfileId": PROFILE,
                            "CreatedUtc": consumed, "UpdatedUtc": consumed, "ConsumedUtc": consumed,
                            "AccountingState": "Open", "Type": "SpaceOrder" if i.get("OrderId") else "ProductOrder",
                            "Options": {"CanceledWithReservation": False}})
        return {"OrderItems": out[:count], "Cursor": None}

    def payments(self, body: dict) -> dict:
        count = _limit(body)
        currency = fields.text(body, "Currency", required=False)
        with self.ent.lock:
            out = []
            for i in self._owned(body, "payments/getAll"):
                if i["Amount"]["Value"] >= 0:
                    continue
                cur, value = self._converted(i, currency)
                money = amount(cur, value)
                at = fields.format_utc(i["ConsumptionUtc"])
                kind = i.get("PaymentType") or ("CashPayment" if "Cash" in i["Name"] else "CreditCardPayment")
                out.append({"Id": i["Id"], "EnterpriseId": self.ent.info["Id"], "AccountId": i["CustomerId"],
                            "AccountType": "Customer", "ReservationId": i.get("OrderId"),
                            "AccountingCategoryId": i.get("AccountingCategoryId"), "Amount": money,
                            "OriginalAmount": money, "Notes": i.get("Notes"), "CreatedUtc": at, "UpdatedUtc": at,
                            "ChargedUtc": at, "SettlementUtc": at, "AccountingState": "Open", "State": "Charged",
                            "Type": kind})
        return {"Payments": out[:count], "Cursor": None}

    def _payment_amount(self, body: dict) -> tuple[str, float]:
        money = fields.obj(body, "Amount")
        currency = fields.text(money, "Currency")
        if money.get("Value") is not None and money.get("GrossValue") is None:
            raise bad_request("Invalid Amount: the field is GrossValue (Value is not part of today's API).")
        gross = fields.number(money, "GrossValue")
        if currency not in self.ent.info["AcceptedCurrencies"]:
            raise bad_request(f"Invalid Amount.Currency {currency!r}: the enterprise accepts "
                              f"{', '.join(self.ent.info['AcceptedCurrencies'])}.")
        if gross <= 0:
            raise bad_request("Invalid Amount.GrossValue: a payment must be a positive amount.")
        return currency, gross

    def _category(self, body: dict) -> str | None:
        if body.get("Category") is not None:
            raise bad_request("Unknown field Category: the field is AccountingCategoryId.")
        category = fields.text(body, "AccountingCategoryId", required=False)
        if category is not None and category not in self.ent.accounting:
            raise bad_request(f"Invalid AccountingCategoryId: accounting category {category} was not found.")
        return category

    def _post_payment(self, cid: str, currency: str, gross: float, name: str, category: str | None,
                      kind: str, record: dict) -> dict:
        item = self.ent._item(cid, name, -gross, currency, category_id=category)
        item["PaymentType"], item["Notes"] = kind, record.get("Notes")
        self.ent.items.append(item)
        self.ent.payments.append({"ItemId": item["Id"], "CustomerId": cid, **record})
        return item

    def add_external(self, body: dict) -> dict:
        cid = fields.text(body, "AccountId")
        currency, gross = self._payment_amount(body)
        kind = fields.text(body, "Type", required=False)
        if kind is not None and kind not in EXTERNAL_TYPES:
            raise bad_request(f"Invalid Type {kind!r}: not an external payment type.")
        category = self._category(body)
        reservation = fields.text(body, "ReservationId", required=False)
        with self.ent.lock:
            self.ent.customer(cid)
            if reservation is not None:
                self.ent.reservation(reservation)
            item = self._post_payment(cid, currency, gross, f"External payment {kind or 'Unspecified'}", category,
                                      "ExternalPayment",
                                      {"Type": kind, "ExternalIdentifier": fields.text(body, "ExternalIdentifier",
                                                                                       required=False),
                                       "Notes": fields.text(body, "Notes", required=False),
                                       "ReservationId": reservation})
            return {"ExternalPaymentId": item["Id"]}

    def add_credit_card(self, body: dict) -> dict:
        """Deprecated since 2026-07-29 but served until 2028-01-10, in today's form."""
        cid = fields.text(body, "CustomerId")
        currency, gross = self._payment_amount(body)
        card = fields.obj(body, "CreditCard")
        card_type = fields.text(card, "Type")
        number = fields.text(card, "Number").replace(" ", "").replace("-", "")
        fields.text(card, "Name")
        from sim.mews.state import _LAST_FOUR, _OBFUSCATED, CARD_TYPES  # one definition of the card rules
        if card_type not in CARD_TYPES:
            raise bad_request(f"Invalid CreditCard.Type {card_type!r}: expected one of {', '.join(CARD_TYPES)}.")
        if not (_OBFUSCATED.match(number) or _LAST_FOUR.match(number)):
            raise bad_request("Invalid CreditCard.Number: it must be obfuscated (at most the first six and the last "
                              "four digits, the digits in between replaced with '*'). Never send a full card number.")
        category = self._category(body)
        with self.ent.lock:
            self.ent.customer(cid)
            self._post_payment(cid, currency, gross, f"Credit card payment {card_type} {number[-4:]}".rstrip(),
                               category, "CreditCardPayment",
                               {"CardType": card_type, "CardNumber": number,
                                "ReceiptIdentifier": fields.text(body, "ReceiptIdentifier", required=False),
                                "Notes": fields.text(body, "Notes", required=False)})
            return {"CreditCardId": stable_id("card", cid, number)}

    def open_items_old(self, body: dict) -> dict:
        """Deprecated 2024-11-15 (successors orderItems/getAll, payments/getAll); today's answer form."""
        ids = fields.text_list(body, "CustomerIds")
        with self.ent.lock:
            for cid in ids:
                self.ent.customer(cid)
            out = [{"CustomerId": cid, "OrderItems": [], "PaymentItems": [],
                    "Items": [{"Id": i["Id"], "AccountId": cid, "OrderId": i.get("OrderId"),
                               "AccountingCategoryId": i.get("AccountingCategoryId"), "Name": i["Name"],
                               "ConsumptionUtc": fields.format_utc(i["ConsumptionUtc"]),
                               "Amount": amount(i["Amount"]["Currency"], i["Amount"]["Value"],
                                                i["Amount"].get("TaxRate"))}
                              for i in self.ent.items if i["CustomerId"] == cid]}
                   for cid in dict.fromkeys(ids)]
        return {"Customers": out}

    # ---- identity documents

    def _documents(self, c: dict) -> list[dict]:
        """The customer's documents; a seed passport becomes one on first use."""
        if "Documents" not in c:
            c["Documents"] = []
            passport = c.get("Passport") or {}
            if passport.get("Number"):
                c["Documents"].append({"Id": stable_id("document", c["Id"]), "CustomerId": c["Id"],
                                       "Type": "Passport", "Number": passport["Number"],
                                       "ExpirationDate": _date_of(passport.get("ExpirationUtc")),
                                       "IsVerified": False})
        return c["Documents"]

    def documents(self, body: dict) -> dict:
        count = _limit(body)
        ids = fields.text_list(body, "CustomerIds")
        types = fields.text_list(body, "Types", required=False)
        with self.ent.lock:
            out = [dict(d) for cid in dict.fromkeys(ids) if cid in self.ent.customers
                   for d in self._documents(self.ent.customers[cid]) if types is None or d["Type"] in types]
        return {"IdentityDocuments": out[:count], "Cursor": None}

    def _doc_list(self, body: dict) -> list[dict]:
        docs = body.get("IdentityDocuments")
        if not isinstance(docs, list) or not docs or not all(isinstance(d, dict) for d in docs):
            raise bad_request("Field IdentityDocuments must be an array of 1 to 10 objects.")
        if len(docs) > 10:
            raise bad_request("Field IdentityDocuments holds at most 10 documents.")
        return docs

    @staticmethod
    def _expiration(value: str | None) -> str | None:
        if value is not None and not _DATE.match(value):
            raise bad_request("Invalid ExpirationDate: expected a date such as 2030-01-31.")
        return value

    def add_documents(self, body: dict) -> dict:
        created = []
        with self.ent.lock:
            for d in self._doc_list(body):
                cid = fields.text(d, "CustomerId")
                kind = fields.text(d, "Type")
                if kind not in DOCUMENT_TYPES:
                    raise bad_request(f"Invalid Type {kind!r}: expected one of {', '.join(DOCUMENT_TYPES)}.")
                number = fields.text(d, "Number", empty_ok=True)
                doc = {"Id": str(uuid.uuid4()), "CustomerId": cid, "Type": kind, "Number": number,
                       "ExpirationDate": self._expiration(fields.text(d, "ExpirationDate", required=False)),
                       "IsVerified": bool(d.get("IsVerified", False))}
                self._documents(self.ent.customer(cid)).append(doc)
                created.append(dict(doc))
        return {"IdentityDocuments": created}

    def update_documents(self, body: dict) -> dict:
        changed = []
        with self.ent.lock:
            for d in self._doc_list(body):
                doc_id = fields.text(d, "Id")
                doc = next((x for c in self.ent.customers.values() for x in self._documents(c) if x["Id"] == doc_id),
                           None)
                if doc is None:
                    raise bad_request(f"Invalid Id: identity document {doc_id} was not found.")
                for key in ("Number", "ExpirationDate"):
                    update = d.get(key)
                    if update is None:
                        continue
                    if not isinstance(update, dict) or "Value" not in update:
                        raise bad_request(f"Field {key} must be an update value ({{\"Value\": ...}}).")
                    value = update["Value"]
                    doc[key] = self._expiration(value) if key == "ExpirationDate" else value
                changed.append(dict(doc))
        return {"IdentityDocuments": changed}

    # ---- tasks and commands

    def add_task(self, body: dict) -> dict:
        self.ent.add_task(body)
        return {"TaskId": self.ent.tasks[-1]["Id"]}

    def commands_by_ids(self, body: dict) -> dict:
        ids = fields.text_list(body, "CommandIds")
        if len(ids) > 1000:
            raise bad_request("Field CommandIds holds at most 1000 ids.")
        with self.book.lock:
            return {"Commands": [self.book._api_json(self.book.commands[i]) for i in dict.fromkeys(ids)
                                 if i in self.book.commands]}


__all__ = ["ApiError", "RETIRED", "REQUIRED", "TodayApi", "check_request"]
