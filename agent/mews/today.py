"""Today's Connector API forms of what the seed documents did in one call.

The seed's ``spaces/getAll`` (retired 2020) becomes ``resources/getAll`` plus the
resource categories of the bookable services and their assignments (static: read
once per client); ``customers/getBalance`` (retired 2016) and
``customers/getOpenItems`` (deprecated 2024) become ``orderItems/getAll`` and
``payments/getAll`` over the customer's open items; passports moved from
``customers/update`` to ``identityDocuments/*`` (2026-01-10).

Each function takes the client's ``call`` and returns the kiosk-facing models the
seed forms return, so the kiosk does not know which generation it talks to.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.mews.errors import InvalidResponse
from agent.mews.models import (
    CurrencyValue,
    CustomerOpenItems,
    Document,
    ModelError,
    OpenItem,
    Space,
    SpaceCategory,
    SpacesResult,
    WireModel,
    wire,
)
from common.jsonparts import part

PAGE = 1000  # the platform's largest page; a kiosk hotel has fewer rooms than that


def _parse(model, raw: dict, operation: str):
    try:
        return model.from_json(raw)
    except ModelError as e:
        raise InvalidResponse(f"{operation}: {e}") from None


def _localized(names: Any) -> str | None:
    """The English (else the first) text of a localized-text object."""
    if not isinstance(names, dict) or not names:
        return None
    for key in ("en-US", "en-GB", "en"):
        if isinstance(names.get(key), str):
            return names[key]
    first = next(iter(names.values()))
    return first if isinstance(first, str) else None


@dataclass(frozen=True, kw_only=True)
class Amount(WireModel):
    """Today's amount: ``GrossValue`` (the seed's ``Value`` is read where an old answer has it)."""

    currency: str = wire("Currency", required=True)
    gross: float = wire("GrossValue", "Value", kind=float, required=True)


@dataclass(frozen=True, kw_only=True)
class OrderItem(WireModel):
    id: str = wire("Id", required=True)
    name: str | None = wire("BillingName", "Name")
    accounting_category_id: str | None = wire("AccountingCategoryId")
    consumed_utc: str | None = wire("ConsumedUtc")
    amount: Amount = wire("Amount", kind=Amount, required=True)


@dataclass(frozen=True, kw_only=True)
class Payment(WireModel):
    id: str = wire("Id", required=True)
    accounting_category_id: str | None = wire("AccountingCategoryId")
    created_utc: str | None = wire("CreatedUtc")
    type: str | None = wire("Type")
    amount: Amount = wire("Amount", kind=Amount, required=True)
    notes: str | None = wire("Notes")


@dataclass(frozen=True, kw_only=True)
class OrderItemsPage(WireModel):
    items: list[OrderItem] = wire("OrderItems", kind=OrderItem, many=True)


@dataclass(frozen=True, kw_only=True)
class PaymentsPage(WireModel):
    payments: list[Payment] = wire("Payments", kind=Payment, many=True)


@dataclass(frozen=True, kw_only=True)
class IdentityDocument(WireModel):
    id: str = wire("Id", required=True)
    customer_id: str | None = wire("CustomerId")
    type: str | None = wire("Type")
    number: str | None = wire("Number", repr=False)
    expiration_date: str | None = wire("ExpirationDate")


@dataclass(frozen=True, kw_only=True)
class IdentityDocumentsPage(WireModel):
    documents: list[IdentityDocument] = wire("IdentityDocuments", kind=IdentityDocument, many=True)


class StaticSpaces:
    """Services, resource categories and their assignments: read once, kept for the client's life.

    Room states change all day, so ``resources/getAll`` is asked every time; what a
    room *is* (its category) changes when the hotel is rebuilt, and the agent
    restarts long before that matters.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._categories: list[SpaceCategory] | None = None
        self._category_of: dict[str, str] = {}

    def load(self, call: Callable[[str, dict], dict]) -> tuple[list[SpaceCategory], dict[str, str]]:
        with self._lock:
            if self._categories is None:
                self._categories, self._category_of = self._read(call)
            return self._categories, self._category_of

    @staticmethod
    def _read(call) -> tuple[list[SpaceCategory], dict[str, str]]:
        op = "services/getAll"
        services = call(op, {"Limitation": {"Count": PAGE}}).get("Services")
        if not isinstance(services, list):
            raise InvalidResponse(f"{op}: the answer has no Services")
        bookable = [s["Id"] for s in services if isinstance(s, dict) and isinstance(s.get("Id"), str)
                    and (s.get("Data") or {}).get("Discriminator", "Bookable") == "Bookable"]
        if not bookable:
            return [], {}
        op = "resourceCategories/getAll"
        raw = call(op, {"ServiceIds": bookable, "Limitation": {"Count": PAGE}}).get("ResourceCategories")
        if not isinstance(raw, list):
            raise InvalidResponse(f"{op}: the answer has no ResourceCategories")
        categories = []
        for c in raw:
            if not isinstance(c, dict) or not isinstance(c.get("Id"), str):
                raise InvalidResponse(f"{op}: a resource category without an Id")
            categories.append(SpaceCategory(id=c["Id"], name=_localized(c.get("Names")),
                                            short_name=_localized(c.get("ShortNames"))))
        if not categories:
            return [], {}
        op = "resourceCategoryAssignments/getAll"
        raw = call(op, {"ResourceCategoryIds": [c.id for c in categories],
                        "Limitation": {"Count": PAGE}}).get("ResourceCategoryAssignments")
        if not isinstance(raw, list):
            raise InvalidResponse(f"{op}: the answer has no ResourceCategoryAssignments")
        category_of = {a["ResourceId"]: a["CategoryId"] for a in raw
                       if isinstance(a, dict) and a.get("IsActive", True) is not False
                       and isinstance(a.get("ResourceId"), str) and isinstance(a.get("CategoryId"), str)}
        return categories, category_of


