"""Who may drive the kiosk API (issue 21 items 9, 10): Host, Origin, Content-Type, the screen token,
security headers on every answer, 413 for big bodies, and the staff-call limit.

Every request goes over loopback to a running KioskService, most of them as raw HTTP/1.1 so
the test controls every header (a browser or a hostile page would send exactly these bytes).
"""

from __future__ import annotations

import json
import socket

import pytest

from tests.kiosk_harness import Rig

TOKEN = "screen-token-0123456789abcdef"


def _service(tmp_path, extra=""):
    rig = Rig(tmp_path, kiosk_extra=extra)
    svc = rig.service()
    svc.start()
    return rig, svc


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    rig, svc = _service(tmp_path_factory.mktemp("perimeter"))
    yield rig, svc
    svc.stop()
    rig.close()


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    rig, svc = _service(tmp_path_factory.mktemp("screen-token"), f'screen_token = "{TOKEN}"')
    yield rig, svc
    svc.stop()
    rig.close()


class Answer:
    def __init__(self, raw: bytes):
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()

    def json(self):
        return json.loads(self.body) if self.body.strip() else None


def exchange(svc, method, path, body=b"", headers=None, *, host="default", timeout=5.0) -> Answer:
    """One request on a fresh connection (Connection: close); the whole answer."""
    port = int(svc.address[1])
    lines = [f"{method} {path} HTTP/1.1"]
    if host == "default":
        host = f"127.0.0.1:{port}"
    if host is not None:
        lines.append(f"Host: {host}")
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    framed = {name.lower() for name in headers or {}} & {"content-length", "transfer-encoding"}
    if (body or method in ("POST", "PUT", "PATCH")) and not framed:
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(raw)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return Answer(b"".join(chunks))


JSON = {"Content-Type": "application/json"}


def post_json(svc, path, value, headers=None, **kw):
    return exchange(svc, "POST", path, json.dumps(value).encode(), {**JSON, **(headers or {})}, **kw)


def open_session(svc, headers=None) -> str:
    answer = post_json(svc, "/api/sessions", {"flow": "check-in"}, headers)
    assert answer.status == 201, answer.body
    return answer.json()["session"]


def alive(svc, sid, headers=None) -> bool:
    return exchange(svc, "GET", f"/api/sessions/{sid}", headers=headers).status == 200


def refused(answer, status):
    assert answer.status == status, (answer.status, answer.body)
    assert answer.headers["content-type"].startswith("application/json")
    error = answer.json()["error"]
    assert isinstance(error["id"], str) and error["id"].startswith("error.") and error["params"] == {}
    return error["id"]


# ---- item 9: cross-site requests ------------------------------------------------------

def test_a_cross_origin_text_plain_post_cannot_end_a_guest_session(kiosk):
    _, svc = kiosk
    sid = open_session(svc)
    # what any web page can send without a CORS preflight: a "simple" cross-origin POST
    attack = exchange(svc, "POST", "/api/sessions", b'{"flow": "check-out"}',
                      {"Content-Type": "text/plain;charset=UTF-8", "Origin": "http://evil.example"})
    refused(attack, 403)
    assert alive(svc, sid), "the guest's session was wiped by a cross-origin POST"
    # the same body as a form post, and with no Content-Type at all
    for ctype in ("application/x-www-form-urlencoded", None):
        headers = {"Content-Type": ctype} if ctype else {}
        refused(exchange(svc, "POST", "/api/sessions", b'{"flow": "check-out"}', headers), 403)
    # JSON from another origin (a browser would preflight it; a script need not)
    refused(post_json(svc, "/api/sessions", {"flow": "check-out"}, {"Origin": "http://evil.example"}), 403)
    refused(post_json(svc, "/api/sessions", {"flow": "check-out"}, {"Origin": "null"}), 403)
    refused(exchange(svc, "DELETE", f"/api/sessions/{sid}", headers={"Origin": "http://evil.example"}), 403)
    assert alive(svc, sid)
    # the screen's own requests still work: same origin, JSON, and DELETE without a body
    origin = {"Origin": f"http://127.0.0.1:{int(svc.address[1])}"}
    ok = exchange(svc, "POST", f"/api/sessions/{sid}/input", b'{"action": "find", "number": "", "last_name": ""}',
                  {"Content-Type": "application/json; charset=utf-8", **origin})
    assert ok.status == 200, ok.body
    assert exchange(svc, "DELETE", f"/api/sessions/{sid}", headers=origin).status == 204


