# -*- test-case-name: tests.test_h2_channel -*-
"""The same Site over HTTP/2: each stream a request, rendered in its own worker.

Guide: "Site Objects" (the Site is unchanged: an ``http.HTTPChannel``
that sees the HTTP/2 preface hands its connection to an ``H2Channel``).

Where it sits: between the socket and ``h2.connection.H2Connection``,
as ``http.HTTPChannel`` sits between the socket and ``http11``.  It
implements the waiting interface ``internet.protocol.Protocol``
declares, so an idle HTTP/2 connection costs no thread:

    in the selector thread: bytes read while waiting go to ``_inbox``
    in a worker (serveInWorker): the connection turns them into events;
        RequestReceived  a request (site.requestFactory) on an ``H2Stream``
        DataReceived     its body, into request.content
        StreamEnded      the request is submitted to a worker of its own:
                         a render that blocks holds up no other stream
        StreamReset      request.connectionLost: notifyFinish's errback
        WindowOpened     writers waiting for flow control go on
    in a stream's worker: the response goes out through ``H2Stream``, the
        ``ResponseChannel`` the request writes to: HEADERS, DATA (waiting,
        up to writeTimeout, while the client's window is shut), END_STREAM

One lock, ``H2Channel._lock`` (a Condition), guards the connection and the
streams; every write to the socket happens under it, so frames go out in
the order the connection made them (HPACK's tables depend on it).

Start reading at ``H2Channel.serveInWorker``.
"""

import functools
import io
import tempfile
import threading
import time

from refweb.h2 import frames
from refweb.h2.connection import (
    ConnectionClosed, DataReceived, GoAwayReceived, H2Connection, RequestReceived,
    StreamEnded, StreamReset, WindowOpened)
from refweb.h2.fields import CONNECTION_SPECIFIC
from refweb.http_headers import Headers
from refweb.http_response import ResponseChannel
from refweb.internet.error import ConnectionDone, ConnectionLost
from refweb.internet.protocol import Protocol, copyFileRange
from refweb.python import log
from refweb.python.failure import Failure

# What HTTPChannel's waiting interface is replaced with when it hands over.
WAITING_INTERFACE = ("dataReceivedWhileWaiting", "readyForWorker", "readsWhileWaiting",
                     "waitingDeadline", "waitTimedOut", "waitLost", "serveInWorker")
# HTTPChannel's limits that mean the same here.
LIMIT_NAMES = ("maxBodySize", "memoryBodyLimit", "writeTimeout", "idleTimeout")
BODYLESS = {204, 304}  # with every 1xx: no body (RFC 9110 §6.4.1), and none for HEAD


class H2Stream(ResponseChannel):
    """One stream: the ResponseChannel its request writes its response to."""

    def __init__(self, channel, streamId):
        self.h2 = channel
        self.streamId = streamId
        self.transport = channel.transport
        self.site = channel.site
        self.factory = channel.factory
        self.request = None
        self.body = io.BytesIO()
        self.bodyBytes = 0
        self.gone = False  # reset, by either side, or the connection closed
        self.bodyless = False
        self.remaining = None  # body bytes the response's Content-Length still allows

    def sendHead(self, request, code, reason, headers):
        self.bodyless = request.method == "HEAD" or code < 200 or code in BODYLESS
        fields = [(":status", str(code))]
        for name, value in headers:
            name = name.lower()
            if name in CONNECTION_SPECIFIC:
                continue  # RFC 9113 §8.2.2: they mean nothing here
            if name == "content-length" and not self.bodyless and value.isdigit():
                self.remaining = int(value)
            fields.append((name, value))
        self.h2.act(lambda conn: conn.sendHeaders(self.streamId, fields, self.bodyless))

    def startRawResponse(self, request):
        """An as-is response carries an HTTP/1.1 head: say HTTP/1.1 is required (§7)."""
        self.h2.resetStream(self, frames.HTTP_1_1_REQUIRED)

    def sendData(self, data):
        """Send body bytes as flow control allows; how many went."""
        if self.bodyless:
            return 0
        if self.remaining is not None:  # never past the Content-Length it announced
            data, self.remaining = data[:self.remaining], max(0, self.remaining - len(data))
        return self.h2.sendData(self, data)

    def sendFile(self, fileobj, offset, count):
        return copyFileRange(fileobj, offset, count, self.sendData, isGone=lambda: self.gone)

    def endResponse(self, request):
        self.h2.endStream(self)

    def logAccess(self, request):
        if self.factory is not None and hasattr(self.factory, "log"):
            self.factory.log(request)

    def abortConnection(self):
        """The response cannot end well: only this stream is cut."""
        self.h2.resetStream(self, frames.INTERNAL_ERROR)


