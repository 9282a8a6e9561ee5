"""Tests for the response pipeline and the rules both sides share (issue 15):
framing in refweb.wire, the one error response (error.pageResponse), the
render_METHOD dispatch, and the shape of the code a learner reads."""

import inspect

import pytest

from refweb import error, http_request, http_response, pages, resource, server, wire
from refweb.http_headers import Headers
from refweb.wsgi import WSGIResource
from support import parseResponse, rawHTTP, served


# -- framing: one table, both sides ------------------------------------------

@pytest.mark.parametrize("version,method,status,length,expected", [
    ("HTTP/1.1", "GET", 200, "5", ("length", 5)),
    ("HTTP/1.0", "GET", 200, "5", ("length", 5)),
    ("HTTP/1.1", "GET", 200, None, ("chunked", None)),
    ("HTTP/1.0", "GET", 200, None, ("close", None)),
    ("HTTP/1.1", "GET", 200, "five", ("close", None)),
    ("HTTP/1.1", "HEAD", 200, "5", ("none", 0)),
    ("HTTP/1.1", "GET", 204, None, ("none", 0)),
    ("HTTP/1.1", "GET", 304, "5", ("none", 0)),
    ("HTTP/1.1", "GET", 103, None, ("none", 0)),
])
def test_framingToSend(version, method, status, length, expected):
    """The server frames its response by RFC 9112 §6.3: none, length, chunks or close."""
    assert wire.framingToSend(version, method, status, length) == expected


@pytest.mark.parametrize("method,status,te,cl,expected", [
    ("HEAD", 200, [], ["5"], ("none", 0)),
    ("GET", 204, [], [], ("none", 0)),
    ("GET", 304, [], ["5"], ("none", 0)),
    ("GET", 101, [], [], ("none", 0)),
    ("GET", 200, ["chunked"], ["5"], ("chunked", None)),  # §6.3 item 3: TE overrides
    ("GET", 200, [], ["5, 5"], ("length", 5)),
    ("GET", 200, [], [], ("close", None)),                # §6.3 item 8
])
def test_responseFraming(method, status, te, cl, expected):
    """A client reads a response's body by the same rules the server writes it."""
    assert wire.responseFraming(method, status, te, cl) == expected


@pytest.mark.parametrize("te,cl,kind", [
    (["gzip"], [], error.NotImplementedMethod),
    ([], ["5, 6"], error.BadRequest),
    ([], ["-5"], error.BadRequest),
])
def test_responseFraming_refusesWhatCannotBeRead(te, cl, kind):
    """Framing a client cannot trust raises the same errors a request's would."""
    with pytest.raises(kind):
        wire.responseFraming("GET", 200, te, cl)


def test_bodyFraming_refusesBothHeadersInARequest():
    """A request with Transfer-Encoding and Content-Length is refused, not read by one of them."""
    with pytest.raises(error.BadRequest):
        wire.bodyFraming(["chunked"], ["5"], 100)


