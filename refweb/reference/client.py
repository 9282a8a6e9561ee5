# -*- test-case-name: tests.test_reference -*-
"""A raw-socket HTTP/1.1 client with a strict response parser, for the reference tests.

The reference suite is black-box: it only ever talks to a server through a
socket.  This module sends bytes exactly as a test typed them and reads the
answer back with a parser that is strict where RFC 9112 is strict, so that a
framing mistake in the server shows up as a failed test with a readable
reason (``ProtocolError``), not as a hang or a silently wrong body:

* the status line must be ``HTTP/1.x SP 3DIGIT SP reason CRLF`` (§4);
* header lines must be ``name ":" OWS value OWS CRLF``, with no space before
  the colon and no folding (§5);
* the body is framed as §6.3 says: none after HEAD, 1xx, 204 and 304;
  chunked when ``Transfer-Encoding`` ends in ``chunked``; else exactly
  ``Content-Length`` bytes; else up to the close of the connection.

A ``Connection`` keeps what it has read but not yet parsed, so pipelined
responses are read one after the other from one buffer.

Part of refweb.reference: tests -> client -> (socket) -> the server under test.
"""

import re
import socket
import time

STATUS_LINE = re.compile(rb"HTTP/(\d)\.(\d) (\d{3}) ([^\r\n]*)\r\n")
TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
CONTENT_LENGTH = re.compile(r"[0-9]{1,18}")  # ASCII digits; 18 keep int() cheap

#: Every wait for the server is bounded by this many seconds; generous, so a
#: loaded machine slows a test down instead of failing it.
TIMEOUT = 10.0


class ProtocolError(Exception):
    """The server's bytes break the HTTP/1.1 message syntax (RFC 9112)."""


class ConnectionClosed(ProtocolError):
    """The server closed the connection before a complete response."""


class Response:
    """One parsed response: ``status``, ``reason``, ``version``, ``headers``, ``body``.

    ``headers`` is a list of ``(lower-case name, value)`` pairs, in order, as
    ``str`` (decoded as Latin-1, the wire's own charset); ``body`` is the
    de-chunked ``bytes``.  ``chunked`` says how the body was framed.
    """

    def __init__(self, version, status, reason, headers, body, chunked=False):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.chunked = chunked

    def header(self, name, default=None):
        """The value of header ``name`` (values of repeated fields joined by ", ")."""
        values = self.headerList(name)
        return ", ".join(values) if values else default

    def headerList(self, name):
        """Every value given for ``name``, in order."""
        name = name.lower()
        return [value for key, value in self.headers if key == name]

    @property
    def text(self):
        """The body decoded as UTF-8 (replacing what does not decode)."""
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return "<Response %d %s, %d body bytes>" % (self.status, self.reason, len(self.body))


