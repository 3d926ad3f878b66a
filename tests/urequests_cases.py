"""Public-API cases for agent/net/urequests.py that run on CPython and on real MicroPython.

Written in what both interpreters have.  pytest calls a case in-process (CPython) or runs
``micropython urequests_cases.py CASE JSON-ENV`` with the shim copied onto MICROPYPATH;
the case's return value (plain JSON) comes back to pytest, which checks it and the
server's side of the exchange.
"""

import sys

try:
    from agent.net import urequests
except ImportError:  # MicroPython runs this file with the shim alone on MICROPYPATH
    if sys.implementation.name != "micropython":
        raise  # on CPython it is our own package: its ImportError must fail, never hide
    import urequests


def _kind(e):
    """An exception as a name both interpreters agree on."""
    import errno

    if isinstance(e, urequests.ProtocolError):
        return "ProtocolError"
    if isinstance(e, OSError) and (e.errno == errno.ETIMEDOUT or type(e).__name__ == "TimeoutError"):
        return "timeout"
    if isinstance(e, OSError):
        return "OSError"
    if isinstance(e, ValueError):
        return "ValueError"
    return type(e).__name__


def _fails(fn, *args, **kw):
    try:
        fn(*args, **kw)
    except Exception as e:  # noqa: BLE001 - the kind is the result
        return _kind(e)
    return "no error"


def get_json(env):
    r = urequests.get(env["url"] + "/echo?a=1")
    data = r.json()
    return [r.status_code, r.reason, r.ok, data["method"], data["path"], data["headers"]["Host"],
            r.headers["X-Mixed-Case"], r.header("x-mixed-case"), r.header("X-Absent", "d"),
            r.raw.read() == r.content]


def post_json(env):
    r = urequests.post(env["url"] + "/echo", json={"AccessToken": "t", "Ids": [1, 2], "Name": "Zo\u00eb"})
    return r.json()["method"]


def post_data(env):
    class File:
        def read(self):
            return "from a file"
    u = env["url"] + "/echo"
    for data in (b"\x00raw\xff", "t\u00e9xt", {"a": "1 2", "b": "&"}, None, File()):
        urequests.post(u, data=data)


def methods(env):
    return [urequests.put(env["url"] + "/echo", data=b"x").json()["method"],
            urequests.patch(env["url"] + "/echo", data=b"x").json()["method"],
            urequests.delete(env["url"] + "/echo", data=b"x").json()["method"]]


def headers_and_auth(env):
    r = urequests.get(env["url"] + "/echo", headers={"X-Api": "v1", "X-Latin": b"caf\xe9"},
                      auth=("user", "p\u00e4ss:word"))
    return r.json()["headers"]


def url_credentials(env):
    url = env["url"].replace("http://", "http://ann:s%40cret@") + "/echo"
    r = urequests.get(url)
    return [r.json()["headers"]["Authorization"], r.url]


def module_request_closes(env):
    return [urequests.get(env["url"] + "/echo").status_code for _ in range(3)]


def session_keep_alive(env):
    u = env["url"]
    s = urequests.Session()
    out = [s.post(u + "/echo", json={"i": i}).status_code for i in range(5)]
    out.append(s.get(u + "/missing").status_code)
    out.append(s.head(u + "/echo").content)
    out.append(s.get(u + "/chunked").content[:19])
    out.append(s.delete(u + "/nocontent").status_code)
    s.close()
    return [x.decode() if isinstance(x, bytes) else x for x in out]


def session_reconnects(env):
    s = urequests.Session()
    first = s.get(env["url"] + "/bye").content
    second = s.post(env["url"] + "/echo", json={"after": "close"}).json()["method"]
    s.close()
    return [first.decode(), second]


def session_retries_once(env):
    saved = urequests._Connection.closed_by_peer
    urequests._Connection.closed_by_peer = lambda self: False
    try:
        s = urequests.Session()
        s.get(env["url"] + "/bye")
        code = s.post(env["url"] + "/echo", data=b"once").status_code
        s.close()
    finally:
        urequests._Connection.closed_by_peer = saved
    return code


def session_gives_up(env):
    s = urequests.Session()
    s.get(env["url"] + "/echo")
    kind = _fails(s.get, env["url"] + "/hangup")
    s.close()
    return [kind, _fails(urequests.get, env["url"] + "/hangup")]


def bodies(env):
    u = env["url"]
    chunked = urequests.get(u + "/chunked")
    latin = urequests.get(u + "/latin1")
    bad = urequests.get(u + "/badutf8")
    big = urequests.get(u + "/big")
    return [chunked.content == b"hello chunked " + b"world" * 1000, latin.text, bad.text,
            len(big.content), big.content[:4].decode(), latin.status_code]


def timeouts(env):
    s = urequests.Session(timeout=30)
    out = [s.get(env["url"] + "/echo").status_code, _fails(s.get, env["url"] + "/slow", timeout=0.2),
           s.get(env["url"] + "/echo").status_code]
    s.close()
    out.append(_fails(urequests.get, env["url"] + "/slow", timeout=0.2))
    return out


def trickle(env):
    return _fails(urequests.get, env["url"], timeout=1)


def refused_and_unknown(env):
    return [_fails(urequests.get, env["url"], timeout=2),
            _fails(urequests.get, "http://no-such-host.invalid/", timeout=2)]


def raw_answer(env):
    try:
        r = urequests.get(env["url"], timeout=5)
    except Exception as e:  # noqa: BLE001
        return _kind(e)
    return [r.status_code, r.content.decode(), r.headers]


def bad_input(env):
    out = [_fails(urequests.get, u) for u in ("ftp://h/", "no-scheme", "http:///path", "http://h:99999/",
                                             "http://h/a b")]
    out.append(_fails(urequests.get, env["url"] + "/echo", headers={"X-A": "v\r\nX-Injected: 1"}))
    return out


def tls(env):
    u = env["url"]
    s = urequests.Session(ca_file=env["ca"], timeout=5)
    out = [s.get(u).json() for _ in range(3)]
    s.close()
    out.append(urequests.get(u, ca_file=env["ca"], timeout=5).status_code)
    out.append(_fails(urequests.get, u, timeout=5))  # default verification: our CA is unknown
    out.append(urequests.get(u, verify=False, timeout=5).status_code)
    out.append(_fails(urequests.get, u.replace("https://", "http://"), timeout=5))
    return out


def tls_wrong_name(env):
    return [_fails(urequests.get, env["url"], ca_file=env["ca"], timeout=5),
            urequests.get(env["url"], verify=False, timeout=5).status_code]


if __name__ == "__main__":
    import json

    result = globals()[sys.argv[1]](json.loads(sys.argv[2]))
    print("RESULT " + json.dumps(result))
