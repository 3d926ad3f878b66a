"""MicroPython ``urequests`` API on CPython, plus a keep-alive ``Session`` and verified TLS.

Standard library only, and written in the MicroPython language subset (no
f-strings, annotations, walrus, ``match`` or dataclasses) so the same file
compiles there; tests/test_urequests_subset.py guards that.  Network errors are
``OSError`` (refused, reset, timeout, DNS, TLS); a malformed answer is
``ProtocolError``, an ``OSError`` too.  ``ssl`` and ``json`` load only when used.
One file on purpose: it is copied to a board as it is.
"""

import socket

_MAX_LINE = 65536
_MAX_HEADERS = 200
_NO_BODY_STATUS = (204, 304)
_BODY_METHODS = ("POST", "PUT", "PATCH")
_contexts = {}


class ProtocolError(OSError):
    """The server's answer is not valid HTTP/1.x."""


class Response:
    """A finished HTTP exchange; the body is read completely before it is returned."""

    def __init__(self, status_code, reason, headers, content, url=""):
        self.status_code = status_code
        self.reason = reason
        self.headers = headers
        self.content = content
        self.url = url
        self.encoding = "utf-8"

    @property
    def ok(self):
        return self.status_code < 400

    @property
    def text(self):
        return self.content.decode(self.encoding, "replace")

    @property
    def raw(self):
        """The body as a file object (MicroPython code reads ``raw``)."""
        import io

        return io.BytesIO(self.content)

    def json(self):
        """The body parsed as JSON; ValueError when it is not JSON."""
        import json

        return json.loads(self.content)

    def header(self, name, default=None):
        """Case-insensitive header lookup."""
        value = self.headers.get(name)
        if value is not None:
            return value
        name = name.lower()
        for key in self.headers:
            if key.lower() == name:
                return self.headers[key]
        return default

    def close(self):
        """Nothing to release: the body is already read and the socket is back with its owner."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "<Response [%d]>" % self.status_code


def _tls_context(verify, ca_file):
    """A cached SSLContext: loading the system CA store costs milliseconds."""
    key = (bool(verify), ca_file or None)
    ctx = _contexts.get(key)
    if ctx is None:
        import ssl

        if verify:
            ctx = ssl.create_default_context()
            if ca_file:
                ctx.load_verify_locations(cafile=ca_file)
        else:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        _contexts[key] = ctx
    return ctx


def _split_url(url):
    """``scheme://[user:pw@]host[:port]/path?q`` -> (scheme, host, port, target, auth)."""
    try:
        scheme, rest = url.split("://", 1)
    except ValueError:
        raise ValueError("URL needs a scheme (http:// or https://)")
    scheme = scheme.lower()
    if scheme == "http":
        port = 80
    elif scheme == "https":
        port = 443
    else:
        raise ValueError("unsupported protocol: " + scheme)
    rest = rest.split("#", 1)[0]
    cut = len(rest)
    for sep in "/?":
        i = rest.find(sep)
        if 0 <= i < cut:
            cut = i
    netloc, target = rest[:cut], rest[cut:]
    if not target.startswith("/"):
        target = "/" + target
    auth = None
    if "@" in netloc:
        userinfo, netloc = netloc.rsplit("@", 1)
        user, _, password = userinfo.partition(":")
        auth = (_unquote(user), _unquote(password))
    if netloc.startswith("["):  # IPv6 literal
        end = netloc.find("]")
        host, tail = netloc[1:end], netloc[end + 1:]
        if end < 0 or (tail and not tail.startswith(":")):
            raise ValueError("bad IPv6 address in URL")
        if tail[1:]:
            port = _port(tail[1:])
    else:
        host, colon, p = netloc.partition(":")
        if colon and p:
            port = _port(p)
    if not host:
        raise ValueError("URL has no host")
    for ch in target:
        if ch <= " " or ch == "\x7f":
            raise ValueError("URL path contains whitespace or control characters")
    return scheme, host, port, target, auth


def _without_credentials(url):
    """The URL minus ``user:password@``, so that a logged ``resp.url`` leaks nothing."""
    scheme, rest = url.split("://", 1)
    cut = len(rest)
    for sep in "/?#":
        i = rest.find(sep)
        if 0 <= i < cut:
            cut = i
    return scheme + "://" + rest[:cut].rsplit("@", 1)[-1] + rest[cut:]


def _port(text):
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError("bad port in URL: " + text[:20])
    return int(text)


def _unquote(text):
    if "%" not in text:
        return text
    from urllib.parse import unquote

    return unquote(text)


def _body(data, json):
    """Request body bytes and the Content-Type it implies (or None)."""
    if json is not None:
        import json as jsonlib

        return jsonlib.dumps(json).encode(), "application/json"
    if data is None:
        return b"", None
    if isinstance(data, str):
        return data.encode("utf-8"), None
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data), None
    if isinstance(data, dict):
        from urllib.parse import urlencode

        return urlencode(data).encode(), "application/x-www-form-urlencoded"
    if hasattr(data, "read"):
        chunk = data.read()
        return (chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)), None
    raise TypeError("data must be bytes, str, dict or a readable file, not " + type(data).__name__)