def get_all_spaces(call, static: StaticSpaces) -> SpacesResult:
    """The seed's SpacesResult built from today's resources, categories and assignments."""
    categories, category_of = static.load(call)
    op = "resources/getAll"
    raw = call(op, {"Extent": {"Resources": True}, "Limitation": {"Count": PAGE}}).get("Resources")
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise InvalidResponse(f"{op}: Resources is not an array")
    spaces = []
    for r in raw:
        if not isinstance(r, dict) or not isinstance(r.get("Id"), str):
            raise InvalidResponse(f"{op}: a resource without an Id")
        if r.get("IsActive") is False:
            continue
        data = part(r, "Data")
        spaces.append(Space(id=r["Id"], type=data.get("Discriminator"), number=r.get("Name"),
                            parent_space_id=r.get("ParentResourceId"), category_id=category_of.get(r["Id"]),
                            state=r.get("State")))
    return SpacesResult(spaces=spaces, space_categories=list(categories))


def open_items(call, customer_id: str) -> tuple[list[OrderItem], list[Payment]]:
    """The customer's open order items and open payments, in one currency.

    Amounts come in each item's own currency; when they differ, both lists are asked
    again converted to the first item's currency (the platform converts), so a sum is
    never taken over two currencies.
    """
    def fetch(currency: str | None):
        body: dict[str, Any] = {"AccountIds": [customer_id], "AccountingStates": ["Open"],
                                "Limitation": {"Count": PAGE}}
        if currency:
            body["Currency"] = currency
        items = _parse(OrderItemsPage, call("orderItems/getAll", dict(body)), "orderItems/getAll").items
        payments = _parse(PaymentsPage, call("payments/getAll", dict(body)), "payments/getAll").payments
        return items, payments

    items, payments = fetch(None)
    currencies = {x.amount.currency for x in items} | {p.amount.currency for p in payments}
    if len(currencies) > 1:
        first = (items or payments)[0].amount.currency
        items, payments = fetch(first)
    return items, payments


def balance(items: list[OrderItem], payments: list[Payment], fallback_currency: str = "") -> CurrencyValue:
    """What the customer owes: open order items plus open payments (payments are negative)."""
    lines: list[OrderItem | Payment] = [*items, *payments]
    currency = next((x.amount.currency for x in lines), fallback_currency)
    total = sum(x.amount.gross for x in items) + sum(p.amount.gross for p in payments)
    return CurrencyValue(currency=currency, value=round(total, 2) + 0.0)


def customer_open_items(customer_id: str, items: list[OrderItem], payments: list[Payment]) -> CustomerOpenItems:
    """The seed's CustomerOpenItems: order items, then payments, each with its amount."""
    rows = [OpenItem(id=x.id, name=x.name, accounting_category_id=x.accounting_category_id,
                     consumption_utc=x.consumed_utc,
                     amount=CurrencyValue(currency=x.amount.currency, value=x.amount.gross)) for x in items]
    rows += [OpenItem(id=p.id, name=_payment_name(p), accounting_category_id=p.accounting_category_id,
                      consumption_utc=p.created_utc,
                      amount=CurrencyValue(currency=p.amount.currency, value=p.amount.gross)) for p in payments]
    return CustomerOpenItems(customer_id=customer_id, items=rows)


def _payment_name(p: Payment) -> str:
    kind = {"CreditCardPayment": "Card payment", "CashPayment": "Cash payment", "ExternalPayment": "Payment",
            "AlternativePayment": "Payment", "InvoicePayment": "Invoice payment"}.get(p.type or "", "Payment")
    return kind


def passport(call, customer_id: str) -> IdentityDocument | None:
    """The customer's passport from ``identityDocuments/getAll`` (the newest when several)."""
    op = "identityDocuments/getAll"
    page = _parse(IdentityDocumentsPage, call(op, {"CustomerIds": [customer_id], "Types": ["Passport"],
                                                   "Limitation": {"Count": 10}}), op)
    found = [d for d in page.documents if d.type in (None, "Passport")]
    return found[0] if found else None


def as_document(doc: IdentityDocument | None) -> Document | None:
    """The seed's Document (number, expiration) from today's identity document."""
    if doc is None:
        return None
    return Document(number=doc.number, expiration_utc=doc.expiration_date)


def save_passport(call, customer_id: str, number: str | None, expiration: str | None,
                  existing: IdentityDocument | None) -> None:
    """Add the passport, or update the one the customer has (only the values given)."""
    if existing is not None:
        update: dict[str, Any] = {"Id": existing.id}
        if number is not None:
            update["Number"] = {"Value": number}
        if expiration is not None:
            update["ExpirationDate"] = {"Value": expiration}
        call("identityDocuments/update", {"IdentityDocuments": [update]})
        return
    doc: dict[str, Any] = {"CustomerId": customer_id, "Type": "Passport", "Number": number or ""}
    if expiration is not None:
        doc["ExpirationDate"] = expiration
    call("identityDocuments/add", {"IdentityDocuments": [doc]})


def payment_noted(call, account_id: str, marker: str) -> bool:
    """Whether a payment of this account already carries ``marker`` in its notes (a record that got through)."""
    body = {"AccountIds": [account_id], "Limitation": {"Count": PAGE}}
    payments = _parse(PaymentsPage, call("payments/getAll", body), "payments/getAll").payments
    return any(marker in (p.notes or "") for p in payments)
