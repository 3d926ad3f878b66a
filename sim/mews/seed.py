"""Seed data for the simulated enterprise: load, resolve relative times, check references.

Times in a seed are ISO 8601 strings or relative to the moment the seed is loaded:
``"now"``, ``"now-2h"``, ``"now+1d12h"``, ``"now+30m"`` (units d, h, m, s), so the
default seed always has guests arriving today. Keys starting with ``_`` are comments.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sim.mews.fields import now as utc_now
from sim.mews.fields import parse_utc

DEFAULT_SEED = Path(__file__).with_name("seed.json")

SPACE_STATES = ("Dirty", "Clean", "Inspected", "OutOfService", "OutOfOrder")
RESERVATION_STATES = ("Enquired", "Requested", "Optional", "Confirmed", "Started", "Processed", "Canceled")
DEVICE_TYPES = ("Printer", "KeyCutter", "VisiOnlineKeyCutter", "PassportScanner")

_RELATIVE = re.compile(r"^now(?:([+-])((?:\d+[dhms])+))?$")
_PART = re.compile(r"(\d+)([dhms])")
_UNIT = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


class SeedError(ValueError):
    """The seed is not usable; the message names the record and the field."""


def load(seed: str | Path | dict | None, now: datetime | None = None) -> dict:
    """Return a checked deep copy of the seed (path, dict, or None for the default) with datetimes resolved."""
    where = "seed"
    if seed is None:
        seed = DEFAULT_SEED
    if isinstance(seed, (str, Path)):
        where = str(seed)
        try:
            data = json.loads(Path(seed).read_text(encoding="utf-8"))
        except OSError as e:
            raise SeedError(f"{where}: cannot read: {e.strerror or e}") from None
        except (ValueError, UnicodeDecodeError) as e:
            raise SeedError(f"{where}: not valid JSON: {e}") from None
    elif isinstance(seed, dict):
        data = copy.deepcopy(seed)
    else:
        raise SeedError(f"seed must be a path or a dict, got {type(seed).__name__}")
    try:
        return _check(data, now or utc_now())
    except SeedError as e:
        raise SeedError(f"{where}: {e}") from None


def resolve_time(value: Any, now: datetime, what: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise SeedError(f"{what}: expected a time string, got {type(value).__name__}")
    m = _RELATIVE.match(value.strip())
    if m:
        delta = timedelta()
        if m.group(2):
            for amount, unit in _PART.findall(m.group(2)):
                delta += timedelta(**{_UNIT[unit]: int(amount)})
        return now - delta if m.group(1) == "-" else now + delta
    try:
        return parse_utc(value, what)
    except ValueError:
        raise SeedError(f"{what}: expected ISO 8601 or now[+-]NdNhNm, got {value!r}") from None


def _records(data: dict, key: str, required: tuple[str, ...]) -> list[dict]:
    value = data.setdefault(key, [])
    if not isinstance(value, list):
        raise SeedError(f"{key}: expected an array")
    seen = set()
    for i, record in enumerate(value):
        if not isinstance(record, dict):
            raise SeedError(f"{key}[{i}]: expected an object")
        for field in ("Id",) + required:
            if record.get(field) in (None, ""):
                raise SeedError(f"{key}[{i}]: missing {field}")
        if record["Id"] in seen:
            raise SeedError(f"{key}[{i}]: duplicate Id {record['Id']}")
        seen.add(record["Id"])
        for k in [k for k in record if k.startswith("_")]:
            del record[k]
    return value


def _ref(value: Any, ids: set, what: str, optional: bool = True) -> None:
    if value is None and optional:
        return
    if value not in ids:
        raise SeedError(f"{what}: unknown id {value!r}")


def _check(data: dict, now: datetime) -> dict:
    if not isinstance(data, dict):
        raise SeedError("expected a JSON object at the top")
    ent = data.get("Enterprise")
    if not isinstance(ent, dict) or not ent.get("Id") or not ent.get("Name"):
        raise SeedError("Enterprise: expected an object with Id and Name")
    ent.setdefault("Currency", "GBP")
    ent.setdefault("AcceptedCurrencies", [ent["Currency"]])
    ent.setdefault("ExchangeRates", {ent["Currency"]: 1.0})
    for cur in ent["AcceptedCurrencies"]:
        if not isinstance(ent["ExchangeRates"].get(cur), (int, float)):
            raise SeedError(f"Enterprise.ExchangeRates: missing a rate for {cur}")
    categories = _records(data, "SpaceCategories", ("Name",))
    spaces = _records(data, "Spaces", ("Number", "CategoryId", "State"))
    customers = _records(data, "Customers", ("LastName",))
    groups = _records(data, "ReservationGroups", ())
    reservations = _records(data, "Reservations", ("Number", "State", "StartUtc", "EndUtc", "CustomerId"))
    accounting = _records(data, "AccountingCategories", ("Code",))
    items = _records(data, "OpenItems", ("CustomerId", "Name", "Amount"))
    _records(data, "Departments", ("Name",))
    devices = _records(data, "Devices", ("Name", "Type"))
    cat_ids = {c["Id"] for c in categories}
    space_ids = {s["Id"] for s in spaces}
    cust_ids = {c["Id"] for c in customers}
    res_ids = {r["Id"] for r in reservations}
    for i, s in enumerate(spaces):
        what = f"Spaces[{i}] ({s['Number']})"
        _ref(s["CategoryId"], cat_ids, f"{what}.CategoryId", optional=False)
        _ref(s.get("ParentSpaceId"), space_ids, f"{what}.ParentSpaceId")
        if s["State"] not in SPACE_STATES:
            raise SeedError(f"{what}.State: expected one of {', '.join(SPACE_STATES)}, got {s['State']!r}")
        s.setdefault("Type", "Room")
    for c in customers:
        c.setdefault("Address", {"Line1": None, "Line2": None, "City": None, "PostalCode": None, "CountryCode": None})
    group_ids = {g["Id"] for g in groups}
    for i, r in enumerate(reservations):
        what = f"Reservations[{i}] ({r['Number']})"
        if r["State"] not in RESERVATION_STATES:
            raise SeedError(f"{what}.State: expected one of {', '.join(RESERVATION_STATES)}, got {r['State']!r}")
        for key in ("StartUtc", "EndUtc", "CreatedUtc", "UpdatedUtc"):
            r[key] = resolve_time(r.get(key, "now"), now, f"{what}.{key}")
        if r["EndUtc"] <= r["StartUtc"]:
            raise SeedError(f"{what}: EndUtc must be after StartUtc")
        _ref(r.get("AssignedSpaceId"), space_ids, f"{what}.AssignedSpaceId")
        _ref(r.get("RequestedCategoryId"), cat_ids, f"{what}.RequestedCategoryId")
        _ref(r["CustomerId"], cust_ids, f"{what}.CustomerId", optional=False)
        for cid in r.setdefault("CompanionIds", []):
            _ref(cid, cust_ids, f"{what}.CompanionIds", optional=False)
        if r.get("GroupId") is None:
            r["GroupId"] = r["Id"]
            groups.append({"Id": r["Id"], "Name": r["Number"]})
            group_ids.add(r["Id"])
        _ref(r["GroupId"], group_ids, f"{what}.GroupId", optional=False)
    acc_ids = {a["Id"] for a in accounting}
    for i, it in enumerate(items):
        what = f"OpenItems[{i}] ({it['Name']})"
        _ref(it["CustomerId"], cust_ids, f"{what}.CustomerId", optional=False)
        _ref(it.get("OrderId"), res_ids, f"{what}.OrderId")
        _ref(it.get("AccountingCategoryId"), acc_ids, f"{what}.AccountingCategoryId")
        amount = it["Amount"]
        if not isinstance(amount, dict) or not isinstance(amount.get("Value"), (int, float)):
            raise SeedError(f"{what}.Amount: expected {{Currency, Value}}")
        if amount.get("Currency") not in ent["ExchangeRates"]:
            raise SeedError(f"{what}.Amount.Currency: no exchange rate for {amount.get('Currency')!r}")
        it["ConsumptionUtc"] = resolve_time(it.get("ConsumptionUtc", "now"), now, f"{what}.ConsumptionUtc")
    for i, d in enumerate(devices):
        if d["Type"] not in DEVICE_TYPES:
            raise SeedError(f"Devices[{i}].Type: expected one of {', '.join(DEVICE_TYPES)}, got {d['Type']!r}")
    data.setdefault("Creator", {"FirstName": "Sample", "LastName": "User", "ImageUrl": None})
    data["ReservationGroups"] = groups
    return data
