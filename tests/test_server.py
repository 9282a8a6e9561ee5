"""refweb.server: Site and Request -- rendering outcomes, errors as pages, URLs, tracing."""

import pytest

from refweb import error, resource, server
from refweb.python import log
from support import get, helloTree, rawHTTP, served, waitUntil


class Outcomes(resource.Resource):
    """Each child shows one way a render method can end."""

    isLeaf = True

    def render_GET(self, request):
        kind = request.postpath[0]
        if kind == "bytes":
            return b"\xffraw"
        if kind == "text":
            return "caf\xe9"
        if kind == "typed":
            request.setHeader("content-type", "text/plain")
            return "plain"
        if kind == "teapot":
            raise error.Error(418, "I'm a teapot", "short and stout")
        if kind == "boom":
            raise ValueError("secret internals")
        if kind == "none":
            return None
        if kind == "forbidden":
            raise error.Forbidden(detail="<not> for you")
        return b""

    def render_POST(self, request):
        return b"posted"


@pytest.mark.parametrize("path, prepath", [
    ("/", "['']"), ("/fred", "['fred']"), ("/fred/", "['fred', '']"),
    ("/bob", "['bob']"), ("/fr%65d", "['fred']"),
])
def test_hello_tree_prepath(path, prepath):
    """The guide's tree: prepath lists the segments walked, '' for a trailing slash."""
    with served(helloTree(isLeaf=False)) as port:
        status, _, body = get(port, path)
    assert (status, body.decode()) == (200, "Hello, world! I am located at %s." % prepath)


def test_unknown_child_is_404_page():
    """A missing child renders NoResource: 404 with an HTML page."""
    with served(helloTree(isLeaf=False)) as port:
        status, headers, body = get(port, "/nobody")
    assert status == 404 and b"No Such Resource" in body
    assert headers["content-type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize("kind, status, contentType, body", [
    ("bytes", 200, "text/html", b"\xffraw"),
    ("text", 200, "text/html; charset=utf-8", "caf\xe9".encode("utf-8")),
    ("typed", 200, "text/plain", b"plain"),
    ("empty", 200, "text/html", b""),
])
def test_render_results(kind, status, contentType, body):
    """str is sent as UTF-8 with charset on the default type; bytes as they are."""
    with served(Outcomes()) as port:
        got = get(port, "/" + kind)
    assert (got[0], got[1]["content-type"], got[2]) == (status, contentType, body)
    assert got[1]["content-length"] == str(len(body))


def test_error_raised_in_render_becomes_its_page():
    """An error.Error from render_GET gives its own status and an escaped page."""
    with served(Outcomes()) as port:
        teapot = get(port, "/teapot")
        forbidden = get(port, "/forbidden")
    assert teapot[0] == 418 and b"short and stout" in teapot[2]
    assert forbidden[0] == 403 and b"&lt;not&gt; for you" in forbidden[2]


@pytest.mark.parametrize("kind", ["boom", "none"])
def test_unexpected_exception_is_500_without_traceback(kind):
    """A bug in a render method gives a plain 500, logs the traceback, and the server goes on."""
    lines = []
    log.addObserver(lines.append)
    try:
        with served(Outcomes()) as port:
            status, _, body = get(port, "/" + kind)
            assert get(port, "/text")[0] == 200
    finally:
        log.removeObserver(lines.append)
    assert status == 500 and b"Traceback" not in body and b"secret internals" not in body
    assert any("Traceback" in line for line in lines)


def test_display_tracebacks_shows_the_traceback():
    """With displayTracebacks on, the 500 page shows what went wrong (escaped)."""
    with served(Outcomes(), displayTracebacks=True) as port:
        status, _, body = get(port, "/boom")
    assert status == 500 and b"ValueError: secret internals" in body


def test_unsupported_method_is_405_with_allow():
    """A method with no render_METHOD is 405, and Allow lists what the resource has."""
    with served(Outcomes()) as port:
        status, headers, _ = get(port, "/x", method="DELETE")
    assert status == 405 and headers["allow"] == "GET, POST, HEAD"


def test_head_falls_back_to_get_without_body():
    """HEAD uses render_GET; the length is the GET's and no body is sent."""
    with served(Outcomes()) as port:
        data = rawHTTP(port, b"HEAD /text HTTP/1.0\r\n\r\n")
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"HTTP/1.0 200 OK" in head and b"Content-Length: 5" in head and body == b""


def test_absolute_form_target_served_by_path():
    """An absolute-form request target is served by its path (RFC 9112 §3.2.2)."""
    with served(helloTree(isLeaf=False)) as port:
        data = rawHTTP(port, b"GET http://example.com/fred HTTP/1.0\r\n\r\n")
    assert data.endswith(b"I am located at ['fred'].")


