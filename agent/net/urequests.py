"""MicroPython ``urequests`` API on CPython and MicroPython, plus a keep-alive ``Session`` and verified TLS.

Standard library only, one file that runs unmodified on CPython and on the MicroPython
unix port (tests run every case on both).  Network errors are ``OSError`` (refused,
reset, timeout, DNS, TLS); a malformed answer is ``ProtocolError``, an ``OSError`` too.
``timeout`` is one deadline for connect + send + the whole answer.  MicroPython has
no latin-1 codec, ``urllib``, ``select.select`` or ``ConnectionError``: the few
helpers below stand in, and use CPython's own where it has them.
"""

import errno
import socket
import sys
import time

# mypy reads this block; neither Python runs it (MicroPython has no typing module), so the
# types in this file are written as comments
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any  # noqa: F401  (used in the type comments below)

_MAX_LINE = 65536
_MAX_HEADERS = 200
_NO_BODY_STATUS = (204, 304)
_BODY_METHODS = ("POST", "PUT", "PATCH")
_RECV = 16384
_MICRO = sys.implementation.name == "micropython"
_LATIN1 = ("latin-1", "latin1", "iso-8859-1", "iso8859-1", "l1")
_SAFE = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"
_DROPPED_ERRNOS = (errno.ECONNRESET, errno.ECONNABORTED, errno.ENOTCONN, 32)  # 32: EPIPE
_contexts = {}  # type: dict


def _error(name, code, message):
    """CPython's OSError subclass ``name`` (TimeoutError...) or, on MicroPython, OSError(code)."""
    cls = getattr(sys.modules.get("builtins"), name, None) if not _MICRO else None
    if cls is None:
        return OSError(code, message)
    return cls(code, message)


if _MICRO:
    def _clock():
        return time.ticks_ms()  # type: ignore[attr-defined]  # MicroPython's time module has it

    def _elapsed(start):
        return time.ticks_diff(time.ticks_ms(), start) / 1000  # type: ignore[attr-defined]  # MicroPython's
else:
    _clock = time.monotonic

    def _elapsed(start):
        return time.monotonic() - start


class _Deadline:
    """One budget for a whole request; ``left()`` raises the timeout once it is spent."""

    def __init__(self, timeout):
        self.timeout = timeout
        self.start = _clock()

    def left(self):
        if self.timeout is None:
            return None
        left = self.timeout - _elapsed(self.start)
        if left <= 0:
            raise _error("TimeoutError", errno.ETIMEDOUT, "timed out")
        return left


def _latin1(data):
    """bytes -> str, one character per byte."""
    if not _MICRO:
        return data.decode("latin-1")
    try:
        text = data.decode()
        if len(text) == len(data):
            return text  # plain ASCII
    except UnicodeError:
        pass
    return "".join([chr(b) for b in data])


def _latin1_bytes(text):
    """str -> bytes, one byte per character (ValueError above U+00FF)."""
    if not _MICRO:
        return text.encode("latin-1")
    data = text.encode()
    if len(data) == len(text):
        return data
    return bytes([ord(c) for c in text])


def _utf8(data):
    """UTF-8 with U+FFFD for each invalid sequence (CPython's "replace")."""
    if not _MICRO:
        return data.decode("utf-8", "replace")
    try:
        return data.decode()
    except UnicodeError:
        pass
    out = []
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        need = 0 if b < 0x80 else 1 if 0xC2 <= b <= 0xDF else 2 if 0xE0 <= b <= 0xEF else 3 if 0xF0 <= b <= 0xF4 else -1
        lo, hi = 0x80, 0xBF
        if b == 0xE0:
            lo = 0xA0
        elif b == 0xED:
            hi = 0x9F
        elif b == 0xF0:
            lo = 0x90
        elif b == 0xF4:
            hi = 0x8F
        good = 0
        while 0 <= good < need and i + 1 + good < n:
            c = data[i + 1 + good]
            if not (lo <= c <= hi if good == 0 else 0x80 <= c <= 0xBF):
                break
            good += 1
        if need >= 0 and good == need:
            out.append(data[i:i + 1 + need].decode())
            i += 1 + need
        else:  # the maximal invalid subpart becomes one U+FFFD
            out.append("\ufffd")
            i += 1 + good
    return "".join(out)


def _quote_plus(value):
    """urllib.parse.quote_plus for a form field."""
    data = value if isinstance(value, (bytes, bytearray)) else str(value).encode()
    out = []
    for b in data:
        if b in _SAFE:
            out.append(chr(b))
        elif b == 32:
            out.append("+")
        else:
            out.append("%%%02X" % b)
    return "".join(out)


