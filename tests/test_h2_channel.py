"""refweb.h2.channel: the same Site over HTTP/2, through a real socket.

The in-process tests speak frames with tests/h2support.Client; the curl
tests need a curl built with HTTP/2 and refweb's own HPACK.
"""

import hashlib
import os
import shutil
import socket
import subprocess
import threading
import time

import pytest

import h2support
from h2support import Client
from refweb import server, static
from refweb.h2 import frames
from refweb.h2.hpack import Encoder
from refweb.resource import Resource
from refweb.h2.stream import requestHeaders
from support import siteWith, waitUntil


class Page(Resource):
    """Answers with the request's method, path and protocol."""
    isLeaf = True

    def render_GET(self, request):
        return ("%s %s %s" % (request.method, request.path, request.clientproto)).encode()

    def render_POST(self, request):
        return b"got " + request.content.read()


class Big(Resource):
    isLeaf = True
    body = os.urandom(300000)

    def render_GET(self, request):
        return self.body


class Blocking(Resource):
    """/slow waits until the test lets it go; anything else answers at once."""
    isLeaf = True

    def __init__(self):
        Resource.__init__(self)
        self.release = threading.Event()

    def render_GET(self, request):
        if request.path == "/slow":
            self.release.wait(10)
        return b"done " + request.path.encode()


class Waiting(Resource):
    """Never finishes; records what notifyFinish says."""
    isLeaf = True

    def __init__(self):
        Resource.__init__(self)
        self.outcome = []

    def render_GET(self, request):
        request.notifyFinish().addCallbacks(lambda _: self.outcome.append("finished"),
                                            lambda f: self.outcome.append("lost"))
        request.write(b"partial")
        return server.NOT_DONE_YET


class Rude(Resource):
    """Sets headers HTTP/2 has no use for, and writes past its Content-Length."""
    isLeaf = True

    def render_GET(self, request):
        request.setHeader("Connection", "close")
        request.setHeader("Keep-Alive", "timeout=5")
        request.setHeader("Content-Length", "5")
        request.write(b"12345678")
        request.finish()
        return server.NOT_DONE_YET


@pytest.fixture
def client():
    made = []

    def connect(port, **options):
        made.append(Client(port, **options))
        return made[-1]
    yield connect
    for c in made:
        c.close()


def test_prior_knowledge_request_answered(serve, client):
    """A client that opens with the HTTP/2 preface is served over HTTP/2:
    clientproto says HTTP/2."""
    c = client(serve(Page()))
    c.request(1, "/a/b")
    status, fields, body = c.answer(1)
    assert (status, body) == (200, b"GET /a/b HTTP/2")
    assert fields["content-length"] == str(len(body))
    assert "connection" not in fields and "transfer-encoding" not in fields


def threadsBesidesWorkers():
    return len([t for t in threading.enumerate() if not t.name.startswith("refweb-worker")])


def test_connections_with_streams_under_way_have_no_thread(serve, client):
    """The selector thread reads every HTTP/2 connection, busy or idle: ten
    connections with a stream under way start no thread of their own."""
    tree = Waiting()
    port = serve(tree)
    client(port).request(1)  # (the server's own threads, started once)
    before = threadsBesidesWorkers()
    clients = [client(port) for _ in range(10)]
    for c in clients:
        c.request(1)
        assert c.until(lambda: 1 in c.bodies)
    assert threadsBesidesWorkers() == before
    for c in clients:  # and they are read still: each reset reaches its request
        c.send(frames.rstStreamFrame(1, frames.CANCEL))
    assert waitUntil(lambda: tree.outcome.count("lost") == 10)


class Huge(Resource):
    """``count`` pieces of 64 KiB (8 MiB), written from the render's worker:
    more than the kernel's buffers take, so some wait in the transport's queue."""
    isLeaf = True
    piece = os.urandom(64 * 1024)

    def __init__(self, count=128):
        Resource.__init__(self)
        self.count = count

    def render_GET(self, request):
        for _ in range(self.count):
            request.write(self.piece)
        return b""


