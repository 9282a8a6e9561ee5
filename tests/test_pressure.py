"""The worker model under pressure (issue 23): requests that would not
block are answered while many others block, on a real server."""

import os
import socket
import time

from refweb import resource, server, static

from support import served

WAIT = 30


class Sleepy(resource.Resource):
    """A render method that blocks (the guide allows it)."""
    isLeaf = True

    def render_GET(self, request):
        time.sleep(6)
        return b"slept"


def timedGet(port, path):
    """(seconds, first bytes) of one GET on a new connection."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        sock.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return time.monotonic() - started, data


def site(tmp_path):
    (tmp_path / "small.txt").write_bytes(b"x" * 4096)
    with open(tmp_path / "big.bin", "wb") as f:
        f.truncate(16 * 1024 * 1024)
    root = static.File(str(tmp_path))
    root.putChild("sleep", Sleepy())
    return server.Site(root)


def test_static_get_is_answered_while_150_renders_sleep(tmp_path):
    """With 150 render methods asleep for 6 s, a 4 KiB file still comes in under a second."""
    sleepers = []
    with served(site(tmp_path)) as port:
        try:
            for _ in range(150):
                sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
                sock.sendall(b"GET /sleep HTTP/1.1\r\nHost: x\r\n\r\n")
                sleepers.append(sock)
            time.sleep(0.5)  # every sleeper has its head read and its render running
            seconds, data = timedGet(port, b"/small.txt")
        finally:
            for sock in sleepers:
                sock.close()
    assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"x" * 4096)
    assert seconds < 1.0, seconds


def test_static_get_is_answered_while_200_clients_read_nothing(tmp_path):
    """200 clients that ask for a 16 MiB file and never read cost no one else
    their turn, and no worker: their files wait in the selector, and a 4 KiB
    file still comes in under a second."""
    from refweb.internet import reactor
    readers = []
    with served(site(tmp_path)) as port:
        before = reactor.workers.busy
        try:
            for _ in range(200):
                sock = socket.socket()
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                sock.settimeout(WAIT)
                sock.connect(("127.0.0.1", port))
                sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
                readers.append(sock)
            time.sleep(0.5)  # every response has filled its socket and stopped
            seconds, data = timedGet(port, b"/small.txt")
            busy = reactor.workers.busy
        finally:
            for sock in readers:
                sock.close()
    assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"x" * 4096)
    assert seconds < 1.0, seconds
    assert busy <= before + 2  # no worker waits on a client that does not read
