"""MewsClient against the Mews simulator over loopback: every operation, business rules, sign-in."""

import datetime as dt
import threading

import pytest

from agent import config
from agent.net import urequests
from agent.mews import errors
from agent.mews.client import MewsClient
from agent.mews.models import AccountingCategory, CreditCard, CurrencyValue, Document, Space
from sim.mews import DEMO_CONNECTOR_TOKEN, MewsSimulator
from tests.mews_harness import CLIENT_TOKEN, mews_config

NOW = dt.datetime.now(dt.timezone.utc)
ALL_STATES = ["Enquired", "Requested", "Optional", "Confirmed", "Started", "Processed", "Canceled"]


@pytest.fixture
def sim():
    with MewsSimulator(generation="seed") as s:
        yield s


@pytest.fixture
def client(sim):
    c = MewsClient(mews_config(sim), version="9.9.9")
    yield c
    c.close()


def reservations(client, states=ALL_STATES):
    return client.get_all_reservations(NOW - dt.timedelta(days=60), NOW + dt.timedelta(days=60), states).reservations


def parse_utc(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


# ---- session and envelope

def test_signs_in_lazily_and_sends_tokens_and_client_in_every_body(sim, client):
    assert client.sign_ins == 0 and client.enterprise is None
    client.get_all_spaces()
    assert client.sign_ins == 1
    assert client.enterprise.name == sim.enterprise.enterprise_json()["Name"]
    assert client.access_token == sim.sessions.current != DEMO_CONNECTOR_TOKEN
    assert sim.last_client == {"ClientToken": CLIENT_TOKEN, "Client": "kiosk-agent 9.9.9"}
    assert sim.request_count("app/signIn") == 1 and sim.request_count("spaces/getAll") == 1


def test_without_sign_in_the_connector_token_is_the_access_token(sim):
    with MewsClient(mews_config(sim, sign_in=False, client_token="")) as c:
        assert c.access_token == DEMO_CONNECTOR_TOKEN
        assert c.get_all_spaces().spaces
        assert c.sign_ins == 0 and sim.request_count("app/signIn") == 0
        assert sim.last_client == {"ClientToken": None, "Client": "kiosk-agent " + __import__("agent").__version__}


def test_explicit_sign_in_returns_token_and_enterprise(sim, client):
    result = client.sign_in()
    assert result.access_token == sim.sessions.current and result.enterprise.id
    assert result.access_token not in repr(result)


def test_sign_in_again_once_after_a_401(sim, client):
    client.get_all_spaces()
    first = client.access_token
    sim.set_faults(displace=True)  # another client signs in once: our token is dead
    assert client.get_all_spaces().spaces
    assert client.sign_ins == 2 and client.access_token != first
    assert client.access_token == sim.sessions.current


class CompetingClient:
    """The HTTP session, plus another client that signs in right after each of our sign-ins when armed."""

    def __init__(self, sim):
        self.http = urequests.Session(timeout=5.0)
        self.sim = sim
        self.armed = False

    def request(self, method, url, **kw):
        resp = self.http.request(method, url, **kw)
        if self.armed and url.endswith("/app/signIn"):
            self.sim.set_faults(displace=True)
        return resp

    def close(self):
        self.http.close()


def test_second_401_right_after_signing_in_again_is_displaced(sim):
    competitor = CompetingClient(sim)
    c = MewsClient(mews_config(sim), session=competitor)
    try:
        c.get_all_spaces()
        competitor.armed = True
        sim.set_faults(displace=True)
        with pytest.raises(errors.Displaced) as info:
            c.get_all_spaces()
        assert "another client signed in" in str(info.value) and info.value.status == 401
        assert isinstance(info.value, errors.Unauthorized) and info.value.request_id
        assert c.sign_ins == 2 and info.value.operation == "spaces/getAll"  # one re-sign-in, not a fight
        competitor.armed = False
        assert c.get_all_spaces().spaces  # once the other client stops, we take over again
    finally:
        c.close()
        competitor.close()


def test_threads_sharing_a_displaced_client_sign_in_only_once(sim, client):
    client.get_all_spaces()
    sim.set_faults(displace=True)
    failures = []

    def work():
        try:
            for _ in range(3):
                client.get_all_active_commands()
        except Exception as e:  # collected for the assertion below
            failures.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == [] and client.sign_ins == 2


def test_wrong_connector_token_is_unauthorized_at_sign_in(sim):
    with MewsClient(mews_config(sim, connector_token="NOT-THE-CONNECTOR-TOKEN")) as c:
        with pytest.raises(errors.Unauthorized) as info:
            c.get_all_spaces()
    assert not isinstance(info.value, errors.Displaced)
    assert "sign-in refused" in str(info.value) and "NOT-THE-CONNECTOR-TOKEN" not in info.value.describe()


def test_wrong_access_token_without_sign_in_is_token_rejected(sim):
    # Without sign-in the token cannot be renewed: a 401 is not cured by anything we can do.
    with MewsClient(mews_config(sim, connector_token="WRONG-ACCESS-TOKEN", sign_in=False)) as c:
        with pytest.raises(errors.TokenRejected) as info:
            c.get_all_spaces()
    assert info.value.status == 401 and info.value.request_id
    assert sim.request_count("app/signIn") == 0


def test_tokens_never_reach_logs_or_errors(sim, client, caplog):
    caplog.set_level("DEBUG")
    client.get_all_spaces()
    sim.set_faults(displace=True)
    client.get_all_spaces()
    with pytest.raises(errors.BadRequest) as info:
        client.start_reservation("no-such-reservation")
    text = caplog.text + info.value.describe()
    for secret in (DEMO_CONNECTOR_TOKEN, CLIENT_TOKEN, client.access_token):
        assert secret not in text
    assert "signed in" in caplog.text  # the log is not simply empty


# ---- operations

def test_get_all_spaces_and_resources(sim, client):
    result = client.get_all_spaces()
    assert result.spaces and all(isinstance(s, Space) for s in result.spaces)
    category_ids = {c.id for c in result.space_categories}
    assert all(s.category_id in category_ids for s in result.spaces)
    assert {s.state for s in result.spaces} >= {"Dirty", "Clean", "Inspected"}
    from agent.mews.models import SpacesResult

    newer = SpacesResult.from_json(client.call("resources/getAll"))
    assert sorted(s.id for s in newer.spaces) == sorted(s.id for s in result.spaces)


def test_get_all_reservations_filters_by_state(client):
    everything = reservations(client)
    assert {r.state for r in everything} >= {"Confirmed", "Started", "Processed", "Canceled"}
    default = client.get_all_reservations(NOW - dt.timedelta(days=60), NOW + dt.timedelta(days=60))
    assert default.reservations and {r.state for r in default.reservations} <= {"Confirmed", "Started", "Processed"}
    started = reservations(client, ["Started"])
    assert started and all(r.state == "Started" for r in started)
    r = started[0]
    assert r.customer.id and r.assigned_space_id and r.group_id
    assert r.group_id in {g.id for g in client.get_all_reservations(
        NOW - dt.timedelta(days=60), NOW + dt.timedelta(days=60), ["Started"]).reservation_groups}


def test_start_reservation_needs_an_inspected_room(sim, client):
    candidates = [r for r in reservations(client, ["Confirmed"])
                  if r.assigned_space_id and parse_utc(r.start_utc) <= NOW]
    assert candidates, "the seed needs a confirmed arrival due now"
    r = candidates[0]
    sim.set_space_state(r.assigned_space_id, "Dirty")
    with pytest.raises(errors.Forbidden) as info:
        client.start_reservation(r.id)
    assert "inspected" in str(info.value) and info.value.status == 403 and info.value.request_id
    assert not str(info.value).startswith("reservations/")  # the guest sees the platform's words only
    sim.set_space_state(r.assigned_space_id, "Inspected")
    client.start_reservation(r.id)
    assert r.id in {x.id for x in reservations(client, ["Started"])}
    with pytest.raises(errors.Forbidden):
        client.start_reservation(r.id)  # already checked in


def test_process_reservation_after_paying_the_bill(client):
    r = reservations(client, ["Started"])[0]
    guests = [r.customer.id] + [c.id for c in r.companions]
    owing = [g for g in guests if client.get_customer_balance(g).value > 0]
    if owing:
        with pytest.raises(errors.Forbidden, match="not settled"):
            client.process_reservation(r.id)
    card = CreditCard(type="Visa", number="411111******1111", expiration="12/2030", name="Guest")
    for g in owing:
        balance = client.get_customer_balance(g)
        after = client.add_credit_card_payment(g, CurrencyValue(currency=balance.currency, value=balance.value), card,
                                               category=AccountingCategory(code="CCP"), receipt_identifier="R1",
                                               notes="kiosk")
        assert after.value == pytest.approx(0.0, abs=0.005)
    client.process_reservation(r.id)
    assert r.id in {x.id for x in reservations(client, ["Processed"])}
    with pytest.raises(errors.Forbidden, match="already checked out"):
        client.process_reservation(r.id)


def test_cancel_reservation_charges_the_fee(client):
    r = reservations(client, ["Confirmed"])[-1]
    before = client.get_customer_balance(r.customer.id).value
    client.cancel_reservation(r.id, True, "Cancelled at the kiosk")
    assert r.id in {x.id for x in reservations(client, ["Canceled"])}
    assert client.get_customer_balance(r.customer.id).value > before
    with pytest.raises(errors.Forbidden):
        client.cancel_reservation(r.id, False, "again")


def test_balance_and_open_items(client):
    r = reservations(client, ["Started"])[0]
    balance = client.get_customer_balance(r.customer.id)
    assert balance.currency and isinstance(balance.value, (int, float))
    customers = client.get_customers_open_items([r.customer.id])
    assert [c.customer_id for c in customers] == [r.customer.id]
    assert all(i.id and i.amount.currency for i in customers[0].items)
    with pytest.raises(errors.BadRequest):
        client.get_customers_open_items(["no-such-customer"])


def test_update_customer_replaces_every_field(client):
    customer = reservations(client, ["Started"])[0].customer
    assert customer.first_name
    updated = client.update_customer(customer.id, last_name="Smith-Jones", phone="+441234567890",
                                     nationality_code="GB", birth_date_utc="1990-05-01T12:00:00Z",
                                     passport=Document(number="P123", expiration_utc="2031-01-01T12:00:00Z"))
    assert (updated.id, updated.last_name, updated.phone, updated.passport.number) == (
        customer.id, "Smith-Jones", "+441234567890", "P123")
    assert updated.first_name is None  # left out, so cleared: the spec's replace-all rule
    with pytest.raises(errors.BadRequest):
        client.update_customer(customer.id, last_name="X", nationality_code="Great Britain")


def test_card_number_not_obfuscated_is_refused_before_sending(sim, client):
    client.get_all_spaces()
    sent = sim.request_count()
    full = "4111111111111111"
    with pytest.raises(errors.CardNumberNotObfuscated) as info:
        client.add_credit_card_payment("anyone", CurrencyValue(currency="GBP", value=1), _unchecked_card(full))
    assert full not in str(info.value)
    with pytest.raises(errors.CardNumberNotObfuscated) as info:
        client.call("payments/addCreditCard", {"CustomerId": "x", "Amount": {"Currency": "GBP", "Value": 1},
                                               "CreditCard": {"Type": "Visa", "Number": "4111 1111 1111 1111",
                                                              "Expiration": "12/2030", "Name": "J"}})
    assert "4111 1111 1111 1111" not in str(info.value) and "1111 1111" not in str(info.value)
    assert sim.request_count() == sent


def _unchecked_card(number):
    """A CreditCard carrying a full number, as a buggy caller could build one around the constructor check."""
    card = CreditCard(type="Visa", number="411111******1111", expiration="12/2030", name="J")
    object.__setattr__(card, "number", number)
    return card


def test_add_task(sim, client):
    client.add_task("Check minibar", NOW + dt.timedelta(hours=2), description="Room 101")
    assert sim.enterprise.tasks[-1]["Name"] == "Check minibar"
    with pytest.raises(errors.BadRequest):
        client.add_task("x", NOW, department_id="no-such-department")


def test_commands_get_all_active_and_update(sim, client):
    cid = sim.add_printer_command(b"%PDF-1.4 test", copy_count=2)
    active = {c.id: c for c in client.get_all_active_commands()}
    assert cid in active and active[cid].device.type == "Printer" and active[cid].data["CopyCount"] == 2
    client.update_command(cid, "Received", notes="ignored", progress=0.1)
    client.update_command(cid, "Processing", progress=0.5, notes="ignored too")
    client.update_command(cid, "Processed", progress=1.0, notes="printed", result={"Pages": 1})
    history = sim.command(cid)["History"]
    assert [h["State"] for h in history] == ["Pending", "Received", "Processing", "Processed"]
    assert history[1]["Progress"] is None and history[1]["Notes"] is None
    assert history[2]["Progress"] == 0.5 and history[2]["Notes"] is None
    assert history[3]["Progress"] is None and history[3]["Notes"] == "printed"
    assert cid not in {c.id for c in client.get_all_active_commands()}
    with pytest.raises(errors.BadRequest):
        client.update_command(cid, "Processing")  # a final state is final
    with pytest.raises(ValueError):
        client.update_command(cid, "Done")  # not a state at all: refused locally


# ---- error classes

def test_unknown_id_is_bad_request_with_request_id(client):
    with pytest.raises(errors.BadRequest) as info:
        client.start_reservation("00000000-0000-0000-0000-000000000000")
    assert info.value.status == 400 and info.value.request_id and info.value.message
    assert info.value.operation == "reservations/start"


def test_unknown_operation_is_not_found(client):
    with pytest.raises(errors.NotFound) as info:
        client.call("rooms/teleport")
    assert info.value.status == 404 and info.value.request_id
    with pytest.raises(ValueError):
        client.call("../../admin")  # not an operation name: never sent


def test_server_errors_are_retryable(sim, client):
    client.get_all_spaces()
    sim.set_faults(error_rate=1.0)
    with pytest.raises(errors.Retryable) as info:
        client.get_all_spaces()
    assert info.value.status >= 500 and info.value.retryable and info.value.request_id
    sim.set_faults(error_rate=0.0)
    assert client.get_all_spaces().spaces


def test_platform_rate_limit_is_rate_limited_with_retry_after(sim, client):
    client.get_all_spaces()
    sim.set_faults(rate_limit_requests=2, rate_limit_window=60)
    with pytest.raises(errors.RateLimited) as info:
        for _ in range(3):
            client.get_all_spaces()
    assert sim.rate_limited == 1
    assert info.value.status == 429 and info.value.retry_after >= 1 and info.value.request_id


def test_network_error_is_retryable(sim, client):
    client.get_all_spaces()
    sim.stop()
    with pytest.raises(errors.Retryable) as info:
        client.get_all_spaces()
    assert info.value.status is None and "network error" in str(info.value)


def test_client_side_limiter_holds_requests_back(sim):
    from agent.mews.ratelimit import RateLimiter

    class Clock:
        now = 0.0

    slept = []

    def sleep(seconds):
        slept.append(seconds)
        Clock.now += seconds

    limiter = RateLimiter(limit=3, window=30.0, clock=lambda: Clock.now, sleep=sleep)
    with MewsClient(mews_config(sim, sign_in=False), limiter=limiter) as c:
        for _ in range(3):
            c.get_all_spaces()
        assert slept == []
        c.get_all_spaces()
    assert slept == [pytest.approx(30.0)] and sim.request_count("spaces/getAll") == 4


def test_tls_settings_reach_the_http_session(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("not used in this test")
    cfg = config.parse(f'[mews]\nplatform_address = "https://mews.invalid"\ngeneration = "seed"\nconnector_token = "T1234"\n'
                       f'tls_verify = false\nca_file = "{ca}"\ntimeout = 3.5\n').mews
    with MewsClient(cfg) as c:
        assert (c._http.verify, c._http.ca_file, c._http.timeout) == (False, str(ca), 3.5)
