# -*- test-case-name: tests.test_connections -*-
"""The selector: one thread that watches every connection while it waits.

Guide: "Site Objects" -- ``reactor.listenTCP(8080, site)``: this thread
accepts the connections of every port, and keeps them while they wait.

Why: a thread per connection costs a thread for as long as the connection
is open, even while it only waits -- for a new client's first bytes, for a
kept-alive client's next request, for a head that trickles in a byte a
second.  A few hundred slow clients then use up every thread (the attack
called slowloris).  Here a waiting connection costs a file descriptor and a
few hundred bytes: one ``selectors`` loop watches them all and hands a
connection to a worker thread (``workers.py``) only once it has something to
do.  The request's journey through the two is told in
docs/internals/design.rst.

What the loop does, each time ``select`` wakes it:

* a listening socket is readable: accept every waiting connection (until the
  kernel has no more), make its protocol (``factory.buildProtocol``) and
  start watching it -- or, beyond ``port.maxConnections``, watch it as a
  ``protocol.Refusal``, which sends the factory's refusal (an HTTP site's
  503 page) once the client has spoken, and closes without a reset;
* a connection is readable: read what has arrived, without waiting, and give
  it to the protocol (``dataReceivedWhileWaiting``); when the protocol says it
  is ready (a whole request head is here), stop watching and hand it to a
  worker, which runs ``protocol.serveInWorker()`` and then gives it back;
* every ``sweepInterval`` seconds: a connection past its
  ``waitingDeadline()`` goes to a worker to be timed out (a 408, or a quiet
  close);
* commands from other threads (watch this connection again, a response has
  finished, a connection was closed, a port stops) arrive through a queue and
  a wake-up socket, so that only this thread ever changes what is watched.

Protocols that do not wait here (``waitsInSelector = False``: anything but
HTTP) are handed to a worker at once and keep it for the whole connection,
as they did when each connection had its own thread.

Start reading at ``ConnectionSelector._run``.
"""

import collections
import errno
import functools
import selectors
import socket
import ssl
import threading
import time

from refweb.internet.protocol import Refusal, SocketTransport
from refweb.python import log

_OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


