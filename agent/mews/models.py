"""Typed models of the Mews Connector API, parsed once from JSON.

Unknown fields are tolerated; both the older ``Space*`` and the newer
``Resource*`` names are accepted. Parsing raises only ``ModelError``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar

from agent.mews.errors import CardNumberNotObfuscated, MewsError


class ModelError(MewsError, ValueError):
    """A JSON object does not have the shape the spec promises."""


def _obj(value: Any, what: str) -> dict:
    if not isinstance(value, dict):
        raise ModelError(f"{what}: expected an object, got {type(value).__name__}")
    return value


def _str(d: dict, key: str, what: str, required: bool = True) -> str | None:
    value = d.get(key)
    if value is None:
        if required:
            raise ModelError(f"{what}: missing {key}")
        return None
    if not isinstance(value, str):
        raise ModelError(f"{what}: {key} must be a string")
    return value


COMMAND_STATES = ("Pending", "Received", "Processing", "Processed", "Cancelled", "Error")
FINAL_STATES = ("Processed", "Cancelled", "Error")  # the one definition; store and runtime import it
_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")


@dataclass(frozen=True)
class Device:
    id: str
    name: str
    type: str | None = None

    @classmethod
    def from_json(cls, value: Any) -> Device:
        d = _obj(value, "Device")
        return cls(id=_str(d, "Id", "Device") or "", name=_str(d, "Name", "Device", required=False) or "",
                   type=_str(d, "Type", "Device", required=False))

    def to_json(self) -> dict:
        return {"Id": self.id, "Name": self.name, "Type": self.type}


@dataclass(frozen=True)
class Command:
    """A device command as returned by ``commands/getAllActive``.

    ``invalid`` is "" for a command we understood; otherwise a note naming the
    field of the wrong type ("the command's CreatedUtc is not a date"): the
    command has an Id, so it must end in Error once instead of being skipped on
    every drain.
    """

    id: str
    state: str
    created_utc: str
    device: Device
    data: dict = field(default_factory=dict, repr=False)  # may hold secrets (key cutter passwords)
    creator: dict | None = field(default=None, repr=False)
    invalid: str = ""

    @classmethod
    def from_json(cls, value: Any) -> Command:
        """Raises ModelError only without a usable Id; other wrong types set ``invalid``."""
        d = _obj(value, "Command")
        command_id = d.get("Id")
        if not isinstance(command_id, str) or not command_id.strip():
            raise ModelError("Command: missing Id" if command_id is None else "Command: Id must be a string")
        problems = []
        state = d.get("State")
        if state is None:
            state = "Pending"
        elif not isinstance(state, str):
            problems.append("State is not a string")
            state = "Pending"
        created = d.get("CreatedUtc")
        if created is None:
            created = ""
        elif not isinstance(created, str) or not _UTC.fullmatch(created):
            problems.append("CreatedUtc is not a date")
            created = created if isinstance(created, str) else ""
        raw_device = d.get("Device")
        device = Device(id="", name="", type=None)
        if raw_device is not None and not isinstance(raw_device, dict):
            problems.append("Device is not an object")
        elif raw_device is not None:
            try:
                device = Device.from_json(raw_device)
            except ModelError:
                pass  # an unusable device: no handler serves it, the dispatcher says so
        data = d.get("Data")
        if data is None:
            data = {}
        elif not isinstance(data, dict):
            problems.append("Data is not an object")
            data = {}
        creator = d.get("Creator")
        invalid = ("the command's " + ", ".join(problems)) if problems else ""
        return cls(id=command_id, state=state, created_utc=created, device=device, data=data,
                   creator=creator if isinstance(creator, dict) else None, invalid=invalid)

    def to_json(self) -> dict:
        """The wire form ``from_json`` reads back (the journal keeps printer commands this way)."""
        out = {"Id": self.id, "State": self.state, "CreatedUtc": self.created_utc,
               "Device": self.device.to_json(), "Data": self.data}
        if self.creator is not None:
            out["Creator"] = self.creator
        return out


# ---------------------------------------------------------------------------
# Declarative models: each field names its JSON keys (newest spelling last is
# fine, the first present wins) and its kind; one parser serves them all.

@dataclass(frozen=True)
class _Wire:
    names: tuple[str, ...]
    kind: Any  # str, int, float, bool, dict, or a WireModel subclass
    required: bool
    many: bool


def wire(*names: str, kind: Any = str, required: bool = False, many: bool = False, repr: bool = True):
    """A model field read from the first present of ``names``; required fields have no default."""
    meta = {"wire": _Wire(names, kind, required, many)}
    if required:
        return field(metadata=meta, repr=repr)
    if many:
        return field(default_factory=list, metadata=meta, repr=repr)
    return field(default=None, metadata=meta, repr=repr)


def _convert(raw: Any, kind: Any, where: str) -> Any:
    if kind is str:
        if isinstance(raw, str):
            return raw
        raise ModelError(f"{where}: expected a string, got {_jtype(raw)}")
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        raise ModelError(f"{where}: expected true or false, got {_jtype(raw)}")
    if kind is int or kind is float:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise ModelError(f"{where}: expected a number, got {_jtype(raw)}")
        if isinstance(raw, float) and not math.isfinite(raw):
            raise ModelError(f"{where}: expected a finite number")
        if kind is int:
            if isinstance(raw, float):
                if not raw.is_integer():
                    raise ModelError(f"{where}: expected a whole number")
                return int(raw)
        return raw
    if kind is dict:
        if isinstance(raw, dict):
            return raw
        raise ModelError(f"{where}: expected an object, got {_jtype(raw)}")
    try:
        return kind.from_json(raw)
    except ModelError as e:
        raise ModelError(f"{where}: {e}") from None


def _jtype(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            int: "a number", float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


class WireModel:
    """Mixin for dataclasses whose fields are declared with ``wire(...)``."""

    if TYPE_CHECKING:  # every WireModel is a dataclass: ``fields()`` takes it
        __dataclass_fields__: ClassVar[dict[str, Any]]

    @classmethod
    def from_json(cls, value: Any):
        """Parse a JSON value; unknown keys are ignored; raises only ModelError."""
        what = cls.__name__
        d = _obj(value, what)
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            spec = f.metadata.get("wire")
            if spec is None:
                continue
            raw, key = None, spec.names[0]
            for name in spec.names:
                if d.get(name) is not None:
                    raw, key = d[name], name
                    break
            if raw is None:
                if spec.required:
                    raise ModelError(f"{what}: missing {spec.names[0]}")
                kwargs[f.name] = [] if spec.many else None
            elif spec.many:
                if not isinstance(raw, list):
                    raise ModelError(f"{what}.{key}: expected an array, got {_jtype(raw)}")
                kwargs[f.name] = [_convert(item, spec.kind, f"{what}.{key}[{i}]") for i, item in enumerate(raw)]
            else:
                kwargs[f.name] = _convert(raw, spec.kind, f"{what}.{key}")
        return cls(**kwargs)

    def to_json(self) -> dict:
        """The request JSON: first spelling of each key, None values left out."""
        out = {}
        for f in fields(self):
            spec = f.metadata.get("wire")
            value = getattr(self, f.name)
            if spec is None or value is None:
                continue
            if spec.many:
                value = [v.to_json() if isinstance(v, WireModel) else v for v in value]
            elif isinstance(value, WireModel):
                value = value.to_json()
            out[spec.names[0]] = value
        return out


SPACE_STATES = ("Dirty", "Clean", "Inspected", "OutOfService", "OutOfOrder")
RESERVATION_STATES = ("Enquired", "Inquired", "Requested", "Optional", "Confirmed", "Started", "Processed", "Canceled")
CARD_TYPES = ("Visa", "MasterCard", "Amex", "Discover", "DinersClub", "Jcb", "EnRoute", "Maestro", "UnionPay")


@dataclass(frozen=True, kw_only=True)
class Enterprise(WireModel):
    id: str = wire("Id", required=True)
    name: str | None = wire("Name")


@dataclass(frozen=True, kw_only=True)
class SignInResult(WireModel):
    """The answer of ``app/signIn``: a session AccessToken (never shown in repr)."""

    access_token: str = wire("AccessToken", required=True, repr=False)
    enterprise: Enterprise | None = wire("Enterprise", kind=Enterprise)


@dataclass(frozen=True, kw_only=True)
class SpaceCategory(WireModel):
    id: str = wire("Id", required=True)
    name: str | None = wire("Name")
    short_name: str | None = wire("ShortName")


@dataclass(frozen=True, kw_only=True)
class Space(WireModel):
    """A space (older spec) or resource (newer): room, dorm, bed."""

    id: str = wire("Id", required=True)
    type: str | None = wire("Type")
    number: str | None = wire("Number", "Name")
    parent_space_id: str | None = wire("ParentSpaceId", "ParentResourceId")
    category_id: str | None = wire("CategoryId", "SpaceCategoryId", "ResourceCategoryId")
    state: str | None = wire("State")


Resource = Space
ResourceCategory = SpaceCategory


@dataclass(frozen=True, kw_only=True)
class SpacesResult(WireModel):
    spaces: list[Space] = wire("Spaces", "Resources", kind=Space, many=True)
    space_categories: list[SpaceCategory] = wire("SpaceCategories", "ResourceCategories",
                                                 kind=SpaceCategory, many=True)


@dataclass(frozen=True, kw_only=True)
class Address(WireModel):
    line1: str | None = wire("Line1")
    line2: str | None = wire("Line2")
    city: str | None = wire("City")
    postal_code: str | None = wire("PostalCode")
    country_code: str | None = wire("CountryCode")


@dataclass(frozen=True, kw_only=True)
class Document(WireModel):
    """An identity document (passport)."""

    number: str | None = wire("Number")
    expiration_utc: str | None = wire("ExpirationUtc", "Expiration", "ExpirationDate")  # seed, today


@dataclass(frozen=True, kw_only=True)
class Customer(WireModel):
    id: str = wire("Id", required=True)
    first_name: str | None = wire("FirstName")
    last_name: str | None = wire("LastName")
    title: str | None = wire("Title")
    gender: str | None = wire("Gender")
    sex: str | None = wire("Sex")  # today's name for Gender
    nationality_code: str | None = wire("NationalityCode")
    birth_date_utc: str | None = wire("BirthDateUtc")
    birth_date: str | None = wire("BirthDate")  # today's: a date
    email: str | None = wire("Email")
    phone: str | None = wire("Phone")
    category_id: str | None = wire("CategoryId")
    address: Address | None = wire("Address", kind=Address)
    passport: Document | None = wire("Passport", kind=Document)


@dataclass(frozen=True, kw_only=True)
class ReservationGroup(WireModel):
    id: str = wire("Id", required=True)
    name: str | None = wire("Name")


@dataclass(frozen=True, kw_only=True)
class Reservation(WireModel):
    id: str = wire("Id", required=True)
    state: str | None = wire("State")
    number: str | None = wire("Number")
    group_id: str | None = wire("GroupId")
    channel_number: str | None = wire("ChannelNumber")
    channel_manager_id: str | None = wire("ChannelManagerId")
    created_utc: str | None = wire("CreatedUtc")
    updated_utc: str | None = wire("UpdatedUtc")
    start_utc: str | None = wire("StartUtc")
    end_utc: str | None = wire("EndUtc")
    requested_category_id: str | None = wire("RequestedCategoryId", "RequestedSpaceCategoryId",
                                             "RequestedResourceCategoryId")
    assigned_space_id: str | None = wire("AssignedSpaceId", "AssignedResourceId")
    business_segment_id: str | None = wire("BusinessSegmentId")
    company_id: str | None = wire("CompanyId")
    travel_agency_id: str | None = wire("TravelAgencyId")
    rate_id: str | None = wire("RateId")
    adult_count: int | None = wire("AdultCount", kind=int)
    child_count: int | None = wire("ChildCount", kind=int)
    customer: Customer | None = wire("Customer", kind=Customer)
    companions: list[Customer] = wire("Companions", kind=Customer, many=True)


@dataclass(frozen=True, kw_only=True)
class ReservationsResult(WireModel):
    reservations: list[Reservation] = wire("Reservations", kind=Reservation, many=True)
    reservation_groups: list[ReservationGroup] = wire("ReservationGroups", kind=ReservationGroup, many=True)


@dataclass(frozen=True, kw_only=True)
class CurrencyValue(WireModel):
    """An amount; a customer's balance is positive when they owe the hotel."""

    currency: str = wire("Currency", required=True)
    value: float = wire("Value", kind=float, required=True)
    tax_rate: float | None = wire("TaxRate", kind=float)
    tax: float | None = wire("Tax", kind=float)


