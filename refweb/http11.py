# -*- test-case-name: tests.test_http11 -*-
"""One HTTP/1.1 connection, sans-I/O: bytes in, events out; a response in, bytes out.

Guide: underneath "Site Objects" (what a Site's channel reads and writes)
and "Proxies and reverse proxies" (``HTTPClient`` reads its upstream's
answer with the client half of the same machinery).

There is no socket in this module.  ``http.HTTPChannel`` owns the socket:
it hands every byte it reads to a ``ServerConnection`` (``receive``), acts
on the events that come back, and writes the bytes the connection gives it
for the response (``startResponse``, ``sendData``, ``endResponse``).
``httpclient.HTTPClient`` does the same with a ``ClientConnection``.  So
``tests/test_http11.py`` can drive a whole exchange -- pipelining,
chunks, keep-alive -- with no server at all.

A server connection goes round one cycle per request (named states)::

    WAITING_FOR_HEAD --a whole head--> READING_BODY --its end--> RESPONDING
        ^                                                            |
        |                                                     endResponse()
        +------- startNextCycle() <-- DONE (keepAlive)  or  MUST_CLOSE

``receive`` returns the events that the bytes complete, in order:
``RequestHead``, then ``BodyData`` pieces, then ``END_OF_BODY``; an empty
list means "need more bytes".  Bytes that arrive while the response is
still being written (a pipelined request) wait in the buffer until
``startNextCycle``.  Anything malformed raises the ``refweb.error`` class
whose status the server should send (``refusal`` makes the bytes).

How a body is read or written depends only on its framing, so readers and
writers are two tables keyed by it (``READERS``, ``WRITERS``); the framing
itself comes from ``wire``'s rules (RFC 9112 §6.3).  Whether the
connection stays open after a response is decided in one method,
``_decideKeepAlive``, which looks the case up in ``rules.KEEP_ALIVE``.

Start reading at ``ServerConnection.receive``.
"""

import collections

from refweb import chunked, error, grammar, rules, wire
from refweb.http_headers import Headers

# -- the states of one request/response cycle (server role) --------------------
WAITING_FOR_HEAD = "waiting for a head"
READING_BODY = "reading a body"
RESPONDING = "responding"
DONE = "done"  # the response is complete and the connection is kept
MUST_CLOSE = "must close"

# -- events ------------------------------------------------------------------
RequestHead = collections.namedtuple("RequestHead", "method target version headers raw")
RequestHead.__doc__ = """A whole request head: str method, target and version; a Headers;
the head's bytes as they came (without the final CRLF CRLF), for a wire log."""

ResponseHead = collections.namedtuple("ResponseHead", "version code reason fields")
ResponseHead.__doc__ = "A final response head (client role): str version and reason, int code, [(name, value)]."

BodyData = collections.namedtuple("BodyData", "data")
BodyData.__doc__ = "Some bytes of the message body, as they arrived."


class EndOfBody:
    """The message body is complete (there may have been none)."""

    def __repr__(self):
        return "END_OF_BODY"


END_OF_BODY = EndOfBody()

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"  # RFC 9110 §10.1.1


# -- readers: how a body is taken out of the bytes, by framing ---------------------
#
# Each reader's read(buffer) returns (body bytes, bytes left over, finished);
# eof() says whether the peer closing is a proper end of the body.

class _NoBodyReader:
    def read(self, buffer):
        return b"", buffer, True

    def eof(self):
        return True


class _LengthReader:
    def __init__(self, length):
        self.remaining = length

    def read(self, buffer):
        data, rest = buffer[:self.remaining], buffer[self.remaining:]
        self.remaining -= len(data)
        return data, rest, self.remaining == 0

    def eof(self):
        return self.remaining == 0


class _ChunkedReader:
    def __init__(self, maxBodySize):
        self.decoder = chunked.ChunkedDecoder(maxBodySize)

    def read(self, buffer):
        data = self.decoder.feed(buffer)
        if self.decoder.done:
            return data, self.decoder.unused(), True
        return data, b"", False

    def eof(self):
        return self.decoder.done


