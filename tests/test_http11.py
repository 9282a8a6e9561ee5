"""Tests for refweb.http11: one HTTP/1.1 connection, driven with bytes alone.

No socket here: each test feeds a ServerConnection (or ClientConnection)
bytes and checks the events and the bytes it gives back.  The last tests
check the rules the connection is built around through a real server.
"""

import ast
import os
import re
import socket

import pytest

from refweb import error, http11, rules, server, wire
from refweb.internet import reactor
from refweb.resource import Resource
from refweb.wsgi import WSGIResource
from refweb.python.threadpool import ThreadPool

from support import (Hello, clientContext, parseResponse, rawHTTP, readUntilClosed, served,
                     serverContext, waitUntil)

REFWEB = os.path.join(os.path.dirname(__file__), os.pardir, "refweb")


# -- receiving ----------------------------------------------------------------

def test_receive_a_head_in_pieces_is_found_once():
    """A head that arrives a byte at a time gives one RequestHead, at its last byte."""
    connection = http11.ServerConnection()
    data = b"GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"
    events = []
    for i in range(len(data)):
        events += connection.receive(data[i:i + 1])
        if i < len(data) - 1:
            assert events == []
    head, end = events
    assert (head.method, head.target, head.version) == ("GET", "/a?x=1", "HTTP/1.1")
    assert end is http11.END_OF_BODY and connection.state is http11.RESPONDING


def test_receive_a_chunked_body_gives_data_then_its_end():
    """Chunks are decoded into BodyData events, then END_OF_BODY."""
    connection = http11.ServerConnection()
    events = connection.receive(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                                b"\r\n3\r\nabc\r\n")
    assert [type(e).__name__ for e in events] == ["RequestHead", "BodyData"]
    assert connection.receive(b"0\r\n\r\n") == [http11.END_OF_BODY]


