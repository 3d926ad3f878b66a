"""Validation of what the guest types on the details screen: each field refused on its own."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

# ISO 3166-1 alpha-2, officially assigned codes.
COUNTRIES = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO
JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR
MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO
RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV
TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
""".split())

EDITABLE = ("email", "phone", "address", "nationality")
PASSPORT = ("passport_number", "passport_expiry")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9][0-9 ()./-]{4,24}")


def _err(message_id: str, **params) -> dict:
    return {"id": message_id, "params": params}


def check(fields: dict, today: date, passport: bool) -> tuple[dict, dict]:
    """(changes in customers/update wire names, errors by field name); only fields given are checked."""
    changes: dict[str, Any] = {}
    errors: dict[str, Any] = {}

    def text(name: str, limit: int = 120) -> str | None:
        value = fields.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            errors[name] = _err("field.required")
            return None
        value = " ".join(value.split())
        if not value:  # a field left empty on the screen (the profile had none): nothing to change
            return None
        if len(value) > limit:
            errors[name] = _err("field.too_long")
            return None
        return value

    for name, wire, pattern, limit in (("email", "Email", _EMAIL, 120), ("phone", "Phone", _PHONE, 30)):
        value = text(name, limit)
        if value is not None:
            if pattern.fullmatch(value):
                changes[wire] = value
            else:
                errors[name] = _err(f"field.{name}")
    nationality = text("nationality", 2)
    if nationality is not None and "nationality" not in errors:
        if nationality.upper() in COUNTRIES:
            changes["NationalityCode"] = nationality.upper()
        else:
            errors["nationality"] = _err("field.country")
    address = fields.get("address")
    if address is not None:
        if not isinstance(address, dict):
            errors["address"] = _err("field.required")
        else:
            country = str(address.get("country") or "").strip().upper()
            if country and country not in COUNTRIES:
                errors["address.country"] = _err("field.country")
            else:
                parts = {k: " ".join(str(address.get(k) or "").split())[:120] or None
                         for k in ("line1", "city", "postal_code")}
                changes["Address"] = {"Line1": parts["line1"], "City": parts["city"],
                                      "PostalCode": parts["postal_code"], "CountryCode": country or None}
    if passport:
        number = text("passport_number", 40)
        expiry = text("passport_expiry", 10)
        doc = {}
        if number is not None:
            doc["Number"] = number
        if expiry is not None and "passport_expiry" not in errors:
            try:
                day = date.fromisoformat(expiry)
            except ValueError:
                errors["passport_expiry"] = _err("field.date")
            else:
                if day < today:
                    errors["passport_expiry"] = _err("field.expiry_past")
                else:
                    doc["Expiration"] = day.isoformat()  # the client writes it in its generation's form
        if doc:
            changes["Passport"] = doc
    return changes, errors