@pytest.mark.parametrize("tls", [False, True])
def test_client_that_reads_nothing_stalls_no_other_connection(serve, serveTLS, client, tls):
    """A writer whose client reads nothing waits for room without holding the
    connection's lock, and the selector's own writes (a PING's ACK) never
    wait for room: other connections are served meanwhile, and once the client reads, the selector's sends wake the
    writer (no WINDOW_UPDATE comes to do it) and every byte arrives."""
    port = (serveTLS if tls else serve)(Huge())
    stuck = client(port, tls=tls, settings={"INITIAL_WINDOW_SIZE": 2 ** 31 - 1})
    stuck.autoWindow = False
    stuck.send(frames.windowUpdateFrame(0, 2 ** 31 - 1 - 65535))
    stuck.request(1)
    time.sleep(1)  # the writer fills the kernel's buffers and the queue, then waits
    stuck.send(frames.pingFrame(b"12345678"))  # its ACK is queued: the selector never pauses
    other = client(port, tls=tls)
    other.sock.settimeout(5)
    other.request(1, "/")
    assert other.answer(1)[0] == 200
    assert stuck.answer(1)[2] == Huge.piece * 128


def test_many_streams_on_one_connection(serve, client):
    """Several requests on one connection are all answered, each on its stream."""
    c = client(serve(Page()))
    for streamId in range(1, 40, 2):
        c.request(streamId, "/%d" % streamId)
    for streamId in range(1, 40, 2):
        assert c.answer(streamId)[2] == b"GET /%d HTTP/2" % streamId


def test_blocking_render_blocks_no_other_stream(serve, client):
    """A render that blocks on one stream holds up no other stream."""
    tree = Blocking()
    c = client(serve(tree))
    c.request(1, "/slow")
    c.request(3, "/fast")
    try:
        assert c.answer(3)[2] == b"done /fast"
        assert 1 not in c.ended
    finally:
        tree.release.set()
    assert c.answer(1)[2] == b"done /slow"


def test_post_body_reaches_request_content(serve, client):
    """A request body in DATA frames is request.content."""
    c = client(serve(Page()))
    c.request(1, "/", method="POST", body=b"x" * 60000)
    assert c.answer(1)[2] == b"got " + b"x" * 60000


def test_head_has_no_body(serve, client):
    """A HEAD response carries the head only."""
    c = client(serve(Page()))
    c.request(1, "/", method="HEAD")
    status, fields, body = c.answer(1)
    assert status == 200 and body == b""


def test_large_body_respects_flow_control(serve, client):
    """A body larger than the client's window waits for its WINDOW_UPDATEs
    and arrives byte-exact."""
    c = client(serve(Big()), settings={"INITIAL_WINDOW_SIZE": 1000})
    c.request(1)
    assert c.answer(1)[2] == Big.body


def test_shut_window_waits(serve, client):
    """With the client's window shut, the server sends no more than the window."""
    c = client(serve(Big()), settings={"INITIAL_WINDOW_SIZE": 1000})
    c.autoWindow = False
    c.request(1)
    c.until(lambda: len(c.bodies.get(1, b"")) >= 1000)
    c.sock.settimeout(0.3)
    with pytest.raises(socket.timeout):
        c.until(lambda: False)
    assert len(c.bodies[1]) == 1000
    c.sock.settimeout(10)
    c.autoWindow = True
    c.send(frames.windowUpdateFrame(0, 10 ** 6) + frames.windowUpdateFrame(1, 10 ** 6))
    assert c.answer(1)[2] == Big.body


def test_client_reset_fires_notify_finish_errback(serve, client):
    """RST_STREAM from the client fires the request's notifyFinish errback."""
    tree = Waiting()
    c = client(serve(tree))
    c.request(1)
    c.until(lambda: 1 in c.bodies)
    c.send(frames.rstStreamFrame(1, frames.CANCEL))
    assert waitUntil(lambda: tree.outcome == ["lost"])


def test_protocol_error_gets_goaway(serve, client):
    """A connection error reaches the client as GOAWAY, then the close."""
    c = client(serve(Page()))
    c.send(frames.headersFrame(2, b"", True))
    assert c.until(lambda: c.goaway is not None)
    assert c.goaway == frames.PROTOCOL_ERROR


def test_http11_still_served_when_first_bytes_look_like_preface(serve):
    """A request whose first byte is the preface's "P" (a PUT, a POST),
    sent a byte at a time, is still HTTP/1.1."""
    port = serve(Page())
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        for byte in b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi":
            sock.sendall(bytes([byte]))
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"got hi")


def test_connection_specific_headers_dropped_and_length_kept(serve, client):
    """Connection-specific response headers are not sent (§8.2.2), and the
    body stops at the Content-Length the response announced."""
    c = client(serve(Rude()))
    c.request(1)
    status, fields, body = c.answer(1)
    assert "connection" not in fields and "keep-alive" not in fields
    assert body == b"12345"


