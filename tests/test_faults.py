"""Faults survived: peers that vanish, stall or misbehave mid-request.

Every test runs a real server and a real client (or a real upstream, CGI
script, WSGI application or ``python -m refweb`` process) and checks two
things: what the other side sees (exact status, or a connection closed
before the promised length), and that the server cleaned up after itself --
``notifyFinish()`` fired, and no thread or file descriptor was left behind.
"""

import http.client
import os
import signal
import socket
import threading
import time

import pytest

from refweb import proxy, resource, server, static, twcgi, wsgi
from refweb.internet import reactor
from refweb.python.threadpool import ThreadPool
from support import (parseResponse, rawHTTP, readUntilClosed, receive, served, statusOf,
                     waitUntil)
from test_runner import foreground, freePort, portOpen

MiB = 1024 * 1024


# -- helpers -----------------------------------------------------------------

@pytest.fixture(autouse=True)
def noUnhandledErrors(logged):
    """Every fault here is one refweb must expect: an "Unhandled error" logged
    anywhere (a connection, a timed call, a Deferred, a pool job) fails the test."""
    yield
    unhandled = [line for line in logged if "Unhandled error" in line]
    assert not unhandled, "\n".join(unhandled)


def openFds():
    return len(os.listdir("/proc/self/fd"))


class NothingLeftBehind:
    """Counts threads and file descriptors now; ``check()`` waits for them to come back.

    Taken once the server is up and has answered a first request, so lazily
    started helpers are part of the baseline.
    """

    def __init__(self):
        self.threads = threading.active_count()
        self.fds = openFds()

    def check(self, timeout=5.0):
        back = waitUntil(lambda: threading.active_count() <= self.threads
                         and openFds() <= self.fds, timeout)
        assert back, "threads %d -> %d, fds %d -> %d" % (
            self.threads, threading.active_count(), self.fds, openFds())


def watchedRequestFactory(outcomes):
    """A Request class that records how its notifyFinish() Deferred fired.

    It subscribes as soon as the request exists, which is while its body is
    still being read: a render method cannot, since it runs after the body.
    """
    class WatchedRequest(server.Request):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.notifyFinish().addCallbacks(lambda _: outcomes.append("finished"),
                                             outcomes.append)
    return WatchedRequest


class Counted(resource.Resource):
    """Answers b"ok"; counts its renders."""
    isLeaf = True

    def __init__(self):
        super().__init__()
        self.renders = 0

    def render(self, request):
        self.renders += 1
        return b"ok"


