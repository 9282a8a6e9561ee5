"""Tests for refweb.internet: the threaded reactor, ports, transports, protocols.

Listening tests bind real sockets on 127.0.0.1 (port 0 = a free port), talk
to them with raw sockets or http.client, and close every port in a finally
block.  Tests of run()/stop() and the shutdown triggers use a fresh
ThreadedReactor, so they never close the ports other tests are using.
"""

import os
import signal
import socket
import ssl
import struct
import shutil
import subprocess
import tempfile
import threading
import time

import pytest

from refweb import resource, server
from refweb.internet import address, error, protocol, reactor, threadedreactor, unixlock
from refweb.internet.threadedreactor import ThreadedReactor
from refweb.python import log
from support import clientContext, freePort, get, readUntilClosed, serverContext, waitUntil

WAIT = 5.0  # the longest any event in these tests may take


# -- helpers -------------------------------------------------------------------

class Echo(protocol.Protocol):
    """Sends back what it receives; records how the connection ended."""

    def connectionMade(self):
        self.factory.made.set()

    def dataReceived(self, data):
        self.transport.write(data)

    def connectionLost(self, reason):
        self.factory.reasons.append(reason)
        self.factory.lost.set()


class EchoFactory(protocol.Factory):
    protocol = Echo

    def refusalBytes(self):
        """What a connection past the cap is sent: here, the HTTP 503 a Site sends."""
        from refweb import wire
        return wire.connectionRefusal()

    def __init__(self):
        self.made = threading.Event()
        self.lost = threading.Event()
        self.reasons = []


class Where(resource.Resource):
    """Answers with whether the request came over TLS."""

    isLeaf = True

    def render_GET(self, request):
        return "secure=%s" % (request.isSecure(),)


def listen(factory, **kw):
    return reactor.listenTCP(0, factory, interface="127.0.0.1", **kw)


class Captured:
    """A log observer that keeps every line (removed again by ``close``)."""

    def __init__(self):
        self.lines = []
        self.event = threading.Event()
        log.addObserver(self)

    def __call__(self, text):
        self.lines.append(text)
        self.event.set()

    def text(self):
        return "\n".join(self.lines)

    def waitFor(self, fragment, timeout=WAIT):
        return waitUntil(lambda: fragment in self.text(), timeout)

    def close(self):
        log.removeObserver(self)


@pytest.fixture
def captured():
    c = Captured()
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def shortdir():
    """A short temporary folder (UNIX socket paths are limited to ~100 bytes)."""
    path = tempfile.mkdtemp(prefix="rw", dir="/tmp")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# -- listenTCP -----------------------------------------------------------------

def test_listenTCP_portZeroPicksAFreePort():
    """listenTCP(0) binds a real free port and getHost() reports it as a TCP address."""
    port = listen(EchoFactory())
    try:
        host = port.getHost()
        assert isinstance(host, address.IPv4Address)
        assert (host.type, host.host) == ("TCP", "127.0.0.1")
        assert 0 < host.port < 65536
        assert port.connected is True
        with socket.create_connection(("127.0.0.1", host.port), timeout=WAIT) as s:
            s.sendall(b"ping")
            s.settimeout(WAIT)
            assert s.recv(4) == b"ping"
    finally:
        port.stopListening()


def test_listenTCP_twoPortsGetDifferentNumbers():
    """Two listenTCP(0) calls get two different port numbers."""
    a, b = listen(EchoFactory()), listen(EchoFactory())
    try:
        assert a.getHost().port != b.getHost().port
        assert "Port" in repr(a)
    finally:
        a.stopListening()
        b.stopListening()


def test_stopListening_refusesNewConnections():
    """After stopListening() the port no longer accepts connections."""
    port = listen(EchoFactory())
    number = port.getHost().port
    d = port.stopListening()
    assert d.called and d.result is None
    assert port.connected is False
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", number), timeout=WAIT).close()
    port.stopListening()  # a second call is harmless


def test_listenTCP_portInUseRaisesCannotListenError():
    """Listening on a port already in use raises CannotListenError naming the port."""
    port = listen(EchoFactory())
    number = port.getHost().port
    try:
        with pytest.raises(error.CannotListenError) as info:
            reactor.listenTCP(number, EchoFactory(), interface="127.0.0.1")
        assert info.value.port == number
        assert str(info.value).startswith("Couldn't listen on 127.0.0.1:%d: " % number)
    finally:
        port.stopListening()


