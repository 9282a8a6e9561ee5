# -*- test-case-name: tests.test_http -*-
"""HTTP/1.1 connections: HTTPChannel reads requests off a socket, one at a time.

Guide: "Site Objects" (a Site is an HTTPFactory: it makes an HTTPChannel per
connection) and "Proxies" ("Proxy inherits from http.HTTPChannel").

A connection spends most of its life waiting, and waiting costs no thread:
the reactor's selector thread (``internet/selectorloop.py``) holds it, and
a worker thread (``internet/workers.py``) takes it only when there is work.
The journey of one request, numbered as in docs/internals/design.rst:

    in the selector thread, while the connection waits (no thread of its own)
    1. accept; Site.buildProtocol makes this HTTPChannel  (selectorloop.py)
    2. wait for the next head: its first bytes            (readTimeout for a
       new connection, idleTimeout between requests), then the rest
                                                          (headTimeout, size
                                                          limits)
    in a worker thread, from ``serveInWorker``
    3. parse the head with ``refweb.wire``                 (errors -> 4xx, close)
    4. read the body by Content-Length or chunks          (maxBodySize,
                                                          bodyTimeout)
    5-8. the request takes over: requestReceived, traversal, render, write
       (http_request.py, server.py, resource.py)
    9. finish: a response still open (NOT_DONE_YET) goes back to the
       selector until finish() is called from another thread; the selector
       notices meanwhile if the client goes away
    10. keep the connection for another request (step 2), or close it
        (RFC 9112 §9.3)

Requests on one connection are therefore answered strictly in order, even
when they were pipelined: a pipelined head is answered by the same worker,
straight after the response before it.  Every limit below is a class
attribute; a factory (a Site) may override any of them by setting an
attribute of the same name.
"""

import io
import itertools
import tempfile
import threading
import time

from refweb import error, wire
from refweb.http_headers import Headers
from refweb.http_request import CACHED, Request, SERVER_NAME  # noqa: F401 (re-exported)
from refweb.internet.error import ConnectionDone, ConnectionLost
from refweb.internet.protocol import READ_TIMED_OUT, Factory, Protocol
from refweb.python import log
from refweb.python.failure import Failure
from refweb.status import *  # noqa: F401,F403  (the status names: http.OK, http.NOT_FOUND...)
from refweb.status import RESPONSES, phrase  # noqa: F401

datetimeToString = wire.formatHTTPDate
stringToDatetime = wire.parseHTTPDate

LIMIT_NAMES = ("maxRequestLineLength", "maxHeaderCount", "maxHeaderBytes", "maxBodySize",
               "readTimeout", "writeTimeout", "headTimeout", "idleTimeout", "bodyTimeout",
               "memoryBodyLimit", "maxPipelineBytes")


_connectionNumbers = itertools.count(1)  # names connections in wire logs: conn-1, conn-2...


class _ClientGone(Exception):
    """The peer closed the connection while we were reading from it."""


