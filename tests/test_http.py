"""refweb.http: one connection's life -- framing, keep-alive, pipelining, limits, timeouts.

Every test talks to a real Site on a free port through a raw socket, so the
exact bytes on the wire are what is asserted.
"""

import json
import re
import socket
import threading
import time

import pytest

from refweb import http, resource, server
from refweb.internet import reactor
from support import dechunk, rawHTTP, readUntilClosed, served, siteWith, statusOf


class Echo(resource.Resource):
    """Answers with what it saw: method, path, args, body, some headers."""

    isLeaf = True

    def render(self, request):
        return json.dumps({
            "method": request.method, "uri": request.uri, "path": request.path,
            "args": request.args, "body": request.content.read().decode("latin-1"),
            "host": request.getHeader("host"), "x": request.requestHeaders.getRawHeaders("x"),
            "cookie": request.getCookie("c"), "proto": request.clientproto,
        }).encode()


class Later(resource.Resource):
    """Writes once now, finishes after ``delay`` seconds from the reactor thread."""

    isLeaf = True

    def __init__(self, delay=0.2):
        resource.Resource.__init__(self)
        self.delay = delay
        self.outcomes = []

    def render_GET(self, request):
        request.write(b"first;")
        d = request.notifyFinish()
        d.addCallbacks(lambda _: self.outcomes.append("done"),
                       lambda f: self.outcomes.append(type(f.value).__name__))
        reactor.callLater(self.delay, self._finish, request)
        return server.NOT_DONE_YET

    def _finish(self, request):
        try:
            request.write(request.path.encode())
            request.finish()
        except RuntimeError as exc:
            self.outcomes.append("finish raised: %s" % exc)


def parse(data):
    """Split a byte stream of responses into (status, headers, body) triples."""
    responses = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower().decode()] = value.strip().decode()
        if "content-length" in headers:
            length = int(headers["content-length"])
            body, data = rest[:length], rest[length:]
        elif headers.get("transfer-encoding") == "chunked":
            body, data = dechunk(rest)
        else:
            body, data = rest, b""
        responses.append((status, headers, body))
    return responses


GET = b"GET %s HTTP/1.1\r\nHost: test\r\n\r\n"


# -- framing and keep-alive ------------------------------------------------

def test_keep_alive_serves_several_requests_on_one_connection():
    """HTTP/1.1 keeps the connection open; each response has a Content-Length."""
    with served(Echo()) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        for path in (b"/a", b"/b"):
            sock.sendall(GET % path)
            status, headers, body = parse(readUntilClosed(sock, settle=0.3))[0]
            assert status == 200 and json.loads(body)["path"] == path.decode()
            assert "connection" not in headers


