# -*- test-case-name: tests.test_reactor -*-
"""The reactor, rebuilt on threads.

Guide: "Site Objects" -- ``reactor.listenTCP(8080, site); reactor.run()``.

Twisted's reactor is one loop that watches every socket.  This one is a few
kinds of threads, each with one job:

    refweb-listen:PORT   a socketserver accept loop per listening port
    refweb-conn-N        one per connection: runs protocol.handleConnection()
    refweb-reactor       the timer thread: runs callLater/callFromThread calls
    refweb-pool-N        the reactor's ThreadPool (callInThread)

So a port serves from the moment ``listenTCP`` returns, and timed calls fire
whether or not ``run()`` was called.  ``run()`` only blocks its caller until
``stop()`` (or SIGINT/SIGTERM), then fires the shutdown triggers and closes
the ports.  See docs/internals/reactor.rst for what this changes for code
written for Twisted: mainly, render methods may run in several threads at
once, so shared state needs a lock.
"""

import heapq
import itertools
import os
import signal
import socket
import socketserver
import ssl
import threading
import time

from refweb.internet import address, error, unixlock
from refweb.internet.protocol import SocketTransport
from refweb.python import log
from refweb.python.failure import Failure


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


class ConnectionLimiter:
    """At most ``port.maxConnections`` connections at once; the rest get a 503.

    The limit is read at each new connection, so it may be changed on a
    Port that is already listening.
    """

    REFUSAL = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
               b"Content-Length: 20\r\nConnection: close\r\n\r\nToo many connections")

    def __init__(self, port):
        self.port = port
        self.active = 0
        self._lock = threading.Lock()  # guards active

    def acquire(self):
        with self._lock:
            if self.active >= self.port.maxConnections:
                return False
            self.active += 1
            return True

    def release(self):
        with self._lock:
            self.active -= 1


class _Listener(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """socketserver's accept loop, handing each connection to a protocol."""

    allow_reuse_address = True
    daemon_threads = True
    block_on_close = False

    def __init__(self, port, sockaddr, factory, backlog, family=socket.AF_INET,
                 sslContext=None):
        self.address_family = family
        self.request_queue_size = backlog
        self.port = port
        self.factory = factory
        self.sslContext = sslContext
        self._counter = itertools.count(1)
        self.limiter = ConnectionLimiter(port)
        socketserver.TCPServer.__init__(self, sockaddr, None, bind_and_activate=True)

    def finish_request(self, request, client_address):
        pass  # process_request below does the whole job

    def process_request(self, sock, client_address):
        if not self.limiter.acquire():
            _refuse(sock)
            return
        name = "refweb-conn-%d" % next(self._counter)
        threading.Thread(target=self._serve, args=(sock,), name=name, daemon=True).start()

    def _serve(self, sock):
        try:
            _runProtocol(self.factory, sock, self.sslContext, self.port.connectionTimeout)
        finally:
            self.limiter.release()

    def handle_error(self, request, client_address):
        log.err(None, "Error accepting a connection:")


class _UnixListener(_Listener):
    def server_bind(self):
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()


def _refuse(sock):
    try:
        sock.sendall(ConnectionLimiter.REFUSAL)
    except OSError:
        pass
    sock.close()


def _runProtocol(factory, sock, sslContext=None, timeout=None):
    """Everything one connection thread does, from handshake to close."""
    try:
        sock.settimeout(timeout)
        if sslContext is not None:
            sock = sslContext.wrap_socket(sock, server_side=True)
        if sock.family != socket.AF_UNIX:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, ssl.SSLError):
        sock.close()
        return
    transport = SocketTransport(sock, isTLS=sslContext is not None)
    protocol = factory.buildProtocol(transport.getPeer())
    if protocol is None:
        transport.loseConnection()
        return
    if getattr(protocol, "factory", None) is None:
        protocol.factory = factory  # a buildProtocol override may not set it
    try:
        protocol.makeConnection(transport)
        protocol.handleConnection()
    except Exception:
        log.err(None, "Unhandled error in connection %r:" % (protocol,))
    finally:
        transport.loseConnection()


