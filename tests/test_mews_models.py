"""Typed Mews models: both spec versions, Space/Resource names, card-number rule, and parsing
that raises nothing but ModelError on arbitrary JSON (hypothesis)."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.mews import models
from agent.mews.errors import CardNumberNotObfuscated
from agent.mews.models import (
    Command, CreditCard, CurrencyValue, Customer, ModelError, ReservationsResult, SignInResult, Space, SpacesResult,
    WireModel, check_card_number,
)

ALL_MODELS = [obj for obj in vars(models).values()
              if isinstance(obj, type) and (issubclass(obj, WireModel) and obj is not WireModel
                                            or obj in (models.Command, models.Device))]

CURRENT_RESERVATIONS = {
    "ReservationGroups": [{"Id": "g1", "Name": "13-12-Smith-F712"}],
    "Reservations": [{
        "AdultCount": 2, "AssignedSpaceId": "s1", "BusinessSegmentId": None, "ChildCount": 0,
        "Companions": [{"Address": {"City": None, "Line1": None}, "FirstName": "John", "Id": "c1",
                        "LastName": "Smith", "NationalityCode": "US", "Phone": "00420123456789"}],
        "CreatedUtc": "2016-02-20T14:58:02Z",
        "Customer": {"Address": {"City": "London", "CountryCode": "GB"}, "FirstName": "John", "Id": "c1",
                     "LastName": "Smith", "Passport": {"Number": "123456", "ExpirationUtc": "2020-01-01T12:00:00Z"}},
        "EndUtc": "2016-02-22T11:00:00Z", "GroupId": "g1", "Id": "r1", "Number": "52", "RateId": "rate",
        "RequestedCategoryId": "cat", "StartUtc": "2016-02-20T13:00:00Z", "State": "Processed",
        "UpdatedUtc": "2016-02-20T14:58:02Z", "SomethingNew": {"x": 1},
    }],
}

EARLIER_RESERVATIONS = {
    "ReservationGroups": [{"Id": "g1", "Name": "13-12-Smith-F712"}],
    "Reservations": [{
        "AssignedSpaceId": "s1", "Companions": [{"Email": None, "FirstName": "Jane", "Id": "c2", "LastName": "Smith"}],
        "ChannelNumber": "123456", "Customer": {"FirstName": "John", "Id": "c1", "LastName": "Smith"},
        "EndUtc": "2019-12-30T23:00:00Z", "GroupId": "g1", "Id": "r2", "Number": "123",
        "StartUtc": "2015-07-07T00:00:00Z", "State": "Started",
    }],
}


def test_current_reservation_parses_with_nested_customer_and_unknown_fields():
    result = ReservationsResult.from_json(CURRENT_RESERVATIONS)
    r = result.reservations[0]
    assert (r.id, r.state, r.assigned_space_id, r.adult_count, r.rate_id) == ("r1", "Processed", "s1", 2, "rate")
    assert r.customer.address.city == "London" and r.customer.passport.number == "123456"
    assert r.companions[0].first_name == "John" and r.companions[0].address.line1 is None
    assert result.reservation_groups[0].name == "13-12-Smith-F712"


def test_earlier_reservation_without_newer_fields_parses():
    r = ReservationsResult.from_json(EARLIER_RESERVATIONS).reservations[0]
    assert r.created_utc is None and r.adult_count is None and r.customer.address is None
    assert r.companions[0].id == "c2" and r.channel_number == "123456"


@pytest.mark.parametrize("key", ["AssignedSpaceId", "AssignedResourceId"])
def test_assigned_space_accepts_both_names(key):
    r = models.Reservation.from_json({"Id": "r", key: "room-7"})
    assert r.assigned_space_id == "room-7"


def test_spaces_and_resources_names_both_parse():
    older = SpacesResult.from_json({"Spaces": [{"Id": "a", "Number": "101", "CategoryId": "c", "State": "Dirty",
                                                "ParentSpaceId": None}],
                                    "SpaceCategories": [{"Id": "c", "Name": "Best", "ShortName": "BR"}]})
    newer = SpacesResult.from_json({"Resources": [{"Id": "a", "Name": "101", "ResourceCategoryId": "c",
                                                   "State": "Dirty", "ParentResourceId": "p"}],
                                    "ResourceCategories": [{"Id": "c", "Name": "Best"}]})
    assert older.spaces[0].number == newer.spaces[0].number == "101"
    assert older.spaces[0].category_id == newer.spaces[0].category_id == "c"
    assert newer.spaces[0].parent_space_id == "p"
    assert older.space_categories[0].short_name == "BR" and newer.space_categories[0].short_name is None
    assert models.Resource is Space


def test_required_field_missing_or_wrong_type_is_model_error():
    with pytest.raises(ModelError, match="missing Id"):
        Space.from_json({"Number": "1"})
    with pytest.raises(ModelError, match=r"Reservations\[0\].*Customer.*Id"):
        ReservationsResult.from_json({"Reservations": [{"Id": "r", "Customer": {"Id": 5}}]})
    with pytest.raises(ModelError, match="whole number"):
        models.Reservation.from_json({"Id": "r", "AdultCount": 1.5})
    with pytest.raises(ModelError, match="finite"):
        CurrencyValue.from_json({"Currency": "EUR", "Value": float("inf")})
    with pytest.raises(ModelError, match="number"):
        CurrencyValue.from_json({"Currency": "EUR", "Value": True})


def test_currency_value_both_versions():
    assert CurrencyValue.from_json({"Currency": "EUR", "Value": 100}).tax_rate is None
    v = CurrencyValue.from_json({"Currency": "GBP", "Value": 20, "Tax": 3.33, "TaxRate": 0.2})
    assert (v.currency, v.value, v.tax, v.tax_rate) == ("GBP", 20, 3.33, 0.2)
    assert v.to_json() == {"Currency": "GBP", "Value": 20, "TaxRate": 0.2, "Tax": 3.33}


def test_sign_in_result_hides_token_in_repr():
    r = SignInResult.from_json({"AccessToken": "SECRET-ACCESS-TOKEN", "Enterprise": {"Id": "e", "Name": "Hotel"}})
    assert r.access_token == "SECRET-ACCESS-TOKEN" and r.enterprise.name == "Hotel"
    assert "SECRET-ACCESS-TOKEN" not in repr(r)


def test_customer_round_trip_to_json_uses_spec_names():
    c = Customer.from_json({"Id": "c", "LastName": "Smith", "Passport": {"Number": "1", "ExpirationUtc": "x"}})
    assert c.to_json() == {"Id": "c", "LastName": "Smith", "Passport": {"Number": "1", "ExpirationUtc": "x"}}


def test_command_keeps_its_tolerant_behaviour():
    c = Command.from_json({"Id": "cmd", "Device": "nonsense", "Data": None})
    assert (c.id, c.state, c.device.id, c.data) == ("cmd", "Pending", "", {})
    with pytest.raises(ModelError):
        Command.from_json({"State": "Pending"})


@pytest.mark.parametrize("number", ["411111******1111", "************1111", "1111", "****", "4111**1111",
                                    "411111*", "*1234"])
def test_obfuscated_card_numbers_pass(number):
    check_card_number(number)
    assert CreditCard(type="Visa", number=number, expiration="12/2030", name="J").number == number


@pytest.mark.parametrize("number", ["4111111111111111", "4111111*****1111", "411111*****11111", "41111111",
                                   "4111 11** **** 1111", "411111-******-1111", "411111******111x", "",
                                   "41*1111*1111", "٤١١١١١******1111"])
def test_unobfuscated_card_numbers_are_refused_without_echoing_them(number):
    with pytest.raises(CardNumberNotObfuscated) as info:
        check_card_number(number)
    assert isinstance(info.value, ValueError)
    if len(number) >= 4:
        assert number not in str(info.value)
    with pytest.raises(ModelError):
        CreditCard.from_json({"Type": "Visa", "Number": number, "Expiration": "12/2030", "Name": "J"})


def test_credit_card_repr_hides_number():
    card = CreditCard(type="Visa", number="411111******1111", expiration="12/2030", name="J")
    assert "411111" not in repr(card)


def _wire_keys() -> list[str]:
    names = {"Id", "Data", "Device", "State", "CreatedUtc", "Name", "Type", "Creator", "Commands"}
    for model in ALL_MODELS:
        for f in getattr(model, "__dataclass_fields__", {}).values():
            spec = f.metadata.get("wire")
            if spec:
                names.update(spec.names)
    return sorted(names)


scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=15,
)
# Objects keyed mostly by the models' own names, so parsing goes deep before it meets a bad value.
near_miss_objects = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(_wire_keys()) | st.text(max_size=4), children, max_size=6),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(value=json_values)
def test_every_model_raises_only_model_error_on_arbitrary_json(value):
    for model in ALL_MODELS:
        try:
            model.from_json(value)
        except ModelError:
            pass


def _own_keys(model) -> list[str]:
    names = ["Id", "Data", "Device", "State", "CreatedUtc", "Name", "Type"]
    for f in getattr(model, "__dataclass_fields__", {}).values():
        spec = f.metadata.get("wire")
        if spec:
            names.extend(spec.names)
    return sorted(set(names))


leaf_values = st.text(max_size=8) | st.integers() | st.floats()
field_values = leaf_values | st.none() | st.booleans() | near_miss_objects | st.lists(near_miss_objects, max_size=3)


def _required_keys(model) -> list[str]:
    if model in (Command, models.Device):
        return ["Id"]
    return [f.metadata["wire"].names[0] for f in model.__dataclass_fields__.values()
            if f.metadata.get("wire") and f.metadata["wire"].required]


def _model_and_object(model):
    """The model's required keys with plausible leaves, plus any of its keys with arbitrary values."""
    required = st.fixed_dictionaries({k: leaf_values for k in _required_keys(model)})
    extra = st.dictionaries(st.sampled_from(_own_keys(model)), field_values, max_size=8)
    return st.tuples(st.just(model), st.builds(lambda a, b: {**a, **b}, required, extra))


