"""Nexo (Terminal API) messages: build the requests, read the answers into our payment types.

Only what the kiosk needs: Payment (sale and pre-authorisation), Abort,
TransactionStatus, Reversal (cancel a pre-authorisation, refund a sale) and
Diagnosis. A payment's ``ServiceID`` is derived from our reference, so after a
lost answer or a restart TransactionStatus finds it again by reference alone.
Card data is only what the terminal returns: masked PAN, brand, expiry, holder.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from common.jsonparts import part
from hal.payment.terminal import Approval, Declined, NotCharged, OutcomeUnknown, TerminalError

PROTOCOL = "3.0"
SALE_ID = "kiosk-agent"  # stable across restarts: TransactionStatus looks payments up by SaleID + ServiceID
PREAUTH = "authorisationType=PreAuth"
# Adyen's PaymentBrand -> Mews CreditCard.Type
BRANDS = {"visa": "Visa", "mc": "MasterCard", "mastercard": "MasterCard", "amex": "Amex", "maestro": "Maestro",
          "discover": "Discover", "diners": "DinersClub", "jcb": "Jcb", "cup": "UnionPay", "unionpay": "UnionPay"}


class TerminalBusy(TerminalError):
    """The terminal is serving another transaction; nothing was charged."""


class InProgress(TerminalError):
    """The payment is still going on at the terminal (the guest has not finished)."""


def service_id(reference: str) -> str:
    """The 10-character ServiceID of the payment with our ``reference`` (the same after a restart)."""
    return hashlib.sha256(reference.encode()).hexdigest()[:10]


def _header(category: str, poi_id: str, sid: str | None = None) -> dict:
    return {"ProtocolVersion": PROTOCOL, "MessageClass": "Service", "MessageCategory": category,
            "MessageType": "Request", "SaleID": SALE_ID, "ServiceID": sid or secrets.token_hex(5), "POIID": poi_id}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def payment(poi_id: str, reference: str, amount: Decimal, currency: str, *, preauth: bool = False) -> dict:
    sale_data: dict[str, Any] = {"SaleTransactionID": {"TransactionID": reference, "TimeStamp": _now()}}
    if preauth:
        sale_data["SaleToAcquirerData"] = PREAUTH
    return {"SaleToPOIRequest": {
        "MessageHeader": _header("Payment", poi_id, service_id(reference)),
        "PaymentRequest": {"SaleData": sale_data, "PaymentTransaction": {
            "AmountsReq": {"Currency": currency, "RequestedAmount": float(amount)}}}}}


def abort(poi_id: str, reference: str) -> dict:
    return {"SaleToPOIRequest": {"MessageHeader": _header("Abort", poi_id), "AbortRequest": {
        "AbortReason": "MerchantAbort", "MessageReference": {
            "MessageCategory": "Payment", "SaleID": SALE_ID, "ServiceID": service_id(reference), "POIID": poi_id}}}}


def transaction_status(poi_id: str, reference: str) -> dict:
    return {"SaleToPOIRequest": {"MessageHeader": _header("TransactionStatus", poi_id), "TransactionStatusRequest": {
        "ReceiptReprintFlag": False, "MessageReference": {
            "MessageCategory": "Payment", "SaleID": SALE_ID, "ServiceID": service_id(reference)}}}}


def reversal(poi_id: str, terminal_reference: str, amount: Decimal | None = None, *, refund: bool = False) -> dict:
    body: dict = {"OriginalPOITransaction": {"POITransactionID": {"TransactionID": terminal_reference,
                                                                  "TimeStamp": _now()}},
                  "ReversalReason": "MerchantCancel"}
    if amount is not None:
        body["ReversedAmount"] = float(amount)
    if refund:
        body["SaleData"] = {"SaleTransactionID": {"TransactionID": f"refund-{terminal_reference}"[:40],
                                                  "TimeStamp": _now()}}
    return {"SaleToPOIRequest": {"MessageHeader": _header("Reversal", poi_id), "ReversalRequest": body}}


def diagnosis(poi_id: str) -> dict:
    return {"SaleToPOIRequest": {"MessageHeader": _header("Diagnosis", poi_id),
                                 "DiagnosisRequest": {"HostDiagnosisFlag": False}}}


# ---- answers --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """A nexo Response: Success / Partial / Failure with its ErrorCondition and the terminal's words."""

    result: str
    condition: str = ""
    additional: str = ""

    @property
    def ok(self) -> bool:
        return self.result in ("Success", "Partial")


