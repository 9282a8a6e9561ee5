"""refweb.internet.quicksend: small writes sent at once, holding the GIL.

The server-level test checks that a real response goes out this way; the
others drive ``sendNow`` and ``SocketTransport.write`` on a socket pair, at
the edges: a full buffer, a partial send, a peer that has gone, no ctypes.
"""

import socket
import ssl
import threading

import pytest

from refweb import resource
from refweb.internet import quicksend
from refweb.internet.protocol import SocketTransport
from support import get, served

needsQuickSend = pytest.mark.skipif(not quicksend.available,
                                    reason="send(2) through ctypes is not available here")


@pytest.fixture
def pair():
    left, right = socket.socketpair()
    yield left, right
    left.close()
    right.close()


class RecordingSend:
    """Stands in for quicksend._send: calls the real one and records each result."""

    def __init__(self, real):
        self.real = real
        self.calls = []  # (bytes asked, bytes sent)

    def __call__(self, fd, data, length, flags):
        sent = self.real(fd, data, length, flags)
        self.calls.append((length, sent))
        return sent


def readExactly(sock, count):
    chunks = []
    while count > 0:
        chunk = sock.recv(min(count, 65536))
        if not chunk:
            break
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def fillSendBuffer(sock):
    """Send until the kernel refuses more without blocking."""
    sock.setblocking(False)
    try:
        while True:
            sock.send(b"x" * 65536)
    except BlockingIOError:
        pass
    finally:
        sock.setblocking(True)


@needsQuickSend
def test_a_response_goes_out_through_sendNow(monkeypatch):
    """A hello-world response is sent whole by the quick path."""
    recording = RecordingSend(quicksend._send)
    monkeypatch.setattr(quicksend, "_send", recording)

    class Hello(resource.Resource):
        isLeaf = True

        def render_GET(self, request):
            return b"hello"

    with served(Hello()) as port:
        status, headers, body = get(port, "/")
    assert (status, body) == (200, b"hello")
    assert recording.calls and all(asked == sent for asked, sent in recording.calls)


@needsQuickSend
def test_sendNow_sends_small_bytes_whole(pair):
    left, right = pair
    assert quicksend.sendNow(left, b"hello") == 5
    assert readExactly(right, 5) == b"hello"


@pytest.mark.parametrize("data", [bytearray(b"hello"), memoryview(b"hello"),
                                  b"x" * (quicksend.MAX_QUICK_SEND + 1)])
def test_sendNow_leaves_other_data_to_sendall(pair, data):
    """Not bytes, or larger than MAX_QUICK_SEND: nothing is sent here."""
    left, right = pair
    assert quicksend.sendNow(left, data) == 0
    right.setblocking(False)
    with pytest.raises(BlockingIOError):
        right.recv(10)


def test_sendNow_leaves_tls_sockets_alone(pair):
    """A TLS socket must encrypt first: only plain sockets qualify, so the
    plain bytes never reach the peer."""
    left, right = pair
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    wrapped = context.wrap_socket(left, server_hostname="localhost",
                                  do_handshake_on_connect=False)
    try:
        assert quicksend.sendNow(wrapped, b"hello") == 0
        right.setblocking(False)
        with pytest.raises(BlockingIOError):
            right.recv(10)
    finally:
        wrapped.close()


@needsQuickSend
def test_sendNow_returns_zero_when_the_buffer_is_full(pair):
    left, _ = pair
    fillSendBuffer(left)
    assert quicksend.sendNow(left, b"more") == 0


@needsQuickSend
def test_sendNow_returns_zero_when_the_peer_has_gone(pair):
    """EPIPE, not a SIGPIPE: the process lives and sendall meets the error."""
    left, right = pair
    right.close()
    assert quicksend.sendNow(left, b"hello") == 0


@needsQuickSend
def test_write_finishes_a_partial_send_with_sendall(pair, monkeypatch):
    """What did not fit in the buffer is sent by sendall, in order, nothing lost."""
    left, right = pair
    left.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
    recording = RecordingSend(quicksend._send)
    monkeypatch.setattr(quicksend, "_send", recording)
    monkeypatch.setattr(quicksend, "MAX_QUICK_SEND", 8 * 1024 * 1024)
    data = bytes(range(256)) * 16384  # 4 MiB, far more than the buffer holds
    transport = SocketTransport(left)
    writer = threading.Thread(target=transport.write, args=(data,))
    writer.start()
    received = readExactly(right, len(data))
    writer.join(10)
    assert received == data
    [(asked, sent)] = recording.calls
    assert asked == len(data) and 0 < sent < len(data)


def test_write_works_without_the_quick_path(pair, monkeypatch):
    """Where ctypes cannot reach send(2), every write goes through sendall."""
    left, right = pair
    monkeypatch.setattr(quicksend, "_send", None)
    SocketTransport(left).write(b"hello")
    assert readExactly(right, 5) == b"hello"


def test_write_to_a_peer_that_has_gone_closes_the_transport(pair):
    left, right = pair
    right.close()
    transport = SocketTransport(left)
    transport.write(b"hello")
    assert transport.disconnected


def test_no_quick_path_without_MSG_DONTWAIT(monkeypatch):
    """A platform without MSG_DONTWAIT (Windows) gets no quick path at all."""
    monkeypatch.delattr(socket, "MSG_DONTWAIT", raising=False)
    assert quicksend._findSend() is None


def test_no_quick_path_without_a_C_library(monkeypatch):
    def noLibrary(name):
        raise OSError("no C library here")
    monkeypatch.setattr(quicksend.ctypes, "PyDLL", noLibrary)
    assert quicksend._findSend() is None


def test_no_quick_path_without_ctypes(monkeypatch):
    """A Python built without _ctypes still serves: it only loses the quick path."""
    monkeypatch.setattr(quicksend, "ctypes", None)
    assert quicksend._findSend() is None
