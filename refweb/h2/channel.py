# -*- test-case-name: tests.test_h2_channel -*-
"""The same Site over HTTP/2: each stream a request, rendered in its own worker.

Guide: "Site Objects" (the Site is unchanged: an ``http.HTTPChannel``
that sees the HTTP/2 preface hands its connection to an ``H2Channel``).

Where it sits: between the socket and ``h2.connection.H2Connection``,
as ``http.HTTPChannel`` sits between the socket and ``http11``.  It
implements the waiting interface ``internet.protocol.Protocol``
declares, so an idle HTTP/2 connection costs no thread:

    in the selector thread, while idle: bytes read go to ``_inbox``, and a
        worker's serveInWorker starts the connection's ``iothread.IOThread``,
        which reads until no stream is left, then hands it back
    in that thread (serveInWorker): the connection turns bytes into events;
        RequestReceived  a request (site.requestFactory) on an ``H2Stream``
        DataReceived     its body, into request.content
        StreamEnded      the request is submitted to a worker of its own:
                         a render that blocks holds up no other stream
        StreamReset      request.connectionLost: notifyFinish's errback
        WindowOpened     writers waiting for flow control go on
    in a stream's worker: the response goes out through ``stream.H2Stream``,
        the ``ResponseChannel`` the request writes to: HEADERS, DATA (waiting,
        up to writeTimeout, while the client's window is shut), END_STREAM

One lock, ``H2Channel._lock`` (a Condition), guards the connection and the
streams; every write to the socket happens under it, so frames go out in
the order the connection made them (HPACK's tables depend on it).  Over
TLS the IOThread does the writing too: one SSL object must not be used by
two threads at once, so other threads leave their bytes in ``_pending``.

Start reading at ``H2Channel.serveInWorker``.
"""

import collections
import functools
import threading
import time

from refweb.h2 import frames
from refweb.h2.connection import (
    ConnectionClosed, DataReceived, GoAwayReceived, H2Connection, RequestReceived,
    StreamEnded, StreamReset, WindowOpened)
from refweb.h2.stream import H2Stream, requestHeaders
from refweb.h2.iothread import IOThread
from refweb.h2.wirelog import FrameLog
from refweb.internet.error import ConnectionDone, ConnectionLost
from refweb.internet.protocol import Protocol
from refweb.python import log
from refweb.python.failure import Failure

# What HTTPChannel's waiting interface is replaced with when it hands over.
WAITING_INTERFACE = ("dataReceivedWhileWaiting", "readyForWorker", "readsWhileWaiting",
                     "waitingDeadline", "waitTimedOut", "waitLost", "serveInWorker")
# HTTPChannel's limits that mean the same here.
LIMIT_NAMES = ("maxBodySize", "memoryBodyLimit", "readTimeout", "writeTimeout", "idleTimeout")
H2_LIMIT_NAMES = ("maxWorkers",)  # set from a Site's attribute of the same name