def test_listenTCP_ipv6InterfaceGivesIPv6Address():
    """An interface with ':' listens on IPv6 and getHost() says so."""
    try:
        port = reactor.listenTCP(0, EchoFactory(), interface="::1")
    except error.CannotListenError:
        pytest.skip("IPv6 loopback is not available here")
    try:
        host = port.getHost()
        assert isinstance(host, address.IPv6Address)
        assert (host.type, host.host) == ("TCP", "::1")
    finally:
        port.stopListening()


def test_factory_startAndStopFollowTheFirstAndLastPort():
    """startFactory runs when the first port opens, stopFactory when the last one closes."""
    calls = []

    class Counting(EchoFactory):
        def startFactory(self):
            calls.append("start")

        def stopFactory(self):
            calls.append("stop")

    factory = Counting()
    a = listen(factory)
    b = listen(factory)
    try:
        assert calls == ["start"]
        a.stopListening()
        assert calls == ["start"]
    finally:
        b.stopListening()
        a.stopListening()
    assert calls == ["start", "stop"]
    factory.doStop()  # one more stop than starts: ignored
    assert calls == ["start", "stop"]


# -- protocols and transports --------------------------------------------------

def test_protocol_defaultHandleConnectionEchoesAndEndsCleanly():
    """The default handleConnection feeds dataReceived and ends with ConnectionDone."""
    factory = EchoFactory()
    port = listen(factory)
    try:
        with socket.create_connection(("127.0.0.1", port.getHost().port), timeout=WAIT) as s:
            assert factory.made.wait(WAIT)
            s.sendall(b"hello, ")
            s.sendall(b"world")
            received = b""
            s.settimeout(WAIT)
            while len(received) < 12:
                received += s.recv(100)
            assert received == b"hello, world"
        assert factory.lost.wait(WAIT)
        assert factory.reasons[0].check(error.ConnectionDone) is error.ConnectionDone
        assert str(factory.reasons[0].value) == "Connection was closed cleanly."
    finally:
        port.stopListening()


def test_protocol_readTimeoutGivesTimeoutError():
    """A connection silent for longer than Port.connectionTimeout ends with TimeoutError."""
    factory = EchoFactory()
    port = listen(factory)
    port.connectionTimeout = 0.2
    try:
        with socket.create_connection(("127.0.0.1", port.getHost().port), timeout=WAIT) as s:
            assert factory.lost.wait(WAIT)
            assert factory.reasons[0].check(error.TimeoutError) is error.TimeoutError
            assert factory.reasons[0].getErrorMessage() == "read timed out"
            assert readUntilClosed(s) == b""  # the server closed its end
    finally:
        port.stopListening()


def test_protocol_errorInDataReceivedIsLoggedAndEndsTheConnection(captured):
    """An exception in dataReceived is logged, closes the connection, and the port serves on."""
    class Boom(Echo):
        def dataReceived(self, data):
            raise ValueError("bad byte")

    factory = EchoFactory()
    factory.protocol = Boom
    port = listen(factory)
    try:
        with socket.create_connection(("127.0.0.1", port.getHost().port), timeout=WAIT) as s:
            s.sendall(b"x")
            assert readUntilClosed(s) == b""
        assert factory.lost.wait(WAIT)
        assert factory.reasons[0].check(ValueError)
        assert captured.waitFor("Unhandled error in Boom:")
        assert "ValueError: bad byte" in captured.text()
        factory.protocol = Echo
        with socket.create_connection(("127.0.0.1", port.getHost().port), timeout=WAIT) as s:
            s.sendall(b"ok")
            s.settimeout(WAIT)
            assert s.recv(2) == b"ok"
    finally:
        port.stopListening()