def _basic(auth):
    import binascii

    user, password = auth
    raw = (str(user) + ":" + str(password)).encode("utf-8")
    return "Basic " + binascii.b2a_base64(raw)[:-1].decode()


def _request_bytes(method, scheme, host, port, target, data, json, headers, auth, close):
    """The request head and body, ready for one sendall()."""
    body, ctype = _body(data, json)
    given = ()
    extra = ""
    if headers:
        given = set()
        for key in headers:
            value = headers[key]
            if isinstance(value, bytes):
                value = value.decode("latin-1")
            else:
                value = str(value)
            if "\r" in key or "\n" in key or ":" in key or "\r" in value or "\n" in value:
                raise ValueError("header %r: names and values must not contain CR, LF (or ':' in names)" % key)
            given.add(key.lower())
            extra += key + ": " + value + "\r\n"
    head = method + " " + target + " HTTP/1.1\r\n"
    if "host" not in given:
        if ":" in host:
            hostport = "[" + host + "]"
        else:
            hostport = host
        if port != (443 if scheme == "https" else 80):
            hostport += ":" + str(port)
        head += "Host: " + hostport + "\r\n"
    head += extra
    if (body or method in _BODY_METHODS) and "content-length" not in given:
        head += "Content-Length: " + str(len(body)) + "\r\n"
    if ctype and "content-type" not in given:
        head += "Content-Type: " + ctype + "\r\n"
    if auth and "authorization" not in given:
        head += "Authorization: " + _basic(auth) + "\r\n"
    if close and "connection" not in given:
        head += "Connection: close\r\n"
    return (head + "\r\n").encode("latin-1") + body


class _Connection:
    """One socket to one (scheme, host, port), reused across requests."""

    def __init__(self, host, port, context):
        self.host = host
        self.port = port
        self.context = context
        self.sock = None
        self.rfile = None
        self.timeout = None
        self.dropped_errors = ConnectionError

    def open(self, timeout):
        sock = socket.create_connection((self.host, self.port), timeout)
        try:
            # Requests go out in one write; never wait for an ACK before sending the next.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.context is not None:
                import ssl

                sock = self.context.wrap_socket(sock, server_hostname=self.host)
                self.dropped_errors = (ConnectionError, ssl.SSLEOFError, ssl.SSLZeroReturnError)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self.rfile = sock.makefile("rb")
        self.timeout = timeout

    def closed_by_peer(self):
        """True when an idle connection became readable: the server sent FIN (or junk)."""
        import select

        try:
            return bool(select.select([self.sock], [], [], 0)[0])
        except (OSError, ValueError):
            return True

    def close(self):
        if self.sock is not None:
            try:
                self.rfile.close()
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.rfile = None


def _read_line(rfile):
    line = rfile.readline(_MAX_LINE + 1)
    if len(line) > _MAX_LINE:
        raise ProtocolError("response line longer than %d bytes" % _MAX_LINE)
    return line


def _parse_status(line):
    """b'HTTP/1.1 200 OK' -> (version, status, reason)."""
    parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit() or len(parts[1]) != 3:
        raise ProtocolError("not an HTTP status line: %r" % line[:80])
    return parts[0], int(parts[1]), (parts[2] if len(parts) > 2 else "")


def _read_headers(rfile):
    """Header lines until the blank one -> dict with keys as received."""
    headers = {}
    last = None
    for _ in range(_MAX_HEADERS):
        line = _read_line(rfile)
        if line in (b"\r\n", b"\n"):
            return headers
        if not line:
            raise ProtocolError("connection closed inside the response headers")
        text = line.decode("latin-1").rstrip("\r\n")
        if text[:1] in (" ", "\t") and last is not None:  # obsolete folded continuation
            headers[last] += " " + text.strip()
            continue
        name, colon, value = text.partition(":")
        if not colon:
            raise ProtocolError("bad header line: %r" % line[:80])
        name = name.strip()
        value = value.strip()
        if name in headers:
            headers[name] += ", " + value
        else:
            headers[name] = value
        last = name
    raise ProtocolError("more than %d response headers" % _MAX_HEADERS)


def _read_exact(rfile, n):
    data = rfile.read(n)
    if len(data) < n:
        raise ProtocolError("connection closed after %d of %d body bytes" % (len(data), n))
    return data


def _read_chunked(rfile):
    parts = []
    while True:
        line = _read_line(rfile)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise ProtocolError("bad chunk size line: %r" % line[:40])
        if size < 0:
            raise ProtocolError("negative chunk size")
        if size == 0:
            break
        parts.append(_read_exact(rfile, size))
        if _read_line(rfile) not in (b"\r\n", b"\n"):
            raise ProtocolError("chunk not followed by CRLF")
    for _ in range(_MAX_HEADERS):  # trailers, dropped
        if _read_line(rfile) in (b"\r\n", b"\n", b""):
            return b"".join(parts)
    raise ProtocolError("too many trailer lines")