def test_asterisk_target():
    """OPTIONS * asks about the server, not a resource (RFC 9112 §3.2.4): 200
    with an empty body; any other method with that target is a 400."""
    with served(helloTree(isLeaf=False)) as port:
        options = rawHTTP(port, b"OPTIONS * HTTP/1.0\r\n\r\n")
        get = rawHTTP(port, b"GET * HTTP/1.0\r\n\r\n")
    assert options.startswith(b"HTTP/1.0 200 ")
    assert b"\r\nContent-Length: 0\r\n" in options and options.endswith(b"\r\n\r\n")
    assert get.startswith(b"HTTP/1.0 400 ")


class URLs(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        return "%s|%s|%s|%s" % (request.prePathURL(), request.childLink("a b"),
                                request.URLPath().child("x"), request.getRootURL())


def test_prePathURL_childLink_URLPath():
    """URLs name the host asked for and the port the request really arrived on, quoted.

    (As in Twisted, the port comes from the socket, not from the Host header:
    that is why VHostMonster exists.)
    """
    root = resource.Resource()
    root.putChild("u v", URLs())
    with served(root) as port:
        _, _, body = get(port, "/u%20v/rest", headers={"Host": "example.com:80"})
    base = "http://example.com:%d/" % port
    assert body.decode() == "%su%%20v|u%%20v/a%%20b|%su%%20v/x|%s" % (base, base, base)


def test_trace_logs_every_traversal_step():
    """Site(trace=True) logs the request, each step with prepath/postpath, and the render."""
    lines = []
    log.addObserver(lines.append)
    try:
        with served(helloTree(isLeaf=False), trace=True) as port:
            get(port, "/fred/")
    finally:
        log.removeObserver(lines.append)
    trace = [line for line in lines if line.startswith("trace: ")]
    assert trace == [
        "trace: GET /fred/  prepath=[] postpath=['fred', '']",
        "trace:   1. Hello --'fred'--> Hello (putChild)  prepath=['fred'] postpath=['']",
        "trace:   2. Hello --''--> Hello (getChild)  prepath=['fred', ''] postpath=[]",
        "trace:   render Hello.render_GET -> 200",
    ]


def test_trace_names_errors_and_leaves():
    """The trace says where the walk stopped at a leaf and what a failing render raised."""
    class Vault(resource.Resource):
        isLeaf = True

        def render_GET(self, request):
            raise error.Forbidden("no")

    root = resource.Resource()
    root.putChild("vault", Vault())
    lines = []
    log.addObserver(lines.append)
    try:
        with served(root, trace=True) as port:
            get(port, "/vault/a/b")
    finally:
        log.removeObserver(lines.append)
    assert [line for line in lines if line.startswith("trace: ")] == [
        "trace: GET /vault/a/b  prepath=[] postpath=['vault', 'a', 'b']",
        "trace:   1. Resource --'vault'--> Vault (putChild)  prepath=['vault'] postpath=['a', 'b']",
        "trace:   Vault is a leaf: the walk stops, postpath=['a', 'b']",
        "trace:   render Vault.render_GET raised Forbidden -> 403",
    ]


def test_wire_logs_raw_heads():
    """Site(wire=True) logs the request head and the response head, line by line."""
    lines = []
    log.addObserver(lines.append)
    try:
        with served(helloTree(isLeaf=False), wire=True) as port:
            rawHTTP(port, b"GET /bob HTTP/1.0\r\nX-Test: 1\r\n\r\n")
    finally:
        log.removeObserver(lines.append)
    wire = [line for line in lines if line.startswith("wire ")]
    name = wire[0].split()[1]
    assert name.startswith("conn-")
    assert wire[:3] == ["wire %s >> GET /bob HTTP/1.0" % name, "wire %s >> X-Test: 1" % name,
                        "wire %s << HTTP/1.0 200 OK" % name]
    assert wire[-2:] == ["wire %s << Connection: close" % name, "wire %s -- closed" % name]


def test_not_done_yet_value_is_twisted_compatible():
    """NOT_DONE_YET is the value Twisted uses, so code comparing it keeps working."""
    assert server.NOT_DONE_YET == 1


def test_error_after_writing_cuts_connection_and_frees_its_thread():
    """An error raised after the body started closes the connection; its worker is free again."""
    from refweb.internet import reactor

    class HalfThenFail(resource.Resource):
        isLeaf = True

        def render_GET(self, request):
            request.write(b"partial")
            raise error.BadGateway(detail="upstream died")

    with served(HalfThenFail()) as port:
        data = rawHTTP(port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n", timeout=5)
        assert data.startswith(b"HTTP/1.1 200 OK") and data.endswith(b"partial\r\n")
        assert waitUntil(lambda: reactor.workers.busy == 0, 3)
