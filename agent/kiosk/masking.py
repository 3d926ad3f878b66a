"""What the details screen shows of a guest's contact data: enough to recognise it, not to read it.

Anyone standing at the kiosk sees the screen. An e-mail address or a phone number is
shown masked (``a•••@e•••.com``, ``•••• 58``); the guest changes it by typing a new one
over the mask. A value sent back unchanged is the mask itself and means "keep it".
Passport and ID numbers are never sent to the screen at all.
"""

from __future__ import annotations

DOT = "•"


def mask_email(value: str | None) -> str | None:
    if not value or "@" not in value:
        return None if not value else DOT * 4
    local, _, domain = value.rpartition("@")
    host, dot, tld = domain.rpartition(".")
    shown_host = f"{host[:1]}{DOT * 3}{dot}{tld}" if host else f"{domain[:1]}{DOT * 3}"
    return f"{local[:1]}{DOT * 3}@{shown_host}"


def mask_phone(value: str | None) -> str | None:
    if not value:
        return None
    digits = [c for c in value if c.isdigit()]
    return f"{DOT * 4} {''.join(digits[-2:])}" if len(digits) > 4 else DOT * 4


def masked_contact(email: str | None, phone: str | None) -> dict:
    return {"email": mask_email(email), "phone": mask_phone(phone)}


def unchanged_dropped(fields: dict, shown: dict) -> dict:
    """The submitted fields without those still showing their mask (the guest kept the stored value)."""
    kept = {name for name, mask in shown.items()
            if mask is not None and isinstance(fields.get(name), str) and fields[name].strip() == mask}
    return {k: v for k, v in fields.items() if k not in kept}
