"""The guest-facing operations a kiosk uses (reservations by number, customers, passports), per generation.

A mixin of ``MewsClient``: every method goes through the client's ``call``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent.mews import today
from agent.mews.models import (
    Command,
    CurrencyValue,
    Customer,
    CustomersPage,
    Document,
    ReservationsPage,
    ReservationV2,
    check_card_number,
)


class GuestOperations:
    """Mixed into MewsClient (which provides ``call``, ``_parse``, ``_commands``, ``current`` and ``_cfg``)."""

    if TYPE_CHECKING:  # what MewsClient provides, declared for the type checker (MewsClient defines them)
        current: bool
        _cfg: Any

        def call(self, operation: str, body: dict | None = None) -> dict: ...

        @staticmethod
        def _parse(model: Any, raw: dict, operation: str) -> Any: ...

        def _commands(self, operation: str, raw: dict) -> list[Command]: ...

    def _amount(self, amount: CurrencyValue) -> dict:
        """An amount in the generation's form: ``{Currency, GrossValue}`` today, ``{Currency, Value}`` in the seed."""
        if self.current:
            return {"Currency": amount.currency, "GrossValue": amount.value}
        return amount.to_json()

    def payment_recorded(self, account_id: str, receipt: str) -> bool | None:
        """Whether the platform already holds the card payment recorded with terminal reference ``receipt``.

        Today: ``payments/getAll`` for the account, the reference in a payment's ``Notes``
        (``card_payment_request`` puts it there). The seed generation has no way to list
        payments: None (cannot tell)."""
        if not self.current:
            return None
        return today.payment_noted(self.call, account_id, f"terminal {receipt}")

    def card_payment_request(self, customer_id: str, amount: CurrencyValue, card: dict, receipt: str, notes: str,
                             reservation_id: str | None = None) -> tuple[str, dict]:
        """(operation, body) recording a card payment approved on the kiosk's own terminal.

        Seed: ``payments/addCreditCard`` as the seed documents have it. Today:
        ``payments/addExternal`` -- Mews' kiosk guide records payments taken on a
        non-Mews terminal with it, and ``addCreditCard`` is deprecated (2026-07-29).
        Its ``Type`` is ``mews.external_payment_type`` when set (the card types are
        kept for existing partners only; a property lists what it enabled in
        ``configuration/get``); the terminal reference is the ``ExternalIdentifier``
        and the card (type, obfuscated number) goes into ``Notes`` for the night audit.
        ``card`` is the seed's CreditCard object: Type, Number (obfuscated), Expiration, Name.
        """
        check_card_number(card.get("Number") if isinstance(card, dict) else None)
        if not self.current:
            body = {"CustomerId": customer_id, "Amount": amount.to_json(), "CreditCard": dict(card),
                    "ReceiptIdentifier": receipt, "Notes": notes}
            return "payments/addCreditCard", body
        body = {"AccountId": customer_id, "Amount": self._amount(amount), "ExternalIdentifier": receipt,
                "Notes": f"{notes}; {card.get('Type') or 'card'} {card.get('Number')}; terminal {receipt}"}
        kind = getattr(self._cfg, "external_payment_type", "")
        if kind:
            body["Type"] = kind
        if reservation_id:
            body["ReservationId"] = reservation_id
        return "payments/addExternal", body

    # -- the current forms: reservations/getAll/2023-06-06, customers/getAll, full customer update ----------

    def get_reservations_v2(self, *, numbers=None, resource_ids=None, states=None,
                            limit: int = 100) -> list[ReservationV2]:
        """Reservations by confirmation ``numbers`` or ``resource_ids`` (one page: a kiosk asks for a few)."""
        body: dict[str, Any] = {"Limitation": {"Count": limit}}
        if numbers is not None:
            body["Numbers"] = list(numbers)
        if resource_ids is not None:
            body["AssignedResourceIds"] = list(resource_ids)
        if states is not None:
            body["States"] = list(states)
        op = "reservations/getAll/2023-06-06"
        return self._parse(ReservationsPage, self.call(op, body), op).reservations

    def get_customers(self, customer_ids, limit: int = 100) -> list[Customer]:
        body: dict[str, Any] = {"CustomerIds": list(customer_ids), "Limitation": {"Count": limit}}
        if self.current:
            body["Extent"] = {"Customers": True, "Addresses": True}
        return self._parse(CustomersPage, self.call("customers/getAll", body), "customers/getAll").customers

    def update_customer_fields(self, customer: Customer, changes: dict) -> Customer:
        """customers/update with every field the platform holds plus ``changes`` (wire names), so none is cleared.

        ``Email`` and ``Address`` are sent as the current platform takes them; the spec's form ignores them.
        A ``Passport`` change (``{"Number", "Expiration": "YYYY-MM-DD"}``) goes into the seed's
        customer update, or today to ``identityDocuments/*``.
        """
        changes = dict(changes)
        passport = changes.pop("Passport", None)
        body: dict[str, Any] = {"CustomerId": customer.id, "FirstName": customer.first_name,
                                "LastName": customer.last_name, "NationalityCode": customer.nationality_code,
                                "Phone": customer.phone, "Email": customer.email,
                                "Address": customer.address.to_json() if customer.address else None}
        if self.current:
            body["BirthDate"] = customer.birth_date or (customer.birth_date_utc or "")[:10] or None
        else:
            body["BirthDateUtc"] = customer.birth_date_utc
            seed_passport = customer.passport.to_json() if customer.passport else {}
            if passport:
                seed_passport.update({k: v for k, v in passport.items() if k == "Number"})
                if passport.get("Expiration"):
                    seed_passport["ExpirationUtc"] = f"{passport['Expiration']}T12:00:00Z"  # the seed's date rule
            body["Passport"] = seed_passport or None
        body.update(changes)
        body = {k: v for k, v in body.items() if v is not None}
        updated = self._parse(Customer, self.call("customers/update", body), "customers/update")
        if self.current and passport:
            self.save_passport(updated, passport.get("Number"), passport.get("Expiration"))
        return updated

    # -- identity documents and commands by id (today's generation) -------------------------------

    def get_passport(self, customer: Customer) -> Document | None:
        """The customer's passport: embedded in the seed's customer, ``identityDocuments/getAll`` today."""
        if not self.current:
            return customer.passport
        return today.as_document(today.passport(self.call, customer.id))

    def save_passport(self, customer: Customer, number: str | None, expiration: str | None) -> None:
        """Today: add the customer's passport, or update the one on file (``expiration`` as YYYY-MM-DD)."""
        if number is None and expiration is None:
            return
        if expiration:
            expiration = expiration[:10]
        existing = today.passport(self.call, customer.id)
        today.save_passport(self.call, customer.id, number, expiration, existing)

    def get_commands_by_ids(self, command_ids) -> list[Command]:
        """``commands/getAllByIds``: the commands events named (entries without a usable Id are skipped)."""
        return self._commands("commands/getAllByIds",
                              self.call("commands/getAllByIds", {"CommandIds": list(command_ids)}))
