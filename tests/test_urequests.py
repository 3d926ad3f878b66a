"""agent.urequests on CPython only: the loopback servers, plus what tests/test_urequests_both.py does not run on MicroPython."""

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


def test_fresh_connection_hangup_is_not_retried(server):
    with pytest.raises(OSError):
        urequests.get(server.url + "/hangup")
    assert server.connections == 1


def test_head_and_204_have_no_body(server):
    with urequests.Session() as s:
        r = s.head(server.url + "/echo")
        assert r.status_code == 200
        assert int(r.header("Content-Length")) > 0
        assert r.content == b""
        assert s.delete(server.url + "/nocontent").status_code == 204
        assert s.get(server.url + "/echo").status_code == 200
    assert server.connections == 1


def test_per_request_timeout_overrides_session(server):
    with urequests.Session(timeout=30) as s:
        assert s.get(server.url + "/echo").status_code == 200
        with pytest.raises(OSError):
            s.get(server.url + "/slow", timeout=0.2)
        assert s.get(server.url + "/echo").status_code == 200  # a fresh connection after the timeout


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