def test_protocol_errorInConnectionMadeIsLoggedNotFatal(captured):
    """An exception in connectionMade is logged and the connection closed; the port lives."""
    class Broken(protocol.Protocol):
        def connectionMade(self):
            raise RuntimeError("cannot start")

    factory = protocol.Factory()
    factory.protocol = Broken
    port = listen(factory)
    try:
        for _ in range(2):
            with socket.create_connection(("127.0.0.1", port.getHost().port),
                                          timeout=WAIT) as s:
                assert readUntilClosed(s) == b""
        assert captured.waitFor("RuntimeError: cannot start")
        assert "Unhandled error in connection" in captured.text()
    finally:
        port.stopListening()


def test_factory_buildProtocolNoneClosesTheConnection():
    """A factory whose buildProtocol returns None gets the connection closed at once."""
    class Refusing(protocol.Factory):
        def buildProtocol(self, addr):
            return None

    port = listen(Refusing())
    try:
        with socket.create_connection(("127.0.0.1", port.getHost().port), timeout=WAIT) as s:
            assert readUntilClosed(s) == b""
    finally:
        port.stopListening()


def test_factory_buildProtocolOverrideGetsFactorySet():
    """A buildProtocol override that forgets p.factory still gets it set by the port."""
    seen = []
    done = threading.Event()

    class Greeter(protocol.Protocol):
        def connectionMade(self):
            seen.append(self.factory)
            self.transport.writeSequence([b"hel", b"lo"])
            self.transport.loseConnection()
            done.set()

    class Plain(protocol.Factory):
        def buildProtocol(self, addr):
            seen.append(addr)
            return Greeter()

    factory = Plain()
    port = listen(factory)
    try:
        with socket.create_connection(("127.0.0.1", port.getHost().port), timeout=WAIT) as s:
            assert readUntilClosed(s) == b"hello"
            local = s.getsockname()
        assert done.wait(WAIT)
        assert seen[0] == address.IPv4Address("TCP", "127.0.0.1", local[1])
        assert seen[1] is factory
    finally:
        port.stopListening()


def test_transport_addressesWritesAndSendFile(tmp_path):
    """A transport knows both ends, drops writes after close, and sends file slices."""
    data = tmp_path / "data.bin"
    data.write_bytes(b"0123456789")
    found = {}
    done = threading.Event()

    class Sender(protocol.Protocol):
        def connectionMade(self):
            t = self.transport
            found["peer"], found["host"] = t.getPeer(), t.getHost()
            found["connected"] = t.connected
            t.write(b"")  # nothing to send: a no-op
            with open(data, "rb") as f:
                found["sent"] = t.sendFile(f, 2, 5)
            t.loseConnection()
            found["after"] = (t.connected, t.disconnected)
            t.write(b"dropped")
            with open(data, "rb") as f:
                found["sentAfter"] = t.sendFile(f, 0, 1)
            done.set()

    factory = protocol.Factory()
    factory.protocol = Sender
    port = listen(factory)
    try:
        with socket.create_connection(("127.0.0.1", port.getHost().port), timeout=WAIT) as s:
            assert readUntilClosed(s) == b"23456"
            local = s.getsockname()
        assert done.wait(WAIT)
        assert found["peer"] == address.IPv4Address("TCP", "127.0.0.1", local[1])
        assert found["host"] == port.getHost()
        assert found["connected"] is True
        assert found["sent"] is True
        assert found["after"] == (False, True)
        assert found["sentAfter"] is False
    finally:
        port.stopListening()


def test_transport_addressesOfAClosedSocketFallBack():
    """getPeer/getHost on a socket already closed give a placeholder, not an exception."""
    a = socket.socket(socket.AF_INET)
    transport = protocol.SocketTransport(a)
    a.close()
    assert transport.getPeer() == address.IPv4Address("TCP", "0.0.0.0", 0)
    assert transport.getHost() == address.IPv4Address("TCP", "0.0.0.0", 0)
    u1, u2 = socket.socketpair(socket.AF_UNIX)
    u2.close()
    unixTransport = protocol.SocketTransport(u1)
    u1.close()
    assert unixTransport.getPeer() == address.UNIXAddress(None)
    assert unixTransport.getHost().type == "UNIX"


def test_transport_failedWriteClosesQuietly():
    """A write to a peer that has gone closes the transport instead of raising."""
    a, b = socket.socketpair()
    b.close()
    transport = protocol.SocketTransport(a)
    transport.write(b"x" * 1000000)  # EPIPE: the peer is gone
    assert (transport.connected, transport.disconnected) == (False, True)
    transport.loseConnection()  # already closed: harmless