@settings(max_examples=400, deadline=None)
@given(case=st.sampled_from(ALL_MODELS).flatmap(_model_and_object))
def test_each_model_raises_only_model_error_on_objects_with_its_own_keys(case):
    model, value = case
    try:
        parsed = model.from_json(value)
    except ModelError:
        return
    assert isinstance(parsed, model)
    if isinstance(parsed, WireModel):
        _assert_declared_types(parsed)
        json.dumps(parsed.to_json(), allow_nan=False)  # a parsed model always serialises back


def _assert_declared_types(parsed):
    """Every parsed field holds what its declaration promises (None when optional)."""
    for f in parsed.__dataclass_fields__.values():
        spec = f.metadata.get("wire")
        value = getattr(parsed, f.name)
        if spec is None or (value is None and not spec.required):
            continue
        for item in (value if spec.many else [value]):
            if spec.kind is float:
                assert isinstance(item, (int, float)) and not isinstance(item, bool), f.name
            elif spec.kind is int:
                assert type(item) is int, f.name
            else:
                assert isinstance(item, spec.kind), f.name
            if isinstance(item, WireModel):
                _assert_declared_types(item)


def test_all_models_are_covered():
    names = {m.__name__ for m in ALL_MODELS}
    assert {"Reservation", "Customer", "Space", "SpaceCategory", "Address", "Document", "CurrencyValue",
            "OpenItem", "SignInResult", "Enterprise", "Command", "Device", "CreditCard"} <= names
