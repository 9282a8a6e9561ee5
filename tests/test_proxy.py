"""Tests for refweb.proxy: Proxy, ReverseProxy and ReverseProxyResource.

The upstream is a real server on a free port: a stdlib ThreadingHTTPServer
(``Origin``) that records what it was sent, or a refweb Site.  Clients are
http.client and raw sockets, so framing and headers are checked as bytes.
"""

import hashlib
import http.client
import re
import socket
import threading
import time
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from refweb import http as rhttp
from refweb import proxy, resource, server, vhost
from support import dechunk, freePort, get, parseResponse, rawHTTP, served, statusOf

BLOCK = 65536


def block(i):
    """The i-th 64 KiB block of the streamed test body (deterministic)."""
    return hashlib.sha256(b"%d" % i).digest() * (BLOCK // 32)


def streamDigest(blocks):
    digest = hashlib.sha256()
    for i in range(blocks):
        digest.update(block(i))
    return digest.hexdigest()


class Origin:
    """A recording HTTP/1.1 upstream.  Paths:

    /status/NNN  answers NNN          /hop         answers with hop-by-hop headers
    /stream/N    N blocks, chunked    /endless     chunks until the reader leaves
    /slow        answers after 2 s    /truncate    Content-Length 100, sends 3
    /garbage     not HTTP at all      /switch      101 Switching Protocols
    anything else: 200 "origin METHOD PATH"
    """

    def __init__(self):
        self.requests = []
        self.endlessStopped = threading.Event()
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                origin.requests.append({"method": self.command, "path": self.path,
                                        "headers": list(self.headers.items()), "body": body})
                route = getattr(self, "_" + self.path.split("/")[1].split("?")[0], None)
                if route is not None:
                    route()
                    return
                status = re.search(r"/status/(\d{3})", self.path)
                out = ("origin %s %s" % (self.command, self.path)).encode() + (
                    b" body=" + body if body else b"")
                self.send_response(int(status.group(1)) if status else 200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("X-Origin", "yes")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(out)

            def _hop(self):
                self.send_response(200)
                for name, value in [("Connection", "X-Secret"), ("X-Secret", "1"),
                                    ("Keep-Alive", "timeout=5"), ("Proxy-Authenticate", "Basic"),
                                    ("Proxy-Connection", "keep-alive"), ("Trailer", "X-T"),
                                    ("Upgrade", "h2c"), ("X-End", "yes"),
                                    ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"),
                                    ("Content-Length", "3")]:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(b"hop")

            def _chunked(self, pieces):
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for piece in pieces:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")

            def _stream(self):
                self._chunked(block(i) for i in range(int(self.path.split("/")[2])))

            def _endless(self):
                def pieces():
                    while True:
                        time.sleep(0.01)
                        yield b"x" * 1024
                try:
                    self._chunked(pieces())
                except OSError:
                    origin.endlessStopped.set()

            def _slow(self):
                time.sleep(2)
                self.close_connection = True

            def _truncate(self):
                self.send_response(200)
                self.send_header("Content-Length", "100")
                self.end_headers()
                self.wfile.write(b"abc")
                self.close_connection = True

            def _switch(self):
                self.wfile.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n")
                self.close_connection = True

            def _garbage(self):
                self.wfile.write(b"this is not HTTP\r\n\r\n")
                self.close_connection = True

            do_GET = do_POST = do_PUT = do_HEAD = _any

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def last(self):
        assert self.requests, "the origin received nothing"
        return self.requests[-1]

    def lastHeaders(self):
        return {name.lower(): value for name, value in self.last()["headers"]}

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def origin():
    o = Origin()
    yield o
    o.stop()


class ProxyFactory(rhttp.HTTPFactory):
    """The guide's forward proxy, as printed."""

    def buildProtocol(self, addr):
        return proxy.Proxy()


@pytest.fixture
def forward():
    """A forward proxy's port."""
    with served(ProxyFactory()) as port:
        yield port


# -- forward proxy -----------------------------------------------------------

def test_forward_proxy_relays_in_origin_form(forward, origin):
    """An absolute-URI request goes upstream in origin-form with its query, Host rewritten."""
    status, headers, body = get(forward, "http://127.0.0.1:%d/a/b?x=1&y=%%20" % origin.port)
    assert (status, body) == (200, b"origin GET /a/b?x=1&y=%20")
    assert headers["X-Origin"] == "yes"
    assert origin.last()["path"] == "/a/b?x=1&y=%20"
    assert origin.lastHeaders()["host"] == "127.0.0.1:%d" % origin.port


def test_forward_proxy_relays_status_and_post_body(forward, origin):
    """Upstream statuses are relayed as they are; a POST body goes along."""
    assert get(forward, "http://127.0.0.1:%d/status/404" % origin.port)[0] == 404
    status, _, body = get(forward, "http://127.0.0.1:%d/form" % origin.port, "POST",
                          body=b"a=1&b=2",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (status, body) == (200, b"origin POST /form body=a=1&b=2")
    assert origin.lastHeaders()["content-length"] == "7"


def test_forward_proxy_drops_hop_by_hop_request_headers(forward, origin):
    """Hop-by-hop request headers, and any named in Connection, stay on the first hop."""
    request = ("GET http://127.0.0.1:%d/h HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
               "Connection: close, X-Drop\r\nX-Drop: secret\r\nX-Keep: yes\r\n"
               "Keep-Alive: timeout=5\r\nProxy-Authorization: Basic abc\r\n"
               "Proxy-Connection: keep-alive\r\nTE: trailers\r\nTrailer: X-T\r\n"
               "Upgrade: websocket\r\n\r\n" % (origin.port, origin.port)).encode()
    assert statusOf(rawHTTP(forward, request)) == 200
    seen = origin.lastHeaders()
    for name in ("x-drop", "keep-alive", "proxy-authorization", "proxy-connection", "te",
                 "trailer", "upgrade", "transfer-encoding"):
        assert name not in seen, (name, seen)
    assert seen["x-keep"] == "yes"
    assert seen["connection"] == "close"   # the proxy's own, for its own hop


def test_proxies_drop_hop_by_hop_response_headers(forward, origin):
    """Hop-by-hop response headers, and any named in Connection, are not relayed back."""
    raw = rawHTTP(forward, b"GET http://127.0.0.1:%d/hop HTTP/1.1\r\nHost: x\r\n"
                           b"Connection: close\r\n\r\n" % origin.port)
    status, headers, body = parseResponse(raw)
    assert (status, body) == (200, b"hop")
    for name in ("x-secret", "keep-alive", "proxy-authenticate", "proxy-connection",
                 "trailer", "upgrade"):
        assert name not in headers, (name, headers)
    assert headers["x-end"] == ["yes"]
    assert headers["set-cookie"] == ["a=1", "b=2"]   # repeated headers stay separate
    assert headers["connection"] == ["close"]        # ours, about the client's hop


@pytest.mark.parametrize("target", [
    "ftp://127.0.0.1/file", "/just/a/path", "http:///no-host", "http://127.0.0.1:99999/",
])
def test_forward_proxy_refuses_bad_targets(forward, target):
    """A non-http scheme, a missing host or a bad port is a 400 page."""
    status, headers, body = get(forward, target)
    assert status == 400
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"400 Bad Request" in body


def test_forward_proxy_connect_is_not_implemented(forward):
    """CONNECT (tunnelling) gets 501 Not Implemented."""
    raw = rawHTTP(forward, b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"
                           b"Connection: close\r\n\r\n")
    assert statusOf(raw) == 501


def test_forward_proxy_unreachable_upstream_is_502(forward):
    """An upstream that refuses the connection gives a 502 page."""
    status, _, body = get(forward, "http://127.0.0.1:%d/" % freePort())
    assert status == 502 and b"502 Bad Gateway" in body and b"could not connect" in body


def test_slow_upstream_is_504(forward, origin, monkeypatch):
    """An upstream silent for longer than ProxyRequest.timeout gives a 504 page."""
    monkeypatch.setattr(proxy.ProxyRequest, "timeout", 0.3)
    started = time.monotonic()
    status, _, body = get(forward, "http://127.0.0.1:%d/slow" % origin.port)
    assert status == 504 and b"504 Gateway Timeout" in body
    assert time.monotonic() - started < 1.9


def test_connect_timeout_is_504(forward, monkeypatch):
    """A connection attempt that times out is a 504, not a 502."""
    monkeypatch.setattr(proxy.ProxyRequest, "timeout", 0.3)
    # A listener whose accept queue is full: further SYNs are dropped, so
    # connecting hangs until the timeout.
    full = socket.socket()
    full.bind(("127.0.0.1", 0))
    full.listen(0)
    port = full.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.1)
    try:
        status, _, body = get(forward, "http://127.0.0.1:%d/" % port)
    finally:
        for sock in fillers + [full]:
            sock.close()
    assert status == 504 and b"could not connect" in body


def test_malformed_upstream_is_502(forward, origin):
    """An upstream answering garbage gives a 502 page."""
    status, _, body = get(forward, "http://127.0.0.1:%d/garbage" % origin.port)
    assert status == 502 and b"malformed" in body


def test_upstream_switching_protocols_is_502(forward, origin):
    """An upstream answering 101 (we never ask to upgrade) gives a 502 page."""
    status, _, body = get(forward, "http://127.0.0.1:%d/switch" % origin.port)
    assert status == 502 and b"switch protocols" in body


def test_truncated_upstream_body_cuts_the_client(forward, origin):
    """When the upstream dies mid-body, the client's connection is cut, not finished."""
    raw = rawHTTP(forward, b"GET http://127.0.0.1:%d/truncate HTTP/1.1\r\nHost: x\r\n\r\n"
                  % origin.port)
    status, headers, body = parseResponse(raw)
    assert status == 200 and headers["content-length"] == ["100"] and body == b"abc"


def test_head_through_the_proxy(forward, origin):
    """HEAD answers relay the upstream's Content-Length and no body."""
    raw = rawHTTP(forward, b"HEAD http://127.0.0.1:%d/x HTTP/1.1\r\nHost: x\r\n"
                           b"Connection: close\r\n\r\n" % origin.port)
    status, headers, body = parseResponse(raw)
    assert (status, body) == (200, b"")
    assert headers["content-length"] == [str(len("origin HEAD /x"))]


def test_chunked_request_body_goes_upstream_with_content_length(forward, origin):
    """A chunked request body is re-framed upstream with a Content-Length, never chunked."""
    raw = rawHTTP(forward, b"POST http://127.0.0.1:%d/up HTTP/1.1\r\nHost: x\r\n"
                           b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                           b"4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n" % origin.port)
    assert statusOf(raw) == 200
    seen = origin.lastHeaders()
    assert seen["content-length"] == "7" and "transfer-encoding" not in seen
    assert origin.last()["body"] == b"abcdefg"


def test_subclassed_proxy_request_customizes_processing(origin):
    """The guide's advice works: a ProxyRequest subclass sees and can refuse each request."""
    seen = []

    class AuditingRequest(proxy.ProxyRequest):
        def process(self):
            seen.append(self.uri)
            if "forbidden" in self.uri:
                proxy.errorPage(self, 403, "not through this proxy")
                return
            proxy.ProxyRequest.process(self)

    class AuditingProxy(proxy.Proxy):
        requestFactory = AuditingRequest

    factory = rhttp.HTTPFactory()
    factory.protocol = AuditingProxy
    with served(factory) as port:
        assert get(port, "http://127.0.0.1:%d/ok" % origin.port)[0] == 200
        assert get(port, "http://127.0.0.1:%d/forbidden" % origin.port)[0] == 403
    assert seen == ["http://127.0.0.1:%d/ok" % origin.port,
                    "http://127.0.0.1:%d/forbidden" % origin.port]


# -- reverse proxy -----------------------------------------------------------

def test_reverse_proxy_resource_forwards_path_and_query(origin):
    """The guide's reverse proxy: path and query go upstream, the answer comes back."""
    with served(proxy.ReverseProxyResource("127.0.0.1", origin.port, "")) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for path in ("/some/page?x=1", "/", "/a%20b/c%2Fd?q=%C3%A9"):
            conn.request("GET", path)   # one keep-alive connection for all three
            response = conn.getresponse()
            assert (response.status, response.read()) == (200, b"origin GET " + path.encode())
        conn.close()
    assert origin.lastHeaders()["host"] == "127.0.0.1:%d" % origin.port


def test_reverse_proxy_resource_below_a_path(origin):
    """Mounted with putChild, the remaining path goes below the resource's own path."""
    root = resource.Resource()
    root.putChild("api", proxy.ReverseProxyResource("127.0.0.1", origin.port, "/backend"))
    with served(root) as port:
        assert get(port, "/api/x%20y/z?q=1")[2] == b"origin GET /backend/x%20y/z?q=1"


def test_reverse_proxy_resource_as_leaf_forwards_postpath(origin):
    """Rendered with a postpath left (e.g. as a leaf), the rest of the path goes along."""

    class LeafProxy(proxy.ReverseProxyResource):
        isLeaf = True

    with served(LeafProxy("127.0.0.1", origin.port, "/base")) as port:
        status, _, body = get(port, "/p/q?z=9")
    assert (status, body) == (200, b"origin GET /base/p/q?z=9")


def test_reverse_proxy_adds_x_forwarded_for(origin):
    """X-Forwarded-For gets the client's address, appended to any earlier chain."""
    with served(proxy.ReverseProxyResource("127.0.0.1", origin.port, "")) as port:
        get(port, "/one")
        assert origin.lastHeaders()["x-forwarded-for"] == "127.0.0.1"
        get(port, "/two", headers={"X-Forwarded-For": "10.0.0.1"})
        assert origin.lastHeaders()["x-forwarded-for"] == "10.0.0.1, 127.0.0.1"


def test_host_header_for_the_upstream():
    """Host is the bare name on port 80, name:port otherwise, IPv6 in brackets."""
    assert proxy.hostHeader("internal", 80) == "internal"
    assert proxy.hostHeader("internal", 8538) == "internal:8538"
    assert proxy.hostHeader("::1", 8080) == "[::1]:8080"
    assert proxy.hostHeader("::1", 80) == "[::1]"


def test_reverse_proxy_host_rewriting(origin):
    """The client's Host is replaced by the upstream's."""
    with served(proxy.ReverseProxyResource("127.0.0.1", origin.port, "")) as port:
        get(port, "/", headers={"Host": "public.example"})
    assert origin.lastHeaders()["host"] == "127.0.0.1:%d" % origin.port


def test_reverse_proxy_reframes_chunked_request_body(origin):
    """Anti-smuggling: a chunked body goes upstream with Content-Length, no Transfer-Encoding."""
    with served(proxy.ReverseProxyResource("127.0.0.1", origin.port, "")) as port:
        raw = rawHTTP(port, b"PUT /doc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                            b"Connection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    assert statusOf(raw) == 200
    seen = origin.lastHeaders()
    assert seen["content-length"] == "5" and "transfer-encoding" not in seen
    assert origin.last()["body"] == b"hello"


def test_reverse_proxy_streams_a_large_body_with_flat_memory(origin):
    """A 32 MiB chunked answer passes through while traced memory stays far below it."""
    blocks = 512
    with served(proxy.ReverseProxyResource("127.0.0.1", origin.port, "")) as port:
        tracemalloc.start()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
                sock.sendall(b"GET /stream/%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                             % blocks)
                first, received, tail = sock.recv(BLOCK), 0, b""
                while True:   # read and drop: only the relay may hold data
                    data = sock.recv(BLOCK)
                    if not data:
                        break
                    received += len(data)
                    tail = (tail + data)[-5:]
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert first.startswith(b"HTTP/1.1 200") and b"Transfer-Encoding: chunked" in first
    assert received + len(first) > blocks * BLOCK and tail == b"0\r\n\r\n"
    assert peak < 8 * 1024 * 1024, "peak traced memory %d bytes" % peak


def test_reverse_proxy_large_body_is_intact(origin):
    """The relayed 20 MiB body has the same sha256 as the one the upstream generated."""
    blocks = 320
    with served(proxy.ReverseProxyResource("127.0.0.1", origin.port, "")) as port:
        raw = rawHTTP(port, b"GET /stream/%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                      % blocks, timeout=60)
    status, headers, body = parseResponse(raw)
    assert status == 200 and headers["transfer-encoding"] == ["chunked"]
    assert hashlib.sha256(dechunk(body)[0]).hexdigest() == streamDigest(blocks)


def test_client_leaving_closes_the_upstream(origin):
    """When the client hangs up mid-stream, the upstream connection is closed too."""
    with served(proxy.ReverseProxyResource("127.0.0.1", origin.port, "")) as port:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"GET /endless HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        sock.close()
        assert origin.endlessStopped.wait(10), "the upstream kept streaming"


def test_reverse_proxy_relays_a_chunked_refweb_upstream():
    """A refweb Site upstream that streams with request.write is relayed chunk by chunk."""

    class Streamer(resource.Resource):
        isLeaf = True

        def render_GET(self, request):
            for i in range(5):
                request.write(b"part%d;" % i)
            request.finish()
            return server.NOT_DONE_YET

    with served(Streamer()) as upstream:
        with served(proxy.ReverseProxyResource("127.0.0.1", upstream, "")) as port:
            status, headers, body = get(port, "/anything")
    assert (status, body) == (200, b"part0;part1;part2;part3;part4;")


def test_reverse_proxy_channel_and_request(origin):
    """ReverseProxy channels send every request to their factory's host and port."""
    factory = rhttp.HTTPFactory()
    factory.protocol = proxy.ReverseProxy
    factory.host, factory.port = "127.0.0.1", origin.port
    with served(factory) as port:
        status, _, body = get(port, "/x/y?z=1")
    assert (status, body) == (200, b"origin GET /x/y?z=1")
    assert origin.lastHeaders()["x-forwarded-for"] == "127.0.0.1"


def test_reverse_proxy_in_front_of_vhost_monster():
    """The guide's setup: NameVirtualHost -> ReverseProxyResource -> VHostMonster upstream."""

    class Show(resource.Resource):
        isLeaf = True

        def render_GET(self, request):
            return "host=%s port=%s url=%s" % (request.getRequestHostname(),
                                               request.getHost().port, request.prePathURL())

    internal = resource.Resource()
    internal.putChild("vhost.rpy", vhost.VHostMonsterResource())
    internal.putChild("show", Show())
    with served(internal) as internalPort:
        front = vhost.NameVirtualHost()
        front.addHost("example.com", proxy.ReverseProxyResource(
            "127.0.0.1", internalPort, "/vhost.rpy/http/example.com"))
        with served(front) as port:
            status, _, body = get(port, "/show", headers={"Host": "example.com"})
            assert (status, body) == (200, b"host=example.com port=80 url=http://example.com/show")
            assert get(port, "/show", headers={"Host": "other.example"})[0] == 404