def test_transport_failedSendFileReturnsFalse(tmp_path):
    """sendFile to a peer that has gone returns False and closes the transport."""
    data = tmp_path / "f"
    data.write_bytes(b"y" * 1000000)
    a, b = socket.socketpair()
    b.close()
    transport = protocol.SocketTransport(a)
    with open(data, "rb") as f:
        assert transport.sendFile(f, 0, 1000000) is False
    assert transport.disconnected is True


def test_transport_tlsCopyStopsAtEndOfFile(tmp_path):
    """The copying sendFile (used under TLS) returns False when the file is shorter than asked."""
    data = tmp_path / "short"
    data.write_bytes(b"abc")
    a, b = socket.socketpair()
    try:
        transport = protocol.SocketTransport(a, isTLS=True)
        with open(data, "rb") as f:
            assert transport.sendFile(f, 1, 10) is False
        b.settimeout(WAIT)
        assert b.recv(10) == b"bc"
    finally:
        a.close()
        b.close()


def test_protocol_resetByPeerGivesConnectionLost():
    """A connection reset by the peer ends the protocol with ConnectionLost, not ConnectionDone."""
    factory = EchoFactory()
    port = listen(factory)
    try:
        s = socket.create_connection(("127.0.0.1", port.getHost().port), timeout=WAIT)
        assert factory.made.wait(WAIT)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()  # linger 0: an RST instead of a FIN
        assert factory.lost.wait(WAIT)
        assert factory.reasons[0].check(error.ConnectionLost)
    finally:
        port.stopListening()


def test_clientFactory_defaultHooksDoNothing():
    """ClientFactory's startedConnecting and failure/lost hooks are harmless no-ops."""
    factory = protocol.ClientFactory()
    assert factory.startedConnecting(None) is None
    assert factory.clientConnectionFailed(None, None) is None
    assert factory.clientConnectionLost(None, None) is None


def test_releaseUnixLock_missingLockIsFine(shortdir):
    """Releasing a lock that is already gone does not raise."""
    unixlock.release(os.path.join(shortdir, "never.sock"))


def test_address_fromSocketAddressNamesEachFamily():
    """fromSocketAddress maps AF_INET, AF_INET6 and AF_UNIX to their address classes."""
    assert address.fromSocketAddress("AF_INET", ("1.2.3.4", 5)) == \
        address.IPv4Address("TCP", "1.2.3.4", 5)
    assert address.fromSocketAddress("AF_INET6", ("::1", 6, 0, 0)) == \
        address.IPv6Address("TCP", "::1", 6)
    unix = address.fromSocketAddress("AF_UNIX", b"/tmp/s")
    assert unix == address.UNIXAddress("/tmp/s")
    assert (unix.type, unix.host, unix.port) == ("UNIX", "localhost", 0)


def test_errors_haveReadableMessages():
    """Connection errors explain themselves when printed."""
    assert str(error.ConnectionLost()) == "Connection to the other side was lost."
    assert str(error.ConnectionLost("reset")) == "reset"
    assert str(error.ConnectionDone("bye")) == "bye"
    e = error.CannotListenError("", 80, "Permission denied")
    assert str(e) == "Couldn't listen on any:80: Permission denied."
    assert (e.interface, e.port, e.reason) == ("", 80, "Permission denied")


# -- connection limit ----------------------------------------------------------

def _holdAndOverflow(port, factory):
    """Hold one connection open; return what a second connection receives."""
    number = port.getHost().port
    first = socket.create_connection(("127.0.0.1", number), timeout=WAIT)
    try:
        assert factory.made.wait(WAIT)
        with socket.create_connection(("127.0.0.1", number), timeout=WAIT) as second:
            return readUntilClosed(second, timeout=0.5)  # the 503 comes at once, then EOF
    finally:
        first.close()


