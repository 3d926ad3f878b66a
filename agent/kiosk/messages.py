"""Message ids the kiosk flow answers with, and their English templates.

The flow never builds guest-facing sentences itself: it answers a message id and
parameters; the UI translates the id (``agent/kiosk/static/i18n/<lang>.json``) and
the CLI prints the English template below. Ids are an interface: keep them stable.
"""

from __future__ import annotations

__all__ = ["MESSAGES", "render"]

MESSAGES: dict[str, str] = {
    # ---- check-in -------------------------------------------------------------------
    "checkin.find.prompt": "Enter your confirmation number and last name.",
    "checkin.details.prompt": "Please check your details and correct them if needed.",
    "checkin.payment.prompt": "Your stay has {amount} to pay. Pay it on the terminal to continue.",
    "checkin.starting": "Checking you in...",
    "checkin.keys.prompt": "How many keys would you like? (up to {max_keys})",
    "checkin.keys.present": "Place card {n} of {total} on the encoder.",
    "checkin.printing": "Printing your welcome slip...",
    "checkin.done": "You are checked in. Room {room}, {floor}. Enjoy your stay!",
    "checkin.done.room": "You are checked in. Room {room}. Enjoy your stay!",
    "checkin.done.no_slip": "You are checked in to room {room}. Your welcome slip could not be printed.",
    # ---- check-out ------------------------------------------------------------------
    "checkout.find.prompt": "Enter your room number and last name, or insert your key card.",
    "checkout.find.card_read": "Card for room {room}. Enter your last name.",
    "checkout.card.present": "Place your key card on the encoder.",
    "checkout.bill.prompt": "Your bill: {balance} to pay.",
    "checkout.bill.settled": "Your bill is settled. Confirm to check out.",
    "checkout.processing": "Checking you out...",
    "checkout.printing": "Printing your folio...",
    "checkout.goodbye": "You are checked out. Thank you for staying with us!",
    "checkout.goodbye.drop_cards": "You are checked out. Please drop your key cards in the box. Thank you!",
    "checkout.goodbye.no_folio": "You are checked out. Your folio could not be printed; reception can give you a copy.",
    # ---- payment --------------------------------------------------------------------
    "payment.follow_terminal": "Follow the instructions on the payment terminal ({amount}).",
    "payment.approved": "Payment approved.",
    "payment.partial": "{paid} was approved. {amount} is still to pay: pay the rest on the terminal.",
    # ---- refusals (the guest must go to reception) ---------------------------------
    "refused.not_found": "We could not find a booking with these details. Please check them or see reception.",
    "refused.throttled": "Too many attempts. Please see reception or try again in a few minutes.",
    "refused.too_early": "Your room is ready from {time}. Please come back then.",
    "refused.not_today": "This booking cannot be checked in today. Please see reception.",
    "refused.room_not_ready": "Your room is being prepared; please see reception.",
    "refused.balance_due": "Please settle {amount} at reception.",
    "refused.payment_declined": "The payment was declined. Please see reception.",
    "refused.payment_timeout": "The payment did not complete. Please see reception.",
    "refused.payment_pending": "A payment for this booking is still being processed. Please see reception.",
    "refused.payment_currency": "Your card was charged {amount}, in another currency. Please see reception.",
    "refused.platform_rule": "{text}",
    "refused.checkout_not_today": "Check-out at the kiosk is possible on your departure day. Please see reception.",
    "refused.card_blank": "This card holds no room. Please enter your room number.",
    "refused.see_reception": "Please see reception.",
    # ---- faults ---------------------------------------------------------------------
    "failed.unavailable": "The kiosk is not available right now. Please see reception.",
    "failed.platform": "We could not reach the hotel system. Please see reception.",
    "failed.keys_after_start": "You are checked in; please see reception for your key.",
    "failed.keys_partial": "You are checked in; {made} of {total} keys were made. Please see reception for the rest.",
    "failed.card_read": "Your card could not be read. Please enter your room number.",
    "failed.payment": "The payment terminal is not available. Please see reception.",
    "failed.checkout_unknown": "We could not confirm your check-out. Please see reception.",
    # ---- common ---------------------------------------------------------------------
    "staff.called": "A member of staff has been called and will be with you shortly.",
    "session.idle": "Are you still there? The kiosk resets in {seconds} s.",
    "session.cancelled": "Session ended.",
    # ---- field errors (details screen, inputs) --------------------------------------
    "field.required": "This field is required.",
    "field.email": "Enter a valid e-mail address.",
    "field.phone": "Enter a valid phone number.",
    "field.country": "Choose a country.",
    "field.expiry_past": "This document has expired.",
    "field.date": "Enter a date as YYYY-MM-DD.",
    "field.keys": "Choose between 1 and {max} keys.",
    "field.too_long": "This is too long.",
    # ---- API errors -----------------------------------------------------------------
    "error.bad_request": "The request is not valid.",
    "error.no_session": "This session has ended.",
    "error.not_allowed": "This cannot be done now.",
    "error.busy": "Please wait, the kiosk is working.",
    "error.kiosk_busy": "The kiosk is busy with another guest. Please wait a moment.",
    "error.forbidden": "This kiosk answers only its own screen.",
    "error.too_large": "The request is too large.",
}


def render(message_id: str, params: dict | None = None) -> str:
    """The English text of a message; an unknown id or a missing parameter never raises."""
    template = MESSAGES.get(message_id, message_id)
    values = {k: f"{v['Value']:.2f} {v['Currency']}" if isinstance(v, dict) and {"Value", "Currency"} <= set(v)
              else v for k, v in (params or {}).items()}  # amounts are {"Currency", "Value"} objects
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template
