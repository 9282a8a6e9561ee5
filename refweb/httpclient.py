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

It reads with the client role of the server's own machinery: bytes arrive
in whatever pieces TCP delivers, ``http11.ClientConnection`` turns them
into events (a head, body data, the end), and ``_deliver`` turns the events
into the callbacks below, so it can be fed by hand in a test with no socket
at all.  It never touches the socket: the client
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
uses too (``wire.responseFraming``, read by http11's READERS table): no body after HEAD or for
1xx/204/304; else Transfer-Encoding: chunked; else Content-Length; else the
body runs until the server closes the connection.  Interim 1xx responses
(100 Continue, 103 Early Hints) are skipped without any callback.

Start reading at ``HTTPClient.dataReceived``.
"""

import re

from refweb import error, grammar, http11
from refweb.internet import protocol

# RFC 9110 section 5.6.2: a token (header names, methods), from refweb.grammar.
_TOKEN = grammar.pattern("token", bytes)
# A request-target we are willing to put on the wire: no spaces, no controls.
_TARGET = grammar.pattern("request-target", bytes)
# A field value: no CR, LF or NUL (the bytes that would smuggle a new header).
_BAD_VALUE = re.compile(r"[\r\n\x00]")


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

    # State (class defaults, so subclasses need not call __init__): "reading"
    # until the response has ended ("done") or been refused ("error").
    _state = "reading"
    _connection = None  # the http11.ClientConnection, made at the first bytes
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
        if not _TARGET.fullmatch(path):
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

    # -- receiving: the client half of http11 does the reading ----------------

    def dataReceived(self, data):
        """Feed bytes in; callbacks fire as soon as they can."""
        if self._state != "reading":
            return  # anything after the response is not ours to read
        if self._connection is None:
            self._connection = http11.ClientConnection(self.requestMethod)
            for name in ("maxStatusLineLength", "maxHeaderCount", "maxHeaderBytes",
                         "maxInterimResponses"):
                setattr(self._connection, name, getattr(self, name))
        try:
            self._deliver(self._connection.receive(data))
        except (MalformedResponse, error.Error) as exc:
            self._state = "error"
            self.handleMalformedResponse(getattr(exc, "detail", None) or str(exc))
        if self._state != "reading":
            # One response a connection: nothing more to read.  Closing is
            # also what ends Protocol.handleConnection's loop of recv calls.
            self.transport.loseConnection()

    def connectionLost(self, reason=None):
        """EOF: the end of a close-delimited body, or a truncated message."""
        if self._state != "reading":
            return
        try:
            events = self._connection.receiveEOF() if self._connection else None
        except error.Error:
            events = None
        if events is None:
            self._state = "error"
            self.handleResponseTruncated(reason)
        else:
            self._deliver(events)

    def _deliver(self, events):
        """Turn the connection's events into the hooks, in order."""
        for event in events:
            if self._state != "reading":
                return  # a hook ended the exchange
            if isinstance(event, http11.ResponseHead):
                self.handleStatus(event.version, "%03d" % event.code, event.reason)
                for name, value in event.fields:
                    self.handleHeader(name, value)
                self.handleEndHeaders()
            elif event is http11.END_OF_BODY:
                self._state = "done"
                self.handleResponseEnd()
            else:
                self.handleResponsePart(event.data)
