# -*- test-case-name: tests.test_h2_channel -*-
"""The same Site over HTTP/2: each stream a request, rendered in its own worker.

Guide: "Site Objects" (the Site is unchanged: an ``http.HTTPChannel``
that sees the HTTP/2 preface hands its connection to an ``H2Channel``).

Where it sits: between the socket and ``h2.connection.H2Connection``,
as ``http.HTTPChannel`` sits between the socket and ``http11``.  It
implements the waiting interface ``internet.protocol.Protocol``
declares, and never leaves the selector: an HTTP/2 connection costs no
thread of its own, busy or idle.

    in the selector thread (dataReceivedWhileWaiting): the connection turns
        the bytes read into events, at once:
        RequestReceived  a request (site.requestFactory) on an ``H2Stream``
        DataReceived     its body, into request.content
        StreamEnded      the request is submitted to a worker of its own:
                         a render that blocks holds up no other stream
        StreamReset      request.connectionLost: notifyFinish's errback (in
                         a worker: the selector runs no application code)
        WindowOpened     writers waiting for flow control go on
    in a stream's worker: the response goes out through ``stream.H2Stream``,
        the ``ResponseChannel`` the request writes to: HEADERS, DATA (waiting,
        up to writeTimeout, while the client's window is shut), END_STREAM

One lock, ``H2Channel._lock`` (a Condition), guards the connection and the
streams; every write to the socket happens under it, so frames go out in
the order the connection made them (HPACK's tables depend on it).  Two
rules keep the selector thread from ever waiting long for it:

* nothing under the lock waits for the socket: writes never pause
  (``transport.writeWithoutPause``; over TLS the transport queues too,
  ``shareWithSelector``), and a writer that finds ``highWater`` bytes
  queued waits on the Condition, which lets the lock go, until the
  selector's flush makes room (``_roomMade``);
* a writer waiting for the client's window waits on the Condition too:
  the selector reads the WINDOW_UPDATE and wakes it.

Start reading at ``H2Channel.dataReceivedWhileWaiting``.
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
    pieceSize = 64 * 1024  # DATA bytes framed at a time, between looks at the queue
    wire = None  # a wirelog.FrameLog, with Site(wire=True): every frame logged

    def __init__(self):
        self.connection = None  # the H2Connection, made in connectionMade
        self._lock = threading.Condition()  # guards connection, streams, closed, _renders
        self.streams = {}  # id -> H2Stream, until its response ends or it is reset
        self.closed = False
        self._peerGoingAway = False
        self._deadline = None  # when an idle connection is closed
        self._lastRead = time.monotonic()
        self.protocol = self  # what the selector knows the connection as (takeOver)
        self._reader = None  # the selector's thread, which must not run application code
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
        self.transport.shareWithSelector()  # (TLS) workers write while the selector reads
        self.transport.whenRoom = self._roomMade

    # -- the waiting interface (in the selector's thread) --------------------------------
    def dataReceivedWhileWaiting(self, data):
        """The selector read ``data``: act on it here and now.  False: no
        worker needed -- the renders it starts are the pool's jobs."""
        self._reader = threading.current_thread()
        if self.closed:
            return False  # lingering: what the client still sends is dropped
        self._lastRead = time.monotonic()
        try:
            self._receive(data)
        except Exception:
            reason = Failure()
            log.err(reason, "Unhandled error in HTTP/2 connection %r:" % (self,))
            self._close(reason, linger=False)
        return False

    def readyForWorker(self):
        return False  # the selector does the reading itself

    def readsWhileWaiting(self):
        """Stop reading a client that does not read what we send it (its
        PING ACKs, its responses): back-pressure, until the queue drains."""
        return self.transport.queuedBytes < self.transport.highWater

    def waitingDeadline(self):
        """A request still arriving has readTimeout between bytes; responses
        under way take as long as they take; an idle connection idleTimeout."""
        with self._lock:
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

    def serveInWorker(self):
        return not self.transport.disconnected  # (never asked for: readyForWorker)

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

    def _roomMade(self):
        """The selector sent some of the queue: writers waiting for room go on."""
        with self._lock:
            self._lock.notify_all()

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

    def _notice(self, stream, reason=None):
        """notifyFinish's errback (H2Stream.lost): the application's code, so
        never in the selector's thread (it may block); a worker's runs it at once."""
        notice = functools.partial(stream.lost, reason)
        if threading.current_thread() is self._reader:
            self._submit(notice)
        else:
            notice()

    # -- writing, from a stream's thread ------------------------------------------------------
    def act(self, change):
        """Run ``change(connection)`` under the lock and send what it queued."""
        with self._lock:
            if not self.closed:
                change(self.connection)
                self._flush()

    def sendData(self, stream, data):
        """Send ``data`` on ``stream`` as the windows open; how much went.
        It waits (on the Condition: the lock is let go) for the client's
        window, and for room in the transport's queue."""
        sent = 0
        with self._lock:
            deadline = time.monotonic() + self.writeTimeout
            while sent < len(data) and not stream.gone and not self.closed:
                count = 0
                if self.transport.queuedBytes < self.transport.highWater:
                    count = self.connection.sendData(
                        stream.streamId, data[sent:sent + self.pieceSize])
                    sent += count
                    self._flush()
                if not count and not self._lock.wait(deadline - time.monotonic()):
                    break  # the client kept its window shut, or read nothing: cut below
                if count:
                    deadline = time.monotonic() + self.writeTimeout
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
        later.append(functools.partial(self._notice, stream, left))

    def _forget(self, stream):
        if self.streams.pop(stream.streamId, None) is not None and not self.streams \
                and not self.closed:  # (closed: the deadline is the linger's)
            self._deadline = time.monotonic() + self.idleTimeout

    def _flush(self):
        """Write what the connection queued (with the lock held: in order).
        Never a pause here: the selector may be waiting for this lock."""
        data = self.connection.dataToSend()
        if data:
            if self.wire is not None:
                self.wire.sent(data)
            self.transport.writeWithoutPause(data)

    def _close(self, reason, linger=True):
        """The end: every stream is gone.  With ``linger``, our side is shut
        (a FIN after the GOAWAY) and the client has ``linger`` seconds to
        close its own: closing with its bytes unread would send a reset,
        which may destroy our last frames before the client reads them."""
        with self._lock:
            if self.closed:
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
            self._notice(stream, reason)
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