@dataclass(frozen=True, kw_only=True)
class OpenItem(WireModel):
    id: str = wire("Id", required=True)
    name: str | None = wire("Name")
    order_id: str | None = wire("OrderId")
    accounting_category_id: str | None = wire("AccountingCategoryId")
    consumption_utc: str | None = wire("ConsumptionUtc")
    amount: CurrencyValue | None = wire("Amount", kind=CurrencyValue)


@dataclass(frozen=True, kw_only=True)
class CustomerOpenItems(WireModel):
    customer_id: str = wire("CustomerId", required=True)
    items: list[OpenItem] = wire("Items", kind=OpenItem, many=True)


@dataclass(frozen=True, kw_only=True)
class OpenItemsResult(WireModel):
    customers: list[CustomerOpenItems] = wire("Customers", kind=CustomerOpenItems, many=True)


@dataclass(frozen=True, kw_only=True)
class AccountingCategory(WireModel):
    code: str = wire("Code", required=True)
    name: str | None = wire("Name")


@dataclass(frozen=True, kw_only=True)
class User(WireModel):
    """The creator of a command."""

    first_name: str | None = wire("FirstName")
    last_name: str | None = wire("LastName")
    image_url: str | None = wire("ImageUrl")


_OBFUSCATED = re.compile(r"[0-9]{0,6}\*+[0-9]{0,4}|[0-9]{1,4}")