def test_a_host_other_than_the_kiosk_is_refused(kiosk):
    """DNS rebinding: evil.example resolves to 127.0.0.1, the browser sends Host: evil.example:PORT."""
    _, svc = kiosk
    port = int(svc.address[1])
    sid = open_session(svc)
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1:{port + 1}", f"localhost.evil.example:{port}"):
        assert refused(exchange(svc, "GET", "/api/config", host=host), 421) == "error.forbidden"
        refused(post_json(svc, "/api/sessions", {"flow": "check-out"}, host=host,
                          headers={"Origin": f"http://{host}"}), 421)
        refused(exchange(svc, "GET", "/", host=host), 421)
    refused(exchange(svc, "GET", "/api/config", host=None), 421)  # no Host at all
    assert alive(svc, sid)
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", f"[::1]:{port}"):
        assert exchange(svc, "GET", "/api/config", host=host).status == 200, host
    exchange(svc, "DELETE", f"/api/sessions/{sid}")


def test_every_answer_carries_the_security_headers(kiosk):
    _, svc = kiosk
    port = int(svc.address[1])
    answers = {
        "index": exchange(svc, "GET", "/"),
        "static": exchange(svc, "GET", "/static/app.css"),
        "font": exchange(svc, "GET", "/static/fonts/DejaVuSans.woff2"),
        "config": exchange(svc, "GET", "/api/config"),
        "not found": exchange(svc, "GET", "/api/nothing-here"),
        "refused": exchange(svc, "POST", "/api/sessions", b"x", {"Content-Type": "text/plain"}),
        "wrong host": exchange(svc, "GET", "/", host=f"evil.example:{port}"),
        "bad request": exchange(svc, "GET", "/ HTTP/1.1 junk"),
        "too large": exchange(svc, "POST", "/api/sessions", b"", {**JSON, "Content-Length": "999999"}),
    }
    assert answers["index"].status == 200 and answers["static"].status == 200
    for name, answer in answers.items():
        h = answer.headers
        csp = h.get("content-security-policy", "")
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, (name, h)
        assert h.get("x-content-type-options") == "nosniff", name
        assert h.get("referrer-policy") == "no-referrer", name
        assert h.get("x-frame-options") == "DENY", name
    # what index.html's own meta CSP allows keeps working under the header's policy
    csp = answers["index"].headers["content-security-policy"]
    assert "style-src 'self' 'unsafe-inline'" in csp and "img-src 'self' data:" in csp


# ---- item 10: body size ----------------------------------------------------------------

def test_a_body_over_64kb_is_refused_before_it_is_read(kiosk):
    _, svc = kiosk
    # headers only: the server answers 413 without waiting for the 65537 bytes announced
    answer = exchange(svc, "POST", "/api/sessions", b"", {**JSON, "Content-Length": "65537"}, timeout=3.0)
    assert refused(answer, 413) == "error.too_large"
    # a chunked body does not get round it: refused once it passes 64 KB
    chunk = b" " * 8192
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(9)) + b"0\r\n\r\n"
    answer = exchange(svc, "POST", "/api/sessions", body, {**JSON, "Transfer-Encoding": "chunked"}, timeout=3.0)
    refused(answer, 413)
    # 64 KB exactly is still read (and answered on its merits)
    padded = b'{"flow": "dance"}'.ljust(65536)
    assert refused(exchange(svc, "POST", "/api/sessions", padded, JSON), 400) == "error.bad_request"


