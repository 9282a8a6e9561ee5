"""The connection model: waiting connections cost no thread.

Each test runs a real server on a free port and talks to it over sockets.
The selector (refweb/internet/selectorloop.py) holds connections while they
wait; worker threads (refweb/internet/workers.py) answer requests.
"""

import os
import socket
import threading
import time

import pytest

from refweb import server
from refweb.internet import reactor
from refweb.resource import Resource
from support import dechunk, parseResponse, readUntilClosed, served, statusOf, waitUntil

WAIT = 10


class Hello(Resource):
    isLeaf = True

    def render_GET(self, request):
        return b"hello " + request.path.encode()


class Tree(Resource):
    """/fast answers at once, /slow blocks its worker, /later finishes from another thread."""

    def __init__(self):
        Resource.__init__(self)
        self.lost = []
        self.finishedLater = threading.Event()

    def getChild(self, name, request):
        return self

    def render_GET(self, request):
        if request.path == "/slow":
            time.sleep(float(request.args.get("s", ["1"])[0]))
            return b"slow"
        if request.path.startswith("/later"):
            delay = float(request.args.get("s", ["0.3"])[0])
            request.notifyFinish().addErrback(lambda reason: self.lost.append(reason))
            threading.Timer(delay, self._finish, (request,)).start()
            return server.NOT_DONE_YET
        return b"fast " + request.path.encode()

    def _finish(self, request):
        if not request._disconnected:
            request.write(b"later " + request.path.encode())
            request.finish()
        self.finishedLater.set()


