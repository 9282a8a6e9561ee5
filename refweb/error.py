# -*- test-case-name: tests.test_error -*-
"""Errors that carry the HTTP status a server should answer with.

Guide: "Resource rendering" -- a resource that has no ``render_PUT`` answers
PUT with 405, and other failures become pages too.

Anything in refweb that decides "this request gets status N" raises one of
these.  One place turns them into pages: ``server.Request.processingFailed``
for errors during traversal and rendering, ``http.HTTPChannel`` for errors
while reading the request off the wire.  Any *other* exception is a bug: it
becomes a 500, is logged with its traceback, and the traceback is shown to
the client only when the Site's ``displayTracebacks`` is on.
"""

import html

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


def _kind(name, code, doc):
    """Make an Error subclass with a fixed status.

    Its one positional argument is the *detail*, the sentence shown in the
    page (``Forbidden("only regular files are served")``); the reason
    phrase of the status line stays the standard one unless ``message=``
    says otherwise.
    """
    def __init__(self, detail=None, message=None):
        Error.__init__(self, None, message, detail)
    return type(name, (Error,), {"code": code, "__doc__": doc, "__init__": __init__})


BadRequest = _kind("BadRequest", 400, "The request is malformed (RFC 9110 §15.5.1).")
Forbidden = _kind("Forbidden", 403, "The server refuses to serve this.")
NotFound = _kind("NotFound", 404, "No resource at this URL.")
RequestTimeout = _kind("RequestTimeout", 408, "The client took too long to send its request.")
LengthRequired = _kind("LengthRequired", 411, "A body needs a Content-Length here.")
PayloadTooLarge = _kind("PayloadTooLarge", 413, "The body is larger than the server accepts.")
URITooLong = _kind("URITooLong", 414, "The request line is longer than the server accepts.")
RangeNotSatisfiable = _kind("RangeNotSatisfiable", 416, "No part of the Range lies in the body.")
ExpectationFailed = _kind("ExpectationFailed", 417, "An Expect header the server cannot meet.")
HeaderFieldsTooLarge = _kind("HeaderFieldsTooLarge", 431,
                             "Too many header lines, or too many header bytes.")
InternalServerError = _kind("InternalServerError", 500, "Something broke inside the server.")
NotImplementedMethod = _kind("NotImplementedMethod", 501,
                             "The server does not implement this (method, coding...).")
BadGateway = _kind("BadGateway", 502, "The upstream server could not be reached or answered badly.")
ServiceUnavailable = _kind("ServiceUnavailable", 503, "The server cannot take this request now.")
GatewayTimeout = _kind("GatewayTimeout", 504, "The upstream server took too long.")
HTTPVersionNotSupported = _kind("HTTPVersionNotSupported", 505, "Only HTTP/1.0 and 1.1 are spoken here.")


class UnsupportedMethod(Error):
    """The resource has no render_<METHOD> for this request (405 + Allow)."""

    code = 405

    def __init__(self, allowedMethods, message=None):
        self.allowedMethods = tuple(allowedMethods)
        Error.__init__(self, None, message,
                       "allowed: " + ", ".join(self.allowedMethods))


class UnexposedMethodError(Exception):
    """Raised when a method is looked up that the resource does not expose."""


PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>%(code)d %(brief)s</title></head>
<body><h1>%(code)d %(brief)s</h1>
<p>%(detail)s</p>
</body></html>
"""


def page(code, brief, detail=""):
    """The HTML error page every part of refweb sends; text is escaped here."""
    return PAGE % {"code": code, "brief": html.escape(brief),
                   "detail": html.escape(detail or "")}