class H2Channel(Protocol):
    """One HTTP/2 connection serving a Site; see the module docstring."""

    waitsInSelector = True
    requestFactory = None
    site = None
    # The limits the channel keeps (the connection's are h2.states.LIMITS);
    # a Site may set any of them, as for HTTPChannel.
    maxBodySize = 64 * 1024 * 1024  # a request body beyond: its stream is reset (CANCEL)
    memoryBodyLimit = 1024 * 1024  # larger bodies are spooled to a temporary file
    readTimeout = 30.0  # seconds without a byte while a request is incomplete: GOAWAY
    writeTimeout = 60.0  # seconds a writer waits for a shut window: its stream is reset
    idleTimeout = 60.0  # seconds a connection with no stream may wait: GOAWAY
    linger = 2.0  # seconds, after our last frame, for the client to close first
    maxWorkers = 16  # streams of one connection rendering at once; the others wait
    wire = None  # a wirelog.FrameLog, with Site(wire=True): every frame logged

    def __init__(self):
        self.connection = None  # the H2Connection, made in connectionMade
        self._lock = threading.Condition()  # guards connection, streams, _inbox, closed
        self._inbox = []  # bytes the selector read, for the next serveInWorker
        self.streams = {}  # id -> H2Stream, until its response ends or it is reset
        self.closed = False
        self._peerGoingAway = False
        self._deadline = None  # when an idle connection is closed
        self._lastRead = time.monotonic()
        self.protocol = self  # what the selector knows the connection as (takeOver)
        self._io = None  # the IOThread that has the connection while it has streams
        self._owner = None  # its thread: the only one that may use a TLS socket
        self._pending = b""  # bytes to write that wait for that thread (TLS)
        self._closeWanted = None  # (reason, linger) for that thread to close with (TLS)
        self._renders = 0  # workers rendering this connection's streams (maxWorkers)
        self._waitingRenders = collections.deque()  # streams waiting for their turn

    @classmethod
    def takeOver(cls, http, data):
        """Serve ``http`` (an HTTPChannel whose client opened with the HTTP/2
        preface) as HTTP/2 from now on: the selector's calls come here."""
        channel = cls()
        channel.factory, channel.site = http.factory, http.site
        channel.requestFactory = http.requestFactory
        for name in LIMIT_NAMES:
            setattr(channel, name, getattr(http, name))
        for name in H2_LIMIT_NAMES:
            setattr(channel, name, getattr(http.factory, name, getattr(cls, name)))
        channel.protocol = http
        if http.wireLog:
            channel.wire = FrameLog(http.connectionName())
        channel.makeConnection(http.transport)
        for name in WAITING_INTERFACE:
            setattr(http, name, getattr(channel, name))
        return channel.dataReceivedWhileWaiting(data)

    def connectionMade(self):
        # A Site's ``h2Limits`` ({name: value}) changes h2.states.LIMITS.
        self.connection = H2Connection(limits=getattr(self.factory, "h2Limits", None))
        self.connection.initiate()
        self._deadline = time.monotonic() + self.idleTimeout

    # -- the waiting interface (in the selector's thread) --------------------------------
    def dataReceivedWhileWaiting(self, data):
        with self._lock:
            if self.closed:
                return False  # lingering: what the client still sends is dropped
            self._inbox.append(data)
        return True

    def readyForWorker(self):
        return bool(self._inbox) and not self.closed

    def readsWhileWaiting(self):
        return True

    def waitingDeadline(self):
        """A request still arriving has readTimeout between bytes; responses
        under way take as long as they take; an idle connection idleTimeout."""
        if self.closed:
            return self._deadline  # the end of the linger
        if any(not stream.rendering for stream in self.streams.values()):
            return self._lastRead + self.readTimeout
        return None if self.streams else self._deadline

    def waitTimedOut(self):
        if self.closed:  # the linger is over
            self.transport.loseConnection()
            return False
        self.act(lambda conn: conn.goAway(frames.NO_ERROR))
        self._close(Failure(ConnectionDone()))
        return True

    def waitLost(self):
        self._close(Failure(ConnectionDone()), linger=False)
        self.transport.loseConnection()  # (after a linger, _close had nothing to do)
        return False

    # -- reading, in a worker ----------------------------------------------------------------
    def serveInWorker(self):
        """Turn the bytes that came into events and act on them; True: go on.

        Called by a worker (the selector saw bytes): the connection's own
        IOThread is started, and from then on calls this itself."""
        if self._io is None:
            self._io = IOThread(self)
            self._io.start()
            return False  # the selector lets go: the IOThread has the connection
        with self._lock:
            data, self._inbox = b"".join(self._inbox), []
            self._lastRead = time.monotonic()
        try:
            if data and not self.closed:
                self._receive(data)
        except Exception:
            reason = Failure()
            log.err(reason, "Unhandled error in HTTP/2 connection %r:" % (self,))
            self._close(reason, linger=False)
        with self._lock:
            self._flush()  # (TLS) what other threads left for this one to write
        if self._closeWanted is not None:
            self._close(*self._closeWanted)
        return not self.transport.disconnected

    def _receive(self, data):
        later = []  # what runs once the lock is let go: renders, errbacks
        with self._lock:
            if self.wire is not None:
                self.wire.received(data)
            for event in self.connection.receive(data):
                EVENTS[type(event)](self, event, later)
            self._flush()
        for job in later:
            job()

    def _requestReceived(self, event, later):
        stream = H2Stream(self, event.streamId)
        stream.request = request = self.requestFactory(stream, queued=False)
        request.clientproto = "HTTP/2"
        request.requestHeaders = requestHeaders(event.headers)
        stream.pseudo = dict(field for field in event.headers if field[0].startswith(":"))
        self.streams[stream.streamId] = stream

    def _dataReceived(self, event, later):
        stream = self.streams.get(event.streamId)
        self.connection.acknowledge(event.streamId, len(event.data))  # it is ours now
        if stream is None:
            return
        if not stream.takeBody(event.data, self.maxBodySize, self.memoryBodyLimit):
            self._reset(stream, frames.CANCEL, later)  # beyond maxBodySize

    def _streamEnded(self, event, later):
        stream = self.streams.get(event.streamId)
        if stream is not None:
            stream.rendering = True
            # Once every event of these bytes is seen: a stream reset at once
            # (rapid reset, CVE-2023-44487) is then never rendered.
            later.append(functools.partial(self._startRender, stream))

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
    def _startRender(self, stream):
        """Render in a worker -- unless this connection already keeps
        maxWorkers busy: then the stream waits its turn, and one client's
        hundred streams cannot take every worker of the server."""
        with self._lock:
            if self._renders >= self.maxWorkers:
                self._waitingRenders.append(stream)
                return
            self._renders += 1
        self._submit(functools.partial(self._renderInTurn, stream))

    def _renderInTurn(self, stream):
        while stream is not None:
            try:
                stream.render()
            except Exception:
                log.err(None, "Unhandled error rendering HTTP/2 stream %d:" % stream.streamId)
            with self._lock:  # the next waiting stream, in this same worker
                stream = self._waitingRenders.popleft() if self._waitingRenders else None
                if stream is None:
                    self._renders -= 1

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
                waiting = not count or self._pending  # a shut window, or (TLS) a worker to write
                if waiting and not self._lock.wait(deadline - time.monotonic()):
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
        left = Failure(ConnectionDone()) if code is None else None  # None: ours (H2Stream.lost)
        later.append(functools.partial(stream.lost, left))  # notifyFinish's errback

    def _forget(self, stream):
        if self.streams.pop(stream.streamId, None) is not None and not self.streams \
                and not self.closed:  # (closed: the deadline is the linger's)
            self._deadline = time.monotonic() + self.idleTimeout
            self._wake()  # the connection's thread may hand it back to the selector

    def idle(self):
        """True, once, when the IOThread may hand the connection back to the
        selector: no stream, nothing to read, write or close."""
        with self._lock:
            if self.streams or self._inbox or self._pending or self._closeWanted \
                    or self._peerGoingAway or self.closed or self.transport.selector is None:
                return False
            self._io = self._owner = None
            return True

    def _mayWrite(self):
        """Whether this thread may use the socket.  Over TLS, only the
        connection's own thread may: one SSL object must not be used by two
        threads at once (h2/iothread.py)."""
        return (not self.transport.isTLS or self._io is None  # (None: the selector's job)
                or self._owner == threading.get_ident())

    def _flush(self):
        """Write what the connection queued (with the lock held: in order);
        over TLS, from any other thread, wake the one that may."""
        data = self.connection.dataToSend()
        if data and self.wire is not None:
            self.wire.sent(data)
        self._pending += data
        if not self._pending:
            return
        if self._mayWrite():
            data, self._pending = self._pending, b""
            self.transport.write(data)
            self._lock.notify_all()  # writers waiting for their bytes to go out
        else:
            self._wake()

    def _wake(self):
        if self._io is not None:
            self._io.wake()

    def _close(self, reason, linger=True):
        """The end: every stream is gone.  With ``linger``, our side is shut
        (a FIN after the GOAWAY) and the client has ``linger`` seconds to
        close its own: closing with its bytes unread would send a reset,
        which may destroy our last frames before the client reads them."""
        with self._lock:
            if self.closed:
                return
            if not self._mayWrite():  # (TLS) the worker that has the socket closes it
                self._closeWanted = (reason, linger)
                self._wake()
                return
            self.closed = True
            self._flush()
            streams, self.streams = list(self.streams.values()), {}
            for stream in streams:
                stream.gone = True
            self._lock.notify_all()
            self._deadline = time.monotonic() + self.linger
        if self.wire is not None:
            self.wire.closed()
        if linger and not self.transport.isTLS:
            self.transport.shutdownWriting()
        else:
            self.transport.loseConnection()
        for stream in streams:
            stream.lost(reason)
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