# ---- item 9: the screen token ------------------------------------------------------------

def test_with_a_screen_token_every_api_call_must_present_it(guarded):
    _, svc = guarded
    screen = {"X-Kiosk-Screen": TOKEN}
    for headers in ({}, {"X-Kiosk-Screen": "wrong"}, {"X-Kiosk-Screen": TOKEN[:-1]}, {"X-Kiosk-Screen": ""}):
        refused(exchange(svc, "GET", "/api/config", headers=headers), 403)
        refused(post_json(svc, "/api/sessions", {"flow": "check-in"}, headers), 403)
    assert exchange(svc, "GET", "/api/config", headers=screen).status == 200
    sid = open_session(svc, screen)
    assert not alive(svc, sid) and alive(svc, sid, screen)
    # the page itself loads without it: the page's script presents the token it was opened with
    assert exchange(svc, "GET", "/").status == 200
    assert exchange(svc, "GET", "/static/js/app.js").status == 200
    assert exchange(svc, "DELETE", f"/api/sessions/{sid}", headers=screen).status == 204


# ---- item 10: call staff -------------------------------------------------------------------

def test_call_staff_raises_one_task_per_session_and_per_two_minutes(kiosk):
    rig, svc = kiosk
    # the only test in this module that calls staff: the two-minute window starts here
    before = len(rig.ent.tasks)
    sid = open_session(svc)
    for _ in range(5):
        answer = post_json(svc, f"/api/sessions/{sid}/staff", {})
        assert answer.status == 200 and answer.json()["message"]["id"] == "staff.called"
    assert len(rig.ent.tasks) == before + 1
    # a new session within 2 minutes: the guest is told staff are called, no second task
    sid = open_session(svc)
    assert post_json(svc, f"/api/sessions/{sid}/staff", {}).json()["message"]["id"] == "staff.called"
    assert len(rig.ent.tasks) == before + 1
    exchange(svc, "DELETE", f"/api/sessions/{sid}")


def test_staff_call_limit_opens_again_after_two_minutes():
    from agent.kiosk.context import StaffCallLimit

    now = [1000.0]
    limit = StaffCallLimit(clock=lambda: now[0])
    assert limit.allow("a") and not limit.allow("a") and not limit.allow("b")
    now[0] += 119.0
    assert not limit.allow("b")
    now[0] += 2.0
    assert limit.allow("b") and not limit.allow("b")
    now[0] += 500.0
    assert not limit.allow("b"), "one task per session, however long it lasts"
    assert limit.allow("c")


def test_the_page_opened_with_the_token_drives_the_api_and_drops_it_from_its_address(guarded):
    from tests.kiosk_ui_browser import chromium, close, wait_ready

    rig, svc = guarded
    driver = chromium()
    try:
        driver.get(svc.url + f"/#screen={TOKEN}")
        wait_ready(driver)
        assert driver.current_url == svc.url + "/"
        assert TOKEN not in driver.execute_script("return String(history.state) + location.href")
        # the hotel name comes from /api/config: the page got it with the token
        assert "Kiosk Demo Hotel" in driver.find_element("id", "hotel").text
        driver.execute_script("document.getElementById('start-check-in').click()")
        from selenium.webdriver.support.ui import WebDriverWait
        WebDriverWait(driver, 10).until(lambda d: d.execute_script(
            "return document.getElementById('screen').dataset.screen") == "find")
        sid = driver.execute_script("return window.kiosk.state().session")
        assert alive(svc, sid, {"X-Kiosk-Screen": TOKEN})
        driver.execute_script("document.getElementById('staff').click()")  # a bare POST: sent as {} JSON
        WebDriverWait(driver, 10).until(lambda d: d.execute_script(
            "return (window.kiosk.state() || {}).message.id") == "staff.called")
    finally:
        close(driver)
