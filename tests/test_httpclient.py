"""Tests for refweb.httpclient: the push parser behind ProxyClient.

Most tests feed bytes to an HTTPClient by hand (no sockets): the parser must
give the same callbacks whatever pieces TCP cuts the bytes into.  The last
few run it over a real connection made by reactor.connectTCP.
"""

import socket
import threading

import pytest

from refweb import http
from refweb.httpclient import HTTPClient
from refweb.internet import error as netError
from refweb.internet import protocol, reactor
from refweb.python.failure import Failure

from support import RecordingTransport


class Recorder(HTTPClient):
    """Logs every callback as a tuple, in order."""

    def __init__(self, method="GET"):
        self.requestMethod = method
        self.events = []
        self.makeConnection(RecordingTransport())

    def handleStatus(self, version, status, message):
        self.events.append(("status", version, status, message))

    def handleHeader(self, key, value):
        self.events.append(("header", key, value))

    def handleEndHeaders(self):
        self.events.append(("endHeaders",))

    def handleResponsePart(self, data):
        if self.events and self.events[-1][0] == "body":
            self.events[-1] = ("body", self.events[-1][1] + data)
        else:
            self.events.append(("body", data))

    def handleResponseEnd(self):
        self.events.append(("end",))

    def handleResponseTruncated(self, reason):
        self.events.append(("truncated", reason.type if reason is not None else None))

    def handleMalformedResponse(self, why):
        self.events.append(("malformed", why))


def feed(client, data, pieceSize=None):
    """Deliver ``data`` whole, or cut into pieces of ``pieceSize`` bytes."""
    if pieceSize is None:
        client.dataReceived(data)
        return client
    for i in range(0, len(data), pieceSize):
        client.dataReceived(data[i:i + pieceSize])
    return client