def check_card_number(number: Any) -> None:
    """Refuse a card number showing more than its first six and last four digits (spec rule).

    The message never contains the number.
    """
    if not isinstance(number, str) or not number:
        raise CardNumberNotObfuscated("credit card number missing: send it obfuscated, e.g. 411111******1111")
    if re.fullmatch(r"[0-9*]+", number) is None:
        raise CardNumberNotObfuscated(
            "credit card number may hold only digits and '*' (e.g. 411111******1111); refused before sending")
    if _OBFUSCATED.fullmatch(number) is None:
        raise CardNumberNotObfuscated(
            "credit card number is not obfuscated: at most the first six and last four digits may be "
            "visible, the rest replaced by '*' (e.g. 411111******1111); refused before sending")


@dataclass(frozen=True, kw_only=True)
class CreditCard(WireModel):
    """Card details for ``payments/addCreditCard``; ``number`` must be obfuscated."""

    type: str = wire("Type", required=True)
    number: str = wire("Number", required=True, repr=False)
    expiration: str = wire("Expiration", required=True)
    name: str = wire("Name", required=True)

    def __post_init__(self):
        check_card_number(self.number)

    @classmethod
    def from_json(cls, value: Any) -> CreditCard:
        try:
            return super().from_json(value)
        except CardNumberNotObfuscated as e:
            raise ModelError(f"CreditCard: {e}") from None