def test_pipelined_request_waits_for_the_next_cycle():
    """A second request in the same bytes is not parsed until the first response ended."""
    connection = http11.ServerConnection()
    events = connection.receive(b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n")
    assert [e.target for e in events[:1]] == ["/1"] and len(events) == 2
    connection.startResponse(200, "OK", [("Content-Length", "0")])
    connection.endResponse()
    assert connection.state is http11.DONE
    assert connection.startNextCycle()[0].target == "/2"


def test_malformed_head_raises_the_error_with_its_status():
    """Bad bytes raise the refweb.error class whose status the server sends."""
    with pytest.raises(error.BadRequest):
        http11.ServerConnection().receive(b"GET / HTTP/1.1\r\nHost : h\r\n\r\n")
    with pytest.raises(error.URITooLong):
        http11.ServerConnection(maxRequestLineLength=10).receive(b"GET /" + b"a" * 20)


def test_refusal_answers_head_with_no_body_and_closes():
    """The refusal of a HEAD request has the error's head and no body; the cycle must close."""
    connection = http11.ServerConnection()
    with pytest.raises(error.BadRequest) as raised:
        connection.receive(b"HEAD / HTTP/1.1\r\nBad Name: x\r\n\r\n")
    data = connection.refusal(raised.value)
    assert data.startswith(b"HTTP/1.1 400 Bad Request\r\n") and data.endswith(b"\r\n\r\n")
    assert connection.state is http11.MUST_CLOSE and not connection.keepAlive


@pytest.mark.parametrize("target", ["/a#frag", "/a?x=1#frag", "http://h/a#frag"])
def test_fragment_in_a_target_is_refused(target):
    """RFC 9112 §3.2: a request-target has no fragment; one with "#" is a 400, never routed."""
    with pytest.raises(error.BadRequest, match="fragment"):
        http11.ServerConnection().receive(b"GET %s HTTP/1.1\r\nHost: h\r\n\r\n" % target.encode())


# -- responding: writers by framing, keep-alive from the table -----------------

def respond(request, code=200, headers=(), body=b"", method=None):
    connection = http11.ServerConnection()
    connection.receive(request)
    out = connection.startResponse(code, phrase(code), list(headers), method)
    out += connection.sendData(body)
    out += connection.endResponse()
    return connection, out


def phrase(code):
    from refweb.status import phrase as lookup
    return lookup(code)


def test_unknown_length_on_http11_is_chunked_and_kept():
    """No Content-Length on HTTP/1.1: chunks, and the connection stays open."""
    connection, out = respond(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", body=b"hello")
    assert b"Transfer-Encoding: chunked\r\n" in out and out.endswith(b"5\r\nhello\r\n0\r\n\r\n")
    assert connection.keepAlive and connection.state is http11.DONE


def test_unknown_length_on_http10_ends_at_the_close():
    """No Content-Length on HTTP/1.0 keep-alive: the body runs to the close (Connection: close)."""
    connection, out = respond(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", body=b"x")
    assert b"Connection: close\r\n" in out and out.endswith(b"\r\n\r\nx")
    assert connection.state is http11.MUST_CLOSE


def test_body_past_its_content_length_is_cut_and_the_connection_closes():
    """Bytes past Content-Length are dropped, and only closing can end such a response."""
    connection, out = respond(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
                              headers=[("Content-Length", "2")], body=b"hello")
    assert out.endswith(b"\r\n\r\nhe") and connection.state is http11.MUST_CLOSE
    assert connection.bodyOutcome == "past"


def test_bodyless_statuses_lose_their_framing_headers():
    """A 304 carries no Content-Length or Transfer-Encoding, whatever was set."""
    _, out = respond(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", 304,
                     [("Content-Length", "5"), ("Transfer-Encoding", "chunked")])
    assert b"Content-Length" not in out and b"Transfer-Encoding" not in out


@pytest.mark.parametrize("row", [r for r in rules.KEEP_ALIVE if "*" not in r.version + r.connection])
def test_keepAliveRow_finds_each_row(row):
    """keepAliveRow returns the row written for the case (the table the server reads)."""
    assert rules.keepAliveRow(row.version, row.connection, row.framing) is row


def test_keep_alive_is_assigned_in_one_method():
    """Outside its initial value, keepAlive is assigned only in _decideKeepAlive."""
    tree = ast.parse(open(os.path.join(REFWEB, "http11.py")).read())
    places = []
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef):
            for node in ast.walk(function):
                if isinstance(node, (ast.Assign, ast.AugAssign)):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    if any(isinstance(t, ast.Attribute) and t.attr == "keepAlive"
                           for t in targets):
                        places.append(function.name)
    assert places == ["__init__", "_decideKeepAlive"]
    for path in _modules():
        text = open(path).read()
        assert not re.search(r"\bpersistent\s*=", text), path


def _modules():
    for folder, _, files in os.walk(REFWEB):
        for name in files:
            if name.endswith(".py"):
                yield os.path.join(folder, name)


def test_the_reactor_knows_no_http():
    """Nothing in refweb/internet imports the HTTP modules: the factory supplies the refusal."""
    for name in os.listdir(os.path.join(REFWEB, "internet")):
        if name.endswith(".py"):
            text = open(os.path.join(REFWEB, "internet", name)).read()
            assert not re.search(r"from refweb import .*\b(wire|http|http11|http_request|"
                                 r"http_response|server)\b", text), name
            assert not re.search(r"from refweb\.(wire|http|server)", text), name


# -- the client role ---------------------------------------------------------------

def test_client_skips_interim_answers_and_reads_a_close_delimited_body():
    """100 Continue is skipped; a body with no length ends at the close."""
    connection = http11.ClientConnection("GET")
    events = connection.receive(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\nab")
    assert events[0].code == 200 and events[1].data == b"ab"
    assert connection.receiveEOF() == [http11.END_OF_BODY]


def test_client_cut_short_is_a_bad_gateway():
    """An answer cut inside its Content-Length raises BadGateway at the close."""
    connection = http11.ClientConnection("GET")
    connection.receive(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab")
    with pytest.raises(error.BadGateway):
        connection.receiveEOF()


# -- the same rules, through a real server --------------------------------------

def test_fragment_never_reaches_a_resource():
    """GET /a?x=1#frag is a 400 and the resource is not rendered."""
    rendered = []

    class Record(Resource):
        isLeaf = True

        def render_GET(self, request):
            rendered.append(request.args)
            return b"seen"

    with served(Record()) as port:
        data = rawHTTP(port, b"GET /a?x=1#frag HTTP/1.1\r\nHost: h\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 400 ") and b"fragment" in data
    assert rendered == []


def test_absolute_form_authority_is_the_host_as_written():
    """GET http://example.com/ gives HTTP_HOST example.com, with no port the client never sent."""
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [("%s|%s" % (environ["HTTP_HOST"], environ["SERVER_PORT"])).encode()]

    pool = ThreadPool()
    pool.start()
    try:
        with served(WSGIResource(reactor, pool, app)) as port:
            data = rawHTTP(port, b"GET http://example.com/ HTTP/1.1\r\nHost: other\r\n"
                                 b"Connection: close\r\n\r\n")
            withPort = rawHTTP(port, b"GET http://example.com:81/ HTTP/1.1\r\nHost: o\r\n"
                                     b"Connection: close\r\n\r\n")
    finally:
        pool.stop()
    assert parseResponse(data)[2] == b"example.com|80"
    assert parseResponse(withPort)[2] == b"example.com:81|81"


def _overCap(port, monkeypatch, cap):
    listening = [p for p in reactor._ports if p.getHost().port == port][0]
    monkeypatch.setattr(listening, "maxConnections", cap)


@pytest.mark.parametrize("clients", [5])
def test_every_client_past_the_cap_reads_the_whole_503(monkeypatch, clients):
    """Past maxConnections, each client that sends its request reads the whole 503 page
    (no reset), however many come at once."""
    with served(Hello()) as port:
        _overCap(port, monkeypatch, 1)
        holder = socket.create_connection(("127.0.0.1", port))
        try:
            waitUntil(lambda: True, 0.2)
            extras = [socket.create_connection(("127.0.0.1", port)) for _ in range(clients)]
            for sock in extras:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
            answers = [readUntilClosed(sock, 5) for sock in extras]
            for sock in extras:
                sock.close()
        finally:
            holder.close()
    for data in answers:
        status, headers, body = parseResponse(data)
        assert status == 503 and len(body) == int(headers["content-length"][0])


def test_a_tls_client_past_the_cap_reads_the_503_too(monkeypatch, certfiles):
    """Over TLS, the refusal is sent after the handshake, encrypted, like any response."""
    site = server.Site(Hello())
    port = reactor.listenSSL(0, site, serverContext(certfiles), interface="127.0.0.1")
    try:
        number = port.getHost().port
        _overCap(number, monkeypatch, 1)
        holder = socket.create_connection(("127.0.0.1", number))
        try:
            raw = socket.create_connection(("127.0.0.1", number), timeout=5)
            with clientContext().wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
                data = readUntilClosed(tls, 5)
        finally:
            holder.close()
    finally:
        port.stopListening()
    status, headers, body = parseResponse(data)
    assert status == 503 and len(body) == int(headers["content-length"][0])