class BogusLength(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        request.setHeader("content-length", "many")
        request.write(b"hello")
        request.finish()
        return server.NOT_DONE_YET


def test_unreadableContentLength_closesTheConnection():
    """A Content-Length the application set that is not a number: the body ends with the close."""
    with served(BogusLength()) as port:
        data = rawHTTP(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    status, headers, body = parseResponse(data)
    assert (status, headers["connection"], body) == (200, ["close"], b"hello")


# -- one error response --------------------------------------------------------

def test_pageResponse_headersAndBody():
    """pageResponse gives the page with its type and length, and Allow for a 405."""
    headers, body = error.pageResponse(error.UnsupportedMethod(["GET", "HEAD"]))
    assert body == pages.page(405, "Method Not Allowed", "allowed: GET, HEAD").encode()
    assert headers == [("Content-Type", "text/html; charset=utf-8"),
                       ("Content-Length", str(len(body))), ("Allow", "GET, HEAD")]


def test_errorResponse_isPageResponsePlusConnectionHeaders():
    """The connection's error response carries pageResponse's page and headers."""
    exc = error.ServiceUnavailable(detail="too many connections")
    head, body = wire.errorResponse("HTTP/1.1", exc, "GET", "refweb")
    pageHeaders, pageBody = error.pageResponse(exc)
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0] == "HTTP/1.1 503 Service Unavailable"
    assert ["%s: %s" % pair for pair in pageHeaders] == lines[1:3]
    assert "Connection: close" in lines
    assert body == pageBody
    assert wire.errorResponse("HTTP/1.1", exc, "HEAD")[1] == b""


def failingApplication(environ, startResponse):
    raise RuntimeError("broken")


class SyncPool:
    """Runs WSGI work at once, in the calling thread."""

    def callInThread(self, f, *args, **kwargs):
        f(*args, **kwargs)


def test_theSamePageFromEveryLayer(logged):
    """A parser error, a render error and a WSGI failure all answer with pages.page's page."""
    class Forbids(resource.Resource):
        isLeaf = True

        def render_GET(self, request):
            raise error.Forbidden("not for you")

    root = resource.Resource()
    root.putChild("forbid", Forbids())
    root.putChild("wsgi", WSGIResource(None, SyncPool(), failingApplication))
    with served(root) as port:
        parser = parseResponse(rawHTTP(port, b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n"))
        render = parseResponse(rawHTTP(port, b"GET /forbid HTTP/1.0\r\n\r\n"))
        wsgi = parseResponse(rawHTTP(port, b"GET /wsgi HTTP/1.0\r\n\r\n"))
    expected = {
        400: pages.page(400, "Bad Request", "bad header name 'Bad Name'"),
        403: pages.page(403, "Forbidden", "not for you"),
        500: pages.page(500, "Internal Server Error",
                        "The application failed; see the server log."),
    }
    for status, headers, body in (parser, render, wsgi):
        assert body == expected[status].encode()
        assert headers["content-type"] == ["text/html; charset=utf-8"]
        assert headers["content-length"] == [str(len(body))]


# -- the render_METHOD dispatch ------------------------------------------------

class Helpers(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        return b"got"

    def render_helper(self, request):  # not a method name: lower case
        return b"helper ran"


def test_renderMethodFor():
    """render_ + the method names the renderer; HEAD falls back to GET; lower case never."""
    page = Helpers()
    assert resource.renderMethodFor(page, "GET") == page.render_GET
    assert resource.renderMethodFor(page, "HEAD") == page.render_GET
    assert resource.renderMethodFor(page, "helper") is None
    assert resource.renderMethodFor(page, "POST") is None


def test_lowerCaseMethodDoesNotReachAHelper():
    """A request whose method is "helper" gets 405, not the output of render_helper."""
    with served(Helpers()) as port:
        status, headers, body = parseResponse(rawHTTP(port, b"helper / HTTP/1.0\r\n\r\n"))
    assert status == 405 and b"helper ran" not in body
    assert headers["allow"] == ["GET, HEAD"]


# -- the shape a learner reads ---------------------------------------------------

@pytest.mark.parametrize("name", ["write", "finish", "writeFile", "_startResponse",
                                  "setDefaultContentType", "respondWithError",
                                  "processingFailed"])
def test_serverRequestLeavesThePipelineToTheBase(name):
    """server.Request overrides no step of writing a response: it lives in http_response alone."""
    assert name in vars(http_response.Response)
    assert name not in vars(server.Request)
    assert name not in vars(http_request.Request)


def test_errorKindsAreClassStatements():
    """Every error kind is a `class X(...)` statement in error.py, so a search finds it."""
    source = inspect.getsource(error)
    kinds = [value for value in vars(error).values()
             if isinstance(value, type) and issubclass(value, error.Error)]
    assert len(kinds) > 15
    for kind in kinds:
        assert "\nclass %s(" % kind.__name__ in source


def test_unsatisfiableRangeGetsTheErrorPage(tmp_path):
    """A Range wholly past the end of a file: 416 with Content-Range and the error page."""
    from refweb import static
    (tmp_path / "f.txt").write_bytes(b"x" * 10)
    with served(static.File(str(tmp_path))) as port:
        data = rawHTTP(port, b"GET /f.txt HTTP/1.0\r\nRange: bytes=50-60\r\n\r\n")
    status, headers, body = parseResponse(data)
    assert (status, headers["content-range"]) == (416, ["bytes */10"])
    assert body == pages.page(416, "Range Not Satisfiable",
                              "No part of the requested range lies in the file (10 bytes).").encode()


def test_connectionRefusal_isThe503Page():
    """The connection cap's refusal is a 503 with the common error page, then close."""
    data = wire.connectionRefusal()
    status, headers, body = parseResponse(data)
    assert (status, headers["connection"]) == (503, ["close"])
    assert body == pages.page(503, "Service Unavailable",
                              "The server has too many connections open; try again shortly.").encode()
    assert headers["content-length"] == [str(len(body))]