# ---- reservations/getAll/2023-06-06 and customers/getAll (the current forms) ----------------------------


@dataclass(frozen=True, kw_only=True)
class PersonCount(WireModel):
    age_category_id: str | None = wire("AgeCategoryId")
    count: int = wire("Count", kind=int, required=True)


@dataclass(frozen=True, kw_only=True)
class ReservationV2(WireModel):
    """A reservation of ``reservations/getAll/2023-06-06``: the owner is ``AccountId``, no embedded customer."""

    id: str = wire("Id", required=True)
    state: str | None = wire("State")
    number: str | None = wire("Number")
    scheduled_start_utc: str | None = wire("ScheduledStartUtc", "StartUtc")
    scheduled_end_utc: str | None = wire("ScheduledEndUtc", "EndUtc")
    account_id: str | None = wire("AccountId")
    assigned_resource_id: str | None = wire("AssignedResourceId")
    requested_category_id: str | None = wire("RequestedResourceCategoryId")
    person_counts: list[PersonCount] = wire("PersonCounts", kind=PersonCount, many=True)

    @property
    def person_count(self) -> int:
        return sum(max(p.count, 0) for p in self.person_counts)


@dataclass(frozen=True, kw_only=True)
class ReservationsPage(WireModel):
    reservations: list[ReservationV2] = wire("Reservations", kind=ReservationV2, many=True)
    cursor: str | None = wire("Cursor")


@dataclass(frozen=True, kw_only=True)
class CustomersPage(WireModel):
    customers: list[Customer] = wire("Customers", kind=Customer, many=True)
    cursor: str | None = wire("Cursor")