def test_cookie_fields_joined():
    """HTTP/2's separate cookie fields reach the request as one Cookie header (§8.2.3)."""
    headers = requestHeaders([(":method", "GET"), ("cookie", "a=1"), ("accept", "*/*"),
                               ("cookie", "b=2")])
    assert headers.getRawHeaders("cookie") == ["a=1; b=2"]
    assert headers.getRawHeaders(":method") is None


def test_window_never_opened_resets_stream(serve, client):
    """A client that never opens its window: after writeTimeout the stream
    is reset (CANCEL) and notifyFinish's errback fires."""
    class Writer(Resource):
        isLeaf = True
        outcome = []

        def render_GET(self, request):
            request.notifyFinish().addErrback(lambda f: self.outcome.append("lost"))
            request.write(b"x" * 5000)
            request.finish()
            return server.NOT_DONE_YET
    c = client(serve(siteWith(Writer(), writeTimeout=0.5)),
               settings={"INITIAL_WINDOW_SIZE": 100})
    c.autoWindow = False
    c.request(1)
    assert c.until(lambda: 1 in c.resets)
    assert c.resets[1] == frames.CANCEL and len(c.bodies[1]) == 100
    assert waitUntil(lambda: Writer.outcome == ["lost"])


def test_idle_connection_gets_goaway(serve, client):
    """A connection with no stream for idleTimeout gets GOAWAY NO_ERROR, then the close."""
    c = client(serve(siteWith(Page(), idleTimeout=0.5)))
    c.request(1)
    c.answer(1)
    assert c.until(lambda: c.goaway is not None) and c.goaway == frames.NO_ERROR
    assert c.readFrame() is None


def test_request_body_that_stalls_times_out(serve, client):
    """A request whose body stops coming gets GOAWAY after readTimeout."""
    c = client(serve(siteWith(Page(), readTimeout=0.5)))
    c.send(frames.headersFrame(1, c.encoder.encode(h2support.request(method="POST")), False))
    assert c.until(lambda: c.goaway is not None)


def test_body_beyond_max_body_size_resets_stream(serve, client):
    """A request body beyond maxBodySize: its stream is reset (CANCEL), others go on."""
    c = client(serve(siteWith(Page(), maxBodySize=1000)))
    c.request(1, method="POST", body=b"x" * 2000)
    c.request(3)
    assert c.answer(3)[2] == b"GET / HTTP/2"
    assert c.until(lambda: 1 in c.resets) and c.resets[1] == frames.CANCEL


def test_rapid_reset_ends_that_connection_only(serve, client):
    """A client resetting streams as fast as it opens them gets GOAWAY
    ENHANCE_YOUR_CALM; another connection is served meanwhile (CVE-2023-44487)."""
    port = serve(Blocking())
    attacker = client(port)
    flood = b""
    for streamId in range(1, 2 * 300, 2):
        flood += frames.headersFrame(streamId, attacker.encoder.encode(
            h2support.request("/slow")), True)
        flood += frames.rstStreamFrame(streamId, frames.CANCEL)
    try:
        attacker.send(flood)
    except OSError:
        pass  # the server may close before it has read it all
    assert attacker.until(lambda: attacker.goaway is not None)
    assert attacker.goaway == frames.ENHANCE_YOUR_CALM
    other = client(port)
    other.request(1, "/fast")
    assert other.answer(1)[2] == b"done /fast"


def test_client_goaway_closes_after_its_streams(serve, client):
    """After the client's GOAWAY, the streams under way finish, then the connection closes."""
    tree = Blocking()
    c = client(serve(tree))
    c.request(1, "/slow")
    c.send(frames.goawayFrame(1, frames.NO_ERROR))
    tree.release.set()
    assert c.answer(1)[2] == b"done /slow"
    assert c.readFrame() is None


class UntilQueued(Resource):
    """Writes 64 KiB pieces until some wait in the transport's queue (the
    kernel's buffers are full), then ends the response."""
    isLeaf = True
    piece = os.urandom(64 * 1024)
    pieces, queued = 0, False

    def render_GET(self, request):
        transport = request.channel.h2.transport
        while not transport.queuedBytes and self.pieces < 1024:
            request.write(self.piece)
            self.pieces += 1
        self.queued = bool(transport.queuedBytes)
        return b""