class HTTPChannel(Protocol):
    """One HTTP connection; see the module docstring for its journey."""

    requestFactory = Request
    waitsInSelector = True

    maxRequestLineLength = 8190  # bytes in "GET /path HTTP/1.1" -> 414 beyond
    maxHeaderCount = 100  # header lines -> 431 beyond
    maxHeaderBytes = 65536  # plus maxRequestLineLength: bytes in the whole head -> 431 beyond
    maxBodySize = 64 * 1024 * 1024  # request body bytes -> 413 beyond
    readTimeout = 30.0  # seconds any single read may wait mid-request -> 408
    writeTimeout = 60.0  # seconds any single write may wait on a client that does not read
    headTimeout = 30.0  # seconds for the whole head, however it trickles in -> 408
    idleTimeout = 60.0  # seconds a kept-alive connection may sit between requests
    bodyTimeout = 600.0  # seconds for a whole request body
    memoryBodyLimit = 1024 * 1024  # larger bodies are spooled to a temporary file
    maxPipelineBytes = 1024 * 1024  # bytes read ahead while a response is pending
    # After a response, how long the worker waits for this client's next
    # request before handing the connection back to the selector -- unless
    # other work would wait meanwhile (the pool is full).  A client that asks
    # again at once (a page's next resource, a benchmark) is then served
    # without a trip through the selector; bench/bench_workloads.py W1 shows
    # what it saves.  0 turns it off.
    lingerSeconds = 0.01

    site = None
    wireLog = False  # set from Site(wire=True): log every raw request and response head
    wireName = ""  # "conn-N" in those log lines

    def __init__(self):
        self.persistent = True
        self.requestsServed = 0
        self.currentRequest = None  # the request being answered, from its head to its finish
        self._buffer = b""  # bytes read but not yet parsed (the next request's start)
        self._deadline = None  # when waiting for the next head must end (step 2)
        self._headDeadline = None  # when the head being collected must be whole
        self._workerIdent = None  # the worker thread serving the connection now
        self._lost = False  # connectionLost has been called

    def connectionMade(self):
        if self.factory is not None:
            for name in LIMIT_NAMES:
                value = getattr(self.factory, name, None)
                if value is not None:
                    setattr(self, name, value)
            self.wireLog = getattr(self.factory, "wire", False)
        self.transport.setTimeouts(read=self.readTimeout, write=self.writeTimeout)
        self._deadline = time.monotonic() + self.readTimeout

    # -- steps 2 and 9: what the selector asks while the connection waits --
    def dataReceivedWhileWaiting(self, data):
        """The selector read ``data``; True if a worker should take over now."""
        if self.currentRequest is None:
            self._headArriving(bool(self._buffer))
        self._buffer += data
        return self.readyForWorker()

    def _headArriving(self, begun):
        """A head has begun: it has headTimeout to arrive whole, and readTimeout
        between any two of its pieces."""
        now = time.monotonic()
        if not begun:
            self._headDeadline = now + self.headTimeout
        self._deadline = min(self._headDeadline, now + self.readTimeout)

    def readyForWorker(self):
        """True once a worker has something to do: a head, or a finished response."""
        if self.currentRequest is not None:
            return self.currentRequest.finished
        buffer = wire.skipEmptyLines(self._buffer)
        if b"\r\n\r\n" in buffer:
            return True
        try:  # a head already too long or malformed is answered now, not at its deadline
            self._checkPartialHead(buffer)
        except error.Error:
            return True
        return False

    def readsWhileWaiting(self):
        """False: leave what the client sends in the kernel for now.

        While a response is open, pipelined bytes are read ahead only up to
        maxPipelineBytes (and not at all on TLS, whose socket another thread
        is writing to).
        """
        if self.currentRequest is None:
            return True
        return not self.transport.isTLS and len(self._buffer) < self.maxPipelineBytes

    def waitingDeadline(self):
        """When the selector should stop waiting (time.monotonic()), or None:
        an open response waits as long as its resource takes."""
        return None if self.currentRequest is not None else self._deadline

    def waitTimedOut(self):
        """In a worker: the deadline passed.  A head that had begun gets a 408."""
        if wire.skipEmptyLines(self._buffer):
            self._sendErrorAndClose(error.RequestTimeout(
                detail="the request head did not arrive in time"))
        self._close(Failure(ConnectionDone()))
        return False

    def waitLost(self):
        """In a worker: the client went away (or the socket was closed) while waiting."""
        self._close(Failure(ConnectionDone()))
        return False

    # -- steps 3 to 10, in a worker ------------------------------------------
    def serveInWorker(self):
        """Answer every request whose head has arrived; True: wait in the selector again."""
        self._workerIdent = threading.get_ident()
        reason = Failure(ConnectionDone())
        try:
            if self.currentRequest is not None:  # step 9 is over: finish() was called
                self._requestEnded()
            while self.persistent and not self.transport.disconnected:
                head = self._takeHead()
                if head is None:
                    if self._buffer:  # part of a pipelined head
                        self._headArriving(False)
                    else:
                        self._deadline = time.monotonic() + self.idleTimeout
                    return True
                if not self._serveRequest(head):
                    return True  # the response is still open: step 9
        except _ClientGone:
            pass
        except error.Error as exc:
            self._sendErrorAndClose(exc)
        except OSError as exc:
            reason = Failure(ConnectionLost(str(exc)))
        except Exception:
            reason = Failure()
            log.err(reason, "Unhandled error in connection %r:" % (self,))
        finally:
            self._workerIdent = None
        self._close(reason)
        return False

    def _serveRequest(self, head):
        """Steps 3 to 8 for one request; False if its response is still open."""
        method, target, version, headers = self._parseHead(head)
        request = self.requestFactory(self, queued=False)
        request.requestHeaders = headers
        request.clientproto = version  # so an error below answers in the client's version
        self.currentRequest = request
        tokens = wire.connectionTokens(headers.getRawHeaders("connection", ()))
        self.persistent = wire.wantsKeepAlive(version, tokens)
        request.content = self._readBody(self.transport.socket, version, headers)
        try:
            request.requestReceived(method, target, version)
        except Exception:
            request.processingFailed(Failure())
        if not request.finished:
            return False  # it stays currentRequest while the selector holds the connection
        self._requestEnded()
        return True

    def _requestEnded(self):
        self.currentRequest = None
        self.requestsServed += 1
        if self.wireLog:
            self._logWireFate()

    def _close(self, reason):
        self.transport.loseConnection()
        if not self._lost:
            self._lost = True
            self._abandonPending(reason)
            self.connectionLost(reason)

    # -- step 3: the head --------------------------------------------------
    def _takeHead(self):
        """The next head, if all of it has arrived; None if not (yet).

        A pipelined request may already be in the buffer.  If it is not, a
        worker with room in its pool waits up to lingerSeconds for the
        client's next bytes (a poll that returns at once if they are there);
        otherwise one read that does not wait looks for bytes that came
        meanwhile.
        """
        while True:
            self._buffer = buffer = wire.skipEmptyLines(self._buffer)  # RFC 9112 §2.2
            self._headStart = buffer[:16]  # the method, should an error need it (HEAD)
            end = buffer.find(b"\r\n\r\n")
            if end >= 0:
                self._buffer = buffer[end + 4:]
                return buffer[:end]
            self._checkPartialHead(buffer)
            if self.transport.isTLS:
                return None  # its selector knows how to look inside the TLS layer
            if self._mayLinger():
                more = self.transport.receiveWithin(self.lingerSeconds)
            else:
                more = self.transport.receiveNow()
            if more is None:
                return None
            if not more:
                raise _ClientGone()
            self._buffer += more

    def _mayLinger(self):
        selector = self.transport.selector
        return (self.lingerSeconds > 0 and selector is not None
                and not selector.workers.isFull())

    def _parseHead(self, head):
        self._checkHeadSize(head)
        if self.wireLog:
            self.logWire("request", head.decode("latin-1"))
        method, target, version, fields = wire.parseHead(head, self.maxHeaderCount)
        headers = Headers()
        headers._addTrustedFields(fields)
        wire.checkHost(version, headers.getRawHeaders("host", ()))
        return method, target, version, headers

    def _checkPartialHead(self, buffer):
        """A head still without its CRLF CRLF: refuse it now if it is already
        too long, or ends its lines with LF alone (it never will be whole)."""
        self._checkHeadSize(buffer)
        wire.checkLineEnds(buffer)

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

    # -- step 4: the body -------------------------------------------------
    def _recv(self, sock, deadline, timeoutDetail):
        """One read mid-request; RequestTimeout (408) if it stalls or the deadline passed."""
        if time.monotonic() > deadline:
            raise error.RequestTimeout(timeoutDetail)
        try:
            data = sock.recv(65536)
        except READ_TIMED_OUT:
            raise error.RequestTimeout(timeoutDetail) from None
        if not data:
            raise _ClientGone()
        return data

    def _readBody(self, sock, version, headers):
        kind, length = wire.bodyFraming(headers.getRawHeaders("transfer-encoding", ()),
                                        headers.getRawHeaders("content-length", ()),
                                        self.maxBodySize, version)
        if kind == "length" and length == 0:
            return io.BytesIO()
        self._handleExpect(version, headers)
        if kind == "length":
            return self._readFixedBody(sock, length)
        return self._readChunkedBody(sock)

    def _handleExpect(self, version, headers):
        expect = headers.getRawHeaders("expect")
        if not expect:
            return
        if [v.strip().lower() for v in expect] != ["100-continue"]:
            raise error.ExpectationFailed(detail="only Expect: 100-continue is understood")
        if version == "HTTP/1.1" and not self._buffer:
            # RFC 9110 §10.1.1: tell the client to go ahead and send the body.
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _bodyFile(self, expected):
        if expected is not None and expected <= self.memoryBodyLimit:
            return io.BytesIO()
        return tempfile.SpooledTemporaryFile(max_size=self.memoryBodyLimit)

    def _readFixedBody(self, sock, length):
        body = self._bodyFile(length)
        deadline = time.monotonic() + self.bodyTimeout
        timeout = "the request body did not arrive in time"
        piece, self._buffer = self._buffer[:length], self._buffer[length:]
        body.write(piece)
        remaining = length - len(piece)
        while remaining > 0:
            data = self._recv(sock, deadline, timeout)
            if len(data) > remaining:
                data, self._buffer = data[:remaining], data[remaining:]
            body.write(data)
            remaining -= len(data)
        body.seek(0)
        return body

    def _readChunkedBody(self, sock):
        body = self._bodyFile(None)
        decoder = wire.ChunkedDecoder(self.maxBodySize)
        deadline = time.monotonic() + self.bodyTimeout
        timeout = "the request body did not arrive in time"
        data, self._buffer = self._buffer, b""
        while True:
            body.write(decoder.feed(data))
            if decoder.done:
                self._buffer = decoder.unused()
                body.seek(0)
                return body
            data = self._recv(sock, deadline, timeout)

    # -- step 9: a response that finishes later -----------------------------
    def requestDone(self, request):
        """Called by request.finish(), from whichever thread finished it.

        A finish() inside the worker serving the connection needs nothing:
        that worker sees ``request.finished`` when the render returns.  From
        any other thread, the connection may be waiting in the selector
        (step 9), so the selector is asked to look again.
        """
        if threading.get_ident() != self._workerIdent and self.transport.selector is not None:
            self.transport.selector.resume(self)

    def _abandonPending(self, reason):
        request, self.currentRequest = self.currentRequest, None
        if request is not None and not request.finished:
            request.connectionLost(reason)

    # -- what a response needs from its connection -------------------------
    def connectionHeader(self, version):
        """The Connection line for a response head, given our keep-alive decision."""
        if not self.persistent:
            return "Connection: close"
        if version == "HTTP/1.0":
            return "Connection: keep-alive"
        return ""

    def logWire(self, direction, head):
        """With Site(wire=True): each raw head line, ">>" in and "<<" out."""
        if self.wireLog:
            if not self.wireName:  # numbered on first use: silent connections take no number
                self.wireName = "conn-%d" % next(_connectionNumbers)
            arrow = ">>" if direction == "request" else "<<"
            for line in head.split("\r\n"):
                if line:
                    log.msg("wire %s %s %s" % (self.wireName, arrow, line))

    def _logWireFate(self):
        kept = self.persistent and not self.transport.disconnected
        log.msg("wire %s -- %s" % (self.wireName, "kept open" if kept else "closed"))

    _headStart = b""  # the first bytes of the request head being read

    def _sendErrorAndClose(self, exc):
        """An error found while reading the request: say so, then close.
        A HEAD gets the head alone (wire.errorResponse)."""
        version = self.currentRequest.clientproto if self.currentRequest else "HTTP/1.1"
        head, body = wire.errorResponse(version, exc, wire.guessMethod(self._headStart),
                                        SERVER_NAME)
        self.persistent = False
        self.logWire("response", head.decode("latin-1"))
        self.transport.write(head + body)
        if self.wireLog:
            self._logWireFate()
        peer = self.transport.getPeer()
        log.msg("%s: %s (connection closed)" % (getattr(peer, "host", peer), exc))


