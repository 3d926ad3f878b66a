"""Mews Connector API client: one ``POST /api/connector/v1/<operation>`` per call.

Every body carries ``AccessToken``, ``ClientToken`` (when configured) and
``Client``; answers map to the classes in ``agent.mews.errors``. With
``mews.sign_in`` the client signs in lazily, signs in again once on a 401 and
reports a second 401 as ``Displaced``; a 401 to the sign-in itself (or any 401
when the token cannot be renewed) is ``TokenRejected``. A client-side limiter
keeps each token under the platform's 200 requests / 30 s.

``mews.timeout`` is passed to every request as its overall deadline (connect,
send and the whole answer). ``connection()`` gives a sibling client with its own
HTTP connection, sharing sign-in and limiter, so the outbox and the drain never
queue behind each other's slow answer; ``connection(lane=KIOSK)`` is the kiosk's,
whose requests only use the limiter's kiosk share and fail at once (``BudgetSpent``)
when a slot would take longer than ``mews.timeout``: a guest's screen never waits
past its own deadline, and the kiosk's web threads are never parked in the limiter.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import logging
import re
import threading
import time
from typing import Any

import agent
from agent.mews import errors, today
from agent.mews.errors import Displaced, InvalidResponse, Retryable, TokenRejected, Unauthorized
from agent.mews.guests import GuestOperations
from agent.mews.malformed import MalformedCounter
from agent.mews.models import (
    COMMAND_STATES,
    FINAL_STATES,
    AccountingCategory,
    Command,
    CreditCard,
    CurrencyValue,
    Customer,
    CustomerOpenItems,
    Document,
    ModelError,
    OpenItemsResult,
    ReservationsResult,
    SignInResult,
    SpacesResult,
    check_card_number,
)
from agent.mews.ratelimit import DEVICE, KIOSK, LANES, RateLimiter
from agent.mews.session import SignInSession
from agent.runtime.logs import add_secret, redact

log = logging.getLogger("agent.mews")

from agent.mews.operations import CURRENT_OPERATIONS, OPERATIONS, RETIRED, SEED_OPERATIONS, SIGN_IN, operations  # noqa: F401

_OPERATION = re.compile(r"[A-Za-z][A-Za-z0-9]*(/[A-Za-z][A-Za-z0-9]*)+(/\d{4}-\d{2}-\d{2})?")  # + version
_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


def utc_text(value: dt.datetime | str) -> str:
    """ISO 8601 UTC text (``2016-01-01T00:00:00Z``) from an aware datetime, or a string as given."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ValueError("expected an ISO 8601 string or a timezone-aware datetime")
    value = value.astimezone(dt.UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond // 1000:03d}"
    return text + "Z"


class MewsClient(GuestOperations):
    """The Connector API over one keep-alive HTTP session; safe to share between threads."""

    def __init__(self, cfg, *, session=None, version: str = agent.__version__,
                 limiter: RateLimiter | None = None, lane: str = DEVICE, _shared: MewsClient | None = None):
        cfg = getattr(cfg, "mews", cfg)  # the whole Config works too
        if lane not in LANES:
            raise ValueError(f"unknown lane {lane!r}; expected one of {', '.join(LANES)}")
        self._cfg = cfg
        self.lane = lane  # the limiter's share this client's requests use
        if session is None:
            from agent.net import urequests

            session = urequests.Session(verify=cfg.tls_verify, ca_file=cfg.ca_file or None, timeout=cfg.timeout)
            self._own_session = True
        else:
            self._own_session = False
        self._http = session
        self._http_lock = threading.Lock()  # the shim's Session is not thread-safe
        self._base = cfg.platform_address.rstrip("/") + "/api/connector/v1/"
        self.client_id = f"{cfg.client_name} {version}"
        self.generation = getattr(cfg, "generation", "seed")
        self.current = self.generation == "current"
        for secret in (cfg.connector_token, cfg.client_token, getattr(cfg, "access_token", "")):
            add_secret(secret)
        self._limiter: RateLimiter
        self._auth: SignInSession
        self.malformed: MalformedCounter
        self._static: today.StaticSpaces
        if _shared is not None:
            self._limiter, self._auth, self.malformed = _shared._limiter, _shared._auth, _shared.malformed
            self._static = _shared._static
        else:
            self._limiter = limiter or RateLimiter()
            token = cfg.access_token if self.current else cfg.connector_token
            self._auth = SignInSession(token, cfg.sign_in and not self.current, self._request_sign_in)
            self.malformed = MalformedCounter("command entry", log)
            self._static = today.StaticSpaces()

    def connection(self, lane: str | None = None) -> MewsClient:
        """A sibling client with its own HTTP connection, sharing sign-in state and the rate limiter.

        ``lane`` (default: this client's) picks the limiter's share its requests use."""
        return MewsClient(self._cfg, version=self.client_id.rsplit(" ", 1)[-1], lane=lane or self.lane,
                          _shared=self)

    # -- session -----------------------------------------------------------

    @property
    def access_token(self) -> str:
        """The AccessToken in use (signs in first when ``sign_in`` is on and there is none)."""
        return self._auth.token(self._request_sign_in)

    @property
    def enterprise(self):
        """The Enterprise from the last sign-in, or None."""
        return self._auth.enterprise

    @property
    def sign_ins(self) -> int:
        """Successful sign-ins so far."""
        return self._auth.sign_ins

    def sign_in(self) -> SignInResult:
        """``app/signIn`` now: the returned AccessToken replaces ours (only the last client is served)."""
        return self._auth.sign_in(self._request_sign_in)[0]

    def close(self) -> None:
        if self._own_session:
            self._http.close()

    def __enter__(self) -> MewsClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- generic call -------------------------------------------------------

    def call(self, operation: str, body: dict | None = None) -> dict:
        """POST ``operation`` (e.g. ``spaces/getAll``) with ``body`` plus tokens; the JSON answer."""
        if not isinstance(operation, str) or not _OPERATION.fullmatch(operation):
            raise ValueError(f"not an operation name: {operation!r} (expected e.g. spaces/getAll)")
        if body is not None and not isinstance(body, dict):
            raise ValueError(f"{operation}: the body must be a JSON object")
        if self.current and operation in RETIRED:
            raise ValueError(f"{operation} is not part of today's Connector API ({RETIRED[operation]}); "
                             'mews.generation = "seed" speaks the seed documents\' forms')
        if operation == SIGN_IN:
            return self._auth.sign_in(self._request_sign_in)[1]
        fields = dict(body or {})
        if operation == "payments/addCreditCard":
            card = fields.get("CreditCard")
            check_card_number(card.get("Number") if isinstance(card, dict) else None)
        token = self._auth.token(self._request_sign_in)
        try:
            return self._post(operation, self._with_tokens(fields, token, operation), token)
        except Unauthorized as e:
            if not self._auth.renewable:
                what = TokenRejected.CURRENT if self.current else TokenRejected.DEFAULT
                rejected = TokenRejected(f"{what} ({e.message})", e.status, e.request_id)
                rejected.operation = operation
                raise rejected from None
            log.info("%s: access token refused; signing in again", operation)
        fresh = self._auth.refresh(token, self._request_sign_in)
        try:
            return self._post(operation, self._with_tokens(fields, fresh, operation), fresh)
        except Unauthorized as e:
            displaced = Displaced(Displaced.DEFAULT, e.status, e.request_id)
            displaced.operation = operation
            raise displaced from None

    def _with_tokens(self, fields: dict, token: str, operation: str) -> dict:
        body = dict(fields)
        body["AccessToken"] = token
        if operation == "customers/getBalance":
            body["ConnectorToken"] = token  # the earlier spec names the token so here
        if self._cfg.client_token or self.current:
            body["ClientToken"] = self._cfg.client_token
        body["Client"] = self.client_id
        return body

    def _request_sign_in(self) -> tuple[SignInResult, dict]:
        body = {"ConnectorToken": self._cfg.connector_token}
        if self._cfg.client_token:
            body["ClientToken"] = self._cfg.client_token
        body["Client"] = self.client_id
        try:
            raw = self._post(SIGN_IN, body, self._cfg.connector_token)
        except Unauthorized as e:
            raise TokenRejected(f"sign-in refused: {e.message}; {TokenRejected.DEFAULT}", e.status,
                                e.request_id) from None
        return self._parse(SignInResult, raw, SIGN_IN), raw

    def _post(self, operation: str, body: dict, limiter_key: str) -> dict:
        try:
            data = json.dumps(body, allow_nan=False).encode("utf-8")
        except (TypeError, ValueError) as e:
            raise ValueError(f"{operation}: the body is not valid JSON: {redact(str(e))}") from None
        # Kiosk requests fail fast rather than wait past the deadline the guest's screen keeps.
        self._limiter.acquire(limiter_key, self.lane, max_wait=self._cfg.timeout if self.lane == KIOSK else None)
        started = time.monotonic()
        with self._http_lock:
            try:
                resp = self._http.request("POST", self._base + operation, data=data, headers=_HEADERS,
                                          timeout=self._cfg.timeout)
            except (OSError, http.client.HTTPException) as e:
                raise Retryable(f"{operation}: network error: {type(e).__name__}: {e}") from None
        try:
            status, content = resp.status_code, resp.content
            request_id = resp.header("Request-Id")
            retry_after = resp.header("Retry-After")
        finally:
            resp.close()
        log.debug("%s -> %s in %.0f ms (Request-Id %s)", operation, status,
                  (time.monotonic() - started) * 1000, request_id)
        try:
            answer = json.loads(content) if content.strip() else {}
        except (ValueError, RecursionError):
            answer = None
            if 200 <= status < 300:
                raise InvalidResponse(f"{operation}: the answer is not JSON", status, request_id) from None
        if 200 <= status < 300:
            if not isinstance(answer, dict):
                raise InvalidResponse(f"{operation}: expected a JSON object", status, request_id)
            return answer
        message = None
        if isinstance(answer, dict):
            if isinstance(answer.get("Message"), str):
                message = answer["Message"]
            if request_id is None and isinstance(answer.get("RequestId"), str):
                request_id = answer["RequestId"]
        # The platform's message stays unprefixed: a Forbidden one is shown to the guest as is.
        error = errors.from_status(status, message or f"{operation}: HTTP {status}", request_id, retry_after)
        error.operation = operation
        if isinstance(error, errors.RateLimited):
            self._limiter.refused(limiter_key, error.retry_after)
        log.debug("%s: %s", operation, error.describe())
        raise error

    @staticmethod
    def _parse(model, raw: dict, operation: str):
        try:
            return model.from_json(raw)
        except ModelError as e:
            raise InvalidResponse(f"{operation}: {e}") from None

    # -- typed operations ---------------------------------------------------

    def get_all_spaces(self) -> SpacesResult:
        """All spaces (resources) and their categories.

        Today: ``resources/getAll`` each time, the categories and assignments once per client.
        """
        if self.current:
            return today.get_all_spaces(self.call, self._static)
        return self._parse(SpacesResult, self.call("spaces/getAll"), "spaces/getAll")

    def get_all_reservations(self, start_utc, end_utc, states=None) -> ReservationsResult:
        """Reservations colliding with [start, end); ``states`` filters (platform default: Confirmed, Started, Processed)."""
        body: dict[str, Any] = {"StartUtc": utc_text(start_utc), "EndUtc": utc_text(end_utc)}
        if states is not None:
            body["States"] = list(states)
        return self._parse(ReservationsResult, self.call("reservations/getAll", body), "reservations/getAll")

    def start_reservation(self, reservation_id: str) -> None:
        """Check in (Forbidden unless Confirmed, started and its space Inspected)."""
        self.call("reservations/start", {"ReservationId": reservation_id})

    def process_reservation(self, reservation_id: str) -> None:
        """Check out (Forbidden unless Started with bills closed)."""
        self.call("reservations/process", {"ReservationId": reservation_id})

    def cancel_reservation(self, reservation_id: str, charge_fee: bool, notes: str) -> None:
        if self.current:
            body = {"ReservationIds": [reservation_id], "PostCancellationFee": bool(charge_fee), "Notes": notes}
        else:
            body = {"ReservationId": reservation_id, "ChargeCancellationFee": bool(charge_fee), "Notes": notes}
        self.call("reservations/cancel", body)

    def get_customer_balance(self, customer_id: str) -> CurrencyValue:
        """Open balance; positive when the customer owes the hotel.

        Today: the sum of the open order items and open payments (two requests).
        """
        if self.current:
            items, payments = today.open_items(self.call, customer_id)
            return today.balance(items, payments)
        raw = self.call("customers/getBalance", {"CustomerId": customer_id})
        return self._parse(CurrencyValue, raw, "customers/getBalance")

    def get_customers_open_items(self, customer_ids) -> list[CustomerOpenItems]:
        """Each customer's open items (today: order items and payments, two requests per customer)."""
        if self.current:
            out = []
            for cid in dict.fromkeys(customer_ids):
                items, payments = today.open_items(self.call, cid)
                out.append(today.customer_open_items(cid, items, payments))
            return out
        raw = self.call("customers/getOpenItems", {"CustomerIds": list(customer_ids)})
        return self._parse(OpenItemsResult, raw, "customers/getOpenItems").customers

    def update_customer(self, customer_id: str, *, last_name: str, first_name: str | None = None,
                        birth_date_utc=None, nationality_code: str | None = None, phone: str | None = None,
                        passport: Document | None = None) -> Customer:
        """Replace the customer's personal data: fields left out are cleared (seed rule).

        Today the birth date is a date (``BirthDate``) and the passport goes to ``identityDocuments/*``.
        """
        if self.current:
            birth = None if birth_date_utc is None else utc_text(birth_date_utc)[:10]
            body: dict[str, Any] = {"CustomerId": customer_id, "FirstName": first_name, "LastName": last_name,
                                    "BirthDate": birth, "NationalityCode": nationality_code, "Phone": phone}
        else:
            body = {"CustomerId": customer_id, "FirstName": first_name, "LastName": last_name,
                    "BirthDateUtc": None if birth_date_utc is None else utc_text(birth_date_utc),
                    "NationalityCode": nationality_code, "Phone": phone,
                    "Passport": passport.to_json() if passport is not None else None}
        body = {k: v for k, v in body.items() if v is not None}
        updated = self._parse(Customer, self.call("customers/update", body), "customers/update")
        if self.current and passport is not None:
            self.save_passport(updated, passport.number, passport.expiration_utc)
        return updated

    def add_credit_card_payment(self, customer_id: str, amount: CurrencyValue, card: CreditCard, *,
                                category: AccountingCategory | None = None, receipt_identifier: str | None = None,
                                notes: str | None = None) -> CurrencyValue:
        """Post a card payment (``payments/addCreditCard``); the card number must be obfuscated.

        Seed: returns the customer's new balance. Today the operation takes ``GrossValue`` and an
        ``AccountingCategoryId`` (``category.code`` is taken as that id) and answers ``{CreditCardId}``:
        the balance is then read with ``get_customer_balance``.
        """
        check_card_number(card.number)
        body: dict[str, Any] = {"CustomerId": customer_id, "Amount": self._amount(amount),
                                "CreditCard": card.to_json()}
        if category is not None:
            if self.current:
                body["AccountingCategoryId"] = category.code
            else:
                body["Category"] = category.to_json()
        if receipt_identifier is not None:
            body["ReceiptIdentifier"] = receipt_identifier
        if notes is not None:
            body["Notes"] = notes
        raw = self.call("payments/addCreditCard", body)
        if self.current:
            return self.get_customer_balance(customer_id)
        return self._parse(CurrencyValue, raw, "payments/addCreditCard")

    def add_task(self, name: str, deadline_utc, *, description: str | None = None,
                 department_id: str | None = None) -> None:
        body: dict[str, Any] = {"Name": name, "DeadlineUtc": utc_text(deadline_utc)}
        if description is not None:
            body["Description"] = description
        if department_id is not None:
            body["DepartmentId"] = department_id
        self.call("tasks/add", body)

    def get_all_active_commands(self) -> list[Command]:
        """Pending and Received commands.

        An answer without a ``Commands`` array is ``InvalidResponse`` (it is not
        "nothing active": the caller must cancel nothing and retry). An entry
        without a usable Id is counted in ``malformed`` and logged, rate-limited;
        one with an Id but wrong field types comes back with ``invalid`` set.
        """
        return self._commands("commands/getAllActive", self.call("commands/getAllActive"))

    def _commands(self, operation: str, raw: dict) -> list[Command]:
        """The answer's ``Commands``: InvalidResponse without an array; unusable entries counted and skipped."""
        entries = raw.get("Commands")
        if not isinstance(entries, list):
            what = "has no Commands" if entries is None else "has Commands that is not an array"
            raise InvalidResponse(f"{operation}: the answer {what}")
        commands = []
        for i, entry in enumerate(entries):
            try:
                commands.append(Command.from_json(entry))
            except ModelError as e:
                self.malformed.note(f"{operation} entry {i}: {e}")
        return commands

    def update_command(self, command_id: str, state: str, *, progress: float | None = None,
                       notes: str | None = None, result: dict | None = None) -> None:
        """Report a command's state: Progress only with Processing, Notes only with a final state."""
        if state not in COMMAND_STATES:
            raise ValueError(f"unknown command state {state!r}; expected one of {', '.join(COMMAND_STATES)}")
        body: dict[str, Any] = {"CommandId": command_id, "State": state}
        if progress is not None and state == "Processing":
            body["Progress"] = progress
        if notes is not None and state in FINAL_STATES:
            body["Notes"] = notes
        if result is not None and state == "Processed":
            body["Result"] = result
        self.call("commands/update", body)