class _CloseReader:
    """A response body that runs until the server closes (RFC 9112 §6.3 item 8)."""

    def read(self, buffer):
        return buffer, b"", False

    def eof(self):
        return True


NO_BODY = _NoBodyReader()  # the reader of most requests: one is enough

READERS = {
    "none": lambda length, maxBodySize: NO_BODY,
    "length": lambda length, maxBodySize: _LengthReader(length) if length else NO_BODY,
    "chunked": lambda length, maxBodySize: _ChunkedReader(maxBodySize),
    "close": lambda length, maxBodySize: _CloseReader(),
}


# -- writers: how a body goes out, by framing ---------------------------------------
#
# Each writer's frame(data) returns the bytes to send for some body bytes,
# passCount(n) how many of n bytes may go unframed (a file the kernel
# copies; None: they need framing), and end() the bytes that end the body; ``outcome`` names what happened
# for the keep-alive table: the framing itself, or "past"/"short" when the
# application broke its own Content-Length.

class _LengthWriter:
    def __init__(self, length):
        self.remaining = length
        self.outcome = "length"

    def frame(self, data):
        if len(data) <= self.remaining:  # the usual case: within the promise
            self.remaining -= len(data)
            return data
        return data[:self.passCount(len(data))]

    def passCount(self, count):
        if count > self.remaining:
            # More than Content-Length promised: the extra bytes would be read
            # as the start of the next response (RFC 9112 §6.3), so they go.
            count = self.remaining
            self.outcome = "past"
        self.remaining -= count
        return count

    def end(self):
        if self.remaining:
            self.outcome = "short"  # RFC 9112 §8: only closing tells the client
        return b""


class _ChunkedWriter:
    outcome = "chunked"

    def frame(self, data):
        return chunked.formatChunk(data) if data else b""

    def passCount(self, count):
        return None  # each piece needs its chunk line

    def end(self):
        return chunked.LAST_CHUNK


class _CloseWriter:
    outcome = "close"

    def frame(self, data):
        return data

    def passCount(self, count):
        return count

    def end(self):
        return b""


class _NoBodyWriter:
    outcome = "length"  # HEAD, 1xx, 204, 304: the head says all there is

    def frame(self, data):
        return b""

    def passCount(self, count):
        return 0

    def end(self):
        return b""


WRITERS = {
    "none": lambda length: _NoBodyWriter(),
    "length": _LengthWriter,
    "chunked": lambda length: _ChunkedWriter(),
    "close": lambda length: _CloseWriter(),
}


# Header fields of the response that only the connection may write.
_FRAMING_FIELDS = frozenset(["content-length", "transfer-encoding", "connection"])


def connectionWord(tokens):
    """The request's Connection header as the keep-alive table reads it:
    "close" if it says close (that wins), else "keep-alive" if it says so, else ""."""
    if "close" in tokens:
        return "close"
    return "keep-alive" if "keep-alive" in tokens else ""


