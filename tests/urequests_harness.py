"""Shared loopback servers for the urequests tests: an echo server, a one-shot raw server, a private CA and a TLS server."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def openssl(*args, cwd):
    subprocess.run(("openssl",) + args, cwd=cwd, check=True, capture_output=True, timeout=60)


class TlsHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.server.connections += 1

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = b'{"secure": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve_tls(pki, cert):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(pki / (cert + ".pem")), str(pki / (cert + ".key")))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), TlsHandler)
    httpd.daemon_threads = True
    httpd.connections = 0
    # Handshake in the handler thread, so a client that rejects us cannot stall the accept loop.
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
    httpd.url = "https://127.0.0.1:%d/" % httpd.server_address[1]
    threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True).start()
    return httpd


class EchoHandler(BaseHTTPRequestHandler):
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


def raw_server(reply):
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


@contextlib.contextmanager
def echo_server():
    """The loopback HTTP/1.1 server most cases talk to (``.url``, ``.requests``, ``.connections``)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    httpd.daemon_threads = True
    httpd.lock = threading.Lock()
    httpd.connections = 0
    httpd.requests = []
    httpd.release = threading.Event()
    httpd.url = "http://127.0.0.1:%d" % httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.release.set()
        httpd.shutdown()
        httpd.server_close()


def make_pki(d):
    """A private CA plus two server certificates in folder ``d``: one for 127.0.0.1/localhost, one for another name."""
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=kiosk-agent test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    for name, san in (("good", "DNS:localhost,IP:127.0.0.1"), ("wrong", "DNS:other.example")):
        (d / (name + ".ext")).write_text(
            "subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
            "extendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid\n" % san)
        openssl("req", *ec, "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name, cwd=d)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", name + ".ext", "-out", name + ".pem", cwd=d)
    return d
