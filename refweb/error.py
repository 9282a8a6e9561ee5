# -*- test-case-name: tests.test_error -*-
"""Errors that carry the HTTP status a server should answer with.

Guide: "Resource rendering" -- a resource that has no ``render_PUT`` answers
PUT with 405, and other failures become pages too.

Anything in refweb that decides "this request gets status N" raises one of
these (each is a plain ``class X(Error)`` with its ``code``), and one
function turns them into responses: ``pageResponse`` (headers and the
HTML of ``pages.page``: the look, in ``refweb.pages``, is every refweb
page's, listings' too).  Who calls it:
``http_request.Request.respondWithError`` for errors found while a
request is processed (traversal, rendering, a proxy's 502/504, a CGI or
WSGI failure), ``wire.errorResponse`` for errors found while a request is
read off the wire (and the connection cap's 503).  Any *other* exception
is a bug.  ``processingFailed`` is defined once, on the base request class
(``http_request.Request``; ``server.Request`` inherits it), and called by
whoever catches the exception: ``server.Request.process`` and ``render``,
``http.HTTPChannel`` around ``requestReceived``, ``distrib``.  It logs the
traceback and answers 500 through ``respondWithError`` (so the page is
``pageResponse``'s too), or closes the connection if the response has
already begun.  The page shows the traceback only when the request's
``displayTracebacks`` is true: ``server.Request`` takes it from its Site.

Where this sits in a request's path: raised anywhere from the parser
(``wire``) to a render method; rendered at the end of it.

Start reading at ``Error``, then ``pageResponse``, which makes every error's page.
"""

from refweb import pages
from refweb.status import phrase


class Error(Exception):
    """An HTTP error response: ``code``, a short ``message``, optional ``detail``."""

    code = 500

    def __init__(self, code=None, message=None, detail=None):
        if code is not None:
            self.code = int(code)
        self.message = message or phrase(self.code)
        self.detail = detail
        super().__init__(self.code, self.message)

    def __str__(self):
        text = "%d %s" % (self.code, self.message)
        return "%s: %s" % (text, self.detail) if self.detail else text


class _FixedStatus(Error):
    """An Error whose status is fixed by its class (the kinds below).

    Its one positional argument is the *detail*, the sentence shown in the
    page (``Forbidden("only regular files are served")``); the reason
    phrase of the status line stays the standard one unless ``message=``
    says otherwise.
    """

    def __init__(self, detail=None, message=None):
        Error.__init__(self, None, message, detail)


class BadRequest(_FixedStatus):
    """The request is malformed (RFC 9110 §15.5.1)."""

    code = 400


class Forbidden(_FixedStatus):
    """The server refuses to serve this."""

    code = 403


class NotFound(_FixedStatus):
    """No resource at this URL."""

    code = 404


class RequestTimeout(_FixedStatus):
    """The client took too long to send its request."""

    code = 408


class LengthRequired(_FixedStatus):
    """A body needs a Content-Length here."""

    code = 411


class PayloadTooLarge(_FixedStatus):
    """The body is larger than the server accepts."""

    code = 413


class URITooLong(_FixedStatus):
    """The request line is longer than the server accepts."""

    code = 414


class RangeNotSatisfiable(_FixedStatus):
    """No part of the Range lies in the body."""

    code = 416


class ExpectationFailed(_FixedStatus):
    """An Expect header the server cannot meet."""

    code = 417


class HeaderFieldsTooLarge(_FixedStatus):
    """Too many header lines, or too many header bytes."""

    code = 431


class InternalServerError(_FixedStatus):
    """Something broke inside the server."""

    code = 500


class NotImplementedMethod(_FixedStatus):
    """The server does not implement this (method, coding...)."""

    code = 501


class BadGateway(_FixedStatus):
    """The upstream server could not be reached or answered badly."""

    code = 502


class ServiceUnavailable(_FixedStatus):
    """The server cannot take this request now."""

    code = 503


class GatewayTimeout(_FixedStatus):
    """The upstream server took too long."""

    code = 504


class HTTPVersionNotSupported(_FixedStatus):
    """Only HTTP/1.0 and 1.1 are spoken here."""

    code = 505


class UnsupportedMethod(Error):
    """The resource has no render_<METHOD> for this request (405 + Allow)."""

    code = 405

    def __init__(self, allowedMethods, message=None):
        self.allowedMethods = tuple(allowedMethods)
        Error.__init__(self, None, message,
                       "allowed: " + ", ".join(self.allowedMethods))


class UnexposedMethodError(Exception):
    """Raised when a method is looked up that the resource does not expose."""


def pageResponse(exc):
    """The one function that turns an Error into a response: (headers, body).

    Every layer answers an error through it -- a resource's or a render
    method's (``http_request.Request.respondWithError``), the request
    parser's and the connection's (``wire.errorResponse``), the proxy's
    502/504, a CGI script's or a WSGI application's failure -- so every
    error page has the same look (``pages.page``) and the same headers:
    Content-Type, Content-Length, and Allow for a 405 (RFC 9110 §15.5.6).
    The body is always the full page; whoever writes it leaves it out for
    a HEAD (RFC 9110 §9.3.2).
    """
    body = pages.page(exc.code, exc.message, exc.detail or "").encode("utf-8")
    headers = [("Content-Type", "text/html; charset=utf-8"),
               ("Content-Length", str(len(body)))]
    if isinstance(exc, UnsupportedMethod):
        headers.append(("Allow", ", ".join(exc.allowedMethods)))
    return headers, body