class ServerConnection:
    """The server's side of one HTTP/1.1 connection; see the module docstring.

    Methods for the channel that owns the socket, in the order of a cycle:
    ``receive`` (and ``receiveEOF``), ``takeContinue``, ``startResponse``
    (or ``startRawResponse``), ``sendData``, ``endResponse``,
    ``startNextCycle``; ``refusal`` when ``receive`` raised.
    """

    def __init__(self, maxRequestLineLength=8190, maxHeaderCount=100,
                 maxHeaderBytes=65536, maxBodySize=64 * 1024 * 1024):
        self.maxRequestLineLength = maxRequestLineLength
        self.maxHeaderCount = maxHeaderCount
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodySize = maxBodySize
        self.state = WAITING_FOR_HEAD
        self.keepAlive = True  # decided again by each response (_decideKeepAlive)
        self.head = None  # the RequestHead of the cycle under way
        self.bodyLength = None  # the request body's length, where its framing says it
        self.lastBodyBytes = 0  # body bytes the last sendData let through (unframed)
        self.buffer = b""  # bytes received and not yet turned into events
        self._reader = None
        self._writer = None
        self._connection = ""  # the request's Connection, as connectionWord says it
        self._continueDue = False
        self._headStart = b""

    # -- receiving ------------------------------------------------------------
    def receive(self, data):
        """Take ``data`` (bytes read from the client); return the events it completes."""
        self.buffer += data
        if self.state is WAITING_FOR_HEAD:
            return self._readHead()
        if self.state is READING_BODY:
            return self._readBody()
        return []  # a pipelined request: it waits for startNextCycle

    def receiveEOF(self):
        """The client closed its side.  A body cut short is an error (400)."""
        if self.state is READING_BODY and not self._reader.eof():
            raise error.BadRequest(detail="the connection closed before the body ended")

    @property
    def headBegun(self):
        """True once the next head's first bytes are here (CRLFs before it do not count)."""
        return self.state is WAITING_FOR_HEAD and bool(wire.skipEmptyLines(self.buffer))

    def _readHead(self):
        # RFC 9112 §2.2: CRLFs before a request line are skipped.
        self.buffer = buffer = wire.skipEmptyLines(self.buffer)
        self._headStart = buffer[:16]  # the method, should a refusal need it (HEAD)
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            self._checkHeadSize(buffer)
            wire.checkLineEnds(buffer)  # a head ended by LF LF never gets its CRLF CRLF
            return []
        head, self.buffer = buffer[:end], buffer[end + 4:]
        self._checkHeadSize(head)
        self.state = READING_BODY  # from here on, an error answers in this request's name
        self.head = RequestHead(*self._parseHead(head), head)
        headers = self.head.headers
        connection = headers.getRawHeaders("connection")
        self._connection = connectionWord(wire.connectionTokens(connection)) if connection else ""
        framing, length = wire.bodyFraming(headers.getRawHeaders("transfer-encoding", ()),
                                           headers.getRawHeaders("content-length", ()),
                                           self.maxBodySize, self.head.version)
        self._reader = READERS[framing](length, self.maxBodySize)
        self.bodyLength = length  # None for chunks: not known until the last one
        if self._reader is NO_BODY:  # most requests: the head is all there is
            self.state = RESPONDING
            return [self.head, END_OF_BODY]
        self._checkExpect(headers)
        return [self.head] + self._readBody()

    def _parseHead(self, head):
        method, target, version, fields = wire.parseHead(head, self.maxHeaderCount)
        headers = Headers()
        headers._addTrustedFields(fields)
        wire.checkHost(version, headers.getRawHeaders("host", ()))
        return method, target, version, headers

    def _checkHeadSize(self, buffer):
        lineEnd = buffer.find(b"\r\n")
        lineLength = len(buffer) if lineEnd < 0 else lineEnd
        if lineLength > self.maxRequestLineLength:
            raise error.URITooLong(detail="the request line may be at most %d bytes"
                                   % self.maxRequestLineLength)
        if len(buffer) > self.maxRequestLineLength + self.maxHeaderBytes:
            raise error.HeaderFieldsTooLarge(
                detail="the request line and headers may be at most %d bytes together"
                % (self.maxRequestLineLength + self.maxHeaderBytes))

    def _checkExpect(self, headers):
        expect = headers.getRawHeaders("expect")
        if not expect:
            return
        if [value.strip().lower() for value in expect] != ["100-continue"]:
            raise error.ExpectationFailed(detail="only Expect: 100-continue is understood")
        # RFC 9110 §10.1.1: tell an HTTP/1.1 client to go ahead -- unless
        # its body has started to arrive anyway.
        self._continueDue = self.head.version == "HTTP/1.1" and not self.buffer

    def takeContinue(self):
        """The interim "100 Continue" to send now, once, or b""."""
        due, self._continueDue = self._continueDue, False
        return CONTINUE if due else b""

    def _readBody(self):
        data, self.buffer, finished = self._reader.read(self.buffer)
        events = [BodyData(data)] if data else []
        if data:
            self._continueDue = False
        if finished:
            self.state = RESPONDING
            events.append(END_OF_BODY)
        return events

    # -- responding -------------------------------------------------------------
    def startResponse(self, code, reason, headers, method=None):
        """The head's bytes for a response: decides its framing and keep-alive.

        ``headers``: [(name, value)] as the application set them; the
        framing headers (Content-Length, Transfer-Encoding, Connection) are
        made right here.  ``method`` defaults to the request's.
        """
        version = self._responseVersion()
        method = method or (self.head.method if self.head else "GET")
        bodyless = code < 200 or code in wire.BODYLESS_STATUSES
        lines = ["%s %d %s" % (version, code, reason)]
        declared = None
        for name, value in headers:
            lower = name.lower()
            if lower in _FRAMING_FIELDS:
                if lower != "content-length":
                    continue  # RFC 9112 §6.1: ours to say
                declared = value
                if bodyless:
                    continue  # RFC 9110 §8.6: these never describe a body
            lines.append(name + ": " + value)
        framing, length = wire.framingToSend(version, method, code, declared)
        self._writer = WRITERS[framing](length)
        keep, connection = self._decideKeepAlive(self._writer.outcome)
        if framing == "chunked":
            lines.append("Transfer-Encoding: chunked")
        if connection:
            lines.append("Connection: " + connection)
        lines.append("\r\n")
        return "\r\n".join(lines).encode("latin-1")

    def startRawResponse(self):
        """The body that follows is a whole response, head and all (as-is
        files): it goes out as it is, and only closing can end it."""
        self._writer = _CloseWriter()
        self._decideKeepAlive("close")

    def sendData(self, data):
        """Body bytes as they go on the wire, by the framing startResponse chose."""
        framed = self._writer.frame(data)
        self.lastBodyBytes = len(data) if self._writer.outcome == "chunked" else len(framed)
        return framed

    def rawFileBytes(self, count):
        """For ``count`` bytes of a file the kernel could copy as they are:
        how many of them this framing lets through unframed (fewer past a
        Content-Length, none for a bodyless response), or None if each piece
        must be framed (chunks)."""
        return self._writer.passCount(count)

    def endResponse(self):
        """The bytes that end the body; then the cycle is DONE or MUST_CLOSE."""
        tail = self._writer.end()
        if self._writer.outcome in ("past", "short"):
            self._decideKeepAlive(self._writer.outcome)
        self.state = DONE if self.keepAlive and self.state is RESPONDING else MUST_CLOSE
        return tail

    @property
    def bodyOutcome(self):
        """How the body went out, once the response started: "length", "chunked",
        "close", or "past"/"short" if the application broke its Content-Length."""
        return self._writer.outcome if self._writer is not None else None

    def refusal(self, exc, server="refweb"):
        """The error response to send for ``exc`` (raised by receive), before closing."""
        self._decideKeepAlive("refused")
        self.state = MUST_CLOSE
        if self.head is not None:
            version, method = self._responseVersion(), self.head.method
        else:
            version, method = "HTTP/1.1", wire.guessMethod(self._headStart)
        head, body = wire.errorResponse(version, exc, method, server)
        return head + body

    def _responseVersion(self):
        if self.head is not None and self.head.version == "HTTP/1.0":
            return "HTTP/1.0"
        return "HTTP/1.1"

    def _decideKeepAlive(self, outcome):
        """Whether the connection stays open after this response, and the
        Connection header that says so: rules.KEEP_ALIVE, by the request's
        version and Connection header and how the response is framed."""
        version = self.head.version if self.head is not None else "HTTP/1.1"
        row = rules.keepAliveRow(version, self._connection, outcome)
        self.keepAlive = self.keepAlive and row.keep
        return row.keep, row.header

    def startNextCycle(self):
        """After a DONE response: back to waiting for a head.  Returns the
        events of any pipelined request already buffered."""
        if self.state is not DONE:
            raise RuntimeError("startNextCycle in state %r" % (self.state,))
        self.state = WAITING_FOR_HEAD
        self.head = self._reader = self._writer = None
        self._connection = ""
        self._continueDue = False
        return self._readHead() if self.buffer else []