def test_connectionLimiter_extraConnectionGets503(monkeypatch):
    """Beyond Port.maxConnections open connections, a new one gets a quick 503 and is closed."""
    monkeypatch.setattr(threadedreactor.Port, "maxConnections", 1)
    factory = EchoFactory()
    port = listen(factory)
    try:
        refused = _holdAndOverflow(port, factory)
        head, _, body = refused.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
        assert b"\r\nConnection: close" in head
        assert b"Content-Length: %d" % len(body) in head
        assert b"too many connections" in body  # the error page every refusal uses
        assert factory.lost.wait(WAIT)  # the held connection ends: its slot comes back
        deadline = time.monotonic() + WAIT
        while True:
            with socket.create_connection(("127.0.0.1", port.getHost().port),
                                          timeout=WAIT) as s:
                s.sendall(b"again")
                s.settimeout(WAIT)
                answer = s.recv(100)
            if answer == b"again" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert answer == b"again"
    finally:
        port.stopListening()


def test_connectionLimiter_maxConnectionsSetOnThePortInstance():
    """Setting maxConnections on a Port that is already listening limits that port."""
    factory = EchoFactory()
    port = listen(factory)
    port.maxConnections = 1
    try:
        refused = _holdAndOverflow(port, factory)
        assert refused.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    finally:
        port.stopListening()


# -- listenUNIX ----------------------------------------------------------------

def _unixGet(path):
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(WAIT)
        s.connect(path)
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        return readUntilClosed(s)


def test_listenUNIX_servesWithTheRequestedMode(shortdir):
    """listenUNIX creates the socket file with exactly `mode` and serves HTTP on it."""
    path = os.path.join(shortdir, "web.sock")
    port = reactor.listenUNIX(path, server.Site(Where()), mode=0o600)
    try:
        assert os.stat(path).st_mode & 0o777 == 0o600
        assert port.getHost() == address.UNIXAddress(path)
        response = _unixGet(path)
        assert response.startswith(b"HTTP/1.0 200 OK\r\n")
        assert response.endswith(b"\r\n\r\nsecure=False")
    finally:
        port.stopListening()
    assert not os.path.exists(path)  # stopListening removes the socket file


def test_listenUNIX_otherModeBits(shortdir):
    """The default mode 0o666 gives a socket file readable and writable by everyone."""
    path = os.path.join(shortdir, "open.sock")
    port = reactor.listenUNIX(path, EchoFactory())
    try:
        assert os.stat(path).st_mode & 0o777 == 0o666
    finally:
        port.stopListening()


def test_listenUNIX_wantPIDRemovesAStaleLockAndSocket(shortdir):
    """With wantPID, a lock left by a dead process and its socket file are cleared."""
    path = os.path.join(shortdir, "stale.sock")
    dead = subprocess.Popen(["true"])
    dead.wait(timeout=WAIT)
    with open(path + ".lock", "w") as f:
        f.write("%d\n" % dead.pid)
    leftover = socket.socket(socket.AF_UNIX)
    leftover.bind(path)  # a socket file nobody listens on any more
    leftover.close()
    assert os.path.exists(path)
    port = reactor.listenUNIX(path, server.Site(Where()), wantPID=True)
    try:
        with open(path + ".lock") as f:
            assert f.read() == "%d\n" % os.getpid()
        assert _unixGet(path).endswith(b"secure=False")
    finally:
        port.stopListening()
        unixlock.release(path)
    assert not os.path.exists(path + ".lock")


def test_listenUNIX_wantPIDGarbledLockIsStale(shortdir):
    """A lock file that holds no pid at all counts as stale."""
    path = os.path.join(shortdir, "garbled.sock")
    with open(path + ".lock", "w") as f:
        f.write("not a pid")
    port = reactor.listenUNIX(path, EchoFactory(), wantPID=True)
    try:
        with open(path + ".lock") as f:
            assert f.read() == "%d\n" % os.getpid()
    finally:
        port.stopListening()
        unixlock.release(path)


def test_listenUNIX_wantPIDLiveOwnerIsRefused(shortdir):
    """With wantPID, a lock held by a live process refuses with CannotListenError."""
    path = os.path.join(shortdir, "busy.sock")
    owner = subprocess.Popen(["sleep", "30"])
    try:
        with open(path + ".lock", "w") as f:
            f.write("%d\n" % owner.pid)
        with pytest.raises(error.CannotListenError) as info:
            reactor.listenUNIX(path, EchoFactory(), wantPID=True)
        assert "in use by pid %d" % owner.pid in str(info.value)
        with open(path + ".lock") as f:
            assert f.read() == "%d\n" % owner.pid  # the owner's lock is left alone
    finally:
        owner.kill()
        owner.wait(timeout=WAIT)


