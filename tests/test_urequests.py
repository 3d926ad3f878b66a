"""agent.net.urequests on CPython only: what tests/test_urequests_both.py does not run on MicroPython (servers: urequests_harness)."""

import pytest

from agent.net import urequests
from tests.urequests_harness import echo_server


@pytest.fixture
def server():
    with echo_server() as httpd:
        yield httpd


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
