"""agent.urequests against real HTTP servers on loopback."""

import base64
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from agent import urequests


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def log_message(self, *args):
        pass

    def _reply(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if status != 204:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status != 204:
            self.wfile.write(body)

    def _route(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path
        with self.server.lock:
            self.server.requests.append((self.command, path, dict(self.headers), body))
        if path.startswith("/echo") or path == "/":
            out = {"method": self.command, "path": path, "headers": dict(self.headers),
                   "body": body.decode("latin-1")}
            self._reply(200, json.dumps(out).encode(), [("Content-Type", "application/json"),
                                                        ("X-Mixed-Case", "yes")])
        elif path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"hello ", b"chunked ", b"world" * 1000):
                self.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\nX-Trailer: t\r\n\r\n")
        elif path == "/latin1":
            self._reply(200, "caf\xe9".encode("latin-1"), [("Content-Type", "text/plain; charset=latin-1")])
        elif path == "/badutf8":
            self._reply(200, b"ok \xff end \xe2\x82", [("Content-Type", "text/plain")])
        elif path == "/big":
            self._reply(200, b"big!" * 50000)
        elif path == "/nocontent":
            self._reply(204, b"")
        elif path == "/bye":  # answers as if keeping the connection, then closes it while idle
            self._reply(200, b"bye")
            self.close_connection = True
        elif path == "/hangup":  # closes without answering
            self.close_connection = True
        elif path == "/slow":
            self.server.release.wait(10)
            self._reply(200, b"late")
        else:
            self._reply(404, b"no such page")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _route


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.lock = threading.Lock()
    httpd.connections = 0
    httpd.requests = []
    httpd.release = threading.Event()
    httpd.url = "http://127.0.0.1:%d" % httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield httpd
    httpd.release.set()
    httpd.shutdown()
    httpd.server_close()


def _raw_server(reply):
    """Serve one connection: read the request head, send ``reply`` verbatim, close."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        conn, _ = listener.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            conn.sendall(reply)
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    return "http://127.0.0.1:%d/" % listener.getsockname()[1]


def test_get_json_and_response_fields(server):
    with urequests.get(server.url + "/echo?a=1") as r:
        assert r.status_code == 200
        assert r.reason == "OK"
        assert r.ok
        data = r.json()
    assert data["method"] == "GET"
    assert data["path"] == "/echo?a=1"
    assert data["headers"]["Host"] == server.url[len("http://"):]
    assert r.headers["X-Mixed-Case"] == "yes"
    assert r.header("x-mixed-case") == "yes"
    assert r.header("content-type") == "application/json"
    assert r.header("X-Absent", "d") == "d"
    assert json.loads(r.text) == data
    assert r.raw.read() == r.content


def test_post_json_sets_type_and_length(server):
    payload = {"AccessToken": "t", "Ids": [1, 2], "Name": "Zo\u00eb"}
    r = urequests.post(server.url + "/echo", json=payload)
    method, _, headers, body = server.requests[-1]
    assert method == "POST"
    assert json.loads(body) == payload
    assert headers["Content-Type"] == "application/json"
    assert int(headers["Content-Length"]) == len(body)
    assert r.json()["method"] == "POST"


@pytest.mark.parametrize("data, sent", [(b"\x00raw\xff", b"\x00raw\xff"), ("t\u00e9xt", "t\u00e9xt".encode()),
                                        ({"a": "1 2", "b": "&"}, b"a=1+2&b=%26"), (None, b"")])
def test_post_data_forms(server, data, sent):
    urequests.post(server.url + "/echo", data=data)
    _, _, headers, body = server.requests[-1]
    assert body == sent
    assert headers["Content-Length"] == str(len(sent))


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_other_methods(server, method):
    r = getattr(urequests, method.lower())(server.url + "/echo", data=b"x")
    assert r.json()["method"] == method
    assert server.requests[-1][3] == b"x"


def test_custom_headers_and_basic_auth(server):
    r = urequests.get(server.url + "/echo", headers={"X-Api": "v1", "Accept": "application/json"},
                      auth=("user", "p\u00e4ss:word"))
    sent = r.json()["headers"]
    assert sent["X-Api"] == "v1"
    assert sent["Accept"] == "application/json"
    scheme, token = sent["Authorization"].split(" ")
    assert scheme == "Basic"
    assert base64.b64decode(token).decode() == "user:p\u00e4ss:word"


def test_credentials_in_url_become_basic_auth(server):
    url = server.url.replace("http://", "http://ann:s%40cret@") + "/echo"
    r = urequests.get(url)
    token = r.json()["headers"]["Authorization"].split(" ")[1]
    assert base64.b64decode(token) == b"ann:s@cret"
    assert r.url == server.url + "/echo"  # the password does not stay on the response


def test_module_level_request_closes_its_connection(server):
    for _ in range(3):
        assert urequests.get(server.url + "/echo").status_code == 200
    assert server.connections == 3
    assert all(h.get("Connection") == "close" for _, _, h, _ in server.requests)


def test_session_keeps_one_connection(server):
    with urequests.Session() as s:
        for i in range(5):
            r = s.post(server.url + "/echo", json={"i": i})
            assert r.json()["body"] == json.dumps({"i": i})
        assert s.get(server.url + "/missing").status_code == 404
        assert s.head(server.url + "/echo").content == b""
        assert s.get(server.url + "/chunked").content.startswith(b"hello chunked world")
        assert s.get(server.url + "/echo").status_code == 200
    assert server.connections == 1
    assert len(server.requests) == 9


def test_session_reconnects_after_server_closed_idle_connection(server):
    with urequests.Session() as s:
        assert s.get(server.url + "/bye").content == b"bye"
        r = s.post(server.url + "/echo", json={"after": "close"})
        assert r.json()["body"] == '{"after": "close"}'
    assert server.connections == 2
    assert [p for _, p, _, _ in server.requests] == ["/bye", "/echo"]


def test_session_retries_once_when_close_is_noticed_only_on_read(server, monkeypatch):
    # Without the idle check the request goes out on the dead socket: EOF or reset, then one retry.
    monkeypatch.setattr(urequests._Connection, "closed_by_peer", lambda self: False)
    with urequests.Session() as s:
        s.get(server.url + "/bye")
        server.requests.clear()
        assert s.post(server.url + "/echo", data=b"once").status_code == 200
    assert server.connections == 2
    assert [b for _, _, _, b in server.requests] == [b"once"]


def test_session_gives_up_after_one_retry(server):
    with urequests.Session() as s:
        s.get(server.url + "/echo")
        with pytest.raises(OSError):
            s.get(server.url + "/hangup")
    assert server.connections == 2  # the kept one, then exactly one fresh attempt


def test_fresh_connection_hangup_is_not_retried(server):
    with pytest.raises(OSError):
        urequests.get(server.url + "/hangup")
    assert server.connections == 1


def test_chunked_response(server):
    r = urequests.get(server.url + "/chunked")
    assert r.content == b"hello chunked " + b"world" * 1000
    assert r.header("transfer-encoding") == "chunked"


def test_content_length_response_and_charset(server):
    r = urequests.get(server.url + "/latin1")
    assert r.header("Content-Length") == "4"
    assert r.content == b"caf\xe9"
    assert r.text == "caf\xe9"


def test_head_and_204_have_no_body(server):
    with urequests.Session() as s:
        r = s.head(server.url + "/echo")
        assert r.status_code == 200
        assert int(r.header("Content-Length")) > 0
        assert r.content == b""
        assert s.delete(server.url + "/nocontent").status_code == 204
        assert s.get(server.url + "/echo").status_code == 200
    assert server.connections == 1


def test_timeout_raises_oserror(server):
    with urequests.Session(timeout=0.2) as s:
        with pytest.raises(OSError):
            s.get(server.url + "/slow")
    with pytest.raises(OSError):
        urequests.get(server.url + "/slow", timeout=0.2)


def test_per_request_timeout_overrides_session(server):
    with urequests.Session(timeout=30) as s:
        assert s.get(server.url + "/echo").status_code == 200
        with pytest.raises(OSError):
            s.get(server.url + "/slow", timeout=0.2)
        assert s.get(server.url + "/echo").status_code == 200  # a fresh connection after the timeout


def test_connection_refused_raises_oserror():
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(OSError):
        urequests.get("http://127.0.0.1:%d/" % port, timeout=2)
    with urequests.Session() as s, pytest.raises(OSError):
        s.get("http://127.0.0.1:%d/" % port)


def test_unknown_host_raises_oserror():
    with pytest.raises(OSError):
        urequests.get("http://no-such-host.invalid/", timeout=2)


def test_body_until_close_and_interim_response():
    url = _raw_server(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\nX-A: 1\r\nX-A: 2\r\n\r\nall of it")
    r = urequests.get(url)
    assert r.status_code == 200
    assert r.content == b"all of it"
    assert r.headers["X-A"] == "1, 2"


@pytest.mark.parametrize("reply", [
    b"SSH-2.0-OpenSSH\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
    b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Le",
])
def test_malformed_answers_raise_protocol_error(reply):
    with pytest.raises(urequests.ProtocolError) as e:
        urequests.get(_raw_server(reply), timeout=5)
    assert isinstance(e.value, OSError)


@pytest.mark.parametrize("url", ["ftp://h/", "no-scheme", "http:///path", "http://h:99999/", "http://h/a b"])
def test_bad_urls_raise_value_error(url):
    with pytest.raises(ValueError):
        urequests.get(url)


def test_header_injection_is_refused(server):
    with pytest.raises(ValueError):
        urequests.get(server.url + "/echo", headers={"X-A": "v\r\nX-Injected: 1"})
    assert server.requests == []


def test_url_parsing():
    split = urequests._split_url
    assert split("https://h.example") == ("https", "h.example", 443, "/", None)
    assert split("HTTP://h:8080/p?q=1#frag") == ("http", "h", 8080, "/p?q=1", None)
    assert split("http://h?q") == ("http", "h", 80, "/?q", None)
    assert split("http://[::1]:81/x") == ("http", "::1", 81, "/x", None)
    assert split("http://u:p@h/") == ("http", "h", 80, "/", ("u", "p"))


def test_session_opens_again_after_close_and_accepts_stream(server):
    s = urequests.Session()
    assert s.get(server.url + "/echo", stream=True).status_code == 200
    s.close()
    assert s.request("get", server.url + "/echo").json()["method"] == "GET"
    s.close()
    assert server.connections == 2
