# -*- test-case-name: tests.test_httpclient -*-
"""HTTPClient: the client half of HTTP/1.1, written by hand like the server half.

Guide: "Proxies and reverse proxies" -- "ProxyClient inherits from
http.HTTPClient".  (refweb.http re-exports this class as refweb.http.HTTPClient.)

Where it sits in a proxied request's journey::

    client -> HTTPChannel -> ProxyRequest.process -> reactor.connectTCP
           -> (client thread) HTTPClient.connectionMade: send the request
           -> HTTPClient.dataReceived(bytes), once per recv: parse the answer
           -> handleStatus / handleHeader / handleEndHeaders /
              handleResponsePart / handleResponseEnd   (the hooks below)

It is a *push* parser: bytes arrive in whatever pieces TCP delivers, and the
parser keeps just enough state (which part of the message it is in, how many
body bytes are left) to turn them into callbacks, so it can be fed by hand
in a test with no socket at all.  It never touches the socket: the client
thread runs ``protocol.Protocol.handleConnection``, the recv loop every
refweb protocol shares, which feeds ``dataReceived`` until the transport is
closed -- by the upstream, or by this class once the response is complete
or refused.  That loop's reads are bounded by the socket's own timeout
(connectTCP's ``timeout``); one that runs out ends the exchange with a
TimeoutError, so that a proxy can tell "slow" (504) from "broken" (502).

Hooks a subclass overrides (Twisted's names)::

    connectionMade()                      send the request here
    handleStatus(version, status, message)   all str: 'HTTP/1.1', '200', 'OK'
    handleHeader(key, value)              str, once per header line, in order
    handleEndHeaders()                    the head is complete
    handleResponsePart(data)              bytes of the body, as they arrive
    handleResponseEnd()                   the body is complete
    handleResponse(body)                  default handleResponseEnd: whole body

and two refweb additions for the unhappy paths::

    handleResponseTruncated(reason)  the connection closed mid-message
                                     (default: handleResponseEnd, as Twisted)
    handleMalformedResponse(why)     the upstream broke HTTP or a limit
                                     (default: drop the connection)

The body's framing follows RFC 9112 section 6.3, by the rules the server
uses too (``wire.responseFraming``): no body after HEAD or for
1xx/204/304; else Transfer-Encoding: chunked; else Content-Length; else the
body runs until the server closes the connection.  Interim 1xx responses
(100 Continue, 103 Early Hints) are skipped without any callback.
"""

import re

from refweb import error, grammar, wire
from refweb.internet import protocol

# RFC 9110 section 5.6.2: a token (header names, methods), from refweb.grammar.
_TOKEN = grammar.pattern("token", bytes)
# RFC 9112 section 4: HTTP-version SP 3DIGIT SP [reason-phrase]
_STATUS_LINE = re.compile(rb"(HTTP/\d\.\d) (\d{3})(?: ([^\x00-\x08\x0a-\x1f\x7f]*))?\Z")
# A request-target we are willing to put on the wire: no spaces, no controls.
_TARGET = re.compile(r"[\x21-\x7e]+\Z")
# A field value: no CR, LF or NUL (the bytes that would smuggle a new header).
_BAD_VALUE = re.compile(r"[\r\n\x00]")
# Response bodies are streamed, not stored: only the framing limits them.
_UNLIMITED = 1 << 62


class MalformedResponse(Exception):
    """The upstream's bytes are not an HTTP/1.x response we accept."""


def _bytes(value):
    """Header names, values, methods and targets may be given as str or bytes."""
    if isinstance(value, str):
        return value.encode("latin-1")
    return bytes(value)


