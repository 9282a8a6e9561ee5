"""Tests for refweb.error (errors carrying their HTTP status) and refweb.status.

The error kinds are checked as objects, then raised from render methods and
getChild of a real Site, where each must become exactly its status page.
"""

import pytest

from refweb import error, http, pages, resource, status
from support import rawHTTP, served, statusOf


# -- the kinds -----------------------------------------------------------------

@pytest.mark.parametrize("kind, code, message", [
    (error.BadRequest, 400, "Bad Request"),
    (error.Forbidden, 403, "Forbidden"),
    (error.NotFound, 404, "Not Found"),
    (error.RequestTimeout, 408, "Request Timeout"),
    (error.LengthRequired, 411, "Length Required"),
    (error.PayloadTooLarge, 413, "Content Too Large"),
    (error.URITooLong, 414, "URI Too Long"),
    (error.RangeNotSatisfiable, 416, "Range Not Satisfiable"),
    (error.ExpectationFailed, 417, "Expectation Failed"),
    (error.HeaderFieldsTooLarge, 431, "Request Header Fields Too Large"),
    (error.InternalServerError, 500, "Internal Server Error"),
    (error.NotImplementedMethod, 501, "Not Implemented"),
    (error.BadGateway, 502, "Bad Gateway"),
    (error.ServiceUnavailable, 503, "Service Unavailable"),
    (error.GatewayTimeout, 504, "Gateway Timeout"),
    (error.HTTPVersionNotSupported, 505, "HTTP Version Not Supported"),
])
def test_errorKinds_carryTheirStatus(kind, code, message):
    """Each error kind has its fixed code and, by default, the standard reason phrase."""
    exc = kind()
    assert isinstance(exc, error.Error)
    assert (kind.code, exc.code, exc.message, exc.detail) == (code, code, message, None)
    assert str(exc) == "%d %s" % (code, message)
    assert kind.__doc__


def test_errorKinds_takeDetailThenMessage():
    """A kind's positional argument is the detail; the reason phrase changes only by keyword."""
    exc = error.NotFound("try later")
    assert (exc.code, exc.message, exc.detail) == (404, "Not Found", "try later")
    exc = error.NotFound("try later", message="Gone Fishing")
    assert str(exc) == "404 Gone Fishing: try later"


def test_error_anyCode():
    """Error(code) takes any code; its message defaults to the code's phrase."""
    assert error.Error().code == 500
    assert error.Error(418).message == "Client Error"  # no phrase of its own here
    assert error.Error("409").code == 409
    assert error.Error(409).message == "Conflict"
    assert error.Error(299, "Custom").message == "Custom"


def test_unsupportedMethod_keepsAllowedMethods():
    """UnsupportedMethod is a 405 that keeps allowedMethods as a tuple and lists them."""
    exc = error.UnsupportedMethod(["GET", "HEAD"])
    assert exc.code == 405
    assert exc.allowedMethods == ("GET", "HEAD")
    assert exc.message == "Method Not Allowed"
    assert exc.detail == "allowed: GET, HEAD"
    assert str(exc) == "405 Method Not Allowed: allowed: GET, HEAD"
    assert error.UnsupportedMethod((), "Nope").message == "Nope"


# -- status phrases --------------------------------------------------------------

@pytest.mark.parametrize("code, text", [
    (200, "OK"), (304, "Not Modified"), (404, "Not Found"), (405, "Method Not Allowed"),
    (199, "Informational"), (299, "Success"), (399, "Redirection"), (499, "Client Error"),
    (599, "Server Error"), (999, "Unknown"),
])
def test_status_phrase(code, text):
    """phrase() gives the RFC 9110 phrase, or the class name for a code without one."""
    assert status.phrase(code) == text


