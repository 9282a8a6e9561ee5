"""Each row of refweb/rules.py, checked against a real server.

The same rows are written into docs/internals/wire.rst by tools/make_tables.py
(tests/test_docs.py checks the page is up to date), so what the page says is
what these tests send.  Every test here listens on 127.0.0.1:0 and talks over
a plain socket, byte for byte.
"""

import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from refweb import chunked, http_request, rules, server, session, twcgi, wire
from refweb.resource import Resource
from refweb.server import NOT_DONE_YET
from tests.support import parseResponse, receive, served, siteWith, statusOf, waitUntil

WAIT = 5.0


def exchange(port, data, wait=WAIT, quiet=None):
    """Send ``data`` on a fresh connection: (bytes received, True if the server closed).

    Stops at the close, after ``wait`` seconds, or once nothing arrived for
    ``quiet`` seconds (a connection kept open)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(data)
        return receive(sock, wait, quiet)


class Hello(Resource):
    isLeaf = True

    def render(self, request):
        return b"hello"


# -- refusals -------------------------------------------------------------------

@pytest.mark.parametrize("row", rules.REFUSALS, ids=[r.problem for r in rules.REFUSALS])
def test_refusal(row, serve):
    """The row's example bytes get the row's status, with Connection: close, then the close."""
    data, closed = exchange(serve(Hello()), row.request)
    status, headers, _ = parseResponse(data)
    assert status == row.status
    assert headers["connection"] == ["close"]
    assert closed


# -- keep-alive -----------------------------------------------------------------

class Framed(Resource):
    """/length, /chunked, /close, /past, /short: a body framed as rules.FRAMINGS says
    (/chunked and /close both write twice with no length: the version decides)."""
    isLeaf = True

    def render_GET(self, request):
        framing = request.postpath[0]
        if framing == "length":
            return b"hello"
        if framing == "past":
            request.setHeader("content-length", "2")
        elif framing == "short":
            request.setHeader("content-length", "10")
        elif framing == "close" and request.clientproto == "HTTP/1.1":
            request.setHeader("content-length", "five")  # unreadable: only the close ends it
        request.write(b"hel")
        request.write(b"lo")
        request.finish()
        return NOT_DONE_YET


def test_every_framing_is_served():
    assert set(rules.FRAMINGS) == {row.framing for row in rules.KEEP_ALIVE}


@pytest.mark.parametrize("row", rules.KEEP_ALIVE,
                         ids=["%s-%s-%s" % (r.version, r.connection or "none", r.framing)
                              for r in rules.KEEP_ALIVE])
def test_keep_alive(row):
    """The response carries the row's Connection line, and the connection
    stays open (answering a second request) or is closed, as the row says."""
    version = "HTTP/1.1" if row.version == "*" else row.version
    request = "GET /%s %s\r\nHost: x\r\n" % (row.framing, version)
    if row.connection not in ("", "*"):
        request += "Connection: %s\r\n" % row.connection
    if row.framing == "refused":
        request += "Bad Header: x\r\n"
    with served(Framed()) as port:
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
            sock.sendall(request.encode("ascii") + b"\r\n")
            data, closed = receive(sock, settle=0.5)
            assert statusOf(data) == (400 if row.framing == "refused" else 200)
            _, headers, _ = parseResponse(data)
            assert headers.get("connection", [""]) == [row.header]
            assert closed is not row.keep
            if row.keep:
                sock.sendall(b"GET /length HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                again, _ = receive(sock)
                assert again.startswith(b"HTTP/1.1 200 ") and again.endswith(b"hello")


def test_every_request_is_decided_by_a_row():
    """keepAliveRow answers every case the server can meet (a KeyError would be a missing row)."""
    for version in ("HTTP/1.0", "HTTP/1.1"):
        for connection in ("", "keep-alive", "close"):
            for framing in rules.FRAMINGS:
                if version == "HTTP/1.0" and framing == "chunked":
                    continue  # never sent: a 1.0 client knows no chunks
                assert rules.keepAliveRow(version, connection, framing).framing == framing


# -- limits ---------------------------------------------------------------------
# One function per row of rules.LIMITS: it goes up to the limit (accepted)
# and one past it (what the row's "beyond" says).

EXCEED = {}


def exceeds(owner, name):
    def record(function):
        EXCEED[(owner, name)] = function
        return function
    return record


CHANNEL = rules.CHANNEL


def status(port, data):
    """The status the server answers ``data`` with (read no further than the status line)."""
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        sock.sendall(data)
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    return statusOf(answer)


@exceeds(CHANNEL, "maxRequestLineLength")
def requestLine(monkeypatch, tmp_path):
    with served(siteWith(Hello(), maxRequestLineLength=100)) as port:
        line = b"GET /" + b"a" * (100 - len(b"GET / HTTP/1.1")) + b" HTTP/1.1"
        assert len(line) == 100
        assert status(port, line + b"\r\nHost: x\r\n\r\n") == 200
        assert status(port, line.replace(b"/", b"/b") + b"\r\nHost: x\r\n\r\n") == 414


@exceeds(CHANNEL, "maxHeaderCount")
def headerCount(monkeypatch, tmp_path):
    with served(siteWith(Hello(), maxHeaderCount=5)) as port:
        head = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-A: 1\r\n" * 4
        assert status(port, head + b"\r\n") == 200
        assert status(port, head + b"X-A: 1\r\n\r\n") == 431


@exceeds(CHANNEL, "maxHeaderBytes")
def headerBytes(monkeypatch, tmp_path):
    # The head, request line included and final CRLF CRLF not, may be
    # maxRequestLineLength + maxHeaderBytes: here 50 + 200 bytes.
    with served(siteWith(Hello(), maxRequestLineLength=50, maxHeaderBytes=200)) as port:
        start = b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: "
        head = start + b"p" * (250 - len(start))
        assert len(head) == 250
        assert status(port, head + b"\r\n\r\n") == 200
        assert status(port, head + b"p\r\n\r\n") == 431
        page, _ = exchange(port, head + b"p\r\n\r\n")
        assert b"the request line and headers may be at most 250 bytes together" in page


@exceeds(CHANNEL, "maxBodySize")
def bodySize(monkeypatch, tmp_path):
    with served(siteWith(Hello(), maxBodySize=10)) as port:
        post = b"POST / HTTP/1.1\r\nHost: x\r\n"
        assert status(port, post + b"Content-Length: 10\r\n\r\n" + b"b" * 10) == 200
        assert status(port, post + b"Content-Length: 11\r\n\r\n" + b"b" * 11) == 413
        chunked = post + b"Transfer-Encoding: chunked\r\n\r\n"
        assert status(port, chunked + b"a\r\n" + b"b" * 10 + b"\r\n0\r\n\r\n") == 200
        assert status(port, chunked + b"b\r\n" + b"b" * 11 + b"\r\n0\r\n\r\n") == 413


@exceeds(CHANNEL, "readTimeout")
def readTimeout(monkeypatch, tmp_path):
    with served(siteWith(Hello(), readTimeout=0.3, headTimeout=WAIT * 2)) as port:
        data, closed = exchange(port, b"GET / HTTP/1.1\r\n")
        assert statusOf(data) == 408 and closed
        assert exchange(port, b"") == (b"", True)  # nothing asked: closed quietly


@exceeds(CHANNEL, "writeTimeout")
def writeTimeout(monkeypatch, tmp_path):
    big = b"x" * (32 * 1024 * 1024)

    class Big(Resource):
        isLeaf = True

        def render(self, request):
            return big

    with served(siteWith(Big(), writeTimeout=0.3)) as port:
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            time.sleep(1.5)  # not reading: the server's write waits, then gives up
            data, closed = receive(sock)
        assert closed and statusOf(data) == 200 and len(data) < len(big)


@exceeds(CHANNEL, "headTimeout")
def headTimeout(monkeypatch, tmp_path):
    with served(siteWith(Hello(), headTimeout=0.5, readTimeout=WAIT)) as port:
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
            started = time.monotonic()
            for byte in b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 40:
                try:
                    sock.sendall(bytes([byte]))  # each read well within readTimeout
                except OSError:
                    break
                time.sleep(0.05)
            data, closed = receive(sock)
        assert statusOf(data) == 408 and closed
        assert time.monotonic() - started < WAIT


@exceeds(CHANNEL, "idleTimeout")
def idleTimeout(monkeypatch, tmp_path):
    with served(siteWith(Hello(), idleTimeout=0.3)) as port:
        data, closed = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert statusOf(data) == 200 and data.endswith(b"hello")  # then nothing more
        assert closed


@exceeds(CHANNEL, "bodyTimeout")
def bodyTimeout(monkeypatch, tmp_path):
    with served(siteWith(Hello(), bodyTimeout=0.5, readTimeout=WAIT)) as port:
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n")
            for _ in range(40):
                try:
                    sock.sendall(b"b")
                except OSError:
                    break
                time.sleep(0.05)
            data, closed = receive(sock)
        assert statusOf(data) == 408 and closed


class BodyKind(Resource):
    isLeaf = True

    def render(self, request):
        return type(request.content).__name__.encode("ascii")


@exceeds(CHANNEL, "memoryBodyLimit")
def memoryBodyLimit(monkeypatch, tmp_path):
    with served(siteWith(BodyKind(), memoryBodyLimit=10)) as port:
        post = b"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        small, _ = exchange(port, post + b"Content-Length: 10\r\n\r\n" + b"b" * 10)
        large, _ = exchange(port, post + b"Content-Length: 11\r\n\r\n" + b"b" * 11)
    assert small.endswith(b"\r\n\r\nBytesIO")
    assert large.endswith(b"\r\n\r\nSpooledTemporaryFile")


@exceeds(CHANNEL, "maxPipelineBytes")
def maxPipelineBytes(monkeypatch, tmp_path):
    release, held = threading.Event(), []

    class Held(Resource):
        isLeaf = True

        def render(self, request):
            if request.method == "GET":
                held.append(request.channel)
                threading.Thread(target=lambda: (release.wait(WAIT), request.write(b"held"),
                                                 request.finish())).start()
                return NOT_DONE_YET
            return b"posted"

    body = b"b" * 300000
    with served(siteWith(Held(), maxPipelineBytes=1000)) as port:
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            ahead = b"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" \
                    b"Content-Length: %d\r\n\r\n" % len(body) + body
            sender = threading.Thread(target=sock.sendall, args=(ahead,))
            sender.start()
            assert waitUntil(lambda: held and len(held[0].connection.buffer) >= 1000)
            time.sleep(0.3)  # time to read on, if it did not stop
            buffered = len(held[0].connection.buffer)
            release.set()
            sender.join(WAIT)
            data, closed = receive(sock)
    # reads stop once 1000 bytes are buffered: at most one read (64 KiB) past it
    assert 1000 <= buffered <= 1000 + 65536
    assert data.count(b"HTTP/1.1 200 ") == 2 and data.endswith(b"posted") and closed


def chunkedPost(chunks):
    return (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks)


DECODER = "refweb.chunked.ChunkedDecoder"


@exceeds(DECODER, "maxLineLength")
def chunkLine(monkeypatch, tmp_path):
    monkeypatch.setattr(chunked.ChunkedDecoder, "maxLineLength", 10)
    with served(Hello()) as port:
        assert status(port, chunkedPost(b"1;e=abcdef\r\nb\r\n0\r\n\r\n")) == 200
        assert status(port, chunkedPost(b"1;e=abcdefg\r\nb\r\n0\r\n\r\n")) == 400


@exceeds(DECODER, "maxTrailerBytes")
def trailerBytes(monkeypatch, tmp_path):
    monkeypatch.setattr(chunked.ChunkedDecoder, "maxTrailerBytes", 40)
    with served(Hello()) as port:
        trailer = b"X-T: " + b"t" * 30 + b"\r\n"  # 37 bytes with its CRLF
        assert status(port, chunkedPost(b"0\r\n" + trailer + b"\r\n")) == 200
        assert status(port, chunkedPost(b"0\r\n" + trailer + trailer + b"\r\n")) == 431


@exceeds(DECODER, "maxTrailerCount")
def trailerCount(monkeypatch, tmp_path):
    monkeypatch.setattr(chunked.ChunkedDecoder, "maxTrailerCount", 2)
    with served(Hello()) as port:
        assert status(port, chunkedPost(b"0\r\nX-A: 1\r\nX-B: 2\r\n\r\n")) == 200
        assert status(port, chunkedPost(b"0\r\nX-A: 1\r\nX-B: 2\r\nX-C: 3\r\n\r\n")) == 431


class ArgNames(Resource):
    isLeaf = True

    def render(self, request):
        return ",".join(sorted(str(name) for name in request.args)).encode()


def form(port, body):
    data, _ = exchange(port, b"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                             b"Content-Type: application/x-www-form-urlencoded\r\n"
                             b"Content-Length: %d\r\n\r\n" % len(body) + body)
    return data


@exceeds("refweb.http_request.Request", "maxFormBytes")
def formBytes(monkeypatch, tmp_path):
    class Small(server.Request):
        maxFormBytes = 7

    with served(server.Site(ArgNames(), requestFactory=Small)) as port:
        assert form(port, b"a=1&b=2").endswith(b"\r\n\r\na,b")
        assert form(port, b"a=1&b=22").endswith(b"\r\n\r\n")  # not parsed; still answered
        assert statusOf(form(port, b"a=1&b=22")) == 200


@exceeds("refweb.http_request.Request", "maxFormFields")
def formFields(monkeypatch, tmp_path):
    class Few(server.Request):
        maxFormFields = 2

    with served(server.Site(ArgNames(), requestFactory=Few)) as port:
        assert form(port, b"a=1&b=2").endswith(b"\r\n\r\na,b")
        assert statusOf(form(port, b"a=1&b=2&c=3")) == 413


@exceeds("refweb.internet.threadedreactor.Port", "maxConnections")
def maxConnections(monkeypatch, tmp_path):
    from refweb.internet import reactor
    port = reactor.listenTCP(0, siteWith(Hello()), interface="127.0.0.1")
    port.maxConnections = 1
    number = port.getHost().port
    try:
        with socket.create_connection(("127.0.0.1", number), timeout=WAIT) as first:
            first.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert receive(first, settle=0.3)[0].endswith(b"hello")  # and it stays open
            data, closed = exchange(number, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert statusOf(data) == 503 and closed
    finally:
        port.stopListening()


class Sleepy(Resource):
    isLeaf = True

    def render_GET(self, request):
        time.sleep(1.5)  # long enough that clients started under load still overlap
        return b"slept"


def _oneMoreThanThePool(port, pool):
    """pool.size + 1 requests at once to a Sleepy site: [(status, seconds)]."""
    took = []

    def ask():
        started = time.monotonic()
        data, _ = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        took.append((statusOf(data), time.monotonic() - started))
    clients = [threading.Thread(target=ask) for _ in range(pool.size + 1)]
    for client in clients:
        client.start()
    for client in clients:
        client.join(WAIT)
    return took


@exceeds("refweb.internet.threadedreactor.ThreadedReactor", "maxWorkers")
def maxWorkers(monkeypatch, tmp_path):
    """With every worker blocked, one more request does not wait for them: the pool grows."""
    from refweb.internet import reactor
    with served(Sleepy()) as port:
        pool = reactor.workers
        monkeypatch.setattr(pool, "maximum", pool.size)  # no room to grow while work flows
        took = _oneMoreThanThePool(port, pool)
    assert [code for code, _ in took] == [200] * len(took)
    assert max(seconds for _, seconds in took) < 2.5  # nobody waited for a sleeper


@exceeds("refweb.internet.threadedreactor.ThreadedReactor", "workerCeiling")
def workerCeiling(monkeypatch, tmp_path):
    """At the ceiling, with every worker blocked, one more request waits for a free one."""
    from refweb.internet import reactor
    with served(Sleepy()) as port:
        pool = reactor.workers
        monkeypatch.setattr(pool, "maximum", pool.size)
        monkeypatch.setattr(pool, "ceiling", pool.size)  # no room to grow at all
        took = _oneMoreThanThePool(port, pool)
    assert [code for code, _ in took] == [200] * len(took)
    assert max(seconds for _, seconds in took) >= 2.5  # one waited for a free worker


SHUTDOWN_SCRIPT = """\
import sys, time
from refweb import server
from refweb.internet import reactor
from refweb.resource import Resource

