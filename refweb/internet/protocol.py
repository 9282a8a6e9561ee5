# -*- test-case-name: tests.test_reactor -*-
"""Protocols and factories, in the shape Twisted uses (transports: transport.py).

Guide: "Proxies and reverse proxies" -- ``class ProxyFactory(http.HTTPFactory):
def buildProtocol(self, addr): return proxy.Proxy()``.

A *factory* makes one *protocol* object per connection.  A *transport* is
the protocol's handle on its socket: ``write``, ``loseConnection``,
``getPeer``, ``getHost``.

Where Twisted runs every protocol on one event loop, refweb runs them in
threads.  The reactor's selector thread (``selectorloop.py``) accepts a
connection and calls ``protocol.makeConnection(transport)``; what happens
next depends on the protocol:

* ``http.HTTPChannel`` sets ``waitsInSelector``: it waits in the selector
  whenever it has nothing to do, and a worker thread runs
  ``serveInWorker()`` each time it has (see the "waiting" methods below);
* any other protocol gets a worker thread for the whole connection, which
  runs ``handleConnection()``.  The default reads from the socket and feeds
  ``dataReceived``, as Twisted's loop would.

Start reading at ``Protocol``: its docstring declares what the selector calls.
"""

import socket
import time

from refweb.internet import error
from refweb.internet.transport import (READ_TIMED_OUT, RECEIVE_SIZE,  # noqa: F401 (re-exported)
                                       SocketTransport, copyFileRange)
from refweb.python import log
from refweb.python.failure import Failure

class Protocol:
    """What to do with one connection.  Subclasses override the hooks.

    Methods for the caller (the reactor, a transport)::

        makeConnection(transport)   the connection is up: sets transport,
                                    calls connectionMade

    Methods a subclass overrides::

        connectionMade()            the connection is up
        dataReceived(data)          bytes arrived (handleConnection's default)
        connectionLost(reason)      the connection is gone (a Failure)
        handleConnection()          run the whole connection in the worker
                                    thread it was given (default: a recv
                                    loop feeding dataReceived)

    The waiting interface, for a protocol that sets ``waitsInSelector``
    (``http.HTTPChannel``): the reactor's selector thread holds such a
    connection whenever it has nothing to do, and calls, in its own thread::

        dataReceivedWhileWaiting(data) -> bool  bytes read while waiting;
                                    True: a worker should take over now
        readyForWorker() -> bool    asked when the connection starts waiting
                                    again, or another thread may have made it
                                    ready (a response finished)
        readsWhileWaiting() -> bool False: leave the client's bytes in the
                                    kernel for now (back-pressure)
        waitingDeadline() -> float or None   when to stop waiting (monotonic)

    and, in a worker thread, one of these jobs; each returns True to wait in
    the selector again, False when the connection is over::

        serveInWorker()             there is work (readyForWorker said so)
        waitTimedOut()              waitingDeadline passed
        waitLost()                  the peer closed, or the socket did
    """

    factory = None
    transport = None
    connected = False
    # True for a protocol that waits in the reactor's selector between
    # bursts of work and implements the waiting interface above.  Any other
    # keeps a worker thread for its whole connection, running
    # serveInWorker() -> handleConnection().
    waitsInSelector = False

    def makeConnection(self, transport):
        self.transport = transport
        self.connected = True
        self.connectionMade()

    def connectionMade(self):
        """The connection is up.  Called in the selector's thread for a server's
        connection (keep it quick: every connection waits on it), in the
        connecting thread for reactor.connectTCP."""

    def dataReceived(self, data):
        """Some bytes arrived (in no particular size)."""

    def connectionLost(self, reason):
        """The connection is gone; ``reason`` is a Failure."""

    # -- the waiting interface (waitsInSelector protocols override these) --
    def dataReceivedWhileWaiting(self, data):
        raise NotImplementedError

    def readyForWorker(self):
        return False

    def readsWhileWaiting(self):
        return True

    def waitingDeadline(self):
        return None

    def waitTimedOut(self):
        self.transport.loseConnection()
        return False

    def waitLost(self):
        self.transport.loseConnection()
        return False

    def serveInWorker(self):
        """What a worker thread runs; False: the connection is over, nothing to wait for."""
        self.handleConnection()
        return False

    def handleConnection(self):
        """Run the connection to its end, in the worker thread it was given.

        The default pumps bytes into dataReceived until the peer closes.
        """
        reason = Failure(error.ConnectionDone())
        sock = self.transport.socket
        try:
            while not self.transport.disconnected:
                try:
                    data = sock.recv(RECEIVE_SIZE)
                except socket.timeout:
                    reason = Failure(error.TimeoutError("read timed out"))
                    break
                if not data:
                    break
                self.dataReceived(data)
        except OSError as exc:
            if not self.transport.disconnected:
                reason = Failure(error.ConnectionLost(str(exc)))
        except Exception:
            reason = Failure()
            log.err(reason, "Unhandled error in %s:" % (type(self).__name__,))
        finally:
            self.transport.loseConnection()
            self.connected = False
            self.connectionLost(reason)


class Refusal(Protocol):
    """A connection past a port's cap: it gets the factory's refusal bytes
    (an HTTP factory's 503 page), then the close.

    A worker sends the refusal at once -- on TLS, once the client's first
    bytes show the handshake is done (or ``patience`` ran out) -- and shuts
    the sending side; the selector then reads what the client still sends
    until it closes or ``linger`` runs out.  Closing with the client's
    request unread would make the kernel answer with a reset, and the client
    would see that, not the page.
    """

    waitsInSelector = True
    patience = 1.0  # seconds to wait for the client's request
    linger = 2.0  # seconds to wait, after the refusal, for the client to close

    def __init__(self, refusal):
        self.refusal = refusal
        self.sent = False
        self.arrived = False
        self.deadline = None

    def connectionMade(self):
        self.transport.setTimeouts(read=self.linger, write=self.linger)
        self.deadline = _now() + self.patience
        self.arrived = not self.transport.isTLS

    def dataReceivedWhileWaiting(self, data):
        self.arrived = True
        return not self.sent  # after the refusal, bytes are only drained

    def readyForWorker(self):
        return self.arrived and not self.sent

    def waitingDeadline(self):
        return self.deadline

    def serveInWorker(self):
        self.sent = True
        self.transport.write(self.refusal)
        if not self.transport.disconnected:
            self.transport.shutdownWriting()
        self.deadline = _now() + self.linger
        return not self.transport.disconnected

    def waitTimedOut(self):
        if not self.sent:
            return self.serveInWorker()
        return Protocol.waitTimedOut(self)


def _now():
    return time.monotonic()


class Factory:
    """Makes a protocol for each new connection."""

    protocol = None
    numPorts = 0

    def refusalBytes(self):
        """What a connection past a port's cap is sent before the close
        (``Refusal``); an HTTP factory sends a 503 page.  b"": nothing."""
        return b""

    def buildProtocol(self, addr):
        p = self.protocol()
        p.factory = self
        return p

    def doStart(self):
        if not self.numPorts:
            self.startFactory()
        self.numPorts += 1

    def doStop(self):
        if self.numPorts:
            self.numPorts -= 1
            if not self.numPorts:
                self.stopFactory()

    def startFactory(self):
        """Called when the first port using this factory starts listening."""

    def stopFactory(self):
        """Called when the last port using this factory stops listening."""


class ClientFactory(Factory):
    """A factory for outgoing connections (reactor.connectTCP)."""

    def startedConnecting(self, connector):
        pass

    def clientConnectionFailed(self, connector, reason):
        pass

    def clientConnectionLost(self, connector, reason):
        pass