def _unquote(text):
    """urllib.parse.unquote: %XX escapes -> UTF-8 text; a malformed escape stays as it is."""
    if "%" not in text:
        return text
    data = text.encode()
    out = bytearray()
    i = 0
    while i < len(data):
        if data[i] == 37 and i + 2 < len(data) and _is_hex(data[i + 1:i + 3]):
            out.append(int(data[i + 1:i + 3], 16))
            i += 3
        else:
            out.append(data[i])
            i += 1
    return _utf8(bytes(out))


def _is_hex(pair):
    return len(pair) == 2 and all(c in b"0123456789abcdefABCDEF" for c in pair)


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
        """The body decoded by its charset; latin-1 and UTF-8 (invalid bytes -> U+FFFD) everywhere."""
        if self.encoding.lower() in _LATIN1:
            return _latin1(self.content)
        if not _MICRO:
            return self.content.decode(self.encoding, "replace")
        return _utf8(self.content)  # MicroPython knows UTF-8 only

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


def _pem_certificates(path):
    """The DER bytes of each certificate in a PEM file (MicroPython's ssl loads DER only)."""
    import binascii

    ders = []
    lines = None  # type: list | None
    with open(path, "rb") as f:
        for line in f.read().split(b"\n"):
            line = line.strip()
            if line == b"-----BEGIN CERTIFICATE-----":
                lines = []
            elif line == b"-----END CERTIFICATE-----" and lines is not None:
                ders.append(binascii.a2b_base64(b"".join(lines)))
                lines = None
            elif lines is not None:
                lines.append(line)
    if not ders:
        raise ValueError("no PEM certificate in ca_file " + path)
    return ders


def _tls_context(verify, ca_file):
    """A cached SSLContext: loading the system CA store costs milliseconds."""
    key = (bool(verify), ca_file or None)
    ctx = _contexts.get(key)
    if ctx is None:
        import ssl

        if _MICRO:  # no system CA store: verification trusts ca_file only
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.verify_mode = ssl.CERT_REQUIRED if verify else ssl.CERT_NONE
            if verify and ca_file:
                for der in _pem_certificates(ca_file):
                    ctx.load_verify_locations(cadata=der)
        elif verify:
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
        form = "&".join([_quote_plus(k) + "=" + _quote_plus(data[k]) for k in data])
        return form.encode(), "application/x-www-form-urlencoded"
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
    given = set()  # type: set
    extra = ""
    if headers:
        for key in headers:
            value = headers[key]
            if isinstance(value, bytes):
                value = _latin1(value)
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
    return _latin1_bytes(head + "\r\n") + body


class _Connection:
    """One socket to one (scheme, host, port), reused across requests, read through its own buffer."""

    def __init__(self, host, port, context):
        self.host = host
        self.port = port
        self.context = context
        self.sock = None  # type: Any  # CPython's socket or SSLSocket, or a MicroPython stream
        self.buf = b""

    def open(self, deadline):
        sock = None  # type: Any  # a socket, then maybe the TLS stream over it (CPython's or MicroPython's)
        err = None  # type: OSError | None
        for info in socket.getaddrinfo(self.host, self.port, 0, socket.SOCK_STREAM):
            sock = socket.socket(info[0], socket.SOCK_STREAM, info[2])
            try:
                sock.settimeout(deadline.left())
                sock.connect(info[-1])
                break
            except OSError as e:
                sock.close()
                sock, err = None, e
        if sock is None:
            raise err or _error("ConnectionError", errno.EHOSTUNREACH, "no address for " + self.host)
        raw = sock
        try:
            if hasattr(socket, "TCP_NODELAY"):  # one write per request: never wait for an ACK
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.context is not None:
                sock = self.context.wrap_socket(sock, server_hostname=self.host)
        except ValueError as e:  # MicroPython's refused certificate: a network error here too
            raw.close()
            if not _MICRO:
                raise
            raise OSError(errno.ECONNABORTED, "TLS: " + str(e))
        except BaseException:
            raw.close()
            raise
        # MicroPython's TLS socket has no settimeout (the plain one under it does), no recv/sendall.
        self.timer = sock if hasattr(sock, "settimeout") else raw
        self.recv = sock.recv if hasattr(sock, "recv") else sock.read
        self.buf = b""
        self.sock = sock

    def send(self, data, deadline):
        self.timer.settimeout(deadline.left())
        if hasattr(self.sock, "sendall"):
            self.sock.sendall(data)
            return
        view = memoryview(data)
        while view:
            n = self.sock.write(view)
            if n is None:
                deadline.left()
                raise _error("TimeoutError", errno.ETIMEDOUT, "timed out")
            view = view[n:]

    def more(self, deadline):
        """Up to _RECV more bytes (b"" when the server closed); the deadline covers every wait."""
        self.timer.settimeout(deadline.left())
        try:
            data = self.recv(_RECV)
        except OSError as e:
            if not _MICRO or e.errno not in (errno.EAGAIN, errno.ETIMEDOUT):
                raise
            data = None
        if data is None:  # MicroPython: the read timed out
            raise _error("TimeoutError", errno.ETIMEDOUT, "timed out")
        return data

    def readline(self, deadline):
        buf = self.buf
        start = 0
        while True:
            i = buf.find(b"\n", start)
            if 0 <= i <= _MAX_LINE:
                self.buf = buf[i + 1:]
                return buf[:i + 1]
            if len(buf) > _MAX_LINE:
                raise ProtocolError("response line longer than %d bytes" % _MAX_LINE)
            start = len(buf)
            data = self.more(deadline)
            if not data:
                self.buf = b""
                return buf
            buf += data

    def read(self, n, deadline):
        """Exactly n bytes, or ProtocolError when the server closes first."""
        have = len(self.buf)
        if have >= n:
            data = self.buf[:n]
            self.buf = self.buf[n:]
            return data
        parts = [self.buf]
        while have < n:
            data = self.more(deadline)
            if not data:
                raise ProtocolError("connection closed after %d of %d body bytes" % (have, n))
            have += len(data)
            if have > n:  # split only the last piece: one copy of a big body, not two
                keep = len(data) - (have - n)
                data, self.buf = data[:keep], data[keep:]
            else:
                self.buf = b""
            parts.append(data)
        return b"".join(parts)

    def read_all(self, deadline):
        parts = [self.buf]
        while True:
            data = self.more(deadline)
            if not data:
                self.buf = b""
                return b"".join(parts)
            parts.append(data)

    def closed_by_peer(self):
        """True when an idle connection has something to read: the server sent FIN (or junk)."""
        if self.buf:
            return True
        import select

        try:
            poller = select.poll()
            poller.register(self.sock, select.POLLIN)
            return bool(poller.poll(0))
        except (OSError, ValueError):
            return True

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.buf = b""