_INTERIM = object()  # ClientConnection._readHead: an interim answer was skipped


class ClientConnection:
    """The client's side of one HTTP/1.1 exchange (HTTPClient, the proxy).

    ``startRequest`` formats a request head; ``receive`` returns the
    events of the answer: ``ResponseHead`` (interim 1xx answers are skipped),
    ``BodyData``, ``END_OF_BODY``; ``receiveEOF`` at the close, which ends
    a close-delimited body.  Malformed bytes raise ``error.BadGateway``.
    """

    maxStatusLineLength = 8192
    maxHeaderCount = 100
    maxHeaderBytes = 65536
    maxInterimResponses = 16
    _UNLIMITED = 1 << 62  # bodies are streamed, not stored: only framing limits them

    def __init__(self, requestMethod="GET"):
        self.requestMethod = requestMethod
        self.buffer = b""
        self.head = None
        self.done = False
        self._reader = None
        self._interims = 0

    def receive(self, data):
        """Take ``data`` from the server; return the events it completes."""
        self.buffer += data
        events = []
        while self.head is None and not self.done:
            head = self._readHead()
            if head is None:
                return events  # need more bytes
            if head is not _INTERIM:
                events.append(head)
        if self.head is not None and not self.done:
            try:
                data, self.buffer, finished = self._reader.read(self.buffer)
            except error.Error as exc:  # a malformed chunk: the upstream's fault
                raise error.BadGateway(detail=exc.detail or str(exc)) from None
            if data:
                events.append(BodyData(data))
            if finished:
                self.done = True
                events.append(END_OF_BODY)
        return events

    def receiveEOF(self):
        """The server closed: [END_OF_BODY] for a close-delimited body;
        BadGateway if the answer was cut short."""
        if self.done:
            return []
        if self.head is not None and self._reader.eof():
            self.done = True
            return [END_OF_BODY]
        raise error.BadGateway(detail="the upstream closed the connection mid-response")

    def _readHead(self):
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            self._checkPartialHead(self.buffer)
            return None
        head, self.buffer = self.buffer[:end], self.buffer[end + 4:]
        self._checkPartialHead(head)
        statusLine, _, fieldBlock = head.partition(b"\r\n")
        try:
            version, code, reason = grammar.parseStatusLine(statusLine)
        except ValueError:
            raise error.BadGateway(detail="bad status line %r" % (statusLine[:80],)) from None
        try:
            fields = wire.parseHeaderLines(fieldBlock.split(b"\r\n") if fieldBlock else [],
                                           self.maxHeaderCount)
            framing, length = wire.responseFraming(
                self.requestMethod, code, wire.fieldValues(fields, "transfer-encoding"),
                wire.fieldValues(fields, "content-length"))
        except error.Error as exc:
            raise error.BadGateway(detail=exc.detail or str(exc)) from None
        if 100 <= code < 200 and code != 101:
            # RFC 9110 §15.2: an interim answer; the final one follows.
            self._interims += 1
            if self._interims > self.maxInterimResponses:
                raise error.BadGateway(detail="too many interim responses")
            return _INTERIM
        self._reader = READERS[framing](length, self._UNLIMITED)
        self.head = ResponseHead(version, code, reason, fields)
        return self.head

    def _checkPartialHead(self, buffer):
        """Bound a head, whole or still arriving: a hostile upstream must not
        make us buffer without end."""
        lineEnd = buffer.find(b"\r\n")
        if (len(buffer) if lineEnd < 0 else lineEnd) > self.maxStatusLineLength:
            raise error.BadGateway(detail="status line longer than %d bytes"
                                   % self.maxStatusLineLength)
        lastLine = len(buffer) - (buffer.rfind(b"\r\n") + 2)
        if lineEnd >= 0 and lastLine > self.maxHeaderBytes:
            raise error.BadGateway(detail="header line longer than %d bytes"
                                   % self.maxHeaderBytes)
        if len(buffer) - max(lineEnd, 0) > self.maxHeaderBytes:
            raise error.BadGateway(detail="response head larger than %d bytes"
                                   % self.maxHeaderBytes)