def connect(port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    return sock


def ask(sock, path, extra=b""):
    sock.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n" + extra + b"\r\n")


# Bytes received past the last response read from a socket: a pipelined
# response can arrive in the same recv as the one before it.
_unread = {}


def readResponse(sock):
    """One response off a kept-alive socket: (status, body), by length or chunks.
    Whatever came after it is kept for the next call."""
    data = _unread.pop(sock, b"")
    while b"\r\n\r\n" not in data:
        data += _recvSome(sock)
    head, _, rest = data.partition(b"\r\n\r\n")
    status, headers, _ = parseResponse(head + b"\r\n\r\n")
    if "content-length" in headers:
        length = int(headers["content-length"][0])
        while len(rest) < length:
            rest += _recvSome(sock)
        body, extra = rest[:length], rest[length:]
    else:
        while True:
            try:
                body, extra = dechunk(rest)
                break
            except (ValueError, IndexError):  # the last chunk has not come yet
                rest += _recvSome(sock)
    if extra:
        _unread[sock] = extra
    return status, body


def _recvSome(sock):
    chunk = sock.recv(65536)
    if not chunk:
        raise AssertionError("closed before a whole response")
    return chunk


def timedGet(port, path=b"/"):
    started = time.monotonic()
    with connect(port) as sock:
        ask(sock, path, b"Connection: close\r\n")
        data = readUntilClosed(sock, WAIT)
    return statusOf(data), time.monotonic() - started


def threadCount():
    return threading.active_count()


def fdCount():
    return len(os.listdir("/proc/self/fd"))


# -- waiting costs no thread ------------------------------------------------

def test_a_thousand_idle_and_trickling_connections_do_not_stop_a_new_client():
    """500 silent and 500 trickling connections: a new client is still served at once,
    and the server has no more threads than before they came."""
    with served(Hello()) as port:
        timedGet(port)  # the pool is started
        baseline = threadCount()
        silent = [connect(port) for _ in range(500)]
        trickling = [connect(port) for _ in range(500)]
        try:
            latencies = []
            request = b"GET / HTTP/1.1\r\nHost: x\r\n"
            for step in range(5):
                for sock in trickling:
                    sock.send(request[step:step + 1])
                for _ in range(10):
                    status, took = timedGet(port, b"/fresh")
                    assert status == 200
                    latencies.append(took)
            assert max(latencies) < 1.0, max(latencies)
            assert threadCount() <= baseline + 2, "waiting connections took threads"
        finally:
            for sock in silent + trickling:
                sock.close()


def test_connection_cap_counts_waiting_connections_and_answers_503(monkeypatch):
    """Beyond port.maxConnections open sockets (idle ones included), a clear 503."""
    with served(Hello()) as port:
        listening = [p for p in reactor._ports if p.getHost().port == port][0]
        monkeypatch.setattr(listening, "maxConnections", 3)
        idle = [connect(port) for _ in range(3)]
        try:
            time.sleep(0.2)
            with connect(port) as extra:
                data = readUntilClosed(extra, WAIT)
            assert data.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
            assert b"too many connections" in data
        finally:
            for sock in idle:
                sock.close()
        assert waitUntil(lambda: timedGet(port)[0] == 200, WAIT)


# -- deadlines kept by the selector ---------------------------------------------

def test_idle_keep_alive_connection_is_closed_at_idleTimeout():
    site = server.Site(Hello())
    site.idleTimeout = 0.5
    with served(site) as port:
        with connect(port) as sock:
            ask(sock, b"/")
            assert readResponse(sock) == (200, b"hello /")
            started = time.monotonic()
            assert readUntilClosed(sock, WAIT) == b""  # closed quietly
            assert 0.4 < time.monotonic() - started < 1.5


def test_silent_new_connection_is_closed_at_readTimeout():
    site = server.Site(Hello())
    site.readTimeout = 0.5
    with served(site) as port:
        with connect(port) as sock:
            started = time.monotonic()
            assert readUntilClosed(sock, WAIT) == b""
            assert 0.4 < time.monotonic() - started < 1.5


def test_trickled_head_gets_408_at_headTimeout_however_the_bytes_come():
    """A byte every 0.1 s keeps each read within readTimeout, but the whole head
    has headTimeout: 408 at that deadline, not later."""
    site = server.Site(Hello())
    site.headTimeout = 1.0
    site.readTimeout = 5.0
    with served(site) as port:
        with connect(port) as sock:
            started = time.monotonic()
            answer = b""
            for byte in b"GET / HTTP/1.1\r\nX-Slow: " + b"a" * 100:
                try:
                    sock.send(bytes([byte]))
                except OSError:
                    break
                sock.settimeout(0.1)
                try:
                    answer += sock.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    break
                if answer:
                    break
            answer += readUntilClosed(sock, WAIT)
            took = time.monotonic() - started
        assert statusOf(answer) == 408
        assert 0.9 < took < 2.0, took


# -- workers ----------------------------------------------------------------

def test_blocking_render_does_not_stall_other_connections():
    tree = Tree()
    with served(tree) as port:
        timedGet(port, b"/fast")
        slow = connect(port)
        try:
            ask(slow, b"/slow?s=1.5", b"Connection: close\r\n")
            time.sleep(0.1)
            latencies = [timedGet(port, b"/fast") for _ in range(20)]
            assert all(status == 200 for status, _ in latencies)
            assert max(took for _, took in latencies) < 1.0
            assert statusOf(readUntilClosed(slow, WAIT)) == 200
        finally:
            slow.close()


def test_not_done_yet_finished_from_another_thread_keeps_the_connection():
    tree = Tree()
    with served(tree) as port:
        with connect(port) as sock:
            ask(sock, b"/later?s=0.2")
            assert readResponse(sock) == (200, b"later /later")
            ask(sock, b"/fast")
            assert readResponse(sock) == (200, b"fast /fast")


def test_pipelined_requests_are_answered_in_order():
    """Three requests in one write, the middle one finished later by another thread."""
    tree = Tree()
    with served(tree) as port:
        with connect(port) as sock:
            sock.sendall(b"GET /first HTTP/1.1\r\nHost: x\r\n\r\n"
                         b"GET /later?s=0.3 HTTP/1.1\r\nHost: x\r\n\r\n"
                         b"GET /third HTTP/1.1\r\nHost: x\r\n\r\n")
            assert readResponse(sock) == (200, b"fast /first")
            assert readResponse(sock) == (200, b"later /later")
            assert readResponse(sock) == (200, b"fast /third")


def test_client_gone_while_its_response_waits_fires_notifyFinish_errback():
    tree = Tree()
    with served(tree) as port:
        sock = connect(port)
        ask(sock, b"/later?s=2")
        time.sleep(0.2)  # the connection now waits in the selector for finish()
        sock.close()
        assert waitUntil(lambda: tree.lost, WAIT), "notifyFinish did not errback"
        assert tree.finishedLater.wait(WAIT)


def test_threads_and_descriptors_come_back_after_a_load():
    tree = Tree()
    with served(tree) as port:
        timedGet(port, b"/fast")
        pool = reactor.workers
        idleSeconds, pool.idleSeconds = pool.idleSeconds, 0.2
        try:
            time.sleep(0.5)
            threads, fds = threadCount(), fdCount()
            clients = [threading.Thread(target=timedGet, args=(port, b"/slow?s=0.3"))
                       for _ in range(40)]
            for client in clients:
                client.start()
            for client in clients:
                client.join(WAIT)
            assert pool.size > pool.minimum  # 40 blocking renders grew the pool
            for _ in range(50):
                timedGet(port, b"/fast")
            assert waitUntil(lambda: threadCount() <= threads and fdCount() <= fds, WAIT), \
                (threadCount(), threads, fdCount(), fds)
        finally:
            pool.idleSeconds = idleSeconds


@pytest.fixture(autouse=True)
def _enoughFiles():
    """A thousand connections are two thousand descriptors in one process."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096 and (hard == resource.RLIM_INFINITY or hard >= 4096):
        resource.setrlimit(resource.RLIMIT_NOFILE, (4096, hard))
    yield


class FinishedElsewhere(Resource):
    """NOT_DONE_YET, finished at once by another thread: the finish races the hand-back."""
    isLeaf = True

    def render_GET(self, request):
        def finish():
            request.write(b"done")
            request.finish()
        threading.Thread(target=finish).start()
        return server.NOT_DONE_YET


def test_responses_finished_by_other_threads_race_the_hand_back_cleanly(logged):
    """Many kept-alive connections whose responses finish in another thread at
    about the moment the worker hands the connection back: every response
    arrives, in order, and the selector logs nothing unhandled."""
    with served(FinishedElsewhere()) as port:
        failures = []

        def client():
            try:
                with connect(port) as sock:
                    for _ in range(100):
                        ask(sock, b"/")
                        assert readResponse(sock) == (200, b"done")
            except Exception as exc:  # reported below, with the log
                failures.append(repr(exc))
        clients = [threading.Thread(target=client) for _ in range(50)]
        for c in clients:
            c.start()
        for c in clients:
            c.join(WAIT)
    assert not failures, failures[:3]
    assert not [line for line in logged if "Unhandled" in line], logged[:20]


def test_selector_ignores_an_event_for_a_connection_it_no_longer_watches():
    """An event from the same select() batch as the command that handed the
    connection to a worker must not hand it to a second worker."""
    from refweb.internet.protocol import SocketTransport
    from refweb.internet.selectorloop import ConnectionSelector

    class Jobs:
        submitted = []

        def submit(self, job):
            self.submitted.append(job)

        def relieve(self):
            pass

    class Waiting:
        waitsInSelector = True

        def __init__(self, transport):
            self.transport = transport
            self.received = b""

        def dataReceivedWhileWaiting(self, data):
            self.received += data
            return True

    ours, theirs = socket.socketpair()
    try:
        selector = ConnectionSelector(Jobs())
        protocol = Waiting(SocketTransport(ours))
        theirs.sendall(b"GET / HTTP/1.1\r\n\r\n")
        selector._readable(protocol)  # as if its event came after _resume took it
        assert Jobs.submitted == [] and protocol.received == b""
        assert ours.recv(100, socket.MSG_PEEK)  # the bytes wait for the worker
    finally:
        ours.close()
        theirs.close()


def test_tls_connections_wait_in_the_selector_too(certfiles):
    """Over TLS: the handshake and the head are collected without a thread,
    kept-alive and pipelined requests are answered in order, and silent TLS
    connections do not take threads."""
    from support import clientContext, serverContext
    site = server.Site(Tree())
    port = reactor.listenSSL(0, site, serverContext(certfiles), interface="127.0.0.1")
    number = port.getHost().port
    try:
        threads = threadCount()
        silent = [connect(number) for _ in range(50)]  # no handshake at all
        try:
            raw = connect(number)
            with clientContext().wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                ask(tls, b"/one")
                assert readResponse(tls) == (200, b"fast /one")
                tls.sendall(b"GET /two HTTP/1.1\r\nHost: x\r\n\r\n"
                            b"GET /later?s=0.2 HTTP/1.1\r\nHost: x\r\n\r\n")
                assert readResponse(tls) == (200, b"fast /two")
                assert readResponse(tls) == (200, b"later /later")
            assert threadCount() <= threads + 2  # Tree's timer threads at most
        finally:
            for sock in silent:
                sock.close()
    finally:
        port.stopListening()


LOW_LIMIT_SERVER = """\
import resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))  # soft and hard: it cannot raise it
from refweb import server
from refweb.internet import reactor
from refweb.resource import Resource

class Hello(Resource):
    isLeaf = True
    def render_GET(self, request):
        return b"hello"

port = reactor.listenTCP(0, server.Site(Hello()), interface="127.0.0.1")
print(port.connectionLimit(), port.getHost().port, flush=True)
reactor.run()
"""


def test_a_small_descriptor_limit_lowers_the_cap_and_the_server_keeps_serving(tmp_path):
    """Under a 64-file limit the cap is what the limit leaves (32): the rest
    get a 503, and once the idle sockets close a request is served again."""
    import subprocess
    import sys
    script = tmp_path / "low_limit.py"
    script.write_text(LOW_LIMIT_SERVER)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE)
    idle = []
    try:
        limit, port = map(int, proc.stdout.readline().split())
        assert limit == 32
        idle = [connect(port) for _ in range(limit)]
        time.sleep(0.3)
        assert timedGet(port)[0] == 503
        for sock in idle:
            sock.close()
        assert waitUntil(lambda: timedGet(port)[0] == 200, WAIT)
    finally:
        for sock in idle:
            sock.close()
        proc.kill()
        proc.wait()
        proc.stdout.close()
