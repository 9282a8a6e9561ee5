# -*- test-case-name: tests.test_reactor -*-
"""Protocols, factories and the socket transport, in the shape Twisted uses.

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

import os
import select
import socket
import ssl
import struct
import threading
import time

from refweb.internet import address, error
from refweb.python import log
from refweb.python.failure import Failure

RECEIVE_SIZE = 65536

# What a blocking read raises when its kernel timer (SO_RCVTIMEO) runs out.
READ_TIMED_OUT = (BlockingIOError, ssl.SSLWantReadError, socket.timeout)


class SocketTransport:
    """One connected socket, shared safely by the threads that write to it.

    Reads happen in one thread at a time: the selector's while the
    connection waits, then the worker's that has it.  Writes may come from
    any thread (a WSGI worker, the reactor's timer thread), so they go
    through ``_writeLock``; ``sendall`` blocks while the peer is slow, which
    is the back-pressure that keeps memory flat for large responses.
    """

    def __init__(self, sock, isTLS=False):
        self.socket = sock
        self.isTLS = isTLS
        self.connected = True
        self.disconnected = False
        self._writeLock = threading.Lock()  # guards sends and the disconnected flag
        self._readTimeout = None  # the SO_RCVTIMEO now set, in seconds
        self.fileno = sock.fileno()  # kept: a closed socket's fileno() is -1
        self.selector = None  # the reactor's ConnectionSelector, for a server's connection
        self.whenClosed = None  # called once the socket is closed (the selector counts them)
        self._poller = None  # a select.poll for receiveWithin, made on first use
        family = sock.family.name if hasattr(sock.family, "name") else "AF_INET"
        self._family = family
        self._peer = self._host = None

    def write(self, data):
        """Send all of ``data``; silently dropped once the connection is gone.

        ``sendall`` waits for the client as long as writeTimeout allows.
        """
        if not data:
            return
        with self._writeLock:
            if self.disconnected:
                return
            try:
                self.socket.sendall(data)
            except OSError:
                self._closeLocked()

    def receiveNow(self):
        """What has arrived, without waiting.

        Bytes; ``b""`` once the peer has closed or the connection failed;
        None if nothing has come yet (or a TLS handshake is still going on).
        A plain socket stays blocking for the worker threads, so the one
        read that must not wait says so itself (MSG_DONTWAIT); a TLS socket
        is switched to non-blocking while the selector watches it.
        """
        try:
            if not self.isTLS:
                return self.socket.recv(RECEIVE_SIZE, socket.MSG_DONTWAIT)
            data = self.socket.recv(RECEIVE_SIZE)  # the first one finishes the handshake
            while data and self.socket.pending():
                data += self.socket.recv(RECEIVE_SIZE)
            return data
        except (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return None
        except OSError:  # ssl.SSLError is one too
            return b""

    def receiveWithin(self, seconds):
        """In a worker: like receiveNow, but wait up to ``seconds`` for
        something to arrive.  On TLS only what the TLS layer has already
        decrypted, at once: waiting for a record is the selector's job (a
        blocking read could stop inside half a record)."""
        if self.isTLS:
            return self.socket.recv(RECEIVE_SIZE) if self.socket.pending() else None
        if self._poller is None:
            self._poller = select.poll()
            self._poller.register(self.fileno, select.POLLIN)
        if not self._poller.poll(seconds * 1000):
            return None
        return self.receiveNow()

    # Where TLS differs, besides reading and writing: the selector and the
    # workers share a socket, and a TLS socket must not be read in one thread
    # while another writes to it, nor block in the selector.
    @property
    def readsWhileWriting(self):
        """May the selector read ahead (a pipelined request) while a worker
        writes a response?  Not through one TLS layer."""
        return not self.isTLS

    def startWaiting(self):
        """The selector watches this socket from now on.  True if bytes are
        already waiting inside the TLS layer (the selector reads them now)."""
        if not self.isTLS:
            return False
        self.socket.setblocking(False)
        return self.socket.pending() > 0

    def stopWaiting(self):
        """A worker takes this socket: its reads and writes may block again."""
        if self.isTLS and not self.disconnected:
            self.socket.setblocking(True)

    def writeSequence(self, chunks):
        self.write(b"".join(chunks))

    def setTimeouts(self, read, write):
        """Bound every blocking read and write of this socket, in seconds.

        The kernel keeps the timers (SO_RCVTIMEO, SO_SNDTIMEO): a read that
        waits longer raises one of READ_TIMED_OUT, a write an OSError.
        Python's own socket timeouts would poll() before every call; these
        cost nothing until they fire, so a read is one system call.  The
        socket is in blocking mode already (the selector made it so when it
        accepted it).
        """
        self.setReadTimeout(read)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, _timeval(write))

    def setReadTimeout(self, seconds):
        if seconds != self._readTimeout:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _timeval(seconds))
            self._readTimeout = seconds

    def sendFile(self, fileobj, offset, count):
        """Send ``count`` bytes of an open file from ``offset``; True if all went."""
        with self._writeLock:
            if self.disconnected:
                return False
            try:
                if self.isTLS:  # the kernel cannot encrypt: copy through Python
                    return self._copyFile(fileobj, offset, count)
                return self._sendFileByKernel(fileobj, offset, count)
            except OSError:
                self._closeLocked()
                return False

    def _sendFileByKernel(self, fileobj, offset, count):
        """os.sendfile: the kernel copies file to socket, never through Python's memory."""
        if self.socket.gettimeout() is not None:
            # A Python-level timeout makes the socket non-blocking underneath;
            # socket.sendfile knows how to wait on such a socket.
            return self.socket.sendfile(fileobj, offset, count) == count
        fd, out = fileobj.fileno(), self.socket.fileno()
        while count > 0:
            sent = os.sendfile(out, fd, offset, min(count, 1 << 30))  # SO_SNDTIMEO bounds it
            if sent == 0:
                return False  # the file ended early
            offset += sent
            count -= sent
        return True

    def _copyFile(self, fileobj, offset, count):
        return copyFileRange(fileobj, offset, count, self.socket.sendall)

    def shutdownWriting(self):
        """Say "no more bytes from us" (a FIN) and keep reading: how a refusal
        ends without a reset.  On TLS, nothing: shutting the socket under
        the TLS layer would end the reading too."""
        if self.isTLS:
            return
        with self._writeLock:
            try:
                self.socket.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def loseConnection(self):
        """Close the socket (writes are synchronous, so nothing is pending)."""
        with self._writeLock:
            self._closeLocked()

    abortConnection = loseConnection

    def _closeLocked(self):
        if self.disconnected:
            return
        self.disconnected = True
        self.connected = False
        try:
            self.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.socket.close()
        if self.whenClosed is not None:
            self.whenClosed()

    def getPeer(self):
        if self._peer is None:
            self._peer = self._address(self.socket.getpeername)
        return self._peer

    def getHost(self):
        if self._host is None:
            self._host = self._address(self.socket.getsockname)
        return self._host

    def _address(self, lookup):
        """An address object for ``lookup()``; a blank one if the socket has gone."""
        try:
            return address.fromSocketAddress(self._family, lookup())
        except OSError:
            blank = "" if self._family == "AF_UNIX" else ("0.0.0.0", 0)
            return address.fromSocketAddress(self._family, blank)


def copyFileRange(fileobj, offset, count, write, pieceSize=RECEIVE_SIZE, isGone=None):
    """Copy ``count`` bytes of ``fileobj`` from ``offset`` to ``write``, a
    piece at a time, stopping early once ``isGone()`` says the reader has
    left.  True if all of them went; False if the file ended first.

    Where the kernel cannot copy file to socket itself (TLS, chunks, an
    encoder, a relay), this is the loop every sender uses.
    """
    fileobj.seek(offset)
    while count > 0 and not (isGone is not None and isGone()):
        piece = fileobj.read(min(count, pieceSize))
        if not piece:
            return False
        write(piece)
        count -= len(piece)
    return count == 0


def _timeval(seconds):
    """Seconds as the kernel's struct timeval (for SO_RCVTIMEO / SO_SNDTIMEO)."""
    whole = int(seconds)
    return struct.pack("ll", whole, int((seconds - whole) * 1e6))


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
