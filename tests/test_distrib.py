"""Tests for refweb.distrib: a user server relays requests to a personal server.

Every test runs a real personal server (``ResourcePublisher`` on a UNIX
socket, or TCP) and a real front server (a Site with a
``ResourceSubscription``), both on threads of this process, and talks to the
front with http.client.
"""

import collections
import hashlib
import http.client
import json
import os
import socket
import threading
import time

import pytest

from refweb import distrib, error, resource, rpc, server
from refweb.http import CACHED
from refweb.internet import reactor
from support import fetch

BIG = 6 * 1024 * 1024 + 123  # bytes: several MiB, not a multiple of any chunk size


def pattern(size):
    """Deterministic bytes, different in every MiB."""
    block = hashlib.sha256(b"refweb").digest() * 2048  # 64 KiB
    out = bytearray()
    while len(out) < size:
        out += block
        block = block[1:] + block[:1]
    return bytes(out[:size])


class Hello(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        request.setHeader("x-personal", "yes")
        request.addCookie("a", "1", path="/")
        request.addCookie("b", "2")
        return "<html>hello from personal</html>"


class Echo(resource.Resource):
    """Answers with what the personal side saw, as JSON."""
    isLeaf = True

    def render_GET(self, request):
        request.setHeader("content-type", "application/json")
        client, host = request.getClientAddress(), request.getHost()
        return json.dumps({
            "method": request.method, "uri": request.uri, "path": request.path,
            "args": request.args, "body": request.content.read().decode("latin-1"),
            "prepath": request.prepath, "postpath": request.postpath,
            "sitepath": request.sitepath, "prePathURL": request.prePathURL(),
            "client": [client.type, client.host, client.port], "host": [host.host, host.port],
            "secure": request.isSecure(), "clientproto": request.clientproto,
            "headers": {n: v for n, v in request.requestHeaders.getAllRawHeaders()},
        })

    render_POST = render_PUT = render_GET


class Big(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        data = pattern(BIG)
        for i in range(0, len(data), 100_000):
            request.write(data[i:i + 100_000])
        request.finish()
        return server.NOT_DONE_YET


class Later(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        request.setResponseCode(202)
        request.write(b"first;")
        reactor.callLater(0.3, lambda: (request.write(b"then;"), request.finish()))
        return server.NOT_DONE_YET


class Forever(resource.Resource):
    """Never finishes; records how its request ended."""
    isLeaf = True

    def __init__(self):
        resource.Resource.__init__(self)
        self.outcomes = []
        self.ended = threading.Event()

    def render_GET(self, request):
        request.write(b"waiting")
        d = request.notifyFinish()
        d.addCallbacks(lambda _: self.outcomes.append("finished"),
                       lambda f: self.outcomes.append(f.type.__name__))
        d.addBoth(lambda _: self.ended.set())
        return server.NOT_DONE_YET


class Boom(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        raise ZeroDivisionError("a bug on the personal server")


class Teapot(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        request.setResponseCode(418, "I'm a teapot")
        return b"short and stout"


class Raises(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        raise error.Forbidden(detail="not for you")


class Counter(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        session = request.getSession()
        session.count = getattr(session, "count", 0) + 1
        return str(session.count)


class Validators(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        if request.setETag('"v1"') is CACHED or request.setLastModified(1_000_000_000) is CACHED:
            return b""
        return b"validated"


class NoContent(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        request.setResponseCode(204)
        return b""


def personalRoot(tmp_path):
    from refweb import static
    files = tmp_path / "files"
    (files / "sub").mkdir(parents=True)
    (files / "index.html").write_text("<html>personal index</html>\n")
    (files / "sub" / "b.txt").write_text("relayed file\n")
    (files / "big.bin").write_bytes(pattern(BIG))
    root = resource.Resource()
    for name, child in [("hello", Hello()), ("echo", Echo()), ("big", Big()), ("later", Later()),
                        ("forever", Forever()), ("boom", Boom()), ("teapot", Teapot()),
                        ("forbidden", Raises()), ("counter", Counter()),
                        ("nocontent", NoContent()), ("validators", Validators()),
                        ("files", static.File(str(files)))]:
        root.putChild(name, child)
    return root


@pytest.fixture
def ports():
    opened = []
    yield opened
    for port in opened:
        port.stopListening()


@pytest.fixture
def personal(tmp_path, ports):
    """A personal server on a UNIX socket: (socket path, its root resource)."""
    sock = str(tmp_path / "pb.sock")
    root = personalRoot(tmp_path)
    ports.append(reactor.listenUNIX(sock, distrib.ResourcePublisher(server.Site(root)), mode=0o600))
    return sock, root


def front(ports, **children):
    """A user server with the given children; returns its TCP port number."""
    root = resource.Resource()
    for name, child in children.items():
        root.putChild(name, child)
    port = reactor.listenTCP(0, server.Site(root), interface="127.0.0.1")
    ports.append(port)
    return port.getHost().port


@pytest.fixture
def web(personal, ports, tmp_path):
    """http.client-style GET/POST against a front relaying /me.refweb/ to `personal`."""
    sock, _ = personal
    return Client(front(ports, **{"me.refweb": distrib.ResourceSubscription(sock),
                                  "down.refweb": distrib.ResourceSubscription(
                                      str(tmp_path / "nobody-home.sock"))}))


class Client:
    """Requests to one port: ``client(path, method, body=..., headers=...)`` -> support.Response."""

    def __init__(self, port):
        self.port = port

    def __call__(self, path, method="GET", body=None, headers=None, timeout=30):
        return fetch(self.port, path, method, headers, body, timeout)


# --------------------------------------------------------------------------
# ResourceSubscription <-> ResourcePublisher
# --------------------------------------------------------------------------

def test_get_relays_status_headers_and_body(web):
    """A GET below the subscription comes back with the personal server's status, headers and body."""
    r = web("/me.refweb/hello")
    assert (r.status, r.body) == (200, b"<html>hello from personal</html>")
    assert r.headers["X-Personal"] == "yes"
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.headers["Content-Length"] == str(len(r.body))
    assert r.headers.get_all("Set-Cookie") == ["a=1; Path=/", "b=2"]
    assert r.headers.get_all("Date") and len(r.headers.get_all("Server")) == 1


def test_custom_status_and_phrase_relayed(web):
    """A status the resource chose, with its reason phrase, reaches the browser."""
    r = web("/me.refweb/teapot")
    assert (r.status, r.reason, r.body) == (418, "I'm a teapot", b"short and stout")


def test_request_seen_by_personal_side(web):
    """The personal side sees the browser's method, URI, headers, address and the remaining segments."""
    r = web("/me.refweb/echo/a%20b/c/?x=1&x=2&y=%C3%A9", headers={"X-Mine": "v", "Host": "example.org:8080"})
    seen = json.loads(r.body)
    assert r.status == 200 and r.headers["Content-Type"] == "application/json"
    assert seen["method"] == "GET" and seen["uri"] == "/me.refweb/echo/a%20b/c/?x=1&x=2&y=%C3%A9"
    assert seen["args"] == {"x": ["1", "2"], "y": ["é"]}
    assert seen["prepath"] == ["me.refweb", "echo"] and seen["postpath"] == ["a b", "c", ""]
    assert seen["sitepath"] == ["me.refweb"]
    assert seen["prePathURL"] == f"http://example.org:{web.port}/me.refweb/echo"  # port: the front's socket
    assert seen["client"][:2] == ["TCP", "127.0.0.1"] and seen["client"][2] > 0
    assert seen["host"][1] == web.port and seen["secure"] is False
    assert seen["clientproto"] == "HTTP/1.1"
    assert seen["headers"]["X-Mine"] == ["v"] and seen["headers"]["Host"] == ["example.org:8080"]


def test_hop_by_hop_headers_not_relayed(web):
    """Connection, Keep-Alive and the headers Connection names stay on the first hop (RFC 9110 §7.6.1)."""
    r = web("/me.refweb/echo", headers={"Connection": "keep-alive, X-Private", "X-Private": "s",
                                        "Keep-Alive": "timeout=5", "X-Public": "p"})
    seen = json.loads(r.body)["headers"]
    assert "X-Public" in seen
    assert not {"Connection", "Keep-Alive", "X-Private"} & set(seen)


def test_post_body_and_form_args_relayed(web):
    """A POST body arrives whole on the personal side, and a form body becomes args there."""
    r = web("/me.refweb/echo", "POST", body=b"name=refweb&x=%26",
            headers={"Content-Type": "application/x-www-form-urlencoded"})
    seen = json.loads(r.body)
    assert seen["method"] == "POST" and seen["body"] == "name=refweb&x=%26"
    assert seen["args"] == {"name": ["refweb"], "x": ["&"]}
    assert seen["headers"]["Content-Length"] == ["17"]


def test_large_binary_post_body_relayed(web):
    """A multi-MiB binary PUT body crosses the relay byte for byte."""
    body = pattern(3 * 1024 * 1024 + 7)
    r = web("/me.refweb/echo", "PUT", body=body, headers={"Content-Type": "application/octet-stream"})
    assert json.loads(r.body)["body"].encode("latin-1") == body


def test_streamed_body_of_several_mib(web):
    """Many request.write calls on the personal side arrive as one intact body (sha256)."""
    r = web("/me.refweb/big")
    assert r.status == 200 and len(r.body) == BIG
    assert hashlib.sha256(r.body).hexdigest() == hashlib.sha256(pattern(BIG)).hexdigest()
    assert r.headers["Transfer-Encoding"] == "chunked"


def test_static_files_relayed_with_length(web):
    """static.File on the personal side works through the relay: index, sub-folders, big files, HEAD."""
    assert web("/me.refweb/files/").body == b"<html>personal index</html>\n"
    r = web("/me.refweb/files/sub/b.txt")
    assert (r.status, r.body, r.headers["Content-Type"]) == (200, b"relayed file\n", "text/plain")
    assert r.headers["Last-Modified"] and r.headers["ETag"]
    r = web("/me.refweb/files/big.bin")
    assert r.headers["Content-Length"] == str(BIG) and "Transfer-Encoding" not in r.headers
    assert hashlib.sha256(r.body).digest() == hashlib.sha256(pattern(BIG)).digest()
    r = web("/me.refweb/files/big.bin", "HEAD")
    assert (r.status, r.body, r.headers["Content-Length"]) == (200, b"", str(BIG))


def test_directory_redirect_points_through_the_user_server(web):
    """A folder without its slash redirects to the user server's URL for it."""
    r = web("/me.refweb/files/sub", headers={"Host": "front.example"})
    assert r.status in (301, 302)
    assert r.headers["Location"] == f"http://front.example:{web.port}/me.refweb/files/sub/"


def test_conditional_get_relayed_as_304(web):
    """If-None-Match is relayed, and the personal side's 304 reaches the browser without a body."""
    etag = web("/me.refweb/files/sub/b.txt").headers["ETag"]
    r = web("/me.refweb/files/sub/b.txt", headers={"If-None-Match": etag})
    assert (r.status, r.body) == (304, b"")


def test_validators_set_by_the_resource_relayed(web):
    """ETag and Last-Modified recorded with setETag/setLastModified reach the browser, and 304 works."""
    r = web("/me.refweb/validators")
    assert (r.status, r.body, r.headers["ETag"]) == (200, b"validated", '"v1"')
    assert r.headers["Last-Modified"] == "Sun, 09 Sep 2001 01:46:40 GMT"
    assert web("/me.refweb/validators", headers={"If-None-Match": '"v1"'}).status == 304


def test_404_relayed(web):
    """A 404 from the personal side is a 404 at the browser, with its page."""
    r = web("/me.refweb/no/such/thing")
    assert r.status == 404 and b"No Such Resource" in r.body


def test_error_statuses_relayed(web):
    """An error.Error raised on the personal side, and a bug there (500), are relayed as such."""
    r = web("/me.refweb/forbidden")
    assert r.status == 403 and b"not for you" in r.body
    r = web("/me.refweb/boom")
    assert r.status == 500 and b"ZeroDivisionError" not in r.body
    assert web("/me.refweb/nocontent")[:1] == (204,)


def test_not_done_yet_relayed_when_finished_later(web):
    """A NOT_DONE_YET response finished later from another thread is relayed, parts in order."""
    started = time.monotonic()
    r = web("/me.refweb/later")
    assert (r.status, r.body) == (202, b"first;then;")
    assert time.monotonic() - started >= 0.25


def test_sessions_work_on_the_personal_side(web):
    """getSession on the personal side sets a cookie that the browser's next request brings back."""
    r = web("/me.refweb/counter")
    cookie = r.headers["Set-Cookie"].split(";")[0]
    assert r.body == b"1"
    assert web("/me.refweb/counter", headers={"Cookie": cookie}).body == b"2"


def test_browser_leaving_is_seen_by_the_personal_side(personal, web):
    """When the browser hangs up, the personal side's notifyFinish errbacks (and nothing hangs)."""
    _, root = personal
    forever = root.children["forever"]
    sock = socket.create_connection(("127.0.0.1", web.port), timeout=10)
    sock.sendall(b"GET /me.refweb/forever HTTP/1.1\r\nHost: x\r\n\r\n")
    assert b"waiting" in sock.recv(4096) or b"waiting" in sock.recv(4096)
    sock.close()
    assert forever.ended.wait(10)
    assert forever.outcomes == ["ConnectionLost"] or forever.outcomes == ["ConnectionDone"]


def test_publisher_down_gives_503_quickly(web):
    """No personal server behind the socket path: a 503 page at once that says so, not a hang."""
    started = time.monotonic()
    r = web("/down.refweb/anything")
    assert r.status == 503 and b"not running" in r.body and b"nobody-home.sock" in r.body
    assert time.monotonic() - started < 2


def test_publisher_refusing_tcp_gives_503(ports):
    """A TCP address where nothing listens gives 503 too."""
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    r = Client(front(ports, x=distrib.ResourceSubscription("127.0.0.1", port)))("/x/")
    assert r.status == 503 and b"Connection refused" in r.body


def test_publisher_over_tcp(tmp_path, ports):
    """ResourcePublisher works on a TCP port, and ResourceSubscription(host, port) reaches it."""
    pub = reactor.listenTCP(0, distrib.ResourcePublisher(server.Site(personalRoot(tmp_path))),
                            interface="127.0.0.1")
    ports.append(pub)
    web = Client(front(ports, remote=distrib.ResourceSubscription("127.0.0.1", pub.getHost().port)))
    assert web("/remote/hello").body == b"<html>hello from personal</html>"


def test_twisted_spelling_unix_path(personal, ports):
    """ResourceSubscription('unix', path) is Twisted's spelling of a UNIX socket subscription."""
    sub = distrib.ResourceSubscription("unix", personal[0])
    assert (sub.host, sub.port) == (personal[0], None)
    assert Client(front(ports, p=sub))("/p/hello").status == 200


def test_relayed_body_size_limited(personal, ports, monkeypatch):
    """A body over the publisher's maxBodySize is refused with 413, relayed to the browser."""
    monkeypatch.setattr(distrib.PublisherProtocol, "maxBodySize", 1000)
    web = Client(front(ports, p=distrib.ResourceSubscription(personal[0])))
    for size in (1001, 4 * 1024 * 1024):  # refused after the upload, or in the middle of it
        r = web("/p/echo", "POST", body=b"x" * size)
        assert r.status == 413 and b"limited to 1000 bytes" in r.body
    assert web("/p/echo", "POST", body=b"x" * 1000).status == 200


# --------------------------------------------------------------------------
# misbehaving publishers (fake ones, on raw sockets)
# --------------------------------------------------------------------------

@pytest.fixture
def fake(tmp_path):
    """A fake publisher on a UNIX socket: fake.script(conn) runs for each connection."""
    path = str(tmp_path / "fake.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen()

    class Fake:
        script = None

        def serve(self):
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                threading.Thread(target=self.script, args=(rpc.Connection(conn),), daemon=True).start()

    f = Fake()
    f.path = path
    threading.Thread(target=f.serve, daemon=True).start()
    yield f
    listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() (close alone does not)
    listener.close()


def readRequest(conn):
    messages = [conn.receive(5)]
    while messages[-1]["type"] != "end":
        messages.append(conn.receive(5))
    return messages


def test_silent_publisher_gives_504(fake, ports, monkeypatch):
    """A publisher that takes the request and never answers gives 504 after idleTimeout."""
    fake.script = lambda conn: (readRequest(conn), time.sleep(5))
    sub = distrib.ResourceSubscription(fake.path)
    sub.idleTimeout = 0.3
    r = Client(front(ports, p=sub))("/p/")
    assert r.status == 504 and b"did not answer within 0.3 s" in r.body


def test_garbage_from_publisher_gives_502(fake, ports):
    """A publisher that answers with something that is not a frame gives 502."""
    def script(conn):
        readRequest(conn)
        conn.socket.sendall(b"HTTP/1.1 200 OK\r\n\r\nhello")
        time.sleep(1)
        conn.close()
    fake.script = script
    r = Client(front(ports, p=distrib.ResourceSubscription(fake.path)))("/p/")
    assert r.status == 502 and b"broke off the response" in r.body


@pytest.mark.parametrize("bad", [{"type": "finish"}, {"type": "data", "data": b"x"},
                                 {"type": "end"}])
def test_out_of_order_message_from_publisher_gives_502(fake, ports, bad):
    """A body or finish before any head (or a message the publisher never sends) is a 502."""
    def script(conn):
        readRequest(conn)
        conn.send(bad)
        time.sleep(1)
    fake.script = script
    r = Client(front(ports, p=distrib.ResourceSubscription(fake.path)))("/p/")
    assert r.status == 502


def test_publisher_error_message_becomes_its_status(fake, ports):
    """An ``error`` message is shown with its status (any non-error code becomes 502)."""
    codes = iter([429, 200])

    def script(conn):
        readRequest(conn)
        conn.send({"type": "error", "code": next(codes), "message": "slow down <now>"})
    fake.script = script
    web = Client(front(ports, p=distrib.ResourceSubscription(fake.path)))
    r = web("/p/")
    assert r.status == 429 and b"slow down &lt;now&gt;" in r.body
    assert web("/p/").status == 502


def test_publisher_hanging_up_before_the_body_gives_502(fake, ports):
    """A publisher that closes before taking the request body gives 502, naming the failure."""
    fake.script = lambda conn: conn.close()
    web = Client(front(ports, p=distrib.ResourceSubscription(fake.path)))
    r = web("/p/", "POST", body=b"x" * (8 * 1024 * 1024))
    assert r.status == 502


def test_relay_bug_gives_502_not_a_hang(personal, ports, monkeypatch):
    """An unexpected error while relaying is logged and answered with 502."""
    def broken(self, message):
        raise ValueError("a bug in the relay")
    monkeypatch.setattr(distrib._Relay, "step", broken)
    r = Client(front(ports, p=distrib.ResourceSubscription(personal[0])))("/p/hello")
    assert r.status == 502 and b"the relay failed" in r.body


def test_publisher_dying_mid_body_cuts_the_response(fake, ports):
    """If the publisher dies after the head, the browser gets an incomplete response, not a fake success."""
    def script(conn):
        readRequest(conn)
        conn.send({"type": "head", "code": 200, "message": "OK", "headers": [["Content-Length", "100"]]})
        conn.sendData(b"partial")
        conn.close()
    fake.script = script
    conn = http.client.HTTPConnection("127.0.0.1", front(ports, p=distrib.ResourceSubscription(fake.path)),
                                      timeout=10)
    conn.request("GET", "/p/")
    r = conn.getresponse()
    assert r.status == 200
    with pytest.raises(http.client.IncompleteRead):
        r.read()
    conn.close()


# --------------------------------------------------------------------------
# the publisher against raw clients
# --------------------------------------------------------------------------

def rawPublisher(sock_path, data, shutdown=True):
    """Send raw bytes to a publisher; return every message until it closes."""
    conn = rpc.connect(sock_path, timeout=5)
    conn.socket.sendall(data)
    if shutdown:
        conn.socket.shutdown(socket.SHUT_WR)
    messages = []
    try:
        while True:
            messages.append(conn.receive(10))
    except rpc.ConnectionClosed:
        pass
    conn.close()
    return messages


def test_publisher_refuses_garbage_and_carries_on(personal, web):
    """Bytes that are not frames get an error message and a closed connection; the server keeps serving."""
    messages = rawPublisher(personal[0], b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert [m["type"] for m in messages] == ["error"] and messages[0]["code"] == 400
    messages = rawPublisher(personal[0], rpc.encode({"type": "finish"}))
    assert messages[0]["code"] == 400 and "expected a request" in messages[0]["message"]
    assert web("/me.refweb/hello").status == 200


def test_publisher_refuses_wrong_message_inside_body(personal):
    """After a request, only data and end are allowed."""
    request = {"type": "request", "method": "GET", "uri": "/", "clientproto": "HTTP/1.1",
               "prepath": [], "postpath": [""], "headers": [], "client": ["TCP", "1.2.3.4", 5],
               "host": ["TCP", "h", 80], "secure": False}
    messages = rawPublisher(personal[0], rpc.encode(request) + rpc.encode({"type": "finish"}))
    assert [m["type"] for m in messages] == ["error"] and "expected body data" in messages[0]["message"]


def test_publisher_request_timeout(personal, monkeypatch):
    """A client that connects and sends nothing is dropped after requestTimeout (408)."""
    monkeypatch.setattr(distrib.PublisherProtocol, "requestTimeout", 0.3)
    started = time.monotonic()
    messages = rawPublisher(personal[0], b"", shutdown=False)
    assert messages[0]["code"] == 408 and time.monotonic() - started < 5


def test_publisher_unexpected_message_after_request(personal):
    """A message after ``end`` (while the response is pending) closes the relay."""
    request = {"type": "request", "method": "GET", "uri": "/forever", "clientproto": "HTTP/1.1",
               "prepath": [], "postpath": ["forever"], "headers": [], "client": ["UNIX", "", 0],
               "host": ["TCP", "h", 80], "secure": True}
    conn = rpc.connect(personal[0], timeout=5)
    conn.send(request)
    conn.send({"type": "end"})
    assert conn.receive(5)["type"] == "head"
    assert conn.receive(5) == {"type": "data", "data": b"waiting"}
    conn.send({"type": "end"})
    with pytest.raises(rpc.ConnectionClosed):
        conn.receive(5)
    conn.close()


def test_publisher_survives_a_failing_request_object(personal, web, monkeypatch):
    """An exception escaping requestReceived on the personal side is a 500, as in HTTPChannel."""
    def broken(self, method, uri, version):
        raise KeyError("bug")
    monkeypatch.setattr(distrib.RelayRequest, "requestReceived", broken)
    assert web("/me.refweb/hello").status == 500


def test_addresses_round_trip():
    """Addresses cross the relay as [type, host, port] and come back as address objects."""
    from refweb.internet.address import IPv4Address, IPv6Address, UNIXAddress
    for addr in (IPv4Address("TCP", "1.2.3.4", 80), IPv6Address("TCP", "::1", 8080),
                 UNIXAddress("/tmp/s"), UNIXAddress(None)):
        assert distrib.decodeAddress(distrib.encodeAddress(addr)) == addr


# --------------------------------------------------------------------------
# UserDirectory
# --------------------------------------------------------------------------

PW = collections.namedtuple("PW", "pw_name pw_passwd pw_uid pw_gid pw_gecos pw_dir pw_shell")


@pytest.fixture
def users(tmp_path, ports):
    """Fake accounts: alice has public_html, bob a personal server, carol nothing."""
    homes = {}
    for name in ("alice", "bob", "carol", "d<&>\"e"):
        homes[name] = tmp_path / "home" / name.replace("<", "_").replace(">", "_").replace('"', "_")
        homes[name].mkdir(parents=True)
    (homes["alice"] / "public_html").mkdir()
    (homes["alice"] / "public_html" / "index.html").write_text("alice's page\n")
    (homes["alice"] / "public_html" / "x.rpy").write_text("resource = None\n")
    (homes['d<&>"e'] / "public_html").mkdir()
    bobSite = server.Site(personalRoot(tmp_path))
    ports.append(reactor.listenUNIX(str(homes["bob"] / ".refweb-web-pb"),
                                    distrib.ResourcePublisher(bobSite), mode=0o600))
    entries = [PW(n, "x", 1000 + i, 1000, f"{n.title()} Example,,,", str(h), "/bin/sh")
               for i, (n, h) in enumerate(homes.items())]
    entries.append(entries[0])  # getpwall may list a name twice (NIS + files)

    def getpwnam(name):
        for e in entries:
            if e.pw_name == name:
                return e
        raise KeyError(name)

    ud = distrib.UserDirectory(getpwnam=getpwnam, getpwall=lambda: entries)
    return Client(front(ports, users=ud)), homes


def test_user_public_html_served(users):
    """/users/USER/ serves ~USER/public_html as plain files (no .rpy processing)."""
    web, _ = users
    assert web("/users/alice/").body == b"alice's page\n"
    r = web("/users/alice/x.rpy")
    assert (r.status, r.body) == (200, b"resource = None\n")


def test_user_personal_server_relayed(users):
    """/users/USER.refweb/ relays to ~USER/.refweb-web-pb."""
    web, _ = users
    assert web("/users/bob.refweb/hello").body == b"<html>hello from personal</html>"
    seen = json.loads(web("/users/bob.refweb/echo/z").body)
    assert seen["prepath"] == ["users", "bob.refweb", "echo"] and seen["postpath"] == ["z"]


def test_user_without_personal_server_gives_503(users):
    """A user with no personal server running gets a clear 503."""
    web, _ = users
    r = web("/users/carol.refweb/")
    assert r.status == 503 and b"not running" in r.body


@pytest.mark.parametrize("path", ["/users/nosuchuser/", "/users/nosuchuser.refweb/",
                                  "/users/carol/", "/users/.refweb/", "/users/a%00b/"])
def test_unknown_user_or_missing_public_html_is_404(users, path):
    """An unknown user (or one without public_html) is a 404, never an error or a relay."""
    web, _ = users
    assert web(path).status == 404


def test_user_listing(users):
    """/users/ lists users with public_html or a personal socket, linked and escaped."""
    web, _ = users
    r = web("/users/")
    page = r.body.decode()
    assert r.status == 200 and r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<a href="alice/">alice</a>' in page and "Alice Example" in page
    assert '<a href="bob.refweb/">bob.refweb</a>' in page
    assert "carol" not in page
    assert page.count('href="alice/"') == 1
    assert "d&lt;&amp;&gt;&quot;e" in page and 'href="d%3C%26%3E%22e/"' in page
    assert "<&>" not in page


def test_user_listing_links_work_without_trailing_slash(users):
    """/users (no slash) links to users/USER/, so the links still resolve."""
    web, _ = users
    assert '<a href="users/alice/">' in web("/users").body.decode()


def test_user_directory_defaults_use_pwd():
    """UserDirectory() looks homes up with pwd: the current user is found, a made-up one is not."""
    import pwd
    ud = distrib.UserDirectory()
    me = pwd.getpwuid(os.getuid())
    assert ud.home(me.pw_name) == me.pw_dir
    assert ud.home("no-such-user-refweb-test") is None and ud.home("a\0b") is None
    assert (ud.userDirName, ud.userSocketName) == ("public_html", ".refweb-web-pb")
    assert isinstance(ud.listUsers(), list)


class RaisesInGetChild(resource.Resource):
    """Its getChild raises error.NotFound: a status, not a bug."""

    def getChild(self, name, request):
        raise error.NotFound(detail="no page called %s here" % name)


def test_error_raised_in_getChild_keeps_its_status_through_the_relay(tmp_path, ports):
    """An error.Error raised while the personal site is walked (getChild) reaches the
    browser with its own status, as on any Site: RelayRequest reuses server.Request.process."""
    sock = str(tmp_path / "pb.sock")
    root = resource.Resource()
    root.putChild("walk", RaisesInGetChild())
    ports.append(reactor.listenUNIX(sock, distrib.ResourcePublisher(server.Site(root))))
    web = Client(front(ports, **{"me.refweb": distrib.ResourceSubscription(sock)}))
    r = web("/me.refweb/walk/missing")
    assert r.status == 404 and b"no page called missing here" in r.body
