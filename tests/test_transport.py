"""Tests for refweb.internet.transport: output that waits for a slow client
waits in the transport's queue, not in a thread (issue 23)."""

import socket
import threading
import time

from refweb import resource, server
from refweb.internet import reactor
from refweb.server import NOT_DONE_YET

from support import served, waitUntil

WAIT = 30
MiB = 1024 * 1024


class Big(resource.Resource):
    """A 4 MiB body, returned whole; records when render returned."""
    isLeaf = True
    returned = None

    def render_GET(self, request):
        body = b"b" * (4 * MiB)
        Big.returned = time.monotonic()
        return body


def slowClient(port, path=b"/"):
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(WAIT)
    sock.connect(("127.0.0.1", port))
    sock.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path)
    return sock


def readAll(sock, bodySize):
    """The head and a body of ``bodySize`` bytes (or what came before the close)."""
    data = b""
    while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < bodySize:
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    return data


def test_a_client_that_does_not_read_holds_no_worker():
    """A whole body the client does not read waits in the transport's queue:
    the worker is free at once, and the bytes still arrive, whole, when it reads."""
    with served(Big()) as port:
        busyBefore = reactor.workers.busy
        sock = slowClient(port)
        try:
            assert waitUntil(lambda: Big.returned is not None)
            time.sleep(0.3)
            assert reactor.workers.busy <= busyBefore  # nobody waits on that client
            data = readAll(sock, 4 * MiB)
        finally:
            sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ") and body == b"b" * (4 * MiB)


def test_queued_output_that_never_moves_is_cut_at_writeTimeout():
    """writeTimeout bounds a client that never reads: its connection is cut."""
    site = server.Site(Big())
    site.writeTimeout = 0.5
    with served(site) as port:
        sock = slowClient(port)
        try:
            assert waitUntil(lambda: Big.returned is not None)
            time.sleep(1.5)  # the sweep finds no progress for writeTimeout
            sock.settimeout(5)
            got, closed = b"", False
            try:
                while True:
                    chunk = sock.recv(1 << 20)
                    if not chunk:
                        closed = True
                        break
                    got += chunk
            except (ConnectionResetError, socket.timeout):
                closed = True
        finally:
            sock.close()
    assert closed and len(got) < 4 * MiB


class Stream(resource.Resource):
    """NOT_DONE_YET: writes 64 KiB pieces from its own thread, 32 MiB in all."""
    isLeaf = True

    def __init__(self):
        super().__init__()
        self.written = 0
        self.done = threading.Event()

    def render_GET(self, request):
        request.setHeader("content-length", str(32 * MiB))

        def produce():
            for _ in range(512):
                request.write(b"s" * 65536)
                self.written += 65536
            request.finish()
            self.done.set()
        threading.Thread(target=produce, daemon=True).start()
        return NOT_DONE_YET


def test_a_streaming_writer_is_paused_while_the_client_does_not_read():
    """request.write from a producer waits once highWater bytes are queued:
    memory stays bounded, and the stream completes once the client reads."""
    stream = Stream()
    with served(stream) as port:
        sock = slowClient(port)
        try:
            time.sleep(0.5)
            # paused: highWater queued, plus what the kernel's buffers hold
            assert stream.written < 8 * MiB
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * MiB)  # now read fast
            data = readAll(sock, 32 * MiB)
            assert stream.done.wait(WAIT)
        finally:
            sock.close()
    assert len(data.partition(b"\r\n\r\n")[2]) == 32 * MiB


def test_kernel_timers_only_on_a_socket_that_can_block():
    """setTimeouts sets SO_RCVTIMEO/SO_SNDTIMEO on a blocking socket, and none
    on one that queues its output (non-blocking: its waits are polls)."""
    from refweb.internet.transport import SocketTransport

    def timers(queues):
        a, b = socket.socketpair()
        with a, b:
            transport = SocketTransport(a)
            if queues:
                a.setblocking(False)
                transport.queuesOutput = True
            transport.setTimeouts(read=30.0, write=60.0)
            assert transport.writeTimeout == 60.0
            return [a.getsockopt(socket.SOL_SOCKET, option, 16)
                    for option in (socket.SO_RCVTIMEO, socket.SO_SNDTIMEO)]

    unset = bytes(16)
    assert unset not in timers(queues=False)
    assert timers(queues=True) == [unset, unset]