def test_client_goaway_closes_after_its_queued_bytes(serve, client):
    """After the client's GOAWAY, the last response's bytes still queued for
    a slow reader are sent before the connection's FIN, not lost to it."""
    tree = UntilQueued()
    c = client(serve(tree), settings={"INITIAL_WINDOW_SIZE": 2 ** 31 - 1})
    c.autoWindow = False
    c.send(frames.windowUpdateFrame(0, 2 ** 31 - 1 - 65535))
    c.request(1)
    c.send(frames.goawayFrame(1, frames.NO_ERROR))
    assert waitUntil(lambda: tree.queued)  # the client reads nothing until the response ended
    time.sleep(0.3)
    assert c.answer(1)[2] == UntilQueued.piece * tree.pieces


def test_wire_logs_every_frame_in_and_out(serve, client, logged):
    """With Site(wire=True) an HTTP/2 connection logs one line per frame,
    ">>" in and "<<" out, a header block's fields decoded."""
    c = client(serve(siteWith(Page(), wire=True)))
    c.request(1, "/a")
    assert c.answer(1)[2] == b"GET /a HTTP/2"
    c.close()
    assert waitUntil(lambda: any(line.endswith(" -- closed") for line in logged))
    wire = [line.split(" ", 2) for line in logged if line.startswith("wire ")]
    name = wire[0][1]
    assert name.startswith("conn-") and {w[1] for w in wire} == {name}
    incoming = [w[2] for w in wire if w[2].startswith(">> ")]
    outgoing = [w[2] for w in wire if w[2].startswith("<< ")]
    assert incoming[:3] == [
        ">> PRI * HTTP/2.0 (the client's preface)", ">> SETTINGS stream=0 len=0",
        ">> HEADERS stream=1 len=%d flags=END_STREAM|END_HEADERS (:method: GET, "
        ":scheme: http, :path: /a, :authority: example.com)" % len(
            Encoder().encode(h2support.request("/a")))]
    assert outgoing[0].startswith("<< SETTINGS stream=0 len=24 (HEADER_TABLE_SIZE=4096, ")
    assert outgoing[1] == "<< SETTINGS stream=0 len=0 flags=ACK"
    assert outgoing[2].startswith("<< HEADERS stream=1 len=") and \
        "flags=END_HEADERS (:status: 200, content-length: 13, " in outgoing[2]
    assert outgoing[3:] == ["<< DATA stream=1 len=13", "<< DATA stream=1 len=0 flags=END_STREAM"]


def test_wire_log_joins_a_block_split_by_continuation(logged):
    """A header block split over HEADERS and CONTINUATION is logged as it
    goes, its fields decoded on the frame that ends it; bytes the log cannot
    read stop it with a line saying why."""
    from refweb.h2.wirelog import FrameLog
    wire = FrameLog("conn-x")
    block = Encoder().encode(h2support.request("/split"))
    wire.received(frames.PREFACE + frames.frame("HEADERS", frames.END_STREAM, 1, block[:4])
                  + frames.frame("CONTINUATION", frames.END_HEADERS, 1, block[4:]))
    wire.received(b"\x00\x00\x01\x04\x00\x00\x00\x00\x00\x00")  # SETTINGS of 1 byte
    wire.received(frames.settingsFrame({}))  # no longer read
    assert logged == [
        "wire conn-x >> PRI * HTTP/2.0 (the client's preface)",
        "wire conn-x >> HEADERS stream=1 len=4 flags=END_STREAM (the block goes on)",
        "wire conn-x >> CONTINUATION stream=1 len=%d flags=END_HEADERS (:method: GET, "
        ":scheme: http, :path: /split, :authority: example.com)" % (len(block) - 4),
        "wire conn-x >> (no longer read: FRAME_SIZE_ERROR: SETTINGS with 1 bytes of payload)"]


def test_wire_off_logs_no_frames(serve, client, logged):
    """Without wire=True, an HTTP/2 connection logs no frame (and keeps no FrameLog)."""
    c = client(serve(Page()))
    c.request(1, "/a")
    assert c.answer(1)[0] == 200
    assert not [line for line in logged if line.startswith("wire ")]


def test_site_sets_connection_limits(serve, client):
    """A Site's h2Limits change the connection's LIMITS: here one stream at a
    time, so a second one is refused (REFUSED_STREAM) while the first renders."""
    tree = Blocking()
    c = client(serve(siteWith(tree, h2Limits={"maxConcurrentStreams": 1})))
    c.request(1, "/slow")
    c.request(3, "/fast")
    try:
        assert c.until(lambda: 3 in c.resets) and c.resets[3] == frames.REFUSED_STREAM
    finally:
        tree.release.set()
    assert c.answer(1)[2] == b"done /slow"


