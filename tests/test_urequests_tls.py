"""agent.urequests over TLS: a CA made in the test, verified by default."""

import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from agent import urequests

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


def _openssl(*args, cwd):
    subprocess.run(("openssl",) + args, cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A private CA plus two server certificates: one for 127.0.0.1/localhost, one for another name."""
    d = tmp_path_factory.mktemp("pki")
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=kiosk-agent test CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    for name, san in (("good", "DNS:localhost,IP:127.0.0.1"), ("wrong", "DNS:other.example")):
        (d / (name + ".ext")).write_text(
            "subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
            "extendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid\n" % san)
        _openssl("req", *ec, "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name, cwd=d)
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-days", "2", "-extfile", name + ".ext", "-out", name + ".pem", cwd=d)
    return d


class _Handler(BaseHTTPRequestHandler):
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


def _serve(pki, cert):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(pki / (cert + ".pem")), str(pki / (cert + ".key")))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.connections = 0
    # Handshake in the handler thread, so a client that rejects us cannot stall the accept loop.
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
    httpd.url = "https://127.0.0.1:%d/" % httpd.server_address[1]
    threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True).start()
    return httpd


@pytest.fixture
def good(pki):
    httpd = _serve(pki, "good")
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def wrong(pki):
    httpd = _serve(pki, "wrong")
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_private_ca_accepted_with_ca_file(pki, good):
    with urequests.Session(ca_file=str(pki / "ca.pem"), timeout=5) as s:
        for _ in range(3):
            assert s.get(good.url).json() == {"secure": True}
    assert good.connections == 1  # keep-alive over TLS too
    assert urequests.get(good.url, ca_file=str(pki / "ca.pem"), timeout=5).status_code == 200


def test_unknown_ca_refused_by_default(good):
    with pytest.raises(ssl.SSLCertVerificationError) as e:
        urequests.get(good.url, timeout=5)
    assert isinstance(e.value, OSError)
    with urequests.Session(timeout=5) as s, pytest.raises(OSError):
        s.get(good.url)


def test_hostname_mismatch_refused(pki, wrong):
    with urequests.Session(ca_file=str(pki / "ca.pem"), timeout=5) as s:
        with pytest.raises(ssl.SSLCertVerificationError) as e:
            s.get(wrong.url)
    assert "mismatch" in str(e.value) or "match" in str(e.value)


def test_verify_false_accepts_anything(wrong):
    with urequests.Session(verify=False, timeout=5) as s:
        assert s.get(wrong.url).json() == {"secure": True}
    assert urequests.get(wrong.url, verify=False, timeout=5).json() == {"secure": True}


def test_requests_style_verify_path(pki, good):
    with urequests.Session(verify=str(pki / "ca.pem"), timeout=5) as s:
        assert s.get(good.url).status_code == 200


def test_plain_http_to_tls_port_is_an_oserror(good):
    with pytest.raises(OSError):
        urequests.get(good.url.replace("https://", "http://"), timeout=5)