def warmUp(port):
    """One good request, so the baseline includes whatever the first one starts."""
    assert statusOf(rawHTTP(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) \
        == 200


class Streamer(resource.Resource):
    """Writes ``total`` bytes from a thread of its own, 64 KiB at a time, until
    done or until notifyFinish() says the client left (as a producer should)."""
    isLeaf = True

    def __init__(self, total):
        super().__init__()
        self.total = total
        self.lost = threading.Event()
        self.stopped = threading.Event()
        self.written = 0
        self.lostAfter = None  # bytes written when the loss was noticed

    def render_GET(self, request):
        request.setHeader("content-length", str(self.total))
        request.notifyFinish().addErrback(self._clientLeft)
        threading.Thread(target=self._write, args=(request,), daemon=True).start()
        return server.NOT_DONE_YET

    def _clientLeft(self, reason):
        self.lostAfter = self.written
        self.lost.set()

    def _write(self, request):
        chunk = b"x" * 65536
        try:
            while self.written < self.total and not self.lost.is_set():
                request.write(chunk)
                self.written += len(chunk)
            if not self.lost.is_set():
                request.finish()
        finally:
            self.stopped.set()


# -- the client goes away ----------------------------------------------------

@pytest.mark.parametrize("head, sent", [
    (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", b"a" * 1000),
    (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
     b"10\r\n0123456789abcdef\r\n400\r\n" + b"b" * 100),
], ids=["mid-body", "mid-chunk"])
def test_upload_cut_fires_notify_finish_errback(head, sent):
    """A client that closes mid-upload: the request's notifyFinish() errbacks,
    nothing is rendered, and no thread or fd stays behind."""
    outcomes = []
    root = Counted()
    with served(root, requestFactory=watchedRequestFactory(outcomes)) as port:
        warmUp(port)
        assert outcomes == ["finished"] and root.renders == 1
        before = NothingLeftBehind()
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(head + sent)
            time.sleep(0.1)  # the server is now waiting for the rest
        assert waitUntil(lambda: len(outcomes) == 2)
        assert hasattr(outcomes[1], "check")  # a Failure, not "finished"
        assert root.renders == 1
        before.check()


def test_client_closing_mid_response_stops_the_writer():
    """A client that reads part of a large response and closes: notifyFinish()
    errbacks, the writing thread stops, nothing stays behind."""
    streamer = Streamer(total=512 * MiB)
    root = resource.Resource()
    root.putChild(b"", Counted())
    root.putChild(b"big", streamer)
    with served(root) as port:
        warmUp(port)
        before = NothingLeftBehind()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
            received = 0
            while received < 256 * 1024:
                received += len(sock.recv(65536))
        assert streamer.lost.wait(10), "notifyFinish() never errbacked"
        assert streamer.stopped.wait(10)
        assert streamer.written < 512 * MiB
        before.check()


def rssBytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def test_reader_that_stops_reading_100_mib_bounded_memory_and_write_timeout():
    """A client that asks for 100 MiB and stops reading: the server's memory
    stays flat (writes block, nothing is queued), and after writeTimeout the
    write gives up while the client still holds the connection open."""
    streamer = Streamer(total=100 * MiB)
    root = resource.Resource()
    root.putChild(b"", Counted())
    root.putChild(b"big", streamer)
    site = server.Site(root)
    site.writeTimeout = 0.5
    with served(site) as port:
        warmUp(port)
        before = NothingLeftBehind()
        rssBefore = rssBytes()
        peak = rssBefore
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        try:
            sock.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.recv(65536)  # the response began; now the client stops reading
            stalledAt = time.monotonic()
            while not streamer.lost.is_set() and time.monotonic() - stalledAt < 20:
                peak = max(peak, rssBytes())
                time.sleep(0.02)
            gaveUpAfter = time.monotonic() - stalledAt
            assert streamer.lost.is_set(), "the write never gave up"
            assert gaveUpAfter < 0.5 + 10
            # What got out is what the kernel's socket buffers hold, not 100 MiB.
            assert streamer.lostAfter < 32 * MiB
            assert peak - rssBefore < 32 * MiB, "RSS grew by %d bytes" % (peak - rssBefore)
        finally:
            sock.close()
        assert streamer.stopped.wait(10)
        before.check()


class WritesInRender(resource.Resource):
    """Writes ``total`` bytes inside render itself, paying no attention to the
    client, then finishes: the careless resource."""
    isLeaf = True

    def __init__(self, total):
        super().__init__()
        self.total = total
        self.outcome = []
        self.rendered = threading.Event()

    def render_GET(self, request):
        request.setHeader("content-length", str(self.total))
        request.notifyFinish().addCallbacks(lambda _: self.outcome.append("finished"),
                                            self.outcome.append)
        chunk = b"y" * 65536
        for _ in range(self.total // len(chunk)):
            request.write(chunk)
        request.finish()
        self.rendered.set()
        return server.NOT_DONE_YET


def test_careless_render_into_a_stalled_client_ends_quietly(logged):
    """A render method that writes 100 MiB to a client that stopped reading:
    after writeTimeout the rest is dropped, notifyFinish() errbacks, finish()
    raises nothing, and nothing is logged as an error."""
    careless = WritesInRender(total=100 * MiB)
    root = resource.Resource()
    root.putChild(b"", Counted())
    root.putChild(b"big", careless)
    site = server.Site(root)
    site.writeTimeout = 0.5
    with served(site) as port:
        warmUp(port)
        before = NothingLeftBehind()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            sock.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.recv(65536)
            assert careless.rendered.wait(15), "render never returned"
        assert len(careless.outcome) == 1 and hasattr(careless.outcome[0], "check")
        before.check()
    assert not [line for line in logged if "Traceback" in line or "Unhandled" in line]


def test_static_file_to_a_stalled_reader_gives_up_after_write_timeout(tmp_path):
    """A 100 MiB static file (sent by os.sendfile) to a client that stops
    reading: after writeTimeout the server closes, and the client, reading
    again, finds far less than 100 MiB and then the end of the connection."""
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        f.truncate(100 * MiB)  # sparse: costs no disk
    site = server.Site(static.File(str(tmp_path)))
    site.writeTimeout = 0.5
    with served(site) as port:
        assert statusOf(rawHTTP(port, b"GET /big.bin HTTP/1.1\r\nHost: x\r\n"
                                      b"Range: bytes=0-0\r\nConnection: close\r\n\r\n")) == 206
        before = NothingLeftBehind()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            received = len(sock.recv(65536))
            time.sleep(0.5 + 2)  # stalled for longer than writeTimeout
            received += len(readUntilClosed(sock, timeout=20))
        assert 0 < received < 32 * MiB
        before.check()


# -- an upstream dies behind the reverse proxy -------------------------------

class DyingUpstream:
    """A raw upstream: reads one request head, sends ``answer``, closes."""

    def __init__(self, answer):
        self.answer = answer
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.listener.settimeout(10)
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(10)
            data = b""
            while b"\r\n\r\n" not in data:
                piece = conn.recv(65536)
                if not piece:
                    return
                data += piece
            conn.sendall(self.answer)

    def close(self):
        self.listener.close()
        self.thread.join(10)


@pytest.mark.parametrize("answer", [
    b"",
    b"HTTP/1.1 200 OK\r\nContent-Le",
], ids=["nothing", "half-a-head"])
def test_upstream_dying_before_its_head_is_502(answer):
    """An upstream that closes before its head is complete: the client gets a 502."""
    upstream = DyingUpstream(answer)
    try:
        root = resource.Resource()
        root.putChild(b"up", proxy.ReverseProxyResource("127.0.0.1", upstream.port, b"/x"))
        with served(root) as port:
            data = rawHTTP(port, b"GET /up/a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                           timeout=15)
            assert statusOf(data) == 502
    finally:
        upstream.close()


@pytest.mark.parametrize("answer, framing", [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"u" * 1000, "length"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n" + b"u" * 1000 + b"\r\n",
     "chunked"),
], ids=["content-length", "chunked"])
def test_upstream_dying_mid_body_truncates_the_client(logged, answer, framing):
    """An upstream that closes mid-body: the client sees the head and the bytes
    that came, then its connection closes -- before the full Content-Length, or
    with no last chunk -- never a short answer passed off as complete."""
    upstream = DyingUpstream(answer)
    try:
        root = resource.Resource()
        root.putChild(b"", Counted())
        root.putChild(b"up", proxy.ReverseProxyResource("127.0.0.1", upstream.port, b"/x"))
        with served(root) as port:
            warmUp(port)
            before = NothingLeftBehind()
            with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
                sock.sendall(b"GET /up/a HTTP/1.1\r\nHost: x\r\n\r\n")
                data, closed = receive(sock, timeout=15)
            status, headers, body = parseResponse(data)
            assert closed and status == 200
            if framing == "length":
                assert headers["content-length"] == ["100000"] and body == b"u" * 1000
            else:
                assert body == b"3e8\r\n" + b"u" * 1000 + b"\r\n"  # and no 0\r\n\r\n
            upstream.close()
            before.check()
    finally:
        upstream.close()
    assert any("upstream closed the connection" in line and "connection cut" in line
               for line in logged)


# -- a CGI script misbehaves -------------------------------------------------

def cgiSite(tmp_path, text, timeout=None):
    """A Site whose /s is a /bin/sh CGI script with ``text`` as its body."""
    script = tmp_path / "s.cgi"
    script.write_text("#!/bin/sh\n" + text)
    script.chmod(0o755)

    class Script(twcgi.CGIScript):
        pass
    if timeout is not None:
        Script.timeout = timeout
    root = resource.Resource()
    root.putChild(b"s", Script(str(script)))
    return server.Site(root)


@pytest.mark.parametrize("text", [
    "exit 3\n",                                   # exits before a word
    "printf 'Content-Type: text/pl'\nexit 0\n",   # exits mid-header
    "printf 'not a header line\\r\\n\\r\\nSCRIPTBODY'\n",  # garbage headers
    "printf 'Status: ³00 Fine\\r\\n\\r\\nSCRIPTBODY'\n",  # a Unicode digit in Status
], ids=["exit-early", "exit-mid-header", "garbage", "unicode-status"])
def test_cgi_script_without_a_valid_header_block_is_500(tmp_path, text):
    """A script that exits early or prints garbage headers gets a 500 page."""
    with served(cgiSite(tmp_path, text)) as port:
        data = rawHTTP(port, b"GET /s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                       timeout=15)
        assert statusOf(data) == 500
        assert b"SCRIPTBODY" not in data


# A script that promises a million bytes, sends 300,000 and dies.
DYING_SCRIPT = ("printf 'Content-Type: application/octet-stream\\r\\n"
                "Content-Length: 1000000\\r\\n\\r\\n'\n"
                "head -c 300000 /dev/zero\nkill -9 $$\n")


@pytest.mark.parametrize("version", [b"HTTP/1.1", b"HTTP/1.0"])
def test_cgi_script_dying_mid_body_cuts_the_connection(tmp_path, logged, version):
    """A script that dies 300,000 bytes into the 1,000,000 its Content-Length
    promised: the client gets that Content-Length, the 300,000 bytes and a
    closed connection -- never a complete-looking 200 -- and the log says why."""
    with served(cgiSite(tmp_path, DYING_SCRIPT)) as port:
        with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
            sock.sendall(b"GET /s " + version + b"\r\nHost: x\r\nConnection: keep-alive\r\n\r\n")
            data, closed = receive(sock, timeout=15)
        status, headers, body = parseResponse(data)
        assert closed and status == 200
        assert headers["content-length"] == ["1000000"] and len(body) == 300000
        assert any("after 300000 of the 1000000 body bytes" in line and "cut" in line
                   for line in logged)


def test_cgi_script_that_never_answers_is_504_and_killed(tmp_path):
    """A silent script is killed after CGIScript.timeout seconds and the client gets a 504."""
    pidFile = tmp_path / "pid"
    site = cgiSite(tmp_path, "echo $$ > %s\nexec sleep 60\n" % pidFile, timeout=1)
    with served(site) as port:
        started = time.monotonic()
        data = rawHTTP(port, b"GET /s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                       timeout=15)
        assert statusOf(data) == 504
        assert time.monotonic() - started < 10
        pid = int(pidFile.read_text())
        assert not os.path.exists("/proc/%d" % pid), "the script is still there"


# -- a WSGI application raises -----------------------------------------------

@pytest.fixture
def pool():
    threadpool = ThreadPool(name="faults-pool")
    threadpool.start()
    yield threadpool
    threadpool.stop()


def raisingApp(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    if environ["PATH_INFO"] == "/ok":
        return [b"fine"]

    def body():
        if environ["PATH_INFO"] == "/after":
            yield b"first"
        raise RuntimeError("the iterator broke")
    return body()


def test_wsgi_iterator_raising_before_the_first_chunk_is_500(pool, logged):
    """An iterator that raises before yielding anything: a 500 page, and the server goes on."""
    with served(wsgi.WSGIResource(reactor, pool, raisingApp)) as port:
        data = rawHTTP(port, b"GET /before HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert statusOf(data) == 500 and b"the iterator broke" not in data
        assert parseResponse(rawHTTP(port, b"GET /ok HTTP/1.0\r\n\r\n"))[2] == b"fine"
    assert any("the iterator broke" in line for line in logged)


def test_wsgi_iterator_raising_after_the_first_chunk_cuts_the_connection(pool, logged):
    """An iterator that raises after its first chunk: the chunked body never gets
    its last chunk (the client can tell), the connection closes, nothing stays behind."""
    with served(wsgi.WSGIResource(reactor, pool, raisingApp)) as port:
        assert parseResponse(rawHTTP(port, b"GET /ok HTTP/1.0\r\n\r\n"))[2] == b"fine"
        before = NothingLeftBehind()
        data = rawHTTP(port, b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, body = parseResponse(data)
        assert status == 200 and headers["transfer-encoding"] == ["chunked"]
        assert body == b"5\r\nfirst\r\n"  # and no 0\r\n\r\n
        before.check()


# -- an upload outlives its response -----------------------------------------

class KeepsItsInput:
    """A WSGI application that keeps each ``wsgi.input`` it was given (as a
    careless one might), reads the body, and answers with its length.

    With ``pause`` it reads 64 KiB, then waits for ``resume`` before the rest,
    and records what that read raised in ``lateError``."""

    def __init__(self, pause=False):
        self.inputs = []
        self.pause = pause
        self.reading = threading.Event()
        self.resume = threading.Event()
        self.lateError = None

    def __call__(self, environ, start_response):
        stream = environ["wsgi.input"]
        self.inputs.append(stream)
        size = len(stream.read(65536))
        if self.pause:
            self.reading.set()
            self.resume.wait(10)
        try:
            size += len(stream.read())
        except ValueError as exc:
            self.lateError = exc
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"%d" % size]


def spooledSite(pool, app):
    """A Site whose every POST body over 64 KiB is spooled to a temporary file."""
    site = server.Site(wsgi.WSGIResource(reactor, pool, app))
    site.memoryBodyLimit = 65536
    return site


def test_spooled_upload_is_closed_when_its_response_ends(pool):
    """An upload spooled to disk is closed as its response ends, on a connection
    kept alive and while the application still holds wsgi.input: its file
    descriptor is released at once, not when the request is collected."""
    app = KeepsItsInput()
    with served(spooledSite(pool, app)) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
        try:
            conn.request("POST", "/", body=b"small")
            assert conn.getresponse().read() == b"5"
            fds = openFds()
            conn.request("POST", "/", body=b"u" * (4 * MiB))
            assert conn.getresponse().read() == b"%d" % (4 * MiB)
            assert waitUntil(lambda: app.inputs[-1].closed, timeout=2)
            assert waitUntil(lambda: openFds() <= fds, timeout=2), (fds, openFds())
        finally:
            conn.close()


class HandingOffPool(ThreadPool):
    """A pool with no slot free in the caller's thread: every application is
    handed to one of its threads, and the request's worker goes back to the
    selector, which sees the client leave."""

    def runHereIfFree(self, func, *args, **kw):
        return False


def test_client_leaving_mid_upload_read_releases_the_body(logged):
    """A client that leaves while its application, on a pool thread, is still
    reading the spooled upload: the file is closed at once, the application's
    next read raises ValueError in its own thread, and the server goes on serving."""
    app = KeepsItsInput(pause=True)
    pool = HandingOffPool(name="handing-off")
    pool.start()
    with served(spooledSite(pool, app)) as port:
        with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                         % (4 * MiB) + b"u" * (4 * MiB))
            assert app.reading.wait(10)
        assert waitUntil(lambda: app.inputs[0].closed, timeout=5)
        app.resume.set()
        assert waitUntil(lambda: app.lateError is not None, timeout=5)
        app.pause = False
        data = rawHTTP(port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                             b"Connection: close\r\n\r\nok")
        assert parseResponse(data)[::2] == (200, b"2")
    pool.stop()


# -- SIGTERM with requests in flight -----------------------------------------

SLOW_RPY = '''\
import time
from refweb import resource

class Slow(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        with open(%r, "a") as f:
            f.write("in\\n")
        time.sleep(2)
        return b"done"

resource = Slow()
'''


def test_sigterm_lets_requests_in_flight_finish(tmp_path):
    """SIGTERM with 50 requests in flight against a slow resource: each gets its
    200, then the process exits, the port is free and the pid file is gone."""
    docs = tmp_path / "docs"
    docs.mkdir()
    marks = tmp_path / "marks"
    (docs / "slow.rpy").write_text(SLOW_RPY % str(marks))
    port = freePort()
    pidfile = tmp_path / "refweb.pid"
    results = []

    def ask():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("GET", "/slow.rpy")
            response = conn.getresponse()
            results.append((response.status, response.read()))
        except OSError as e:
            results.append(("error", repr(e)))
        finally:
            conn.close()

    with foreground("--pidfile", str(pidfile), "web", "--path", str(docs),
                    "--listen", "tcp:%d:interface=127.0.0.1" % port,
                    cwd=tmp_path, port=port) as refweb:
        clients = [threading.Thread(target=ask) for _ in range(50)]
        for client in clients:
            client.start()
        assert waitUntil(lambda: marks.exists() and
                         marks.read_text().count("in") == 50, 15), "not all 50 in flight"
        refweb.popen.send_signal(signal.SIGTERM)
        for client in clients:
            client.join(30)
        assert refweb.popen.wait(timeout=30) == 0
    assert results == [(200, b"done")] * 50
    assert not pidfile.exists()
    assert not portOpen(port)
    with socket.create_server(("127.0.0.1", port)):
        pass  # the port can be bound again
