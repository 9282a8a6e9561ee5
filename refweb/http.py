# -*- test-case-name: tests.test_http -*-
"""HTTP/1.1 connections: HTTPChannel moves bytes between a socket and the
sans-I/O connection that understands them.

Guide: "Site Objects" (a Site is an HTTPFactory: it makes an HTTPChannel per
connection) and "Proxies" ("Proxy inherits from http.HTTPChannel").

An HTTPChannel owns one socket and knows nothing of HTTP's rules itself:
``http11.ServerConnection`` decides what the bytes mean (heads, bodies,
framing, keep-alive) and the channel does the waiting, the reading and the
writing.  Waiting costs no thread: the reactor's selector thread
(``internet/selectorloop.py``) holds the connection through the waiting
interface ``Protocol`` declares, and a worker thread takes it only when
there is work.  The journey of one request, numbered as in
docs/internals/design.rst (``refweb.journey`` holds the table):

    in the selector thread, while the connection waits (no thread of its own)
    1. accept; Site.buildProtocol makes this HTTPChannel    (selectorloop.py)
    2. wait: each read goes into the connection (dataReceivedWhileWaiting),
       which finds the head -- once, there -- and says when it is whole
    in a worker thread, from ``serveInWorker``
    3. take the head the connection found                 (errors -> 4xx, close)
    4. read the body, by its framing, into request.content
    5-7. the request takes over: requestReceived, traversal, render
    8-9. the response comes back through the ResponseChannel methods below:
       sendHead, sendData, sendFile, endResponse -- each asks the connection
       for the bytes and writes them
    10. keep the connection for another request, or close it: the
        connection decided which when the response ended

Requests on one connection are answered strictly in order, even when they
were pipelined.  Every limit below is a class attribute; a factory (a
Site) may override any of them by setting an attribute of the same name.

Start reading at ``HTTPChannel.serveInWorker``.
"""

import io
import itertools
import tempfile
import threading
import time

from refweb import error, http11, journey, wire
from refweb.h2.frames import PREFACE as HTTP2_PREFACE
from refweb.http_request import CACHED, Request, SERVER_NAME  # noqa: F401 (re-exported)
from refweb.http_response import ResponseChannel
from refweb.internet.error import ConnectionDone, ConnectionLost
from refweb.internet.protocol import Factory, Protocol, copyFileRange
from refweb.python import log
from refweb.python.clock import EverySecond
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