def test_pidAlive_zombieCountsAsDead():
    """A process that exited but was not reaped yet (a zombie) does not hold a lock."""
    child = subprocess.Popen(["true"])
    try:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            with open("/proc/%d/stat" % child.pid) as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    break
            time.sleep(0.01)
        assert unixlock.processAlive(child.pid) is False
        assert unixlock.processAlive(os.getpid()) is True
    finally:
        child.wait(timeout=WAIT)
    assert unixlock.processAlive(child.pid) is False


def test_listenUNIX_badPathRaisesCannotListenError(shortdir):
    """A UNIX socket path in a folder that does not exist raises CannotListenError."""
    with pytest.raises(error.CannotListenError):
        reactor.listenUNIX(os.path.join(shortdir, "no", "such.sock"), EchoFactory())


# -- listenSSL -----------------------------------------------------------------

def test_listenSSL_answersOverTLS(certfiles):
    """listenSSL with an SSLContext serves HTTPS, and the request knows it is secure."""
    port = reactor.listenSSL(0, server.Site(Where()), serverContext(certfiles),
                             interface="127.0.0.1")
    try:
        status, _, body = get(port.getHost().port, context=clientContext(), timeout=WAIT)
        assert (status, body) == (200, b"secure=True")
    finally:
        port.stopListening()


def test_listenSSL_contextFactoryAndFailedHandshake(certfiles, tmp_path):
    """A context factory with getContext() works; a plain-text client is dropped, not fatal."""
    data = tmp_path / "f.txt"
    data.write_bytes(b"x" * 70000)

    class ContextFactory:
        def getContext(self):
            return serverContext(certfiles)

    class FileSender(protocol.Protocol):
        def connectionMade(self):
            with open(data, "rb") as f:
                self.transport.sendFile(f, 0, 70000)  # TLS: copied through Python
            self.transport.loseConnection()

    factory = protocol.Factory()
    factory.protocol = FileSender
    port = reactor.listenSSL(0, factory, ContextFactory(), interface="127.0.0.1")
    number = port.getHost().port
    try:
        with socket.create_connection(("127.0.0.1", number), timeout=WAIT) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")  # not a TLS handshake
            assert readUntilClosed(s) == b""
        raw = socket.create_connection(("127.0.0.1", number), timeout=WAIT)
        with clientContext().wrap_socket(raw) as s:
            received = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except (ssl.SSLError, OSError):
                    break
                if not chunk:
                    break
                received += chunk
        assert received == b"x" * 70000
    finally:
        port.stopListening()


# -- connectTCP ----------------------------------------------------------------

class Client(protocol.Protocol):
    def connectionMade(self):
        self.transport.write(b"hi there")

    def dataReceived(self, data):
        self.factory.received.append(data)
        if b"".join(self.factory.received) == b"hi there":
            self.transport.loseConnection()


class ClientFactory(protocol.ClientFactory):
    protocol = Client

    def __init__(self):
        self.received = []
        self.failed = []
        self.lost = []
        self.done = threading.Event()

    def clientConnectionFailed(self, connector, reason):
        self.failed.append((connector, reason))
        self.done.set()

    def clientConnectionLost(self, connector, reason):
        self.lost.append((connector, reason))
        self.done.set()


def test_connectTCP_connectsAndRunsTheProtocol():
    """connectTCP builds the client protocol, pumps data, then calls clientConnectionLost."""
    port = listen(EchoFactory())
    factory = ClientFactory()
    try:
        connector = reactor.connectTCP("127.0.0.1", port.getHost().port, factory, timeout=WAIT)
        assert factory.done.wait(WAIT)
        assert b"".join(factory.received) == b"hi there"
        assert factory.failed == []
        (lostConnector, reason), = factory.lost
        assert lostConnector is connector
        assert reason.check(error.ConnectionDone)
        assert connector.getDestination() == address.IPv4Address(
            "TCP", "127.0.0.1", port.getHost().port)
        connector.disconnect()  # already closed: harmless
        connector.stopConnecting()
    finally:
        port.stopListening()