def test_wsgi_says_http2(serve, client):
    """A WSGI application behind HTTP/2 sees SERVER_PROTOCOL "HTTP/2"."""
    from refweb.internet import reactor
    from refweb.python.threadpool import ThreadPool
    from refweb.wsgi import WSGIResource

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ["SERVER_PROTOCOL"].encode()]
    pool = ThreadPool(1, 2)
    pool.start()
    try:
        c = client(serve(WSGIResource(reactor, pool, app)))
        c.request(1)
        assert c.answer(1)[2] == b"HTTP/2"
    finally:
        pool.stop()


def test_reverse_proxy_relays_over_http11(serve, client):
    """HTTP/2 in front, HTTP/1.1 to the backend: a ReverseProxyResource relays."""
    from refweb import proxy
    backend = serve(Page())
    c = client(serve(proxy.ReverseProxyResource("127.0.0.1", backend, "")))
    c.request(1, "/through")
    assert c.answer(1)[:3:2] == (200, b"GET /through HTTP/1.1")


def test_one_connection_keeps_at_most_max_workers(serve, client):
    """A connection renders at most maxWorkers streams at once; the others
    wait their turn (one client cannot take every worker)."""
    tree = Blocking()
    c = client(serve(siteWith(tree, maxWorkers=1)))
    c.request(1, "/slow")
    c.request(3, "/fast")
    c.sock.settimeout(0.5)
    with pytest.raises(socket.timeout):
        c.until(lambda: 3 in c.ended)
    c.sock.settimeout(10)
    tree.release.set()
    assert c.answer(1)[2] == b"done /slow" and c.answer(3)[2] == b"done /fast"


# -- over TLS: ALPN chooses h2 --------------------------------------------------------------

@pytest.fixture
def serveTLS(certfiles):
    """serveTLS(resource) -> a port serving it over TLS, with refweb's own
    context (endpoints.sslContext: ALPN offers h2 and http/1.1)."""
    from refweb.internet import endpoints, reactor
    cert, key = certfiles
    ports = []

    def start(resource):
        ports.append(reactor.listenSSL(0, server.Site(resource), endpoints.sslContext(key, cert),
                                       interface="127.0.0.1"))
        return ports[-1].getHost().port
    yield start
    for port in ports:
        port.stopListening()


def test_tls_alpn_chooses_h2(serveTLS, client):
    """Over TLS, a client offering h2 by ALPN gets HTTP/2."""
    c = client(serveTLS(Page()), tls=True)
    assert c.sock.selected_alpn_protocol() == "h2"
    c.request(1, "/tls")
    assert c.answer(1)[2] == b"GET /tls HTTP/2"


def test_tls_large_body_and_many_streams(serveTLS, client):
    """Over TLS, a large body under a small window and many streams at once
    arrive whole (each SSL call made under the transport's lock)."""
    c = client(serveTLS(Big()), tls=True, settings={"INITIAL_WINDOW_SIZE": 5000})
    for streamId in range(1, 21, 2):
        c.request(streamId)
    for streamId in range(1, 21, 2):
        assert c.answer(streamId)[2] == Big.body


@pytest.mark.parametrize("tls", [False, True])
def test_connections_busy_beyond_the_worker_pool(serve, serveTLS, client, tls):
    """More streams writing at once than the server has workers (5
    connections x 16 streams > 64), each waiting for the client's window,
    all finish: the selector thread reads every connection, so no writer
    waits for a worker to read its WINDOW_UPDATE."""
    port = (serveTLS if tls else serve)(Big())
    clients = [client(port, tls=tls) for _ in range(5)]
    results = []

    def fetch(c):
        for streamId in range(1, 33, 2):
            c.request(streamId)
        results.append(all(c.answer(s)[2] == Big.body for s in range(1, 33, 2)))
    threads = [threading.Thread(target=fetch, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == [True] * 5


@pytest.mark.parametrize("tls", [False, True])
def test_16_mib_file_under_a_small_window_arrives_whole(serve, serveTLS, client, tmp_path, tls):
    """A 16 MiB static file under a 16 KiB window arrives byte-exact: every
    WINDOW_UPDATE, read by the selector, wakes the writer for the next piece."""
    data = os.urandom(16 * 1024 * 1024)
    (tmp_path / "big.bin").write_bytes(data)
    port = (serveTLS if tls else serve)(static.File(str(tmp_path)))
    c = client(port, tls=tls, settings={"INITIAL_WINDOW_SIZE": 16384})
    c.request(1, "/big.bin")
    assert c.answer(1)[2] == data


def test_tls_http11_client_still_served(serveTLS):
    """A TLS client that does not offer h2 is served HTTP/1.1."""
    from support import clientContext
    port = serveTLS(Page())
    with clientContext().wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5)) \
            as sock:
        sock.sendall(b"GET /old HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while not answer.endswith(b"HTTP/1.1"):
            more = sock.recv(65536)
            if not more:
                break
            answer += more
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"GET /old HTTP/1.1")


