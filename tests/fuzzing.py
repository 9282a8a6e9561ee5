"""Mutated HTTP requests for tests/test_fuzz.py and tests/test_smuggling.py.

Every case is made by ``case(seed, index)`` from ``random.Random`` seeded
with both numbers, so a failure printed as "seed S case I" is remade with
``case(S, I)`` -- its bytes are printed too, as a bytes literal.

``parseStream`` drives the sans-I/O connection ``http.HTTPChannel`` uses
(``http11.ServerConnection``) over bytes with no socket, then
``Request.requestReceived`` with a request that only records what it saw.
No socket, no thread: tens of thousands of cases a second.
"""

import io
import random
import re

from refweb import error, http11, static, wire
from refweb.http_request import Request
from refweb.http_response import ResponseChannel

from support import RecordingTransport

HOST = b"a.example"

SEEDS = [
    (b"GET /a.txt HTTP/1.1\r\nHost: a.example\r\nUser-Agent: fuzz\r\nConnection: close\r\n\r\n",
     "GET"),
    (b"HEAD /a.txt HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n", "HEAD"),
    (b"GET /a.txt HTTP/1.1\r\nHost: a.example\r\nRange: bytes=0-9,20-29\r\n"
     b"If-Range: \"x\"\r\nConnection: close\r\n\r\n", "GET"),
    (b"GET /a.txt HTTP/1.1\r\nHost: a.example\r\nRange: bytes=-5\r\nConnection: close\r\n\r\n",
     "GET"),
    (b"POST /page.rpy?x=1&y=2 HTTP/1.1\r\nHost: a.example:80\r\nContent-Type: "
     b"application/x-www-form-urlencoded\r\nContent-Length: 7\r\nConnection: close\r\n\r\na=1&b=2",
     "POST"),
    (b"POST /page.rpy HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n"
     b"Connection: close\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n", "POST"),
    (b"GET /page.rpy HTTP/1.1\r\nHost: a.example\r\nCookie: a=1; b=\"2\"\r\n\r\n"
     b"GET /a.txt HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n", "GET"),
    (b"GET http://a.example:8080/a.txt?q HTTP/1.1\r\nHost: b.example\r\nConnection: close\r\n\r\n",
     "GET"),
    (b"OPTIONS * HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n", "OPTIONS"),
    (b"GET /a.txt HTTP/1.0\r\nHost: [::1]:80\r\n\r\n", "GET"),
    (b"POST /proxy/x?q=1 HTTP/1.1\r\nHost: a.example\r\nContent-Length: 5\r\n"
     b"Expect: 100-continue\r\nConnection: close\r\n\r\nhello", "POST"),
    (b"GET /proxy/%2e%2e/y HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n", "GET"),
    (b"PUT /proxy/up HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n"
     b"Connection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "PUT"),
    (b"GET /sub/ HTTP/1.1\r\nHost: a.example\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n",
     "GET"),
]

SPECIAL = [b"\r", b"\n", b"\r\n", b"\x00", b"\x7f", b"\x80", b"\xb3", b"\xff", b"\xe9", b" ",
           b"\t", b":", b";", b",", b"\x0b", b"\x0c", b"=", b'"', b"%", b"/", b"?", b"#", b"@"]
NUMBERS = [b"0", b"00000000000000000000005", b"9" * 40, b"9" * 10000, b"-1", b"+5", b"5_0",
           b"0x10", b"\xb3", b"\xb2\xb3", b"1e3", b" 5", b"5 ", b"", b"18446744073709551616",
           b"ff", b"FFFFFFFFFFFFFFFFF", b"5\n", b"5\r"]
FRAMING = [b"Content-Length: 5", b"Content-Length: 5, 6", b"Content-Length: 5, 5",
           b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked, identity",
           b"Transfer-Encoding: identity", b"Transfer-Encoding:  chunked",
           b"Transfer-Encoding: Chunked", b"Transfer-Encoding: xchunked",
           b"Transfer-Encoding: chunked\r\n Transfer-Encoding: x", b"Content-Length : 5",
           b"Content-Length\n: 5", b" Content-Length: 5", b"Content-Length: \xb3",
           b"Expect: 100-continue", b"Expect: 100-continue, x", b"Expect: nothing",
           b"Connection: keep-alive", b"Connection: close, upgrade", b"Upgrade: h2c",
           b"Host: other.example", b"Host: [v1.x:y]", b"Host: a:99999", b"Host: a:\xb3"]
CHUNK_LINES = [b"5\n", b" 5", b"5 ", b"\t5", b"5\x0b", b"5;\x00", b"5;a=\x7f",
               b"5;" + b"x" * 5000, b"5;a=\"b", b"5 ; a = b", b"0000000000000005", b"g",
               b"-5", b"5;a\nb", b"ffffffffffffffffff", b"\xb3"]
PREFACES = [b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", b"GET /\r\n", b"GET /a.txt\r\n\r\n",
            b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", b"\r\n\r\n\r\n", b"\r",
            b"GET / HTTP/1.1\n\n", b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
            b"GET / HTTP/1.2\r\nHost: a\r\nConnection: close\r\n\r\n"]


def _lines(data):
    return data.split(b"\r\n")


def flip(rng, data):
    if not data:
        return data
    at = rng.randrange(len(data))
    return data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[at + 1:]


def insert(rng, data):
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.choice(SPECIAL) + data[at:]


def delete(rng, data):
    if not data:
        return data
    at = rng.randrange(len(data))
    return data[:at] + data[at + rng.randint(1, 4):]


def cut(rng, data):
    return data[:rng.randrange(len(data) + 1)]


def repeatLine(rng, data):
    lines = _lines(data)
    at = rng.randrange(len(lines))
    lines.insert(at, lines[at])
    return b"\r\n".join(lines)


def swapLines(rng, data):
    lines = _lines(data)
    if len(lines) < 3:
        return data
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return b"\r\n".join(lines)


def addField(rng, data):
    lines = _lines(data)
    at = rng.randint(1, max(1, min(len(lines) - 1, 4)))
    lines.insert(at, rng.choice(FRAMING))
    return b"\r\n".join(lines)


def obsFold(rng, data):
    lines = _lines(data)
    at = rng.randint(1, max(1, min(len(lines) - 1, 4)))
    lines.insert(at, rng.choice([b" folded", b"\tx", b" Transfer-Encoding: chunked"]))
    return b"\r\n".join(lines)


def number(rng, data):
    """Replace one number (a length, a chunk size, a range position, a port,
    a version digit) with a huge, signed, spaced or non-ASCII one."""
    spots = [m.span() for m in re.finditer(rb"[0-9A-Fa-f]+", data)]
    if not spots:
        return data
    start, end = rng.choice(spots)
    return data[:start] + rng.choice(NUMBERS) + data[end:]


def chunkLine(rng, data):
    head, sep, body = data.partition(b"\r\n\r\n")
    if b"chunked" not in head.lower():
        head = head + b"\r\nTransfer-Encoding: chunked"
        head = re.sub(rb"\r\nContent-Length: [0-9]+", b"", head)
        body = b""
    return head + b"\r\n\r\n" + rng.choice(CHUNK_LINES) + b"\r\nhello\r\n0\r\n\r\n" + body


def preface(rng, data):
    return rng.choice(PREFACES) + (data if rng.random() < 0.5 else b"")


def pipeline(rng, data):
    return data + rng.choice(SEEDS)[0]


MUTATORS = [flip, insert, insert, delete, cut, repeatLine, swapLines, addField, addField,
            obsFold, number, number, chunkLine, preface, pipeline]


def case(seed, index):
    """(bytes, method of the seed) of case ``index`` of run ``seed``."""
    rng = random.Random(seed * 1000003 + index)
    data, method = rng.choice(SEEDS)
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
        data = rng.choice(MUTATORS)(rng, data)
    return data, method


def methodOf(data, default):
    """The method the server will take the first request of ``data`` to have."""
    return wire.guessMethod(wire.skipEmptyLines(data)) or default


# -- the sans-I/O parser ----------------------------------------------------

ALLOWED_ERRORS = frozenset([400, 408, 411, 413, 414, 416, 417, 431, 501, 505])

# An independent, strict reading of RFC 9112's head grammar: whatever refweb
# accepts must satisfy it.  (refweb may refuse more.)
REFERENCE_REQUEST_LINE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+ [\x21-\x7e]+ HTTP/1\.[0-9]")
REFERENCE_FIELD_LINE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*")


class _Channel(ResponseChannel):
    """The ResponseChannel the probes answer through: bytes go to a
    RecordingTransport, framed by the connection that parsed the request."""

    def __init__(self, connection):
        self.connection = connection
        self.transport = RecordingTransport()

    def sendHead(self, request, code, reason, headers):
        self.transport.write(self.connection.startResponse(code, reason, headers, request.method))

    def sendData(self, data):
        self.transport.write(self.connection.sendData(data))
        return self.connection.lastBodyBytes

    def endResponse(self, request):
        self.transport.write(self.connection.endResponse())


class _Probe(Request):
    """A request that, instead of rendering, reads everything a resource might."""

    seen = None

    def process(self):
        self.seen = (self.getRequestHostname(), self.getHost().port, self.path, self.args,
                     self.received_cookies)
        rangeHeader = self.getHeader("range")
        if rangeHeader is not None:
            static.parseRange(rangeHeader, 1000)
        self.finish()


def parseStream(data, maxHeaderCount=100, maxRequestLineLength=8190, maxHeaderBytes=65536,
                maxBodySize=1 << 20):
    """The requests in ``data`` as HTTPChannel reads them -- through the same
    ``http11.ServerConnection`` -- : ([(method, target, version, fields,
    body, request)], outcome) where outcome is None (all read),
    "incomplete" (waiting for more) or the refweb.error.Error that ends the
    connection.  Any other exception is a refweb bug and propagates."""
    requests = []
    connection = http11.ServerConnection(maxRequestLineLength, maxHeaderCount, maxHeaderBytes,
                                         maxBodySize)
    try:
        unread, events = data, connection.receive(data)
        while events:
            head, body = events[0], b""
            _reference(head.raw)
            for event in events[1:]:
                if event is not http11.END_OF_BODY:
                    body += event.data
            if events[-1] is not http11.END_OF_BODY:
                return requests, "incomplete"
            headEnd = unread.index(head.raw) + len(head.raw) + 4
            consumed = unread[headEnd:len(unread) - len(connection.buffer)]
            if head.headers.getRawHeaders("transfer-encoding"):
                _referenceChunked(consumed, body)
            request = _Probe(_Channel(connection))
            request.requestHeaders = head.headers
            request.content = io.BytesIO(body)
            request.requestReceived(head.method, head.target, head.version)
            requests.append((head.method, head.target, head.version,
                             list(head.headers.items()), body, request))
            if connection.state is not http11.DONE:
                return requests, None
            unread = connection.buffer
            events = connection.startNextCycle()
        if connection.headBegun:
            return requests, "incomplete"
        return requests, None
    except error.Error as exc:
        return requests, exc


class ReferenceDisagrees(Exception):
    """refweb accepted a head the reference grammar refuses."""


def _reference(head):
    lines = head.split(b"\r\n")
    if not REFERENCE_REQUEST_LINE.fullmatch(lines[0]):
        raise ReferenceDisagrees("request line %r" % (lines[0],))
    for line in lines[1:]:
        if not REFERENCE_FIELD_LINE.fullmatch(line):
            raise ReferenceDisagrees("field line %r" % (line,))


_REFERENCE_CHUNK = re.compile(rb"([0-9A-Fa-f]+)((?:[ \t]*;[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
                              rb"(?:[ \t]*=[ \t]*[!-~]+)?)*)")


def _referenceChunked(consumed, body):
    """The chunked bytes refweb decoded, read again strictly: chunk lines
    1*HEXDIG [chunk-ext], CRLF after each chunk, field-line trailers."""
    at, parts = 0, []
    while True:
        end = consumed.find(b"\r\n", at)
        line = _REFERENCE_CHUNK.fullmatch(consumed, at, end)
        if end < 0 or not line:
            raise ReferenceDisagrees("chunk line %r" % (consumed[at:at + 80],))
        size = int(line.group(1), 16)
        at = end + 2
        if size == 0:
            break
        parts.append(consumed[at:at + size])
        if consumed[at + size:at + size + 2] != b"\r\n":
            raise ReferenceDisagrees("chunk without its CRLF")
        at += size + 2
    while True:
        end = consumed.find(b"\r\n", at)
        if end == at:
            break
        if not REFERENCE_FIELD_LINE.fullmatch(consumed, at, end):
            raise ReferenceDisagrees("trailer line %r" % (consumed[at:end],))
        at = end + 2
    if b"".join(parts) != body:
        raise ReferenceDisagrees("decoded body differs")