def _read_response(rfile, first_line, method):
    """Status, headers and whole body -> (Response, keep_alive)."""
    line = first_line
    while True:
        version, status, reason = _parse_status(line)
        headers = _read_headers(rfile)
        if status >= 200 or status == 101:
            break
        line = _read_line(rfile)  # 1xx interim answer: the real one follows
        if not line:
            raise ProtocolError("connection closed after an interim response")
    length = None
    chunked = False
    conn_tokens = ""
    for key in headers:
        low = key.lower()
        if low == "content-length":
            values = set(v.strip() for v in headers[key].split(","))
            value = values.pop()
            if values or not value.isdigit():
                raise ProtocolError("bad Content-Length: %r" % headers[key][:40])
            length = int(value)
        elif low == "transfer-encoding":
            chunked = headers[key].lower().rstrip().endswith("chunked")
        elif low == "connection":
            conn_tokens = headers[key].lower()
    if version == "HTTP/1.0":
        keep = "keep-alive" in conn_tokens
    else:
        keep = "close" not in conn_tokens
    if method == "HEAD" or status in _NO_BODY_STATUS or status < 200:
        content = b""
    elif chunked:
        content = _read_chunked(rfile)
    elif length is not None:
        content = _read_exact(rfile, length)
    else:  # body runs until the server closes
        content = rfile.read()
        keep = False
    resp = Response(status, reason, headers, content)
    ctype = resp.header("Content-Type")
    if ctype and "charset=" in ctype:
        resp.encoding = ctype.split("charset=", 1)[1].split(";", 1)[0].strip().strip('"') or "utf-8"
    return resp, keep


class Session:
    """Keeps one HTTP/1.1 keep-alive connection per (scheme, host, port); not thread-safe."""

    def __init__(self, verify=True, ca_file=None, timeout=None):
        if isinstance(verify, str):  # requests-style verify="/path/ca.pem"
            verify, ca_file = True, verify
        self.verify = verify
        self.ca_file = ca_file
        self.timeout = timeout
        self._conns = {}
        self._close_after = False

    def request(self, method, url, data=None, json=None, headers=None, timeout=None, auth=None, stream=None):
        """Send one request, reusing the host's connection; returns a Response with the body read."""
        method = method.upper()
        scheme, host, port, target, url_auth = _split_url(url)
        payload = _request_bytes(method, scheme, host, port, target, data, json, headers,
                                 auth or url_auth, self._close_after)
        key = (scheme, host, port)
        conn = self._conns.get(key)
        if conn is None:
            context = _tls_context(self.verify, self.ca_file) if scheme == "https" else None
            conn = _Connection(host, port, context)
            self._conns[key] = conn
        if timeout is None:
            timeout = self.timeout
        retried = False
        while True:
            reused = conn.sock is not None
            if reused and conn.closed_by_peer():
                conn.close()
                reused = False
            if conn.sock is None:
                conn.open(timeout)
            elif conn.timeout != timeout:
                conn.sock.settimeout(timeout)
                conn.timeout = timeout
            try:
                try:
                    conn.sock.sendall(payload)
                    line = _read_line(conn.rfile)
                except conn.dropped_errors:
                    if not reused or retried:
                        raise
                    line = b""
                if not line:
                    if reused and not retried:  # the server closed the idle connection: once more
                        conn.close()
                        retried = True
                        continue
                    raise ConnectionResetError("server closed the connection without answering")
                resp, keep = _read_response(conn.rfile, line, method)
            except BaseException:
                conn.close()
                raise
            if not keep:
                conn.close()
            resp.url = _without_credentials(url) if url_auth else url
            return resp

    def get(self, url, **kw):
        return self.request("GET", url, **kw)

    def post(self, url, **kw):
        return self.request("POST", url, **kw)

    def put(self, url, **kw):
        return self.request("PUT", url, **kw)

    def patch(self, url, **kw):
        return self.request("PATCH", url, **kw)

    def delete(self, url, **kw):
        return self.request("DELETE", url, **kw)

    def head(self, url, **kw):
        return self.request("HEAD", url, **kw)

    def close(self):
        """Close every kept connection."""
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def request(method, url, data=None, json=None, headers=None, stream=None, auth=None, timeout=None,
            verify=True, ca_file=None):
    """One request on a fresh connection (``Connection: close``), as MicroPython's urequests does."""
    session = Session(verify, ca_file, timeout)
    session._close_after = True
    try:
        return session.request(method, url, data=data, json=json, headers=headers, auth=auth)
    finally:
        session.close()


def get(url, **kw):
    return request("GET", url, **kw)


def post(url, **kw):
    return request("POST", url, **kw)


def put(url, **kw):
    return request("PUT", url, **kw)


def patch(url, **kw):
    return request("PATCH", url, **kw)


def delete(url, **kw):
    return request("DELETE", url, **kw)


def head(url, **kw):
    return request("HEAD", url, **kw)