def test_pipelined_requests_answered_in_order():
    """Three pipelined requests get three responses, in the order asked."""
    with served(Echo()) as port:
        data = rawHTTP(port, GET % b"/1" + GET % b"/2" +
                       b"GET /3 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    paths = [json.loads(body)["path"] for _, _, body in parse(data)]
    assert paths == ["/1", "/2", "/3"]


def test_pipelined_behind_not_done_yet_stay_in_order():
    """A request pipelined behind a pending NOT_DONE_YET response waits its turn."""
    root = resource.Resource()
    root.putChild("later", Later(0.3))
    root.putChild("now", Echo())
    with served(root) as port:
        data = rawHTTP(port, GET % b"/later" +
                       b"GET /now HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    (s1, h1, b1), (s2, h2, b2) = parse(data)
    assert (s1, b1) == (200, b"first;/later")
    assert h1["transfer-encoding"] == "chunked"
    assert json.loads(b2)["path"] == "/now" and h2["connection"] == "close"


class FinishedElsewhere(resource.Resource):
    """Finishes each request in another thread before render returns NOT_DONE_YET,
    so that the connection's wake-up Event is already set when it looks."""

    isLeaf = True

    def render_GET(self, request):
        worker = threading.Thread(target=lambda: (request.write(b"elsewhere"), request.finish()))
        worker.start()
        worker.join()
        return server.NOT_DONE_YET


def test_a_wake_up_left_by_an_earlier_request_does_not_end_the_next_wait():
    """/early is finished by another thread before the channel waits, which
    leaves the wake-up Event set; /later, pipelined behind it, must still be
    waited for, so /now (behind /later) is answered after it, not before."""
    root = resource.Resource()
    root.putChild("early", FinishedElsewhere())
    root.putChild("later", Later(0.3))
    root.putChild("now", Echo())
    with served(root) as port:
        data = rawHTTP(port, GET % b"/early" + GET % b"/later" +
                       b"GET /now HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    responses = parse(data)
    assert [body for _, _, body in responses[:2]] == [b"elsewhere", b"first;/later"]
    assert json.loads(responses[2][2])["path"] == "/now"


def test_http10_closes_and_frames_by_close():
    """An HTTP/1.0 response of unknown length is ended by closing the connection."""
    with served(Later(0.05)) as port:
        data = rawHTTP(port, b"GET /x HTTP/1.0\r\n\r\n")
    assert data.startswith(b"HTTP/1.0 200 OK\r\n")
    assert b"Connection: close" in data and b"Transfer-Encoding" not in data
    assert data.endswith(b"\r\n\r\nfirst;/x")


def test_http10_keep_alive_when_asked():
    """HTTP/1.0 with Connection: keep-alive keeps the connection and says so."""
    with served(Echo()) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        first = readUntilClosed(sock, settle=0.3)
        assert b"Connection: keep-alive" in first
        sock.sendall(b"GET /b HTTP/1.0\r\n\r\n")
        second = readUntilClosed(sock, timeout=3)
        assert json.loads(parse(second)[0][2])["path"] == "/b"


@pytest.mark.parametrize("connection", [b"keep-alive,close", b"keep-alive\r\nConnection: close"])
def test_connection_close_honoured_in_any_form(connection):
    """'keep-alive,close' and a second Connection line both close after the response."""
    with served(Echo()) as port:
        data = rawHTTP(port, b"GET / HTTP/1.1\r\nHost: t\r\nConnection: " + connection +
                       b"\r\n\r\n" + GET % b"/never")
    assert len(parse(data)) == 1 and b"Connection: close" in data


def test_head_has_get_headers_and_no_body():
    """HEAD answers with the GET's headers, Content-Length included, and no body."""
    with served(Echo()) as port:
        data = rawHTTP(port, b"HEAD /h HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    head, _, body = data.partition(b"\r\n\r\n")
    assert body == b"" and b"Content-Length: " in head
    assert int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0]) > 0


def test_date_and_server_headers():
    """Every response carries Date and Server."""
    with served(Echo()) as port:
        data = rawHTTP(port, b"GET / HTTP/1.0\r\n\r\n")
    assert b"\r\nServer: refweb\r\n" in data
    assert b"\r\nDate: " in data and data.count(b" GMT\r\n") >= 1


# -- request bodies ---------------------------------------------------------

def test_chunked_request_body_and_trailers():
    """A chunked body is de-chunked for the resource; trailers are dropped."""
    with served(Echo()) as port:
        data = rawHTTP(port, b"POST /p HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                       b"Connection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nT: x\r\n\r\n")
    assert json.loads(parse(data)[0][2])["body"] == "hello world"


def test_expect_100_continue():
    """Expect: 100-continue gets an interim 100 before the body is read."""
    with served(Echo()) as port, socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
                     b"Expect: 100-continue\r\nConnection: close\r\n\r\n")
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"abc")
        data = readUntilClosed(sock)
    assert json.loads(parse(data)[0][2])["body"] == "abc"


def test_unknown_expectation_is_417():
    """An Expect the server cannot meet is a 417."""
    with served(Echo()) as port:
        data = rawHTTP(port, b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n"
                       b"Expect: teapot\r\n\r\nx")
    assert statusOf(data) == 417


def test_args_from_query_form_and_multipart():
    """request.args merges the query with urlencoded or multipart form bodies, as str."""
    form = b"b=2&b=3&c=caf%C3%A9"
    multipart = (b"--XX\r\nContent-Disposition: form-data; name=\"m\"\r\n\r\nvalue\r\n"
                 b"--XX\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n"
                 b"Content-Type: text/plain\r\n\r\nfile body\r\n--XX--\r\n")
    with served(Echo()) as port:
        one = rawHTTP(port, b"POST /?a=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                      b"Content-Type: application/x-www-form-urlencoded\r\n"
                      b"Content-Length: %d\r\n\r\n%s" % (len(form), form))
        two = rawHTTP(port, b"POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                      b"Content-Type: multipart/form-data; boundary=XX\r\n"
                      b"Content-Length: %d\r\n\r\n%s" % (len(multipart), multipart))
    assert json.loads(parse(one)[0][2])["args"] == {"a": ["1"], "b": ["2", "3"], "c": ["caf\xe9"]}
    assert json.loads(parse(two)[0][2])["args"] == {"m": ["value"], "f": ["file body"]}


def test_large_body_spooled_and_delivered_exactly():
    """A body over memoryBodyLimit goes to a temporary file and arrives byte-exact."""
    body = bytes(range(256)) * 8192  # 2 MiB

    class Length(resource.Resource):
        isLeaf = True

        def render_POST(self, request):
            import hashlib
            return hashlib.sha256(request.content.read()).hexdigest()

    import hashlib
    with served(Length()) as port:
        data = rawHTTP(port, b"POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                       b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert parse(data)[0][2].decode() == hashlib.sha256(body).hexdigest()


# -- strictness: every one of these is refused and the connection closed ----

HOSTILE = [
    (b"GET / HTTP/1.1\r\n\r\n", 400),                                          # no Host
    (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),                    # two Hosts
    (b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),                             # malformed Host
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),                     # CL + TE
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n folded\r\n\r\n", 400),           # obs-fold
    (b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),                              # space before colon
    (b"G@T / HTTP/1.1\r\nHost: a\r\n\r\n", 400),                               # non-token method
    (b"GET / HTTP/1.1\r\nHost: a\r\nBad[Name]: 1\r\n\r\n", 400),               # non-token name
    (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n", 400),                  # control char
    (b"GET / HTTP/3.0\r\nHost: a\r\n\r\n", 505),
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414),
    (b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X: 1\r\n" * 101 + b"\r\n", 431),
    (b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"a" * 80000 + b"\r\n\r\n", 431),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
    (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),  # TE in 1.0
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
]


@pytest.mark.parametrize("data, status", HOSTILE, ids=[str(i) for i in range(len(HOSTILE))])
def test_bad_requests_get_error_page_then_close(data, status):
    """Malformed or ambiguous requests get their 4xx/5xx page and the connection closes."""
    with served(Echo()) as port:
        response = rawHTTP(port, data + GET % b"/smuggled")
    assert statusOf(response) == status
    assert b"Connection: close" in response
    assert b"smuggled" not in response
    assert len(re.findall(rb"(?m)^HTTP/1\.[01] \d{3} ", response)) == 1


@pytest.mark.parametrize("data", [b"GET / HTTP/1.0\n\n", b"GET / HTTP/1.1\nHost: a\n\n",
                                  b"GET / HTTP/1.1\r\nHost: a\n\n"])
def test_bare_lf_line_ends_get_400_at_once(data):
    """A head whose lines end in LF alone never ends in CRLF CRLF: it is
    refused at once, not left waiting for the head deadline."""
    with served(Echo()) as port:
        started = time.monotonic()
        response = rawHTTP(port, data, timeout=5)
    assert statusOf(response) == 400 and b"bare LF" in response
    assert time.monotonic() - started < 2


def test_body_over_limit_is_413():
    """A Content-Length over the Site's maxBodySize is refused before reading the body."""
    with served(siteWith(Echo(), maxBodySize=10)) as port:
        data = rawHTTP(port, b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n")
    assert statusOf(data) == 413


def test_chunked_body_over_limit_is_413():
    """A chunked body that grows past maxBodySize is refused mid-way."""
    with served(siteWith(Echo(), maxBodySize=10)) as port:
        data = rawHTTP(port, b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                       b"8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n")
    assert statusOf(data) == 413


# -- timeouts -----------------------------------------------------------------

def test_stalled_client_gets_408_without_blocking_others():
    """A client that stops mid-head gets a 408; another client is served meanwhile."""
    with served(siteWith(Echo(), readTimeout=0.5)) as port:
        staller = socket.create_connection(("127.0.0.1", port))
        staller.sendall(b"GET / HTTP/1.1\r\nHo")
        started = time.monotonic()
        other = rawHTTP(port, b"GET /other HTTP/1.0\r\n\r\n")
        assert statusOf(other) == 200 and time.monotonic() - started < 0.4
        data = readUntilClosed(staller, timeout=5)
        staller.close()
    assert statusOf(data) == 408


def test_trickling_client_cut_by_head_deadline():
    """A client sending one byte at a time cannot hold a worker past headTimeout."""
    with served(siteWith(Echo(), headTimeout=0.6)) as port, \
            socket.create_connection(("127.0.0.1", port)) as sock:
        started = time.monotonic()
        for byte in b"GET / HTTP/1.1\r\nX-Slow: " + b"a" * 200:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(0.01)
            if time.monotonic() - started > 3:
                break
        data = readUntilClosed(sock, timeout=3)
    assert statusOf(data) == 408
    assert time.monotonic() - started < 3


def test_idle_keep_alive_connection_closed_quietly():
    """A kept-alive connection with no new request is closed after idleTimeout, with no bytes."""
    with served(siteWith(Echo(), idleTimeout=0.3)) as port, \
            socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(GET % b"/")
        first = readUntilClosed(sock, timeout=3)
    assert len(parse(first)) == 1


# -- NOT_DONE_YET and notifyFinish -----------------------------------------------

def test_not_done_yet_finishes_from_another_thread():
    """A response finished later from the reactor thread is chunked and complete."""
    later = Later(0.2)
    with served(later) as port:
        data = rawHTTP(port, b"GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    status, headers, body = parse(data)[0]
    assert (status, body) == (200, b"first;/x")
    assert headers["transfer-encoding"] == "chunked"
    deadline = time.monotonic() + 2
    while not later.outcomes and time.monotonic() < deadline:
        time.sleep(0.01)
    assert later.outcomes == ["done"]


def test_client_going_away_errbacks_notifyFinish_and_finish_raises():
    """The client leaving first errbacks notifyFinish; the late finish() raises; the server lives."""
    later = Later(0.5)
    with served(later) as port:
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(GET % b"/gone")
        assert b"first;" in sock.recv(1000)
        sock.close()
        deadline = time.monotonic() + 3
        while len(later.outcomes) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert later.outcomes[0] == "ConnectionDone"
        assert later.outcomes[1].startswith("finish raised: Request.finish called")
        assert statusOf(rawHTTP(port, b"GET / HTTP/1.0\r\n\r\n")) == 200


# -- the request's API ---------------------------------------------------------------

def test_setHeader_refuses_cr_lf():
    """A header value with CR or LF raises, and no injected header is sent."""
    seen = []

    class Injector(resource.Resource):
        isLeaf = True

        def render_GET(self, request):
            try:
                request.setHeader("x-evil", "a\r\nSet-Cookie: pwned=1")
            except ValueError as exc:
                seen.append(str(exc))
            return b"ok"

    with served(Injector()) as port:
        data = rawHTTP(port, b"GET / HTTP/1.0\r\n\r\n")
    assert seen and b"pwned" not in data and statusOf(data) == 200


def test_cookies_redirect_and_addresses():
    """getCookie/addCookie, redirect, getClientAddress and getHost behave as documented."""
    class Many(resource.Resource):
        isLeaf = True

        def render_GET(self, request):
            request.addCookie("k", "v", path="/", httpOnly=True, max_age=10)
            request.redirect("/elsewhere")
            client, host = request.getClientAddress(), request.getHost()
            return "%s %s %s %s %s" % (request.getCookie("c"), client.host, host.port,
                                       request.getRequestHostname(), request.isSecure())

    with served(Many()) as port:
        data = rawHTTP(port, b"GET / HTTP/1.1\r\nHost: Example.org:99\r\nCookie: a=1; c=\"two\"\r\n"
                       b"Connection: close\r\n\r\n")
    status, headers, body = parse(data)[0]
    assert status == 302 and headers["location"] == "/elsewhere"
    assert headers["set-cookie"] == "k=v; Path=/; Max-Age=10; HttpOnly"
    assert body.decode() == "two 127.0.0.1 %d Example.org False" % port


def test_factory_with_custom_buildProtocol_and_plain_request():
    """An HTTPFactory whose buildProtocol returns a bare channel serves 404s (no Site)."""
    class Factory(http.HTTPFactory):
        def buildProtocol(self, addr):
            return http.HTTPChannel()

    with served(Factory()) as port:
        data = rawHTTP(port, b"GET / HTTP/1.0\r\n\r\n")
    assert statusOf(data) == 404


def test_access_log_combined_format(tmp_path):
    """Site(logPath=...) writes one combined-log-format line per request."""
    logPath = tmp_path / "access.log"
    with served(Echo(), logPath=str(logPath)) as port:
        rawHTTP(port, b"GET /logged?q=1 HTTP/1.1\r\nHost: t\r\nUser-Agent: tester/1\r\n"
                b"Referer: http://r/\r\nConnection: close\r\n\r\n")
        time.sleep(0.1)
    line = logPath.read_text().strip()
    assert line.startswith("127.0.0.1 - - [")
    assert line.endswith('] "GET /logged?q=1 HTTP/1.1" 200 %s "http://r/" "tester/1"'
                         % line.split('" 200 ')[1].split(" ")[0])


def test_many_concurrent_connections_all_served():
    """Fifty clients at once all get their answers (one thread per connection)."""
    results = []
    with served(Echo()) as port:
        def client(i):
            results.append(statusOf(rawHTTP(port, b"GET /%d HTTP/1.0\r\n\r\n" % i)))
        threads = [threading.Thread(target=client, args=(i,)) for i in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
    assert results == [200] * 50


class Mismatched(resource.Resource):
    """Declares one Content-Length, then writes a body of another length."""

    isLeaf = True

    def __init__(self, declared, body):
        resource.Resource.__init__(self)
        self.declared, self.body = declared, body

    def render_GET(self, request):
        request.setHeader("content-length", str(self.declared))
        request.write(self.body)
        request.finish()
        return server.NOT_DONE_YET


def test_body_longer_than_content_length_is_cut_and_connection_closed():
    """Bytes past the Content-Length an application set are dropped, then the connection closes."""
    with served(Mismatched(3, b"abcdef")) as port:
        data = rawHTTP(port, GET % b"/" + GET % b"/again")
    assert data.endswith(b"\r\n\r\nabc") and data.count(b"HTTP/1.1 200") == 1


def test_body_shorter_than_content_length_closes_connection():
    """A response finished short of its Content-Length is ended by closing, so no client hangs."""
    with served(Mismatched(10, b"abc")) as port:
        started = time.monotonic()
        data = rawHTTP(port, GET % b"/", timeout=5)
    assert data.endswith(b"abc") and time.monotonic() - started < 2


def test_client_that_never_reads_is_cut_by_writeTimeout():
    """A client that stops reading a large response is disconnected after writeTimeout."""
    outcome = []

    class Flood(resource.Resource):
        isLeaf = True

        def render_GET(self, request):
            started = time.monotonic()
            for _ in range(4096):  # up to 256 MiB, far more than socket buffers hold
                request.write(b"x" * 65536)
                if request.transport.disconnected:
                    break
            outcome.append((request.transport.disconnected, time.monotonic() - started))
            return b""

    with served(siteWith(Flood(), writeTimeout=0.5)) as port, \
            socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(GET % b"/")
        deadline = time.monotonic() + 10
        while not outcome and time.monotonic() < deadline:
            time.sleep(0.05)
    assert outcome and outcome[0][0] is True, outcome
    assert outcome[0][1] < 5