class HTTPFactory(Factory):
    """Makes an HTTPChannel per connection, and keeps the access log.

    ``logPath``: a file to append combined-log-format lines to; without
    one, lines go to ``refweb.python.log`` (stdout under ``refweb -n``).
    Any of HTTPChannel's limits may be set here to override its default.
    """

    protocol = HTTPChannel

    def __init__(self, logPath=None, timeout=None):
        self.logPath = logPath
        self._logFile = None
        self._logLock = threading.Lock()  # guards _logFile writes
        if timeout is not None:
            self.idleTimeout = timeout

    def startFactory(self):
        if self.logPath:
            self._logFile = open(self.logPath, "a", encoding="utf-8")

    def stopFactory(self):
        with self._logLock:
            if self._logFile is not None:
                self._logFile.close()
                self._logFile = None

    def log(self, request):
        """Write one access-log line for a finished request."""
        if self._logFile is None and not log.isObserved():
            return  # nobody would read it: skip the formatting
        line = combinedLogFormat(request)
        with self._logLock:
            if self._logFile is not None:
                self._logFile.write(line + "\n")
                self._logFile.flush()
                return
        log.msg(line)


# (second, its access-log form): time.strftime once a second, not once a
# request.  One tuple, replaced whole, so that threads never see half of it.
_logStamp = (None, "")


def _logTime():
    global _logStamp
    now = int(time.time())
    second, text = _logStamp
    if second != now:
        text = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now))
        _logStamp = (now, text)
    return text


def _quoted(value):
    return (value or "-").replace("\\", "\\\\").replace('"', '\\"')


def combinedLogFormat(request):
    """'127.0.0.1 - - [25/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 12 "-" "curl/8"'."""
    stamp = _logTime()  # about 1 us less than a strftime per request (bench_smallfile.py)
    return '%s - - [%s] "%s %s %s" %d %s "%s" "%s"' % (
        request.getClientIP() or "-", stamp, request.method, _quoted(request.uri),
        request.clientproto, request.code, request.sentLength or "-",
        _quoted(request.getHeader("referer")), _quoted(request.getHeader("user-agent")))


def __getattr__(name):
    # HTTPClient lives in httpclient.py (it imports nothing from here); it is
    # looked up lazily so that each module can be read, and imported, alone.
    if name == "HTTPClient":
        from refweb.httpclient import HTTPClient
        return HTTPClient
    raise AttributeError("module 'refweb.http' has no attribute %r" % (name,))