class Port:
    """A listening socket; ``getHost().port`` tells which port was bound."""

    maxConnections = 512  # per port; beyond this a connection gets a quick 503
    wantPID = False  # listenUNIX(wantPID=True): a lock file to release on stop
    connectionTimeout = 30.0  # seconds a read may wait; see HTTPChannel for others

    def __init__(self, reactor, factory, listener_args, unixPath=None):
        self.reactor = reactor
        self.factory = factory
        self.unixPath = unixPath
        listenerClass, sockaddr, backlog, family, sslContext = listener_args
        try:
            self._server = listenerClass(self, sockaddr, factory, backlog, family, sslContext)
        except OSError as exc:
            raise error.CannotListenError(sockaddr[0] if isinstance(sockaddr, tuple)
                                          else sockaddr, sockaddr[1]
                                          if isinstance(sockaddr, tuple) else "",
                                          exc.strerror or str(exc)) from None
        self._host = address.fromSocketAddress(family.name, self._server.socket.getsockname())
        factory.doStart()
        label = self._host.port if unixPath is None else unixPath
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="refweb-listen:%s" % (label,), daemon=True)
        self._thread.start()
        self.connected = True

    def getHost(self):
        return self._host

    def stopListening(self):
        """Stop accepting; connections already open carry on to their end."""
        from refweb.internet.defer import succeed
        if self.connected:
            self.connected = False
            self._server.shutdown()
            self._server.server_close()
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

    def __init__(self):
        self._lock = threading.Lock()  # guards _calls, _ports, _triggers, _timerThread
        self._wakeup = threading.Condition(self._lock)
        self._calls = []  # heap of DelayedCall
        self._ports = []
        self._triggers = {}  # (phase, event) -> [(f, args, kw)]
        self._timerThread = None
        self._stopEvent = threading.Event()
        self._threadpool = None
        self.running = False

    # -- listening --------------------------------------------------------
    def listenTCP(self, port, factory, backlog=50, interface=""):
        family = socket.AF_INET6 if ":" in interface else socket.AF_INET
        args = (_Listener, (interface, port), backlog, family, None)
        return self._addPort(Port(self, factory, args))

    def listenSSL(self, port, factory, contextFactory, backlog=50, interface=""):
        context = contextFactory.getContext() if hasattr(contextFactory, "getContext") \
            else contextFactory
        family = socket.AF_INET6 if ":" in interface else socket.AF_INET
        args = (_Listener, (interface, port), backlog, family, context)
        return self._addPort(Port(self, factory, args))

    def listenUNIX(self, path, factory, backlog=50, mode=0o666, wantPID=False):
        """Listen on a UNIX socket at ``path``.

        With ``wantPID`` a lock file ``path.lock`` holds our pid, so a socket
        left behind by a crashed server is recognised as stale and removed.
        """
        path = os.path.abspath(os.path.expanduser(path))
        unixlock.checkNotAFile(path)
        if wantPID:
            unixlock.claim(path)
        args = (_UnixListener, path, backlog, socket.AF_UNIX, None)
        old_umask = os.umask(0o777 & ~mode)  # the socket file is born with `mode`
        try:
            port = Port(self, factory, args, unixPath=path)
        finally:
            os.umask(old_umask)
        os.chmod(path, mode)
        port.wantPID = wantPID
        return self._addPort(port)

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
        """Run f(*args, **kw) on the timer thread after ``delay`` seconds."""
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
        self.fireSystemEvent("startup")
        while not self._stopEvent.wait(0.5):
            pass  # a timeout, so signals are handled promptly in the main thread
        self.running = False
        self.fireSystemEvent("shutdown")
        if self._threadpool is not None:
            self._threadpool.stop()
            self._threadpool = None
        self._stopEvent.clear()  # so a notebook may run() the reactor again

    def _onSignal(self, signum, frame):
        log.msg("Received signal %d, shutting down." % (signum,))
        self.stop()

    def stop(self):
        self._stopEvent.set()

    def crash(self):
        self._stopEvent.set()