class H2Channel(Protocol):
    """One HTTP/2 connection serving a Site; see the module docstring."""

    waitsInSelector = True
    requestFactory = None
    site = None
    maxBodySize = 64 * 1024 * 1024  # a request body beyond: its stream is reset
    memoryBodyLimit = 1024 * 1024  # larger bodies are spooled to a temporary file
    writeTimeout = 60.0  # seconds a writer waits for the client to open its window
    idleTimeout = 60.0  # seconds a connection with no stream may wait

    def __init__(self):
        self.connection = H2Connection()
        self._lock = threading.Condition()  # guards connection, streams, _inbox, closed
        self._inbox = []  # bytes the selector read, for the next serveInWorker
        self.streams = {}  # id -> H2Stream, until its response ends or it is reset
        self.closed = False
        self._peerGoingAway = False
        self._deadline = None

    @classmethod
    def takeOver(cls, http, data):
        """Serve ``http`` (an HTTPChannel whose client opened with the HTTP/2
        preface) as HTTP/2 from now on: the selector's calls come here."""
        channel = cls()
        channel.factory, channel.site = http.factory, http.site
        channel.requestFactory = http.requestFactory
        for name in LIMIT_NAMES:
            setattr(channel, name, getattr(http, name))
        channel.makeConnection(http.transport)
        for name in WAITING_INTERFACE:
            setattr(http, name, getattr(channel, name))
        return channel.dataReceivedWhileWaiting(data)

    def connectionMade(self):
        self.connection.initiate()
        self._deadline = time.monotonic() + self.idleTimeout

    # -- the waiting interface (in the selector's thread) --------------------------------
    def dataReceivedWhileWaiting(self, data):
        with self._lock:
            self._inbox.append(data)
        return True

    def readyForWorker(self):
        return bool(self._inbox) or self.closed

    def readsWhileWaiting(self):
        return True

    def waitingDeadline(self):
        """Streams under way wait as long as they take; an idle connection idleTimeout."""
        return None if self.streams else self._deadline

    def waitTimedOut(self):
        self.act(lambda conn: conn.goAway(frames.NO_ERROR))
        self._close(Failure(ConnectionDone()))
        return False

    def waitLost(self):
        self._close(Failure(ConnectionDone()))
        return False

    # -- reading, in a worker ----------------------------------------------------------------
    def serveInWorker(self):
        """Turn the bytes that came into events and act on them; True: wait again."""
        with self._lock:
            data, self._inbox = b"".join(self._inbox), []
        try:
            while data and not self.closed:
                self._receive(data)
                if self.transport.isTLS:
                    break  # its selector knows how to look inside the TLS layer
                data = self.transport.receiveNow()
                if data == b"":
                    self._close(Failure(ConnectionDone()))
        except Exception:
            reason = Failure()
            log.err(reason, "Unhandled error in HTTP/2 connection %r:" % (self,))
            self._close(reason)
        return not self.closed

    def _receive(self, data):
        later = []  # what runs once the lock is let go: renders, errbacks
        with self._lock:
            for event in self.connection.receive(data):
                EVENTS[type(event)](self, event, later)
            self._flush()
        for job in later:
            job()

    def _requestReceived(self, event, later):
        stream = H2Stream(self, event.streamId)
        stream.request = request = self.requestFactory(stream, queued=False)
        request.clientproto = "HTTP/2"
        request.requestHeaders = _requestHeaders(event.headers)
        stream.pseudo = dict(field for field in event.headers if field[0].startswith(":"))
        self.streams[stream.streamId] = stream

    def _dataReceived(self, event, later):
        stream = self.streams.get(event.streamId)
        self.connection.acknowledge(event.streamId, len(event.data))  # it is ours now
        if stream is None:
            return
        stream.bodyBytes += len(event.data)
        if stream.bodyBytes > self.maxBodySize:
            self._reset(stream, frames.CANCEL, later)
            return
        if isinstance(stream.body, io.BytesIO) and stream.bodyBytes > self.memoryBodyLimit:
            spooled = tempfile.TemporaryFile()
            spooled.write(stream.body.getvalue())
            stream.body = spooled
        stream.body.write(event.data)

    def _streamEnded(self, event, later):
        stream = self.streams.get(event.streamId)
        if stream is not None:
            self._submit(functools.partial(self._render, stream))

    def _streamReset(self, event, later):
        stream = self.streams.pop(event.streamId, None)
        if stream is not None:
            self._reset(stream, None, later)

    def _windowOpened(self, event, later):
        self._lock.notify_all()

    def _goAwayReceived(self, event, later):
        self._peerGoingAway = True
        if not self.streams:
            later.append(lambda: self._close(Failure(ConnectionDone())))

    def _connectionClosed(self, event, later):
        later.append(lambda: self._close(Failure(ConnectionLost(
            "HTTP/2 error %s" % frames.ERROR_NAMES.get(event.code, event.code)))))

    # -- a stream's request, in a worker of its own -------------------------------------------
    def _render(self, stream):
        request, pseudo = stream.request, stream.pseudo
        stream.body.seek(0)
        request.content = stream.body
        if "host" not in request.requestHeaders and ":authority" in pseudo:
            request.requestHeaders.setRawHeaders("host", [pseudo[":authority"]])
        try:
            request.requestReceived(pseudo[":method"], pseudo.get(":path", "/"), "HTTP/2")
        except Exception:
            request.processingFailed(Failure())

    def _submit(self, job):
        selector = self.transport.selector
        if selector is not None:
            selector.workers.submit(job)
        else:  # a transport no reactor accepted (a test's): a thread of its own
            threading.Thread(target=job, daemon=True).start()

    # -- writing, from a stream's thread ------------------------------------------------------
    def act(self, change):
        """Run ``change(connection)`` under the lock and send what it queued."""
        with self._lock:
            if not self.closed:
                change(self.connection)
                self._flush()

    def sendData(self, stream, data):
        """Send ``data`` on ``stream`` as the windows open; how much went."""
        sent = 0
        with self._lock:
            deadline = time.monotonic() + self.writeTimeout
            while sent < len(data) and not stream.gone and not self.closed:
                count = self.connection.sendData(stream.streamId, data[sent:])
                sent += count
                self._flush()
                if not count and not self._lock.wait(deadline - time.monotonic()):
                    break  # the client kept its window shut: the stream is cut below
        if sent < len(data) and not stream.gone and not self.closed:
            self.resetStream(stream, frames.CANCEL)
        return sent

    def endStream(self, stream):
        with self._lock:
            if not stream.gone and not self.closed:
                self.connection.endStream(stream.streamId)
                self._flush()
            self._forget(stream)
            closing = self._peerGoingAway and not self.streams
        if closing:
            self._close(Failure(ConnectionDone()))

    def resetStream(self, stream, code):
        later = []
        with self._lock:
            self._reset(stream, code, later)
        for job in later:
            job()

    def _reset(self, stream, code, later):
        """The stream is gone: RST_STREAM ``code`` if it is ours to send; its
        request hears of it (notifyFinish's errback) once the lock is let go."""
        if code is not None and not stream.gone:
            self.connection.resetStream(stream.streamId, code)
            self._flush()
        stream.gone = True
        self._forget(stream)
        self._lock.notify_all()
        reason = Failure(ConnectionLost("the stream was reset"))
        later.append(lambda: stream.request.connectionLost(reason))

    def _forget(self, stream):
        if self.streams.pop(stream.streamId, None) is not None and not self.streams:
            self._deadline = time.monotonic() + self.idleTimeout

    def _flush(self):
        """Write what the connection queued (with the lock held: in order)."""
        data = self.connection.dataToSend()
        if data:
            self.transport.write(data)

    def _close(self, reason):
        with self._lock:
            if self.closed:
                return
            self.closed = True
            self._flush()
            streams, self.streams = list(self.streams.values()), {}
            for stream in streams:
                stream.gone = True
            self._lock.notify_all()
        self.transport.loseConnection()
        for stream in streams:
            stream.request.connectionLost(reason)
        self.connectionLost(reason)


EVENTS = {
    RequestReceived: H2Channel._requestReceived,
    DataReceived: H2Channel._dataReceived,
    StreamEnded: H2Channel._streamEnded,
    StreamReset: H2Channel._streamReset,
    WindowOpened: H2Channel._windowOpened,
    GoAwayReceived: H2Channel._goAwayReceived,
    ConnectionClosed: H2Channel._connectionClosed,
}


def _requestHeaders(fields):
    """A request's regular fields as Headers; HTTP/2's separate cookie
    fields joined into one, as HTTP/1.1 would carry them (§8.2.3)."""
    headers = Headers()
    cookies = [value for name, value in fields if name == "cookie"]
    headers._addTrustedFields((name, value) for name, value in fields
                              if not name.startswith(":") and name != "cookie")
    if cookies:
        headers.setRawHeaders("cookie", ["; ".join(cookies)])
    return headers
