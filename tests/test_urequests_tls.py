"""agent.net.urequests over TLS: a CA made in the test, verified by default."""

import shutil
import ssl

import pytest

from agent.net import urequests
from tests.urequests_harness import make_pki, serve_tls

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def good(pki):
    httpd = serve_tls(pki, "good")
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def wrong(pki):
    httpd = serve_tls(pki, "wrong")
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