def _dropped(e):
    """Did this error mean the server had closed a kept connection?"""
    if _MICRO:
        return e.errno in _DROPPED_ERRNOS
    return isinstance(e, ConnectionError) or type(e).__name__ in ("SSLEOFError", "SSLZeroReturnError")


def _parse_status(line):
    """b'HTTP/1.1 200 OK' -> (version, status, reason)."""
    parts = _latin1(line).rstrip("\r\n").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit() or len(parts[1]) != 3:
        raise ProtocolError("not an HTTP status line: %r" % line[:80])
    return parts[0], int(parts[1]), (parts[2] if len(parts) > 2 else "")


def _read_headers(conn, dl):
    """Header lines until the blank one -> dict with keys as received."""
    headers = {}  # type: dict
    last = None
    for _ in range(_MAX_HEADERS):
        line = conn.readline(dl)
        if line in (b"\r\n", b"\n"):
            return headers
        if not line:
            raise ProtocolError("connection closed inside the response headers")
        text = _latin1(line).rstrip("\r\n")
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


def _read_chunked(conn, dl):
    parts = []
    while True:
        line = conn.readline(dl)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise ProtocolError("bad chunk size line: %r" % line[:40])
        if size < 0:
            raise ProtocolError("negative chunk size")
        if size == 0:
            break
        parts.append(conn.read(size, dl))
        if conn.readline(dl) not in (b"\r\n", b"\n"):
            raise ProtocolError("chunk not followed by CRLF")
    for _ in range(_MAX_HEADERS):  # trailers, dropped
        if conn.readline(dl) in (b"\r\n", b"\n", b""):
            return b"".join(parts)
    raise ProtocolError("too many trailer lines")


def _read_response(conn, dl, first_line, method):
    """Status, headers and whole body -> (Response, keep_alive)."""
    line = first_line
    while True:
        version, status, reason = _parse_status(line)
        headers = _read_headers(conn, dl)
        if status >= 200 or status == 101:
            break
        line = conn.readline(dl)  # 1xx interim answer: the real one follows
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
        content = _read_chunked(conn, dl)
    elif length is not None:
        content = conn.read(length, dl)
    else:  # body runs until the server closes
        content = conn.read_all(dl)
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
        dl = _Deadline(self.timeout if timeout is None else timeout)
        retried = False
        while True:
            reused = conn.sock is not None
            if reused and conn.closed_by_peer():
                conn.close()
                reused = False
            if conn.sock is None:
                conn.open(dl)
            try:
                try:
                    conn.send(payload, dl)
                    line = conn.readline(dl)
                except OSError as e:
                    if not reused or retried or not _dropped(e):
                        raise
                    line = b""
                if not line:
                    if reused and not retried:  # the server closed the idle connection: once more
                        conn.close()
                        retried = True
                        continue
                    raise _error("ConnectionResetError", errno.ECONNRESET,
                                 "server closed the connection without answering")
                resp, keep = _read_response(conn, dl, line, method)
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