class Slow(Resource):
    isLeaf = True
    def render_GET(self, request):
        time.sleep(5)
        return b"too late"

reactor.shutdownGrace = 0.5
port = reactor.listenTCP(0, server.Site(Slow()), interface="127.0.0.1")
print(port.getHost().port, flush=True)
reactor.run()
"""


@exceeds("refweb.internet.threadedreactor.ThreadedReactor", "shutdownGrace")
def shutdownGrace(monkeypatch, tmp_path):
    """A request still running after shutdownGrace does not hold the process up."""
    script = tmp_path / "slow_server.py"
    script.write_text(SHUTDOWN_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE)
    try:
        port = int(proc.stdout.readline())
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            time.sleep(0.3)
            stopped = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(WAIT) == 0
            assert time.monotonic() - stopped < 3  # the grace, not the 5 s render
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()


@exceeds("refweb.twcgi.CGIScript", "timeout")
def cgiTimeout(monkeypatch, tmp_path):
    script = tmp_path / "slow.sh"

    def scriptThatSleeps(seconds):
        script.write_text("#!/bin/sh\nsleep %s\nprintf 'Content-Type: text/plain\\n\\nlate'\n"
                          % seconds)
        resource = twcgi.CGIScript(str(script))
        resource.timeout = 1.0
        return resource

    script.touch(mode=0o755)

    with served(scriptThatSleeps(0)) as port:
        assert exchange(port, b"GET / HTTP/1.0\r\n\r\n")[0].endswith(b"late")
    with served(scriptThatSleeps(3)) as port:
        assert status(port, b"GET / HTTP/1.0\r\n\r\n") == 504


class SessionUID(Resource):
    isLeaf = True

    def render(self, request):
        return request.getSession().uid.encode("ascii")


def sessionGet(port, uid=None):
    cookie = b"Cookie: REFWEB_SESSION=%s\r\n" % uid.encode() if uid else b""
    data, _ = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + cookie
                       + b"\r\n")
    return parseResponse(data)[2].decode()


@exceeds("refweb.session.Session", "sessionTimeout")
def sessionTimeout(monkeypatch, tmp_path):
    class Brief(session.Session):
        sessionTimeout = 1.0

    s = siteWith(SessionUID(), sessionFactory=Brief)
    with served(s) as port:
        uid = sessionGet(port)
        assert sessionGet(port, uid) == uid  # within the timeout: the same session
        assert waitUntil(lambda: uid not in s.sessions, timeout=WAIT)
        assert sessionGet(port, uid) != uid


@exceeds("refweb.session.SessionStore", "maxSessions")
def maxSessions(monkeypatch, tmp_path):
    s = server.Site(SessionUID())
    s.sessions.maxSessions = 2
    with served(s) as port:
        first = sessionGet(port)
        time.sleep(0.01)
        second = sessionGet(port)
        assert first in s.sessions and second in s.sessions
        third = sessionGet(port)
    assert first not in s.sessions  # the least recently used one expired
    assert second in s.sessions and third in s.sessions


@pytest.mark.parametrize("limit", rules.LIMITS, ids=[l.owner + "." + l.name for l in rules.LIMITS])
def test_limit(limit, monkeypatch, tmp_path):
    """Up to the limit is served; one past it gets what the row's "beyond" says."""
    assert (limit.owner, limit.name) in EXCEED, "no test goes past this limit yet"
    EXCEED[(limit.owner, limit.name)](monkeypatch, tmp_path)


def test_every_exceeding_function_has_its_row():
    assert set(EXCEED) == {(limit.owner, limit.name) for limit in rules.LIMITS}


def test_defaults_are_read_from_the_classes(monkeypatch):
    """rules.default reads the class attribute each time: nothing is copied."""
    monkeypatch.setattr(http_request.Request, "maxFormFields", 7)
    row = [limit for limit in rules.LIMITS if limit.name == "maxFormFields"][0]
    assert rules.default(row) == 7