def test_status_namesAreReexportedByHttp():
    """refweb.http offers the status names and RESPONSES table, as Twisted's http does."""
    assert (http.OK, http.NOT_FOUND, http.NOT_ALLOWED) == (200, 404, 405)
    assert http.RESPONSES[http.SERVICE_UNAVAILABLE] == "Service Unavailable"
    assert all(status.RESPONSES[code] for code in (status.CREATED, status.GONE,
                                                  status.TOO_MANY_REQUESTS))


# -- raised while serving --------------------------------------------------------

class Raiser(resource.Resource):
    """/<code> raises that error kind from render_GET; /child/... raises from getChild."""

    kinds = {"403": error.Forbidden, "404": error.NotFound, "503": error.ServiceUnavailable,
             "400": error.BadRequest, "501": error.NotImplementedMethod}

    def getChild(self, name, request):
        if name == "child":
            raise error.Forbidden(detail="no <children> here")
        if name == "bug":
            raise KeyError("a <secret> bug")
        return RaiseLeaf(self.kinds[name])


class RaiseLeaf(resource.Resource):
    isLeaf = True

    def __init__(self, kind):
        resource.Resource.__init__(self)
        self.kind = kind

    def render_GET(self, request):
        raise self.kind(detail="raised <here>")


@pytest.fixture(scope="module")
def port():
    """One Site serving Raiser for the whole module."""
    with served(Raiser()) as number:
        yield number


def split(data):
    head, _, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n"), body


@pytest.mark.parametrize("code", [400, 403, 404, 501, 503])
def test_error_raisedFromRenderGivesItsStatusPage(port, code):
    """An error kind raised from render_GET becomes exactly its status page."""
    exc = Raiser.kinds[str(code)]()
    lines, body = split(rawHTTP(port, b"GET /%d HTTP/1.0\r\n\r\n" % code))
    assert lines[0] == b"HTTP/1.0 %d %s" % (code, exc.message.encode())
    assert b"Content-Type: text/html; charset=utf-8" in lines
    assert body == pages.page(code, exc.message, "raised <here>").encode()


def test_error_raisedFromGetChildGivesItsStatusPage(port):
    """An error kind raised from getChild during traversal becomes its status page."""
    data = rawHTTP(port, b"GET /child/x HTTP/1.0\r\n\r\n")
    lines, body = split(data)
    assert statusOf(data) == 403
    assert body == pages.page(403, "Forbidden", "no <children> here").encode()
    assert b"&lt;children&gt;" in body


def test_error_otherExceptionsAre500WithoutTraceback(port):
    """Any other exception is a 500 page that shows no traceback and no exception text."""
    data = rawHTTP(port, b"GET /bug HTTP/1.0\r\n\r\n")
    lines, body = split(data)
    assert lines[0] == b"HTTP/1.0 500 Internal Server Error"
    assert body == pages.page(500, "Internal Server Error",
                              "An error occurred while processing this request.").encode()


def test_error_displayTracebacksShowsItEscaped():
    """With displayTracebacks on, the 500 page shows the traceback, HTML-escaped."""
    with served(Raiser(), displayTracebacks=True) as port:
        data = rawHTTP(port, b"GET /bug HTTP/1.0\r\n\r\n")
    lines, body = split(data)
    assert lines[0] == b"HTTP/1.0 500 Internal Server Error"
    assert b"Traceback (most recent call last):" in body
    assert b"KeyError: &#x27;a &lt;secret&gt; bug&#x27;" in body
    assert b"<secret>" not in body


def test_error_serverKeepsServingAfterErrors():
    """After error pages the same server still answers normally."""
    class Fine(resource.Resource):
        isLeaf = True

        def render_GET(self, request):
            if request.postpath == ["bad"]:
                raise ValueError("x")
            return b"fine"

    with served(Fine()) as port:
        assert statusOf(rawHTTP(port, b"GET /bad HTTP/1.0\r\n\r\n")) == 500
        assert split(rawHTTP(port, b"GET / HTTP/1.0\r\n\r\n"))[1] == b"fine"