def test_connectTCP_refusedCallsClientConnectionFailed():
    """Connecting where nobody listens calls clientConnectionFailed with ConnectionRefusedError."""
    factory = ClientFactory()
    connector = reactor.connectTCP("127.0.0.1", freePort(), factory, timeout=WAIT)
    assert factory.done.wait(WAIT)
    (failedConnector, reason), = factory.failed
    assert failedConnector is connector
    assert reason.check(error.ConnectionRefusedError) is error.ConnectionRefusedError
    assert factory.lost == []
    connector.disconnect()  # never connected: nothing to close


@pytest.mark.parametrize("raised, expected", [
    (socket.timeout("timed out"), error.TimeoutError),
    (OSError(101, "Network is unreachable"), OSError),
])
def test_connectTCP_otherFailuresReachTheFactory(monkeypatch, raised, expected):
    """A connect timeout becomes TimeoutError; other socket errors are passed on as they are."""
    def failing(*args, **kw):
        raise raised

    monkeypatch.setattr(threadedreactor.socket, "create_connection", failing)
    factory = ClientFactory()
    reactor.connectTCP("192.0.2.1", 80, factory, timeout=0.1)
    assert factory.done.wait(WAIT)
    (_, reason), = factory.failed
    assert type(reason.value) is expected


def test_connectTCP_clientProtocolErrorIsLogged(captured):
    """An exception in a client protocol is logged and clientConnectionLost still runs."""
    class Bad(protocol.Protocol):
        def connectionMade(self):
            raise KeyError("client broke")

    port = listen(EchoFactory())
    factory = ClientFactory()
    factory.protocol = Bad
    try:
        reactor.connectTCP("127.0.0.1", port.getHost().port, factory, timeout=WAIT)
        assert factory.done.wait(WAIT)
        assert len(factory.lost) == 1
        assert captured.waitFor("Unhandled error in client connection")
        assert "KeyError: 'client broke'" in captured.text()
    finally:
        port.stopListening()


# -- timed calls ---------------------------------------------------------------

def test_callLater_runsInTimeOrderOnTheReactorThread():
    """Timed calls run in the order of their times, on the thread named refweb-reactor."""
    seen = []
    done = threading.Event()

    def record(label):
        seen.append((label, threading.current_thread().name))
        if len(seen) == 3:
            done.set()

    reactor.callLater(0.15, record, "third")
    reactor.callLater(0.05, record, label="first")
    reactor.callLater(0.1, record, "second")
    assert done.wait(WAIT)
    assert seen == [("first", "refweb-reactor"), ("second", "refweb-reactor"),
                    ("third", "refweb-reactor")]


def test_callLater_cancelAndActive():
    """A cancelled call never runs; active() is False after cancel or after running."""
    ran = []
    done = threading.Event()
    call = reactor.callLater(0.1, ran.append, "cancelled")
    assert call.active() is True
    assert call in reactor.getDelayedCalls()
    assert call.getTime() > reactor.seconds()
    call.cancel()
    assert call.active() is False
    assert call not in reactor.getDelayedCalls()
    with pytest.raises(error.AlreadyCancelled):
        call.cancel()
    later = reactor.callLater(0.15, done.set)
    assert done.wait(WAIT)
    assert ran == []
    assert later.active() is False
    with pytest.raises(error.AlreadyCalled):
        later.cancel()


def test_callLater_negativeDelayRunsSoon():
    """A negative delay means 'as soon as possible', not an error."""
    done = threading.Event()
    reactor.callLater(-5, done.set)
    assert done.wait(WAIT)


def test_callLater_exceptionIsLoggedAndTimersGoOn(captured):
    """An exception in a timed call is logged and later timed calls still run."""
    done = threading.Event()

    def broken():
        raise ZeroDivisionError("timer fault")

    reactor.callLater(0, broken)
    reactor.callLater(0.05, done.set)
    assert done.wait(WAIT)
    assert captured.waitFor("ZeroDivisionError: timer fault")
    assert "Unhandled error in a timed call" in captured.text()