# -- real clients --------------------------------------------------------------------------

def _curlHasHTTP2():
    if shutil.which("curl") is None:
        return False
    return "HTTP2" in subprocess.run(["curl", "-V"], capture_output=True, text=True).stdout


needsCurl = pytest.mark.skipif(not _curlHasHTTP2(), reason="no curl with HTTP2 here")
needsHPACK = pytest.mark.skipif(not h2support.REAL_HPACK,
                                reason="refweb.h2.hpack is not merged yet: curl's HPACK "
                                       "needs the real decoder")


def curl(*args):
    return subprocess.run(["curl", "-sS", "--http2-prior-knowledge", *args],
                          capture_output=True, timeout=60, check=True).stdout


@needsCurl
@needsHPACK
def test_curl_fetches_a_page(serve):
    """curl --http2-prior-knowledge gets a page, and says it spoke HTTP/2."""
    port = serve(Page())
    out = curl("-w", "\n%{http_version}", "http://127.0.0.1:%d/hello" % port)
    assert out == b"GET /hello HTTP/2\n2"


@needsCurl
@needsHPACK
def test_curl_fetches_a_large_file_byte_exact(serve, tmp_path):
    """A 1 MiB static file arrives byte-exact over HTTP/2."""
    data = os.urandom(1024 * 1024)
    (tmp_path / "big.bin").write_bytes(data)
    port = serve(static.File(str(tmp_path)))
    out = curl("http://127.0.0.1:%d/big.bin" % port)
    assert hashlib.sha256(out).hexdigest() == hashlib.sha256(data).hexdigest()


needsNghttp = pytest.mark.skipif(shutil.which("nghttp") is None,
                                 reason="no nghttp here (Debian's nghttp2-client)")
needsH2load = pytest.mark.skipif(shutil.which("h2load") is None,
                                 reason="no h2load here (Debian's nghttp2-client)")


# curl 7.88 cannot reuse a prior-knowledge connection (it fails the same
# way against nghttpd), so nghttp shows several URLs on one connection.
@needsCurl
@needsHPACK
def test_curl_over_tls_speaks_http2(serveTLS, tmp_path):
    """curl --http2 over TLS: ALPN chooses h2; a 1 MiB file arrives byte-exact."""
    data = os.urandom(1024 * 1024)
    (tmp_path / "big.bin").write_bytes(data)
    port = serveTLS(static.File(str(tmp_path)))
    out = subprocess.run(["curl", "-sSk", "--http2", "-w", "%{http_version}",
                          "https://127.0.0.1:%d/big.bin" % port],
                         capture_output=True, timeout=60, check=True).stdout
    assert out[-1:] == b"2" and out[:-1] == data


@needsNghttp
@needsHPACK
def test_nghttp_several_urls_on_one_connection(serve):
    """Several URLs in one nghttp run share one connection, each answered 200."""
    port = serve(Page())
    urls = ["http://127.0.0.1:%d/%d" % (port, n) for n in range(20)]
    out = subprocess.run(["nghttp", "-nv", *urls], capture_output=True, text=True,
                         timeout=60).stdout
    assert out.count("Connected") == 1
    assert out.count(":status: 200") == 20
    assert "GOAWAY" not in out.split("recv SETTINGS", 1)[1].split("send GOAWAY")[0]


@needsH2load
@needsHPACK
def test_h2load_multiplexed_requests_all_succeed(serve):
    """h2load: 2000 requests, 4 connections, 20 streams each at once: all succeed."""
    port = serve(Page())
    out = subprocess.run(["h2load", "-n", "2000", "-c", "4", "-m", "20",
                          "http://127.0.0.1:%d/" % port],
                         capture_output=True, text=True, timeout=120).stdout
    assert "2000 succeeded, 0 failed, 0 errored" in out, out