@pytest.mark.parametrize("pieceSize", [None, 1, 7])
def test_content_length_body_in_any_pieces(pieceSize):
    """A Content-Length body gives the same callbacks however TCP splits it."""
    c = feed(Recorder(), b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello", pieceSize)
    assert c.events == [("status", "HTTP/1.1", "200", "OK"), ("header", "Content-Length", "5"),
                        ("header", "X-A", "1"), ("endHeaders",), ("body", b"hello"), ("end",)]


@pytest.mark.parametrize("pieceSize", [None, 1, 5])
def test_chunked_body_with_extensions_and_trailers(pieceSize):
    """Chunked bodies are decoded; chunk extensions and trailers are dropped."""
    raw = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
    c = feed(Recorder(), raw, pieceSize)
    assert c.events[-2:] == [("body", b"hello world"), ("end",)]
    assert c._state == "done"


def test_close_delimited_body_ends_at_eof():
    """Without length or chunking, the body runs until the server closes."""
    c = feed(Recorder(), b"HTTP/1.0 200 OK\r\n\r\nsome bytes")
    assert c.events[-1] == ("body", b"some bytes")
    c.connectionLost(Failure(netError.ConnectionDone()))
    assert c.events[-1] == ("end",)


def test_interim_responses_are_skipped():
    """100 Continue and 103 Early Hints reach no callback; the final answer does."""
    raw = (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
           b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
    c = feed(Recorder(), raw, 3)
    assert c.events == [("status", "HTTP/1.1", "201", "Created"),
                        ("header", "Content-Length", "2"), ("endHeaders",),
                        ("body", b"ok"), ("end",)]


@pytest.mark.parametrize("method,status", [("HEAD", 200), ("GET", 204), ("GET", 304)])
def test_no_body_for_head_204_304(method, status):
    """After HEAD, and for 204 and 304, the response ends with its head."""
    c = feed(Recorder(method), b"HTTP/1.1 %d X\r\nContent-Length: 99\r\n\r\n" % status)
    assert c.events[-2:] == [("endHeaders",), ("end",)]


def test_transfer_encoding_wins_over_content_length():
    """RFC 9112 section 6.3: with both, the chunked framing is used."""
    raw = (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"2\r\nhi\r\n0\r\n\r\n")
    assert feed(Recorder(), raw).events[-2:] == [("body", b"hi"), ("end",)]


def test_zero_length_and_repeated_equal_lengths():
    """Content-Length: 0 ends at once; '3, 3' is one length, not a conflict."""
    assert feed(Recorder(), b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").events[-1] == ("end",)
    c = feed(Recorder(), b"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabcEXTRA")
    assert c.events[-2:] == [("body", b"abc"), ("end",)]
    c.dataReceived(b"more")   # bytes after the response are ignored
    assert c.events[-1] == ("end",)


def test_status_line_without_reason():
    """'HTTP/1.1 200' (no reason phrase) is accepted with an empty message."""
    c = feed(Recorder(), b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n")
    assert c.events[0] == ("status", "HTTP/1.1", "200", "")


def test_truncated_body_is_reported():
    """A connection closed inside a Content-Length body is a truncation, not an end."""
    c = feed(Recorder(), b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    c.connectionLost(Failure(netError.ConnectionDone()))
    assert c.events[-2:] == [("body", b"abc"), ("truncated", netError.ConnectionDone)]


def test_eof_before_any_status_is_a_truncation():
    """A server that closes without a word gives handleResponseTruncated."""
    c = Recorder()
    c.connectionLost(Failure(netError.ConnectionDone()))
    assert c.events == [("truncated", netError.ConnectionDone)]
    c.connectionLost(None)   # a second notice changes nothing
    assert len(c.events) == 1


@pytest.mark.parametrize("raw,why", [
    (b"HTTP/1.1 OK\r\n\r\n", "bad status line"),
    (b"ICY 200 OK\r\n\r\n", "bad status line"),
    (b"HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n", "bad header name"),
    (b"HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n", "obs-fold"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "conflicting"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", "bad Content-Length"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "unsupported transfer coding"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size"),
])
def test_malformed_responses_are_refused(raw, why):
    """Responses that break HTTP/1.1 framing rules reach handleMalformedResponse."""
    c = feed(Recorder(), raw)
    assert c.events[-1][0] == "malformed", c.events
    assert why in c.events[-1][1], c.events[-1]
    c.dataReceived(b"HTTP/1.1 200 OK\r\n\r\n")   # nothing more is parsed
    assert c.events[-1][0] == "malformed"


def test_limits_on_status_line_and_headers():
    """Over-long status lines, too many headers and too many header bytes are refused."""
    c = feed(Recorder(), b"HTTP/1.1 200 " + b"x" * 9000)
    assert "status line longer" in c.events[-1][1]
    many = b"".join(b"X-%d: v\r\n" % i for i in range(101))
    c = feed(Recorder(), b"HTTP/1.1 200 OK\r\n" + many + b"\r\n")
    assert "more than 100 header" in c.events[-1][1]
    c = feed(Recorder(), b"HTTP/1.1 200 OK\r\nX-Big: " + b"v" * 70000)
    assert "header line longer" in c.events[-1][1]
    big = b"".join(b"X-%d: %s\r\n" % (i, b"v" * 1000) for i in range(70))
    c = feed(Recorder(), b"HTTP/1.1 200 OK\r\n" + big + b"\r\n")
    assert "head larger" in c.events[-1][1]


def test_too_many_interim_responses():
    """An endless stream of 100 Continue is cut off."""
    c = feed(Recorder(), b"HTTP/1.1 100 Continue\r\n\r\n" * 20)
    assert "interim" in c.events[-1][1]


def test_default_client_buffers_the_body_for_handleResponse():
    """Without overrides, handleResponse gets the whole body once."""
    got = []

    class Client(HTTPClient):
        def handleResponse(self, body):
            got.append(body)

    c = Client()
    c.makeConnection(RecordingTransport())
    feed(c, b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabcdef", 2)
    assert got == [b"abcdef"]
    # Twisted's behaviour: a truncated body is still handed over.
    c = Client()
    c.makeConnection(RecordingTransport())
    feed(c, b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nab")
    c.connectionLost(Failure(netError.ConnectionDone()))
    assert got[-1] == b"ab"


def test_default_buffering_is_bounded():
    """The default buffering refuses bodies above maxBufferedBody and drops the connection."""
    c = HTTPClient()
    c.maxBufferedBody = 10
    c.makeConnection(RecordingTransport())
    feed(c, b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n" + b"x" * 20)
    assert c.transport.disconnected and c._state == "error"


def test_transport_closed_once_the_response_is_complete():
    """One response a connection: once it is complete the client closes its
    transport (which is what ends the reading loop), and not before."""
    c = Recorder()
    feed(c, b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab")
    assert not c.transport.disconnected
    feed(c, b"c")
    assert c.transport.disconnected and c.events[-1] == ("end",)


def test_transport_closed_after_a_malformed_response_even_if_the_hook_keeps_it():
    """A handleMalformedResponse that does not drop the connection still
    leaves nothing to wait for: the client closes the transport itself."""
    class Lenient(Recorder):
        def handleMalformedResponse(self, why):
            self.events.append(("malformed",))

    c = Lenient()
    feed(c, b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
    assert c.events[-1] == ("malformed",) and c.transport.disconnected


def test_sending_a_request_is_one_write():
    """sendCommand, sendHeader and endHeaders send the head in a single write."""
    c = Recorder()
    c.sendCommand("POST", "/a?b=1")
    c.sendHeader("Host", "example.com")
    c.sendHeader(b"X-Bytes", b"ok")
    c.endHeaders()
    assert c.transport.written == [b"POST /a?b=1 HTTP/1.0\r\nHost: example.com\r\n"
                                   b"X-Bytes: ok\r\n\r\n"]
    assert c.requestMethod == "POST"


@pytest.mark.parametrize("call", [
    lambda c: c.sendCommand("GE T", "/"),
    lambda c: c.sendCommand("GET", "/a b"),
    lambda c: c.sendCommand("GET", "/a\r\nX: y"),
    lambda c: c.sendHeader("X-A", "1\r\nInjected: yes"),
    lambda c: c.sendHeader("Bad Name", "1"),
])
def test_request_injection_is_refused(call):
    """Methods, targets and headers that would forge extra lines raise ValueError."""
    with pytest.raises(ValueError):
        call(Recorder())


def test_http_module_reexports_httpclient():
    """refweb.http.HTTPClient is the class defined in refweb.httpclient."""
    assert http.HTTPClient is HTTPClient


# -- over a real connection --------------------------------------------------

class OneShotServer:
    """A raw listening socket that answers one connection with fixed bytes
    (or with nothing, to test timeouts)."""

    def __init__(self, answer, closeAfter=True):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.request = b""
        self.answer, self.closeAfter = answer, closeAfter
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        conn, _ = self.sock.accept()
        conn.settimeout(5)
        while b"\r\n\r\n" not in self.request:
            self.request += conn.recv(4096)
        if self.answer is not None:
            conn.sendall(self.answer)
        if self.closeAfter:
            conn.close()
        else:
            self.keep = conn

    def close(self):
        self.sock.close()


class Fetch(HTTPClient):
    """GET / and report the outcome through ``done``."""

    requestVersion = "HTTP/1.1"

    def connectionMade(self):
        self.outcome = None
        self.sendCommand("GET", "/x")
        self.sendHeader("Host", "127.0.0.1")
        self.endHeaders()

    def handleStatus(self, version, status, message):
        self.status = status

    def handleResponse(self, body):
        self.factory.outcome = ("ok", self.status, body)
        self.factory.done.set()

    def handleResponseTruncated(self, reason):
        self.factory.outcome = ("truncated", reason.type)
        self.factory.done.set()


class FetchFactory(protocol.ClientFactory):
    protocol = Fetch

    def __init__(self):
        self.done = threading.Event()


def test_real_connection_with_chunked_response():
    """Through reactor.connectTCP, a chunked answer arrives whole at handleResponse."""
    server = OneShotServer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                           b"3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", closeAfter=False)
    factory = FetchFactory()
    reactor.connectTCP("127.0.0.1", server.port, factory, timeout=5)
    assert factory.done.wait(5)
    assert factory.outcome == ("ok", "200", b"abcdef")
    assert server.request.startswith(b"GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    server.close()


def test_real_connection_silent_server_times_out():
    """A server that never answers ends the exchange with a TimeoutError."""
    server = OneShotServer(None, closeAfter=False)
    factory = FetchFactory()
    reactor.connectTCP("127.0.0.1", server.port, factory, timeout=0.3)
    assert factory.done.wait(5)
    assert factory.outcome == ("truncated", netError.TimeoutError)
    server.close()


def test_real_connection_reset_is_a_truncation():
    """A server that hangs up mid-body gives a truncation, not a response."""
    server = OneShotServer(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc")
    factory = FetchFactory()
    reactor.connectTCP("127.0.0.1", server.port, factory, timeout=5)
    assert factory.done.wait(5)
    assert factory.outcome[0] == "truncated"
    server.close()
