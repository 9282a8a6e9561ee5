# -*- test-case-name: tests.test_reactor -*-
"""The reactor, rebuilt on threads.

Guide: "Site Objects" -- ``reactor.listenTCP(8080, site); reactor.run()``.

Twisted's reactor is one loop that watches every socket and runs every
protocol.  This one keeps the loop for the watching and uses threads for the
work, so that a render method may block::

    refweb-selector      accepts connections on every port and holds each
                         connection while it waits (selectorloop.py)
    refweb-worker-N      a pool that answers requests: body, traversal,
                         rendering, the response (workers.py)
    refweb-reactor       the timer thread: runs callLater/callFromThread calls
    refweb-pool-N        the reactor's ThreadPool (callInThread)

A connection that waits -- for its first request, between kept-alive
requests, for a head that trickles in -- costs no thread, so a thousand
slow clients do not crowd out a fast one.  A port serves from the moment
``listenTCP`` returns, and timed calls fire whether or not ``run()`` was
called.  ``run()`` only blocks its caller until ``stop()`` (or
SIGINT/SIGTERM), then fires the shutdown triggers, closes the ports and
lets the requests in flight finish -- for ``shutdownGrace`` seconds at most.
A signal logs how many requests are in flight and how long they get; a
second one stops at once (``ShutdownCutShort``), and ``cutShort`` then
tells the runner to exit with a non-zero status.  See docs/internals/reactor.rst for what
this changes for code written for Twisted: mainly, render methods may run
in several threads at once, so shared state needs a lock.

Start reading at ``ThreadedReactor.listenTCP``.
"""

import heapq
import os
import resource
import signal
import socket
import socketserver
import threading
import time

from refweb.internet import address, error, unixlock
from refweb.internet.protocol import SocketTransport
from refweb.internet.selectorloop import ConnectionSelector
from refweb.internet.workers import WorkerPool
from refweb.python import log
from refweb.python.failure import Failure
from refweb.python.threadpool import livePools

# A shutdown that does not end by itself: how long past shutdownGrace before
# the watchdog sends the second signal itself, and how long after a second
# signal that did not end run() before it ends the process (os._exit).
# Together under a second: no shutdown outlasts shutdownGrace by more.
OVERRUN = 0.3
LAST_CHANCE = 0.6


class ShutdownCutShort(BaseException):
    """Raised in the main thread by a second SIGINT/SIGTERM: stop now.

    A BaseException, so that no ``except Exception`` on the way (a trigger's,
    a service's) can swallow it; ``run()`` catches it."""


class DelayedCall:
    """A call scheduled by callLater; ``cancel()`` it before it runs."""

    def __init__(self, reactor, when, func, args, kw):
        self._reactor = reactor
        self.time = when
        self.func, self.args, self.kw = func, args, kw
        self.called = False
        self.cancelled = False

    def getTime(self):
        return self.time

    def active(self):
        return not (self.called or self.cancelled)

    def cancel(self):
        if self.cancelled:
            raise error.AlreadyCancelled()
        if self.called:
            raise error.AlreadyCalled()
        self.cancelled = True

    def __lt__(self, other):
        return self.time < other.time


class _Listener(socketserver.TCPServer):
    """socketserver binds the address and listens; the selector accepts."""

    allow_reuse_address = True

    def __init__(self, sockaddr, backlog, family):
        self.address_family = family
        self.request_queue_size = backlog
        socketserver.TCPServer.__init__(self, sockaddr, None, bind_and_activate=True)


class _UnixListener(_Listener):
    def server_bind(self):
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()