def response_body(message: dict, name: str) -> dict:
    """The ``name`` body (``PaymentResponse``...) of a decrypted answer; TerminalError when it is missing."""
    body = message.get("SaleToPOIResponse", {}) if isinstance(message, dict) else {}
    found = body.get(name) if isinstance(body, dict) else None
    if not isinstance(found, dict):
        raise TerminalError(f"the terminal's answer has no {name}")
    return found


def result_of(body: dict) -> Result:
    r = part(body, "Response")
    return Result(str(r.get("Result") or ""), str(r.get("ErrorCondition") or ""), str(r.get("AdditionalResponse") or ""))


def _additional(text: str) -> dict:
    """AdditionalResponse as key/values: URL-encoded (the default) or base64 JSON ``{"additionalData": {...}}``
    (a terminal set to send it as JSON); {} when it is neither."""
    text = text.strip()
    if text and "=" not in text.rstrip("="):
        try:
            decoded = json.loads(base64.b64decode(text, validate=True))
            data = decoded.get("additionalData") if isinstance(decoded, dict) else None
            return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
        except (ValueError, binascii.Error):
            return {}
    try:
        return dict(parse_qsl(text, keep_blank_values=True, max_num_fields=200))
    except ValueError:
        return {}


def refusal(reference: str, res: Result) -> TerminalError:
    """The error a payment that was not approved ends in (nothing was charged)."""
    why = _additional(res.additional).get("refusalReason") or res.condition or res.result or "no result"
    if res.condition == "Busy":
        return TerminalBusy(f"payment {reference}: the terminal is busy with another transaction")
    if res.condition == "InProgress":
        return InProgress(f"payment {reference}: still in progress on the terminal")
    if res.condition in ("Refusal", "WrongPin", "InvalidCard", "PaymentRestriction"):
        return Declined(f"declined ({why[:80]})")
    if res.condition in ("Aborted", "Cancel"):
        return NotCharged(f"not charged: {'cancelled' if res.condition == 'Cancel' else 'aborted'} ({why[:80]})")
    return NotCharged(f"not charged: {why[:80]}")


def approval(reference: str, body: dict) -> Approval:
    """The Approval in an approved PaymentResponse: the amount and currency the terminal authorised.

    OutcomeUnknown when it says approved but not for what (money may have been taken: staff look)."""
    result = part(body, "PaymentResult")
    amounts = part(result, "AmountsResp")
    try:
        amount = Decimal(str(amounts["AuthorizedAmount"]))
        currency = str(amounts["Currency"])
        if not amount.is_finite() or amount <= 0 or len(currency) != 3 or not currency.isalpha():
            raise ValueError(f"{amount} {currency}")
    except (KeyError, ValueError, InvalidOperation) as e:
        raise OutcomeUnknown(f"payment {reference}: approved without a valid amount and currency ({e})") from None
    poi = part(body, "POIData")
    terminal_reference = str((poi.get("POITransactionID") or {}).get("TransactionID") or "")
    if not terminal_reference:
        raise OutcomeUnknown(f"payment {reference}: approved without the terminal's transaction id")
    instrument = part(result, "PaymentInstrumentData")
    card = part(instrument, "CardData")
    extra = _additional(str((body.get("Response") or {}).get("AdditionalResponse") or ""))
    brand = str(card.get("PaymentBrand") or extra.get("paymentMethod") or "")
    masked = str(card.get("MaskedPan") or "").replace(" ", "")
    if not masked and extra.get("cardSummary"):
        masked = "******" + extra["cardSummary"][-4:]
    return Approval(reference=reference, terminal_reference=terminal_reference,
                    amount=amount.quantize(Decimal("0.01")), currency=currency.upper(),
                    card_type=BRANDS.get(brand.lower(), brand[:20].capitalize() or "Unknown"),
                    obfuscated_number=_masked_only(masked), expiration=_expiry(card, extra),
                    holder_name=extra.get("cardHolderName", "")[:100])


def _masked_only(pan: str) -> str:
    """Never more than the first six and last four digits, whatever the terminal sent."""
    if len(pan) <= 10:
        return pan
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:]


def _expiry(card: dict, extra: dict) -> str:
    """MM/YYYY from ExpiryDate (MMYY) or the additional data's expiryDate (M/YYYY); "" when not given."""
    sensitive = part(card, "SensitiveCardData")
    mmyy = str(sensitive.get("ExpiryDate") or "")
    if len(mmyy) == 4 and mmyy.isdigit():
        return f"{mmyy[:2]}/20{mmyy[2:]}"
    month, _, year = str(extra.get("expiryDate") or "").partition("/")
    if month.isdigit() and year.isdigit():
        return f"{int(month):02d}/{year}"
    return ""