class ConnectionSelector:
    """Accepts connections and watches them while they wait; see the module docstring."""

    sweepInterval = 0.25  # seconds between deadline checks: timeouts are this exact
    maxRefusing = 256  # connections past a port's cap being refused at once; more: closed
    acceptPause = 0.1  # seconds to stop accepting when the process is out of descriptors

    def __init__(self, workers):
        self.workers = workers
        self.openConnections = 0  # accepted and not yet closed, every port
        self._selector = selectors.DefaultSelector()
        self._waiting = {}  # protocol -> True if its socket is watched for reading
        self._writers = set()  # protocols whose transport has output queued
        self._paused = {}  # _Listening -> when to accept again (out of descriptors)
        self._commands = collections.deque()  # (function, args) to run in this thread
        self._commandsLock = threading.Lock()  # guards _commands and _wakePending
        self._wakePending = False
        self._wakeReader, self._wakeWriter = socket.socketpair()
        self._wakeReader.setblocking(False)
        self._selector.register(self._wakeReader, selectors.EVENT_READ, None)
        self._nextSweep = time.monotonic() + self.sweepInterval
        self._thread = threading.Thread(target=self._run, name="refweb-selector", daemon=True)
        self._thread.start()

    # -- what other threads ask -------------------------------------------
    def call(self, function, *args):
        """Run ``function(*args)`` in the selector's thread, soon."""
        with self._commandsLock:
            self._commands.append((function, args))
            wake = not self._wakePending
            self._wakePending = True
        if wake:
            try:
                self._wakeWriter.send(b"x")
            except BlockingIOError:
                pass  # the wake-up socket is full: the loop is waking anyway

    def addPort(self, port):
        self.call(self._addPort, port)

    def removePort(self, port):
        """Stop accepting on ``port``; returns once its socket is closed."""
        done = threading.Event()
        self.call(self._removePort, port, done)
        if threading.current_thread() is not self._thread:
            done.wait(5)

    def waitAgain(self, protocol):
        """A worker is done with ``protocol`` for now: watch it again."""
        self.call(self._startWaiting, protocol)

    def sendWhenWritable(self, transport):
        """``transport`` has output queued: send it as the client reads."""
        self.call(self._watchWrites, transport.protocol)

    def resume(self, protocol):
        """Something another thread did may have made ``protocol`` ready (a finish())."""
        self.call(self._resume, protocol)

    def closeWaiting(self):
        """Close every connection that is waiting for a new request (at shutdown)."""
        self.call(self._closeWaiting)

    # -- the loop -----------------------------------------------------------
    def _run(self):
        while True:
            timeout = max(0.0, self._nextSweep - time.monotonic())
            for key, events in self._selector.select(timeout):
                try:
                    if key.data is None:
                        self._runCommands()
                    elif isinstance(key.data, _Listening):
                        self._acceptAll(key.data)
                    else:
                        if events & selectors.EVENT_WRITE:
                            self._writable(key.data)
                        if events & selectors.EVENT_READ:
                            self._readable(key.data)
                except Exception:  # a bug: log it, and keep serving everyone else
                    log.err(None, "Unhandled error in the selector:")
            if time.monotonic() >= self._nextSweep:
                self._sweep()

    def _runCommands(self):
        try:
            while self._wakeReader.recv(4096):
                pass
        except BlockingIOError:
            pass
        with self._commandsLock:
            commands, self._commands = self._commands, collections.deque()
            self._wakePending = False
        for function, args in commands:
            try:
                function(*args)
            except Exception:
                log.err(None, "Unhandled error in the selector running %r:" % (function,))

    # -- listening ports ----------------------------------------------------
    def _addPort(self, port):
        port.socket.setblocking(False)
        self._selector.register(port.socket, selectors.EVENT_READ, _Listening(port))

    def _removePort(self, port, done):
        if self._selector.get_map().get(port.socket.fileno()) is not None:
            self._selector.unregister(port.socket)
        self._paused = {l: t for l, t in self._paused.items() if l.port is not port}
        port.socket.close()
        done.set()

    def _acceptAll(self, listening):
        """Accept until the kernel's queue of finished handshakes is empty."""
        port = listening.port
        while True:
            try:
                sock, _ = port.socket.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in _OUT_OF_DESCRIPTORS:
                    self._pauseAccepting(listening, exc)
                elif exc.errno not in (errno.ECONNABORTED, errno.EPROTO):
                    log.err(None, "Error accepting a connection on %r:" % (port,))
                return
            if listening.open < port.connectionLimit():
                listening.open += 1
                self.openConnections += 1
                self._connectionMade(sock, listening)
            elif listening.refusing < self.maxRefusing:
                listening.refusing += 1  # not counted as open: it is on its way out
                self._connectionMade(sock, listening, Refusal(port.factory.refusalBytes()))
            else:
                sock.close()  # a flood: even a refusal costs too much now

    def _pauseAccepting(self, listening, exc):
        """Out of file descriptors: the queued connection stays readable, so stop
        looking at this port for a moment rather than spin (the sweep resumes it)."""
        log.msg("Cannot accept on %r: %s; pausing %.1f s" % (listening.port, exc, self.acceptPause))
        self._selector.unregister(listening.port.socket)
        self._paused[listening] = time.monotonic() + self.acceptPause

    def _connectionMade(self, sock, listening, refusal=None):
        """Make the connection's transport and protocol (the factory's, or
        ``refusal`` past the cap) and start it waiting."""
        port = listening.port
        try:
            sock.setblocking(True)
            if sock.family != socket.AF_UNIX:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if port.sslContext is not None:
                sock = port.sslContext.wrap_socket(sock, server_side=True,
                                                   do_handshake_on_connect=False)
        except (OSError, ssl.SSLError):
            sock.close()
            self._closed(None, listening, refusal is not None)
            return
        transport = SocketTransport(sock, isTLS=port.sslContext is not None)
        try:
            protocol = refusal or port.factory.buildProtocol(transport.getPeer())
        except Exception:
            log.err(None, "Error building a protocol for %r:" % (port,))
            protocol = None
        if protocol is None:
            transport.loseConnection()
            self._closed(None, listening, False)
            return
        if getattr(protocol, "factory", None) is None:
            protocol.factory = port.factory  # a buildProtocol override may not set it
        transport.selector = self
        transport.protocol = protocol
        transport.whenClosed = functools.partial(self.call, self._closed, protocol, listening,
                                                 refusal is not None)
        if protocol.waitsInSelector and not transport.isTLS:
            # It never blocks: what the client does not read yet waits in
            # the transport's queue, and this thread sends it (transport.py).
            sock.setblocking(False)
            transport.queuesOutput = True
        if not protocol.waitsInSelector and port.connectionTimeout is not None:
            sock.settimeout(port.connectionTimeout)  # it will read in a worker, blocking
        try:
            protocol.makeConnection(transport)
        except Exception:
            log.err(None, "Unhandled error in connectionMade of %r:" % (protocol,))
            transport.loseConnection()
            return
        if protocol.waitsInSelector:
            self._startWaiting(protocol)
        else:
            self._handToWorker(protocol)

    def _closed(self, protocol, listening, refused):
        """A connection's socket was closed, by whichever thread."""
        if refused:
            listening.refusing -= 1
        else:
            listening.open -= 1
            self.openConnections -= 1
        self._writers.discard(protocol)
        if protocol in self._waiting:
            self._stopWatching(protocol)
            self._handToWorker(protocol, protocol.waitLost)
        else:
            self._setEvents(protocol)

    # -- waiting connections ------------------------------------------------
    def _startWaiting(self, protocol):
        transport = protocol.transport
        if transport.disconnected:
            self._handToWorker(protocol, protocol.waitLost)
            return
        if protocol.readyForWorker():
            self._handToWorker(protocol)
            return
        pending = transport.startWaiting()
        self._waiting[protocol] = False
        self._updateWatch(protocol)
        if pending:
            self._readable(protocol)  # decrypted bytes already inside the TLS layer

    def _updateWatch(self, protocol):
        """Watch ``protocol``'s socket for reading exactly while it wants to read."""
        wanted = protocol.readsWhileWaiting()
        if wanted != self._waiting[protocol]:
            self._waiting[protocol] = wanted
            self._setEvents(protocol)

    def _stopWatching(self, protocol):
        """A worker takes ``protocol``: no more reading here (queued output
        still goes out from here)."""
        if self._waiting.pop(protocol, False):
            self._setEvents(protocol)

    def _setEvents(self, protocol):
        """Keep ``protocol``'s socket in the selector for exactly what it needs:
        reading while it waits and wants to read, writing while output is queued."""
        transport = protocol.transport
        events = 0
        if self._waiting.get(protocol):
            events |= selectors.EVENT_READ
        if protocol in self._writers and not transport.disconnected:
            events |= selectors.EVENT_WRITE
        fd = transport.fileno
        key = self._selector.get_map().get(fd)
        if key is not None and key.data is not protocol:
            if not events:
                return  # the descriptor is another connection's now
            # A closed connection whose notice has not come yet: its
            # descriptor number was reused by this one.
            self._selector.unregister(fd)
            stale, key = key.data, None
            self._waiting.pop(stale, None)
            self._writers.discard(stale)
            self._handToWorker(stale, stale.waitLost)
        if not events:
            if key is not None:
                self._selector.unregister(fd)
        elif key is None:
            self._selector.register(fd, events, protocol)
        elif key.events != events:
            self._selector.modify(fd, events, protocol)

    def _watchWrites(self, protocol):
        if protocol.transport.hasQueuedOutput and not protocol.transport.disconnected:
            self._writers.add(protocol)
            self._setEvents(protocol)

    def _writable(self, protocol):
        """The client took some bytes: send more of what is queued."""
        if protocol in self._writers and not protocol.transport.flush():
            self._writers.discard(protocol)
            if not protocol.transport.disconnected:
                self._setEvents(protocol)
        if protocol in self._waiting and not protocol.transport.disconnected:
            self._updateWatch(protocol)  # room again: it may read again (h2.channel)

    def _readable(self, protocol):
        if not self._waiting.get(protocol):
            # Handed to a worker earlier in this same batch of events (a
            # command resumed it): the worker owns its socket now.
            return
        if protocol.transport.disconnected:
            return  # its close notice is on its way
        data = protocol.transport.receiveNow()
        if data is None:
            return  # nothing yet (a TLS handshake step, say)
        if not data:
            self._stopWatching(protocol)
            self._handToWorker(protocol, protocol.waitLost)
        elif protocol.dataReceivedWhileWaiting(data):
            self._stopWatching(protocol)
            self._handToWorker(protocol)
        else:
            self._updateWatch(protocol)

    def _resume(self, protocol):
        if protocol in self._waiting and protocol.readyForWorker():
            self._stopWatching(protocol)
            self._handToWorker(protocol)

    def _sweep(self):
        now = time.monotonic()
        self._nextSweep = now + self.sweepInterval
        self.workers.relieve()  # every worker blocked and jobs waiting: more threads
        for protocol in list(self._writers):  # writeTimeout: queued output that never moves
            transport = protocol.transport
            if now - transport.lastProgress > transport.writeTimeout:
                transport.abortConnection()
        for protocol in list(self._waiting):
            deadline = protocol.waitingDeadline()
            if deadline is not None and now >= deadline:
                self._stopWatching(protocol)
                self._handToWorker(protocol, protocol.waitTimedOut)
        for listening, until in list(self._paused.items()):
            if now >= until:
                del self._paused[listening]
                if listening.port.connected:
                    self._selector.register(listening.port.socket, selectors.EVENT_READ,
                                            listening)

    def _closeWaiting(self):
        for protocol in list(self._waiting):
            if protocol.waitingDeadline() is not None:  # not holding an open response
                self._stopWatching(protocol)
                self._handToWorker(protocol, protocol.waitLost)

    # -- handing over ---------------------------------------------------------
    def _handToWorker(self, protocol, job=None):
        protocol.transport.stopWaiting()
        self.workers.submit(functools.partial(self._work, protocol,
                                              job or protocol.serveInWorker))

    def _work(self, protocol, job):
        """What a worker thread runs: the job, then back to waiting if it asks to."""
        try:
            waitAgain = job()
        except Exception:
            log.err(None, "Unhandled error in connection %r:" % (protocol,))
            protocol.transport.loseConnection()
            return
        if waitAgain:
            self.waitAgain(protocol)


class _Listening:
    """A port, as the selector sees it: its socket and how many connections are open."""

    def __init__(self, port):
        self.port = port
        self.open = 0
        self.refusing = 0  # connections past the cap, being sent their refusal