class HTTPChannel(Protocol, ResponseChannel):
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
    # again at once (a page's next resource) is then served without a trip
    # through the selector.  0 turns it off.
    lingerSeconds = 0.01

    site = None
    wireLog = False  # set from Site(wire=True): log every raw request and response head
    journeyLog = False  # set from Site(journey=True): log each request's steps
    wireName = ""  # "conn-N" in those log lines

    def __init__(self):
        self.requestsServed = 0
        self.currentRequest = None  # the request being answered, from its head to its finish
        self.connection = None  # the http11.ServerConnection, made in connectionMade
        self._events = []  # events the connection produced and no worker has taken yet
        self._refused = None  # an error.Error the connection raised while we waited
        self._deadline = None  # when waiting for the next head must end (step 2)
        self._headDeadline = None  # when the head being collected must be whole
        self._workerIdent = None  # the worker thread serving the connection now
        self._pendingHead = b""  # a response head held back to go out with its first bytes
        self._lost = False  # connectionLost has been called
        self._waitingSince = None  # journey: when the wait for the next request began
        self._headFound = None  # journey: (when, where) the connection found the next head
        self._firstBytes = b""  # until we know whether they open HTTP/2 (None after)

    def connectionMade(self):
        if self.factory is not None:
            for name in LIMIT_NAMES:
                value = getattr(self.factory, name, None)
                if value is not None:
                    setattr(self, name, value)
            self.wireLog = getattr(self.factory, "wire", False)
            self.journeyLog = getattr(self.factory, "journey", False)
        self._waitingSince = time.monotonic()
        self.connection = http11.ServerConnection(
            self.maxRequestLineLength, self.maxHeaderCount, self.maxHeaderBytes,
            self.maxBodySize)
        self.transport.setTimeouts(read=self.readTimeout, write=self.writeTimeout)
        self._deadline = time.monotonic() + self.readTimeout

    # -- step 2: the waiting interface the selector calls (see Protocol) --
    def dataReceivedWhileWaiting(self, data):
        """The selector read ``data``: the connection looks for the head in it.
        A client whose first bytes are HTTP/2's preface (TLS's ALPN chose
        "h2", or it knew: RFC 9113 §3) is handed to an ``h2.channel.H2Channel``."""
        if self._firstBytes is not None:
            data, self._firstBytes = self._firstBytes + data, None
            if HTTP2_PREFACE.startswith(data[:len(HTTP2_PREFACE)]):
                if len(data) < len(HTTP2_PREFACE):
                    self._firstBytes = data  # so far, the preface: wait for the rest
                    return False
                from refweb.h2.channel import H2Channel
                return H2Channel.takeOver(self, data)
        begun = self.connection.headBegun
        self._receive(data)
        if self.currentRequest is None and self.connection.headBegun:
            self._headArriving(begun)
        return self.readyForWorker()

    def _receive(self, data):
        try:
            self._events += self.connection.receive(data)
        except error.Error as exc:
            self._refused = exc
        if self.journeyLog and self._events and self._headFound is None:
            self._headFound = (time.monotonic(), "found in the selector")

    def _headArriving(self, begun):
        """A head has begun: it has headTimeout to arrive whole, and readTimeout
        between any two of its pieces."""
        now = time.monotonic()
        if not begun:
            self._headDeadline = now + self.headTimeout
        self._deadline = min(self._headDeadline, now + self.readTimeout)

    def readyForWorker(self):
        """True once a worker has something to do: a head, a refusal, or a
        response that ended while the connection waited here."""
        if self.currentRequest is not None:
            return self.connection.state is not http11.RESPONDING
        return bool(self._events) or self._refused is not None

    def readsWhileWaiting(self):
        """While a response is open, pipelined bytes are read ahead only up
        to maxPipelineBytes (and not at all where the transport cannot be
        read while another thread writes to it: TLS)."""
        if self.currentRequest is None:
            return True
        return (self.transport.readsWhileWriting
                and len(self.connection.buffer) < self.maxPipelineBytes)

    def waitingDeadline(self):
        """An open response waits as long as its resource takes: no deadline."""
        return None if self.currentRequest is not None else self._deadline

    def waitTimedOut(self):
        """The deadline passed.  A head that had begun gets a 408."""
        if self.connection.headBegun:
            self._sendRefusal(error.RequestTimeout(
                detail="the request head did not arrive in time"))
        self._close(Failure(ConnectionDone()))
        return False

    def waitLost(self):
        """The client went away (or the socket was closed) while waiting."""
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
            while self.connection.state is not http11.MUST_CLOSE and \
                    not self.transport.disconnected:
                head = self._nextHead()
                if head is None:
                    self._waitForNextHead()
                    return True
                if not self._serveRequest(head):
                    return True  # the response is still open: step 9
        except _ClientGone:
            pass
        except error.Error as exc:
            self._sendRefusal(exc)
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
        request = self.requestFactory(self, queued=False)
        request.requestHeaders = head.headers
        request.clientproto = head.version  # so an error below answers in the client's version
        self.currentRequest = request
        if self.wireLog:
            self.logWire("request", head.raw.decode("latin-1"))
        if self.journeyLog:
            self._startJourney(request)
        request.content = self._readBody()
        if request.journey is not None:
            request.journey.mark("4", "body")
        try:
            request.requestReceived(head.method, head.target, head.version)
        except Exception:
            request.processingFailed(Failure())
        if self.connection.state is http11.RESPONDING:
            return False  # it stays currentRequest while the selector holds the connection
        self._requestEnded()
        return True

    def _requestEnded(self):
        """Step 10: the response is out.  Keep the connection (and take any
        pipelined request already here) or close it, as the connection decided."""
        request, self.currentRequest = self.currentRequest, None
        _releaseBody(request)
        self.requestsServed += 1
        if self.wireLog:
            self._logWireFate()
        if request is not None and request.journey is not None:
            log.msg(request.journey.line(request, self.connection.state is http11.DONE))
            self._waitingSince, self._headFound = time.monotonic(), None
        if self.connection.state is http11.DONE:
            self._events = self.connection.startNextCycle()
            if self.journeyLog and self._events:
                self._headFound = (time.monotonic(), "already here (pipelined)")

    def _startJourney(self, request):
        """Site(journey=True): the request carries a Journey from its head on."""
        request.journey = journey.Journey(self.connectionName(), self.requestsServed + 1,
                                          self._waitingSince, self.requestsServed == 0)
        when, where = self._headFound or (time.monotonic(), "found")
        request.journey.mark("3", "head " + where, when)
        if where == "found in the selector":
            request.journey.mark("3", "taken by a worker")

    def _waitForNextHead(self):
        """Back to the selector until the next head: its deadline is the
        head's own if part of it is here, else idleTimeout."""
        if self.connection.headBegun:
            self._headArriving(False)
        else:
            self._deadline = time.monotonic() + self.idleTimeout

    def _close(self, reason):
        self.transport.loseConnection()
        if not self._lost:
            self._lost = True
            self._abandonPending(reason)
            self.connectionLost(reason)

    # -- step 3: the head --------------------------------------------------
    def _nextHead(self):
        """The next request's head, once the connection has found it; None if not (yet).

        A pipelined head may have been found already.  If not, a worker with
        room in its pool waits up to lingerSeconds for the client's next
        bytes (a poll that returns at once if they are there); otherwise it
        only looks for bytes that came meanwhile.
        """
        while not self._events:
            if self._refused is not None:
                raise self._refused
            more = self.transport.receiveWithin(self.lingerSeconds if self._mayLinger() else 0)
            if more is None:
                return None
            if not more:
                raise _ClientGone()
            self._events = self.connection.receive(more)
            if self.journeyLog and self._events:
                self._headFound = (time.monotonic(), "found by the lingering worker")
        return self._events.pop(0)

    def _mayLinger(self):
        selector = self.transport.selector
        return (self.lingerSeconds > 0 and selector is not None
                and not selector.workers.isFull())

    # -- step 4: the body -------------------------------------------------
    def _readBody(self):
        """The request body, read by the connection's framing, in a file."""
        event = self._events.pop(0) if self._events else None
        if event is http11.END_OF_BODY:
            return io.BytesIO()  # the common case: no body at all
        body = self._bodyFile(self.connection.bodyLength)
        deadline = time.monotonic() + self.bodyTimeout
        while event is not http11.END_OF_BODY:
            if event is not None:
                body.write(event.data)
            if not self._events:
                self.transport.write(self.connection.takeContinue())
                self._events = self.connection.receive(self._recv(deadline))
            event = self._events.pop(0) if self._events else None
        body.seek(0)
        return body

    def _recv(self, deadline):
        """One read mid-request; RequestTimeout (408) if it stalls or the deadline passed."""
        timeout = "the request body did not arrive in time"
        if time.monotonic() > deadline:
            raise error.RequestTimeout(timeout)
        data = self.transport.receive(self.readTimeout)
        if data is None:
            raise error.RequestTimeout(timeout)
        if not data:
            raise _ClientGone()  # mid-body: there is nobody left to answer
        return data

    def _bodyFile(self, expected):
        if expected is not None and expected <= self.memoryBodyLimit:
            return io.BytesIO()
        return tempfile.SpooledTemporaryFile(max_size=self.memoryBodyLimit)

    def _abandonPending(self, reason):
        request, self.currentRequest = self.currentRequest, None
        if request is not None and not request.finished:
            request.connectionLost(reason)
        _releaseBody(request)

    # -- steps 8 and 9: the ResponseChannel the request writes through -------
    def sendHead(self, request, code, reason, headers):
        """The connection frames the head; it goes out with the first body bytes."""
        head = self.connection.startResponse(code, reason, headers, request.method)
        if self.wireLog:
            self.logWire("response", head.decode("latin-1"))
        self._pendingHead = head

    def startRawResponse(self, request):
        self.connection.startRawResponse()

    def sendData(self, data):
        framed = self.connection.sendData(data)
        self._write(framed)
        return self.connection.lastBodyBytes

    def sendFile(self, fileobj, offset, count):
        """The kernel copies the file when the framing allows (os.sendfile)."""
        allowed = self.connection.rawFileBytes(count)
        if allowed is None:  # chunks: each piece framed on its way
            return copyFileRange(fileobj, offset, count, self.sendData,
                                 isGone=lambda: self.transport.disconnected)
        self._write(b"")
        if allowed and not self.transport.sendFile(fileobj, offset, allowed):
            return False
        return allowed == count

    def endResponse(self, request):
        """The bytes that end the body.  Keeping or closing the connection
        (as the connection decided) is the worker's next step, after
        finish() has told notifyFinish; if this response was waiting in the
        selector, the selector is asked to hand it to a worker for that."""
        tail = self.connection.endResponse()
        if tail or self._pendingHead:
            self._write(tail)
        if threading.get_ident() != self._workerIdent and self.transport.selector is not None:
            self.transport.selector.resume(self)

    def logAccess(self, request):
        writeLog = getattr(self.factory, "log", None)
        if writeLog is not None:
            writeLog(request)

    def abortConnection(self):
        self.transport.abortConnection()

    def _write(self, data):
        head, self._pendingHead = self._pendingHead, b""
        if head or data:
            self.transport.write(head + data)

    # -- what goes wrong while reading -----------------------------------------
    def _sendRefusal(self, exc):
        """An error found while reading the request: say so, then close.
        A HEAD gets the head alone."""
        data = self.connection.refusal(exc, SERVER_NAME)
        if self.wireLog:
            self.logWire("response", data.split(b"\r\n\r\n", 1)[0].decode("latin-1"))
        self.transport.write(data)
        if self.wireLog:
            self._logWireFate()
        peer = self.transport.getPeer()
        log.msg("%s: %s (connection closed)" % (getattr(peer, "host", peer), exc))

    def connectionName(self):
        """"conn-N" in wire and journey logs, numbered on first use (silent
        connections take no number)."""
        if not self.wireName:
            self.wireName = "conn-%d" % next(_connectionNumbers)
        return self.wireName

    def logWire(self, direction, head):
        """With Site(wire=True): each raw head line, ">>" in and "<<" out."""
        if self.wireLog:
            name = self.connectionName()
            arrow = ">>" if direction == "request" else "<<"
            for line in head.split("\r\n"):
                if line:
                    log.msg("wire %s %s %s" % (name, arrow, line))

    def _logWireFate(self):
        kept = self.connection.state is http11.DONE and not self.transport.disconnected
        log.msg("wire %s -- %s" % (self.wireName, "kept open" if kept else "closed"))


def _releaseBody(request):
    """Close the body file of a request that ended (or lost its client): a
    spooled upload's memory or temporary file is freed now, not whenever the
    last reference to the request goes -- an application may keep one.  A
    later read raises ValueError in whichever thread tries it."""
    close = getattr(getattr(request, "content", None), "close", None)
    if close is not None:
        close()


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

    def refusalBytes(self):
        """What a port at its connection cap sends a connection it will not
        serve (internet/ knows no HTTP: it asks the factory): a 503 page."""
        return wire.connectionRefusal(SERVER_NAME)

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


_logTime = EverySecond(lambda now: time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)))


def _quoted(value):
    return (value or "-").replace("\\", "\\\\").replace('"', '\\"')


def combinedLogFormat(request):
    """'127.0.0.1 - - [25/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 12 "-" "curl/8"'."""
    stamp = _logTime()
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