class Connection:
    """One TCP connection to the server under test.

    ``transcript`` keeps every send (``">>"``), every read (``"<<"``) and
    the server's close (``"--"``) in order, as ``(direction, bytes)``, so
    that a failed behaviour can show what went over the wire
    (``python -m refweb.reference -v``).
    """

    transcript = None  # a Connection made without __init__ (a test's parser) records nothing

    def __init__(self, host, port, timeout=TIMEOUT):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        self.closed = False
        self.transcript = []

    def _record(self, direction, data):
        if self.transcript is not None:
            self.transcript.append((direction, data))

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        """Send ``data`` (``bytes``, or ``str`` encoded as Latin-1) as is."""
        if isinstance(data, str):
            data = data.encode("latin-1")
        self._record(">>", data)
        self.sock.sendall(data)

    def _more(self):
        """Read once more from the socket; False when the server has closed."""
        if self.closed:
            return False
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            self.closed = True
            self._record("--", b"")  # the server closed the connection
            return False
        self._record("<<", data)
        self.buffer += data
        return True

    def readLine(self):
        """One CRLF-terminated line, without its CRLF."""
        while True:
            end = self.buffer.find(b"\r\n")
            if end >= 0:
                line, self.buffer = self.buffer[:end], self.buffer[end + 2:]
                return line
            if len(self.buffer) > 65536:
                raise ProtocolError("a line of more than 64 KiB with no CRLF")
            if not self._more():
                raise ConnectionClosed("connection closed in the middle of a line"
                                       if self.buffer else "connection closed with no response")

    def readExactly(self, count):
        while len(self.buffer) < count:
            if not self._more():
                raise ConnectionClosed("connection closed %d bytes into a %d-byte body"
                                       % (len(self.buffer), count))
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def readToClose(self):
        while self._more():
            pass
        data, self.buffer = self.buffer, b""
        return data

    def isClosedByPeer(self, wait=TIMEOUT):
        """True if the server closes the connection (nothing more arrives) within ``wait`` s."""
        if self.buffer:
            return False
        self.sock.settimeout(wait)
        try:
            return not self._more()
        except socket.timeout:
            return False
        finally:
            self.sock.settimeout(TIMEOUT)

    def readHead(self):
        """Status line and header block: (version, status, reason, headers)."""
        line = self.readLine() + b"\r\n"
        match = STATUS_LINE.fullmatch(line)
        if not match:
            raise ProtocolError("bad status line %r" % line[:80])
        version = (int(match.group(1)), int(match.group(2)))
        headers = []
        while True:
            line = self.readLine()
            if not line:
                break
            name, colon, value = line.partition(b":")
            if not colon or not TOKEN.fullmatch(name):
                raise ProtocolError("bad header line %r" % line[:80])
            headers.append((name.decode("latin-1").lower(),
                            value.strip(b" \t").decode("latin-1")))
        return version, int(match.group(3)), match.group(4).decode("latin-1"), headers

    def readResponse(self, method="GET"):
        """Read one whole response (skipping nothing: 1xx responses are returned too)."""
        version, status, reason, headers = self.readHead()
        response = Response(version, status, reason, headers, b"")
        if method == "HEAD" or status < 200 or status in (204, 304):
            return response
        coding = response.header("transfer-encoding")
        if coding is not None:
            if coding.split(",")[-1].strip().lower() != "chunked":
                raise ProtocolError("Transfer-Encoding %r does not end in chunked" % coding)
            if response.header("content-length") is not None:
                raise ProtocolError("both Transfer-Encoding and Content-Length sent")
            response.body = self.readChunked()
            response.chunked = True
            return response
        lengths = response.headerList("content-length")
        if lengths:
            # RFC 9110 §8.6: 1*DIGIT, ASCII only (str's digit test would take "³", and
            # str.strip would take "\xa0"); one value, however often repeated.
            values = {value.strip(" \t") for item in lengths for value in item.split(",")}
            if len(values) != 1 or not CONTENT_LENGTH.fullmatch(next(iter(values))):
                raise ProtocolError("bad Content-Length %r" % lengths)
            response.body = self.readExactly(int(values.pop()))
            return response
        response.body = self.readToClose()
        return response

    def readFinal(self, method="GET"):
        """Read responses until a final (non-1xx) one, and return that."""
        while True:
            response = self.readResponse(method)
            if response.status >= 200:
                return response

    def readChunked(self):
        body = b""
        while True:
            line = self.readLine()
            size = line.split(b";")[0].strip()
            if not size or not re.fullmatch(rb"[0-9A-Fa-f]+", size):
                raise ProtocolError("bad chunk-size line %r" % line[:40])
            size = int(size, 16)
            if size == 0:
                while self.readLine():  # trailer fields, then the empty line
                    pass
                return body
            body += self.readExactly(size)
            if self.readExactly(2) != b"\r\n":
                raise ProtocolError("chunk data not followed by CRLF")


def request(method, path, headers=None, body=b"", version="HTTP/1.1", host="example.com"):
    """The bytes of one request; ``Host`` and ``Content-Length`` are added when needed."""
    headers = list(headers or [])
    names = {name.lower() for name, _ in headers}
    if host is not None and "host" not in names:
        headers.insert(0, ("Host", host))
    if isinstance(body, str):
        body = body.encode("utf-8")
    if body and "content-length" not in names and "transfer-encoding" not in names:
        headers.append(("Content-Length", str(len(body))))
    head = "%s %s %s\r\n" % (method, path, version)
    head += "".join("%s: %s\r\n" % pair for pair in headers)
    return head.encode("latin-1") + b"\r\n" + body


def waitForPort(host, port, deadline):
    """Return once ``host:port`` accepts a connection; raise if ``deadline`` passes."""
    while True:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