class HTTPClient(protocol.Protocol):
    """One HTTP request/response exchange over a client connection.

    Set ``requestMethod`` (or call sendCommand) before the response arrives:
    a HEAD answer carries a Content-Length but no body, and only the request
    method tells the parser so.
    """

    requestVersion = "HTTP/1.0"   # what sendCommand puts on the request line
    requestMethod = "GET"

    # Limits (bytes unless said otherwise): a hostile upstream must not make
    # us buffer without end.
    maxStatusLineLength = 8192
    maxHeaderCount = 100
    maxHeaderBytes = 65536
    maxInterimResponses = 16
    maxBufferedBody = 16 * 1024 * 1024   # only the default handleResponsePart buffers

    # Parser state (class defaults, so subclasses need not call __init__).
    _state = "status"
    _buffer = None
    _pending = None
    _bodyParts = None
    _bodySize = 0

    # -- sending the request ------------------------------------------------

    def sendCommand(self, command, path):
        """Start the request: ``METHOD TARGET VERSION``.  Kept in a buffer
        with the headers, so that endHeaders sends the head in one write."""
        command, path = _bytes(command), _bytes(path)
        if not _TOKEN.fullmatch(command):
            raise ValueError("invalid method %r" % (command,))
        if not _TARGET.match(path.decode("latin-1")):
            raise ValueError("invalid request target %r" % (path,))
        self.requestMethod = command.decode("ascii")
        self._pending = [b"%s %s %s\r\n" % (command, path, _bytes(self.requestVersion))]

    def sendHeader(self, name, value):
        """Add one header line to the request head."""
        name, value = _bytes(name), _bytes(value)
        if not _TOKEN.fullmatch(name):
            raise ValueError("invalid header name %r" % (name,))
        if _BAD_VALUE.search(value.decode("latin-1")):
            raise ValueError("header value for %r contains CR, LF or NUL" % (name,))
        if self._pending is None:
            self._pending = []
        self._pending.append(b"%s: %s\r\n" % (name, value))

    def endHeaders(self):
        """End the head (blank line) and send it; a body may follow with
        self.transport.write."""
        head = b"".join(self._pending or []) + b"\r\n"
        self._pending = None
        self.transport.write(head)

    # -- the hooks ----------------------------------------------------------

    def connectionMade(self):
        """Called once connected; subclasses send their request here."""

    def handleStatus(self, version, status, message):
        """The final status line: str version, status ('200'), reason."""

    def handleHeader(self, key, value):
        """One response header (str, str), in the order received."""

    def handleEndHeaders(self):
        """All headers of the final response have been delivered."""

    def handleResponsePart(self, data):
        """Body bytes; the default keeps them for handleResponse."""
        if self._bodyParts is None:
            self._bodyParts = []
        self._bodySize += len(data)
        if self._bodySize > self.maxBufferedBody:
            raise MalformedResponse("response body larger than %d bytes"
                                    % self.maxBufferedBody)
        self._bodyParts.append(data)

    def handleResponseEnd(self):
        """The body is complete; the default passes it to handleResponse."""
        parts, self._bodyParts = self._bodyParts, None
        self.handleResponse(b"".join(parts or []))

    def handleResponse(self, body):
        """The whole body, when the default handleResponsePart buffered it."""

    def handleResponseTruncated(self, reason):
        """The connection ended before the response did.  Twisted's client
        treats this like a complete response; subclasses that relay bytes
        (ProxyClient) must not, or a cut body would look whole."""
        self.handleResponseEnd()

    def handleMalformedResponse(self, why):
        """The upstream sent something we refuse to parse; stop reading."""
        self.transport.loseConnection()

    # -- receiving ----------------------------------------------------------

    def dataReceived(self, data):
        """Feed bytes in; callbacks fire as soon as they can."""
        if self._state in ("done", "error"):
            return  # anything after the response is not ours to read
        if self._buffer is None:
            self._buffer = bytearray()
        self._buffer += data
        try:
            while self._state not in ("done", "error") and self._step():
                pass
        except MalformedResponse as exc:
            self._state = "error"
            self._buffer = None
            self.handleMalformedResponse(str(exc))
        if self._state in ("done", "error"):
            # One response a connection: nothing more to read.  Closing is
            # also what ends Protocol.handleConnection's loop of recv calls.
            self.transport.loseConnection()

    def connectionLost(self, reason=None):
        """EOF: the end of a close-delimited body, or a truncated message."""
        state = self._state
        if state == "body-close":
            self._finish()
        elif state not in ("done", "error"):
            self._state = "error"
            self.handleResponseTruncated(reason)

    # -- the state machine: each step consumes one piece, or returns False --
    #
    #   status -> headers -> (interim: back to status)
    #                     -> body-length | body-chunked | body-close | done

    def _step(self):
        return self._STEPS[self._state](self)

    def _readLine(self, limit, what):
        """One line (without CRLF) from the buffer, or None if incomplete."""
        end = self._buffer.find(b"\n", 0, limit + 1)
        if end < 0:
            if len(self._buffer) > limit:
                raise MalformedResponse("%s longer than %d bytes" % (what, limit))
            return None
        line = bytes(self._buffer[:end])
        del self._buffer[:end + 1]
        return line[:-1] if line.endswith(b"\r") else line

    def _step_status(self):
        line = self._readLine(self.maxStatusLineLength, "status line")
        if line is None:
            return False
        match = _STATUS_LINE.match(line)
        if not match:
            raise MalformedResponse("bad status line %r" % (line[:80],))
        self._version, status, self._message = (
            g.decode("latin-1") if g else "" for g in match.groups())
        self._status = int(status)
        self._headerLines = []
        self._headerBytes = 0
        if self._isInterim():
            # RFC 9110 section 15.2: 1xx is interim; the final answer follows.
            self._interims = getattr(self, "_interims", 0) + 1
            if self._interims > self.maxInterimResponses:
                raise MalformedResponse("more than %d interim responses"
                                        % self.maxInterimResponses)
        self._state = "headers"
        return True

    def _isInterim(self):
        # 101 Switching Protocols is final: the connection stops being HTTP.
        return 100 <= self._status < 200 and self._status != 101

    def _step_headers(self):
        line = self._readLine(self.maxHeaderBytes, "header line")
        if line is None:
            return False
        if not line:
            self._endOfHead()
            return True
        self._headerBytes += len(line) + 2
        if self._headerBytes > self.maxHeaderBytes:
            raise MalformedResponse("response head larger than %d bytes" % self.maxHeaderBytes)
        self._headerLines.append(line)
        return True

    def _endOfHead(self):
        """Blank line: skip an interim response, or deliver the final head."""
        try:
            # The same field rules as for requests (wire.py): a proxy that
            # receives obs-fold may answer 502 (RFC 9112 section 5.2).
            headers = wire.parseHeaderLines(self._headerLines, self.maxHeaderCount)
        except error.Error as exc:
            raise MalformedResponse(exc.detail or str(exc))
        self._headerLines = None
        if self._isInterim():
            self._state = "status"
            return
        framing, length = self._framing(headers)
        self.handleStatus(self._version, "%03d" % self._status, self._message)
        for name, value in headers:
            self.handleHeader(name, value)
        self.handleEndHeaders()
        if self._state != "headers":
            return  # a hook ended the exchange
        if framing == "none" or framing == "length" and length == 0:
            self._finish()
        elif framing == "length":
            self._remaining = length
            self._state = "body-length"
        elif framing == "chunked":
            self._decoder = wire.ChunkedDecoder(_UNLIMITED)
            self._state = "body-chunked"
        else:
            self._state = "body-close"

    def _framing(self, headers):
        """RFC 9112 section 6.3, by the table shared with the server
        (``wire.responseFraming``): how is this response's body delimited?"""
        try:
            return wire.responseFraming(self.requestMethod, self._status,
                                        wire.fieldValues(headers, "transfer-encoding"),
                                        wire.fieldValues(headers, "content-length"))
        except error.Error as exc:
            raise MalformedResponse(exc.detail or str(exc))

    def _takeBuffer(self, limit=None):
        """Remove and return up to ``limit`` buffered bytes."""
        if limit is None or limit >= len(self._buffer):
            data, self._buffer = bytes(self._buffer), bytearray()   # the usual case: no copy-down
            return data
        data = bytes(self._buffer[:limit])
        del self._buffer[:limit]
        return data

    def _step_body_close(self):
        data = self._takeBuffer()
        if data:
            self.handleResponsePart(data)
        return False

    def _step_body_length(self):
        data = self._takeBuffer(self._remaining)
        self._remaining -= len(data)
        if data:
            self.handleResponsePart(data)
        if self._remaining == 0 and self._state == "body-length":
            self._finish()
        return False

    def _step_body_chunked(self):
        try:
            data = self._decoder.feed(self._takeBuffer())
        except error.Error as exc:
            raise MalformedResponse(exc.detail or str(exc))
        if data:
            self.handleResponsePart(data)
        if self._decoder.done and self._state == "body-chunked":
            self._finish()   # trailers were read and dropped: hop-by-hop for us
        return False

    # Which method reads the next piece in each state.
    _STEPS = {"status": _step_status, "headers": _step_headers,
              "body-length": _step_body_length, "body-chunked": _step_body_chunked,
              "body-close": _step_body_close}

    def _finish(self):
        self._state = "done"
        self._buffer = None
        self.handleResponseEnd()