class Port:
    """A listening socket; ``getHost().port`` tells which port was bound."""

    # Open connections per port, waiting ones included; beyond it (or beyond
    # what the process's file-descriptor limit leaves, see connectionLimit)
    # a new connection gets a quick 503 and is closed.
    maxConnections = 10000
    descriptorReserve = 128  # descriptors kept for files, logs and upstream connections
    wantPID = False  # listenUNIX(wantPID=True): a lock file to release on stop
    connectionTimeout = 30.0  # seconds a read may wait, for protocols other than HTTP

    def __init__(self, reactor, factory, listenerClass, sockaddr, backlog, family,
                 sslContext=None, unixPath=None):
        self.reactor = reactor
        self.factory = factory
        self.unixPath = unixPath
        self.sslContext = sslContext
        self.isTLS = sslContext is not None
        try:
            self._listener = listenerClass(sockaddr, backlog, family)
        except OSError as exc:
            host, port = sockaddr if isinstance(sockaddr, tuple) else (sockaddr, "")
            raise error.CannotListenError(host, port, exc.strerror or str(exc)) from None
        self.socket = self._listener.socket
        self._host = address.fromSocketAddress(family.name, self.socket.getsockname())
        self._descriptors = _fileLimit()
        factory.doStart()
        self.connected = True
        reactor._connectionSelector().addPort(self)

    def connectionLimit(self):
        """maxConnections, or fewer if the process may not open that many files
        (keeping descriptorReserve of them, or half under a tiny limit)."""
        reserve = min(self.descriptorReserve, self._descriptors // 2)
        return min(self.maxConnections, self._descriptors - reserve)

    def getHost(self):
        return self._host

    def stopListening(self):
        """Stop accepting; connections already open carry on to their end."""
        from refweb.internet.defer import succeed
        if self.connected:
            self.connected = False
            self.reactor._connectionSelector().removePort(self)
            if self.unixPath and os.path.exists(self.unixPath):
                os.unlink(self.unixPath)
            if self.wantPID:
                unixlock.release(self.unixPath)
            self.factory.doStop()
            self.reactor._portStopped(self)
        return succeed(None)

    loseConnection = stopListening

    def __repr__(self):
        return "<Port %s>" % (self._host,)


def _fileLimit():
    """How many files this process may open, after raising its soft limit.

    Each connection is a file descriptor, and many shells start programs
    with a soft limit of 1024; the hard limit is what the system allows us
    to raise it to, so a server raises it (as nginx and others do).
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass
    return 65536 if soft == resource.RLIM_INFINITY else soft


class Connector:
    """An outgoing connection attempt (reactor.connectTCP)."""

    def __init__(self, host, port, factory, timeout):
        self.host, self.port, self.factory, self.timeout = host, port, factory, timeout
        self.transport = None

    def getDestination(self):
        return address.IPv4Address("TCP", self.host, self.port)

    def disconnect(self):
        if self.transport is not None:
            self.transport.loseConnection()

    def stopConnecting(self):
        self.disconnect()

    def _run(self):
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except socket.timeout:
            self.factory.clientConnectionFailed(self, Failure(error.TimeoutError(
                "connecting to %s:%s timed out" % (self.host, self.port))))
            return
        except ConnectionRefusedError as exc:
            self.factory.clientConnectionFailed(self, Failure(error.ConnectionRefusedError(str(exc))))
            return
        except OSError as exc:
            self.factory.clientConnectionFailed(self, Failure(exc))
            return
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.transport = SocketTransport(sock)
        protocol = self.factory.buildProtocol(self.transport.getPeer())
        try:
            protocol.makeConnection(self.transport)
            protocol.handleConnection()
        except Exception:
            log.err(None, "Unhandled error in client connection %r:" % (protocol,))
        finally:
            self.transport.loseConnection()
            self.factory.clientConnectionLost(self, Failure(error.ConnectionDone()))


class ThreadedReactor:
    """The reactor the guide imports: ``from refweb.internet import reactor``."""

    minWorkers = 8  # worker threads started with the first port
    maxWorkers = 64  # busy workers while requests flow; more work waits for one to be free
    workerCeiling = 512  # threads at most, when every worker is blocked (workers.py)
    shutdownGrace = 10.0  # seconds requests in flight may take to finish at shutdown
    cutShort = False  # the last shutdown abandoned requests (a second signal, or the grace ran out)

    def __init__(self):
        self._lock = threading.Lock()  # guards _calls, _ports, _triggers, _timerThread
        self._wakeup = threading.Condition(self._lock)  # the same lock: wakes the timer thread
        self._calls = []  # heap of DelayedCall
        self._ports = []
        self._triggers = {}  # (phase, event) -> [(f, args, kw)]
        self._timerThread = None
        self._stopEvent = threading.Event()
        self._threadpool = None
        self._selector = None  # the ConnectionSelector, made with the first port
        self.workers = None  # its WorkerPool
        self.running = False
        self._shutdownDeadline = None  # time.monotonic() the shutdown under way must end by
        self._watchdog = None  # an Event that ends the shutdown's watchdog thread
        self._signalled = None  # 'SIGINT' once a signal asked run() to stop
        self._cutAt = None  # time.monotonic() of a second signal
        self._overran = False  # the watchdog sent the second signal

    # -- listening --------------------------------------------------------
    # The backlog is the kernel's queue of connections not yet accepted; as
    # long as the kernel allows (it caps the number at net.core.somaxconn),
    # so that a burst of clients waits there rather than being dropped.
    def listenTCP(self, port, factory, backlog=socket.SOMAXCONN, interface=""):
        family = socket.AF_INET6 if ":" in interface else socket.AF_INET
        return self._addPort(Port(self, factory, _Listener, (interface, port), backlog, family))

    def listenSSL(self, port, factory, contextFactory, backlog=socket.SOMAXCONN, interface=""):
        context = contextFactory.getContext() if hasattr(contextFactory, "getContext") \
            else contextFactory
        family = socket.AF_INET6 if ":" in interface else socket.AF_INET
        return self._addPort(Port(self, factory, _Listener, (interface, port), backlog, family,
                                  sslContext=context))

    def listenUNIX(self, path, factory, backlog=socket.SOMAXCONN, mode=0o666, wantPID=False):
        """Listen on a UNIX socket at ``path``.

        With ``wantPID`` a lock file ``path.lock`` holds our pid, so a socket
        left behind by a crashed server is recognised as stale and removed.
        """
        path = os.path.abspath(os.path.expanduser(path))
        unixlock.checkNotAFile(path)
        if wantPID:
            unixlock.claim(path)
        old_umask = os.umask(0o777 & ~mode)  # the socket file is born with `mode`
        try:
            port = Port(self, factory, _UnixListener, path, backlog, socket.AF_UNIX,
                        unixPath=path)
        finally:
            os.umask(old_umask)
        os.chmod(path, mode)
        port.wantPID = wantPID
        return self._addPort(port)

    def _connectionSelector(self):
        """The selector thread and its worker pool, started with the first port."""
        with self._lock:
            if self._selector is None:
                self.workers = WorkerPool(self.minWorkers, self.maxWorkers,
                                          ceiling=self.workerCeiling)
                self.workers.start()
                self._selector = ConnectionSelector(self.workers)
            return self._selector

    def _addPort(self, port):
        with self._lock:
            self._ports.append(port)
        return port

    def _portStopped(self, port):
        with self._lock:
            if port in self._ports:
                self._ports.remove(port)

    def connectTCP(self, host, port, factory, timeout=30, bindAddress=None):
        connector = Connector(host, port, factory, timeout)
        factory.startedConnecting(connector) if hasattr(factory, "startedConnecting") else None
        threading.Thread(target=connector._run, name="refweb-client:%s:%s" % (host, port),
                         daemon=True).start()
        return connector

    # -- time -------------------------------------------------------------
    def seconds(self):
        return time.monotonic()

    def callLater(self, delay, f, *args, **kw):
        """Run ``f(*args, **kw)`` on the timer thread after ``delay`` seconds."""
        call = DelayedCall(self, time.monotonic() + max(0.0, delay), f, args, kw)
        with self._lock:
            heapq.heappush(self._calls, call)
            self._ensureTimerThread()
            self._wakeup.notify()
        return call

    def callFromThread(self, f, *args, **kw):
        """Run f on the reactor's timer thread, as soon as it can."""
        self.callLater(0, f, *args, **kw)

    def _ensureTimerThread(self):
        if self._timerThread is None or not self._timerThread.is_alive():
            self._timerThread = threading.Thread(target=self._runTimers, name="refweb-reactor",
                                                 daemon=True)
            self._timerThread.start()

    def _runTimers(self):
        while True:
            with self._lock:
                while not self._calls or self._calls[0].time > time.monotonic():
                    timeout = self._calls[0].time - time.monotonic() if self._calls else None
                    self._wakeup.wait(timeout)
                call = heapq.heappop(self._calls)
            if call.cancelled:
                continue
            call.called = True
            try:
                call.func(*call.args, **call.kw)
            except Exception:
                log.err(None, "Unhandled error in a timed call %r:" % (call.func,))

    def getDelayedCalls(self):
        with self._lock:
            return [c for c in self._calls if c.active()]

    # -- threads ----------------------------------------------------------
    def getThreadPool(self):
        from refweb.python.threadpool import ThreadPool
        with self._lock:
            if self._threadpool is None:
                self._threadpool = ThreadPool(0, 10, name="refweb-pool")
                self._threadpool.start()
        return self._threadpool

    def callInThread(self, f, *args, **kw):
        self.getThreadPool().callInThread(f, *args, **kw)

    # -- running and stopping ---------------------------------------------
    def addSystemEventTrigger(self, phase, eventType, f, *args, **kw):
        if phase not in ("before", "during", "after"):
            raise ValueError("phase must be 'before', 'during' or 'after', not %r" % (phase,))
        handle = (phase, eventType, f, args, kw)
        with self._lock:
            self._triggers.setdefault((phase, eventType), []).append(handle)
        return handle

    def removeSystemEventTrigger(self, handle):
        phase, eventType = handle[0], handle[1]
        with self._lock:
            self._triggers.get((phase, eventType), []).remove(handle)

    def fireSystemEvent(self, eventType):
        for phase in ("before", "during", "after"):
            if eventType == "shutdown" and phase == "during":
                self._closePorts()
            with self._lock:
                handles = self._triggers.pop((phase, eventType), [])
            for _, _, f, args, kw in handles:
                try:
                    f(*args, **kw)
                except Exception:
                    log.err(None, "Error in a %s %s trigger:" % (phase, eventType))

    def callWhenRunning(self, f, *args, **kw):
        if self.running:
            f(*args, **kw)
        else:
            self.addSystemEventTrigger("after", "startup", f, *args, **kw)

    def _closePorts(self):
        with self._lock:
            ports = list(self._ports)
        for port in ports:
            port.stopListening()
        self._drainConnections()

    def _drainConnections(self):
        """At shutdown, once the ports are closed: close the connections that
        wait for a request, and give the requests in flight what is left of
        shutdownGrace to finish (their connections close as they do)."""
        if self._selector is None:
            return
        while True:
            self._selector.closeWaiting()
            if self._selector.openConnections == 0:
                return
            if self.graceLeft() <= 0:
                self.cutShort = True
                log.msg("refweb: shutdownGrace (%g s) is over: %d connections cut short."
                        % (self.shutdownGrace, self._selector.openConnections))
                return
            time.sleep(0.05)

    def graceLeft(self):
        """Seconds the shutdown under way may still wait for requests in
        flight (all of shutdownGrace before one began)."""
        if self._shutdownDeadline is None:
            return self.shutdownGrace
        return max(0.0, self._shutdownDeadline - time.monotonic())

    def inFlight(self):
        """Requests being answered: busy worker threads, plus the jobs queued
        or running in every ThreadPool (a WSGI application's calls run there
        once their worker has handed them over)."""
        busy = self.workers.busy if self.workers is not None else 0
        return busy + sum(pool.pending for pool in livePools())

    def installSignalHandlers(self):
        """SIGINT and SIGTERM stop the reactor (main thread only; run() calls this)."""
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, self._onSignal)

    def run(self, installSignalHandlers=True):
        """Block until stop() (or SIGINT/SIGTERM), then shut down cleanly.

        A stop() that came before run() is kept: run() then shuts down at once.
        """
        if installSignalHandlers:
            self.installSignalHandlers()
        self.running = True
        self.cutShort = False
        try:
            self.fireSystemEvent("startup")
            while not (self._signalled or self._stopEvent.wait(0.1)):
                pass  # short waits: a signal handler only sets _signalled
            if self._signalled:
                self._announceStop(self._signalled)
            self._shutDown()
        except ShutdownCutShort as cut:
            self.cutShort = True  # the threads still busy are daemons: left behind
            if cut.args[0] != "overran":  # else the watchdog has said why
                log.msg("refweb: %s again: stopping at once; %s cut short."
                        % (cut.args[0], _requests(self.inFlight())))
        finally:
            self.running = False
            if self._watchdog is not None:
                self._watchdog.set()
            self._watchdog = self._shutdownDeadline = self._signalled = self._cutAt = None
            self._stopEvent.clear()  # so a notebook may run() the reactor again

    def _shutDown(self):
        if self._shutdownDeadline is None:
            self._shutdownDeadline = time.monotonic() + self.shutdownGrace
        self.running = False
        self.fireSystemEvent("shutdown")
        if self._threadpool is not None:
            self._threadpool.stop(timeout=self.graceLeft())
            self._threadpool = None

    def _onSignal(self, signum, frame):
        """SIGINT/SIGTERM.  This runs in the main thread between two bytecodes,
        perhaps while that thread holds the log's lock or an Event's: so it
        only notes the signal (run() logs and stops), or, the second time,
        raises ShutdownCutShort, which unwinds whatever the thread was doing."""
        name = signal.Signals(signum).name
        if self._signalled or self._shutdownDeadline is not None:
            self._cutAt = time.monotonic()  # the watchdog's cue, should this not unwind
            raise ShutdownCutShort("overran" if self._overran else name)
        self._shutdownDeadline = time.monotonic() + self.shutdownGrace
        self._signalled = name

    def _announceStop(self, name):
        """The first signal's line: what is in flight, how long it gets."""
        count = self.inFlight()
        if count == 0:
            log.msg("refweb: %s: stopping; no request in flight." % (name,))
        else:
            log.msg("refweb: %s: stopping. %s in flight %s up to %g s to finish; "
                    "Ctrl-C again (or a second SIGTERM) stops at once."
                    % (name, _requests(count), "gets" if count == 1 else "get",
                       self.shutdownGrace))
        self._watchdog = threading.Event()  # set when run() returns
        threading.Thread(target=self._watch, args=(self._watchdog,), daemon=True,
                         name="refweb-shutdown-watchdog").start()

    def _watch(self, stopped):
        """The shutdown's watchdog, a daemon thread from the first signal
        until run() returns: past the grace (and OVERRUN) it sends the second
        signal itself; LAST_CHANCE after a second signal that did not end
        run(), it ends the process."""
        self._overran = False
        while not stopped.wait(0.05):
            now, deadline, cutAt = time.monotonic(), self._shutdownDeadline, self._cutAt
            if cutAt is not None and now > cutAt + LAST_CHANCE:
                os._exit(1)  # the main thread did not unwind
            if deadline is not None and now > deadline + OVERRUN and not self._overran:
                self._overran = True
                log.msg("refweb: the shutdown outlasted shutdownGrace (%g s); stopping at "
                        "once." % (self.shutdownGrace,))
                signal.pthread_kill(threading.main_thread().ident, signal.SIGTERM)

    def stop(self):
        self._stopEvent.set()

    def crash(self):
        self._stopEvent.set()


def _requests(count):
    return "1 request" if count == 1 else "%d requests" % (count,)