def test_callFromThread_runsOnTheReactorThread():
    """callFromThread from any thread runs the call on the refweb-reactor thread."""
    result = []
    done = threading.Event()

    def record(a, b=None):
        result.append((a, b, threading.current_thread().name))
        done.set()

    t = threading.Thread(target=reactor.callFromThread, args=(record, 1), kwargs={"b": 2})
    t.start()
    t.join(WAIT)
    assert done.wait(WAIT)
    assert result == [(1, 2, "refweb-reactor")]


def test_callInThread_runsOnThePoolThreads():
    """callInThread runs the call on one of the reactor's refweb-pool threads."""
    result = []
    done = threading.Event()

    def record(a, b=None):
        result.append((a, b, threading.current_thread().name))
        done.set()

    reactor.callInThread(record, "x", b="y")
    assert done.wait(WAIT)
    a, b, name = result[0]
    assert (a, b) == ("x", "y")
    assert name.startswith("refweb-pool-")
    assert reactor.getThreadPool() is reactor.getThreadPool()


# -- running, stopping and system events --------------------------------------

def _runInThread(r):
    t = threading.Thread(target=r.run, kwargs={"installSignalHandlers": False}, daemon=True)
    t.start()
    assert waitUntil(lambda: r.running, WAIT)
    return t


def test_run_returnsAfterStopFromAnotherThread():
    """run() blocks until stop() is called from another thread, then returns."""
    r = ThreadedReactor()
    t = _runInThread(r)
    try:
        time.sleep(0.05)
        assert t.is_alive()
        r.stop()
        t.join(WAIT)
        assert not t.is_alive()
        assert r.running is False
    finally:
        r.stop()


def test_run_shutdownTriggersFireInOrderAndPortsClose(captured):
    """Shutdown runs 'before' triggers, closes the ports, then 'during', then 'after'."""
    r = ThreadedReactor()
    port = r.listenTCP(0, EchoFactory(), interface="127.0.0.1")
    number = port.getHost().port
    order = []

    def note(label):
        order.append((label, port.connected))

    def broken():
        raise ValueError("trigger fault")

    r.addSystemEventTrigger("after", "shutdown", note, "after")
    r.addSystemEventTrigger("during", "shutdown", note, "during")
    r.addSystemEventTrigger("before", "shutdown", broken)
    r.addSystemEventTrigger("before", "shutdown", note, label="before")
    removed = r.addSystemEventTrigger("before", "shutdown", note, "removed")
    r.removeSystemEventTrigger(removed)
    r.callWhenRunning(note, "startup")
    pool = r.getThreadPool()
    t = _runInThread(r)
    try:
        r.callWhenRunning(note, "already running")
        r.stop()
        t.join(WAIT)
        assert not t.is_alive()
    finally:
        r.stop()
        port.stopListening()
    assert order == [("startup", True), ("already running", True), ("before", True),
                     ("during", False), ("after", False)]
    assert captured.waitFor("ValueError: trigger fault")
    assert "Error in a before shutdown trigger" in captured.text()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", number), timeout=WAIT).close()
    assert pool.joined is True  # run() stopped its thread pool


def test_addSystemEventTrigger_badPhaseRaises():
    """A phase other than before/during/after is refused with ValueError."""
    with pytest.raises(ValueError):
        ThreadedReactor().addSystemEventTrigger("whenever", "shutdown", print)


def test_run_signalStopsTheReactor():
    """With signal handlers installed (main thread), SIGTERM makes run() return."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers can only be installed from the main thread")
    r = ThreadedReactor()
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    watchdog = threading.Timer(WAIT, r.stop)  # never hang the suite

    def sendSignal():
        if waitUntil(lambda: r.running, WAIT):
            os.kill(os.getpid(), signal.SIGTERM)

    sender = threading.Thread(target=sendSignal, daemon=True)
    watchdog.start()
    sender.start()
    started = time.monotonic()
    try:
        r.run()  # installSignalHandlers=True by default
        assert time.monotonic() - started < WAIT - 1  # the signal stopped it, not the watchdog
    finally:
        watchdog.cancel()
        for s, handler in saved.items():
            signal.signal(s, handler)
        sender.join(WAIT)


def test_crash_stopsRunLikeStop():
    """crash() also makes run() return."""
    r = ThreadedReactor()
    t = _runInThread(r)
    r.crash()
    t.join(WAIT)
    assert not t.is_alive()
