"""MewsClient against a scripted loopback HTTP server: answers the simulator never gives
(408, 409, 413, odd bodies, command entries without Id) and the sign-in session logic."""

import http.server
import json
import threading

import pytest

from agent import config
from agent.mews import errors
from agent.mews.client import MewsClient
from agent.mews.models import SignInResult
from agent.mews.session import SignInSession


class Scripted(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append((self.path, json.loads(body)))
        status, payload, headers = self.server.reply
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    srv.received = []
    srv.reply = (200, {}, {})
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def client(server):
    cfg = config.parse(f'[mews]\nplatform_address = "http://127.0.0.1:{server.server_address[1]}/"\n'
                       f'generation = "seed"\nconnector_token = "ACCESS-TOKEN-XYZ"\nsign_in = false\ntimeout = 5.0\n').mews
    with MewsClient(cfg, version="1.2.3") as c:
        yield c


@pytest.mark.parametrize("status,cls", [(408, errors.Retryable), (409, errors.Conflict),
                                        (413, errors.PayloadTooLarge), (502, errors.Retryable),
                                        (403, errors.Forbidden)])
def test_status_codes_map_to_classes_with_message_and_request_id(server, client, status, cls):
    server.reply = (status, {"Message": "Plain words for a person.", "RequestId": "body-rid"}, {"Request-Id": "hdr-rid"})
    with pytest.raises(cls) as info:
        client.call("spaces/getAll")
    e = info.value
    assert type(e) is cls and (e.status, e.message, e.request_id) == (status, "Plain words for a person.", "hdr-rid")
    assert e.describe() == f"{cls.__name__}: Plain words for a person. (Request-Id hdr-rid)"


def test_request_id_falls_back_to_the_body_and_html_errors_still_map(server, client):
    server.reply = (409, {"Message": "Changed.", "RequestId": "body-rid"}, {})
    with pytest.raises(errors.Conflict) as info:
        client.call("spaces/getAll")
    assert info.value.request_id == "body-rid"
    server.reply = (503, b"<html>Service Unavailable</html>", {"Content-Type": "text/html"})
    with pytest.raises(errors.Retryable) as info:
        client.call("spaces/getAll")
    assert info.value.status == 503 and "HTTP 503" in str(info.value)


def test_429_without_retry_after_leaves_backoff_to_the_caller(server, client):
    server.reply = (429, {"Message": "Slow down."}, {})
    with pytest.raises(errors.RateLimited) as info:
        client.call("spaces/getAll")
    assert info.value.retry_after is None and info.value.retryable


@pytest.mark.parametrize("payload", [b"not json", b"[1, 2]", b'"text"', b"{" * 5000])
def test_success_with_a_body_that_is_not_an_object_is_invalid_response(server, client, payload):
    server.reply = (200, payload, {"Request-Id": "rid-9"})
    with pytest.raises(errors.InvalidResponse) as info:
        client.call("spaces/getAll")
    assert info.value.request_id == "rid-9"


def test_empty_success_body_is_an_empty_object_and_typed_shapes_are_checked(server, client):
    server.reply = (200, b"", {})
    assert client.call("tasks/add", {"Name": "x", "DeadlineUtc": "2030-01-01T00:00:00Z"}) == {}
    server.reply = (200, {"Spaces": [{"Number": "101"}]}, {})
    with pytest.raises(errors.InvalidResponse, match="missing Id"):
        client.get_all_spaces()
    server.reply = (200, {"Commands": {"Id": "x"}}, {})
    with pytest.raises(errors.InvalidResponse):
        client.get_all_active_commands()


def test_body_carries_tokens_client_and_the_older_connector_token_name(server, client):
    server.reply = (200, {"Currency": "EUR", "Value": 100}, {})
    balance = client.get_customer_balance("cust-1")
    assert (balance.currency, balance.value, balance.tax) == ("EUR", 100, None)  # the earlier spec's answer
    path, body = server.received[-1]
    assert path == "/api/connector/v1/customers/getBalance"
    assert body == {"CustomerId": "cust-1", "AccessToken": "ACCESS-TOKEN-XYZ", "ConnectorToken": "ACCESS-TOKEN-XYZ",
                    "Client": "kiosk-agent 1.2.3"}  # no ClientToken when none is configured


def test_commands_without_id_are_skipped_and_logged(server, client, caplog):
    good = {"Id": "c1", "State": "Pending", "CreatedUtc": "2024-01-01T00:00:00Z",
            "Device": {"Id": "d", "Name": "P", "Type": "Printer"}, "Data": {"CopyCount": 1}}
    server.reply = (200, {"Commands": [{"State": "Pending"}, good, "junk", {"Id": 7}]}, {})
    commands = client.get_all_active_commands()
    assert [c.id for c in commands] == ["c1"] and commands[0].device.type == "Printer"
    # Every one counted; the log gets one line, not one per entry (a flood must not fill the disk).
    assert client.malformed.total == 3
    assert caplog.text.count("skipped malformed command entry") == 1


def test_update_command_sends_progress_and_notes_only_where_the_field_notes_allow(server, client):
    client.update_command("c1", "Processing", progress=40, notes="not now")
    client.update_command("c1", "Error", progress=40, notes="Paper jam", result={"x": 1})
    client.update_command("c1", "Processed", notes="ok", result={"Pages": 2})
    sent = [body for _, body in server.received]
    assert {k: sent[0][k] for k in ("CommandId", "State", "Progress")} == {"CommandId": "c1", "State": "Processing",
                                                                          "Progress": 40}
    assert "Notes" not in sent[0] and "Result" not in sent[0]
    assert sent[1]["Notes"] == "Paper jam" and "Progress" not in sent[1] and "Result" not in sent[1]
    assert sent[2]["Notes"] == "ok" and sent[2]["Result"] == {"Pages": 2}


def test_bodies_that_are_not_json_are_refused_locally(server, client):
    with pytest.raises(ValueError):
        client.call("tasks/add", {"Name": "x", "DeadlineUtc": object()})
    with pytest.raises(ValueError):
        client.call("tasks/add", {"Name": float("nan")})
    with pytest.raises(ValueError):
        client.call("tasks/add", ["not", "an", "object"])
    assert server.received == []


def test_stale_token_refresh_signs_in_once_for_all_threads():
    calls = []

    def do_sign_in():
        calls.append(1)
        return SignInResult(access_token=f"SESSION-TOKEN-{len(calls)}"), {}

    session = SignInSession("CONNECTOR", True, do_sign_in)
    stale = session.token()
    assert stale == "SESSION-TOKEN-1"
    assert session.refresh(stale) == "SESSION-TOKEN-2"
    assert session.refresh(stale) == "SESSION-TOKEN-2"  # a second thread that used the same dead token
    assert session.refresh("SESSION-TOKEN-2") == "SESSION-TOKEN-3"
    assert len(calls) == 3 and session.sign_ins == 3


def test_without_sign_in_the_session_never_signs_in():
    session = SignInSession("CONNECTOR-AS-ACCESS", False, lambda: pytest.fail("must not sign in"))
    assert session.token() == "CONNECTOR-AS-ACCESS" and not session.renewable


def test_times_are_sent_as_utc_text_and_naive_datetimes_are_refused(server, client):
    import datetime as dt

    server.reply = (200, {"Reservations": [], "ReservationGroups": []}, {})
    plus_two = dt.timezone(dt.timedelta(hours=2))
    client.get_all_reservations(dt.datetime(2024, 5, 1, 14, 0, tzinfo=plus_two),
                                dt.datetime(2024, 5, 2, 0, 0, 0, 250000, tzinfo=dt.timezone.utc), ["Confirmed"])
    body = server.received[-1][1]
    assert (body["StartUtc"], body["EndUtc"], body["States"]) == ("2024-05-01T12:00:00Z", "2024-05-02T00:00:00.250Z",
                                                                  ["Confirmed"])
    with pytest.raises(ValueError):
        client.get_all_reservations(dt.datetime(2024, 5, 1), "2024-05-02T00:00:00Z")
    assert len(server.received) == 1
