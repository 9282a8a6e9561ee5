# -*- test-case-name: tests.test_http -*-
"""The HTTP request object: what was asked.

Guide: "Resource rendering" -- a render method receives ``request`` and
reads ``request.args``, ``request.getHeader``, ``request.prepath``...;
"Session" -- ``request.getSession()`` (server.Request) reads its cookie
here.

Where it sits in a request's path: ``http.HTTPChannel`` takes the head the
connection found (``http11``), reads the body into ``content`` and calls
``requestReceived``, which parses the target and the form arguments and
calls ``process()``.  This base class answers 404 there; ``server.Request``
overrides ``process`` to walk the resource tree and render.  The answer
goes out through the other half of the class, ``http_response.Response``
(setHeader, write, finish...), which this Request inherits.

This module is re-exported as ``refweb.http.Request``.

Start reading at ``Request.requestReceived``.
"""

import io
import threading
import urllib.parse

from refweb import error, grammar, wire
from refweb.http_headers import Headers, toText
from refweb.http_response import CACHED, SERVER_NAME, Response  # noqa: F401 (re-exported)
from refweb.status import RESPONSES  # noqa: F401 (re-exported)


def bodyLength(content):
    """The size of a request body the channel stored (``None``: no body),
    rewound to its start for whoever reads it next."""
    if content is None:
        return 0
    length = content.seek(0, io.SEEK_END)
    content.seek(0)
    return length


class Request(Response):
    """One HTTP request (this class) and its response (``Response``)."""

    method = "GET"
    uri = "/"
    path = "/"
    clientproto = "HTTP/1.1"
    content = None
    maxFormBytes = 16 * 1024 * 1024  # bodies larger than this are not parsed into args
    maxFormFields = 10000  # a form body with more fields is refused: 413
    journey = None  # a journey.Journey when the Site logs journeys (Site(journey=True))
    _secure = None  # set by setHost (VHostMonster): the scheme the public site has
    _receivedCookies = None
    _host = None
    _client = None

    def __init__(self, channel, queued=False):
        """``channel``: the ``http_response.ResponseChannel`` the request came
        on.  ``queued`` is accepted for compatibility with Twisted's
        signature and kept as an attribute; nothing in refweb reads it (a
        connection answers one request at a time, so none is ever queued)."""
        self.channel = channel
        self.transport = channel.transport if channel is not None else None
        self.queued = queued
        self.requestHeaders = Headers()
        self.responseHeaders = Headers()
        self.args = {}
        self.cookies = []  # Set-Cookie values to send
        self._finishDeferreds = []
        self._stateLock = threading.Lock()  # guards finished, _disconnected, _finishDeferreds

    # -- what was asked ---------------------------------------------------
    def requestReceived(self, command, target, version):
        """Called by the channel once the head and body have been read.

        ``target`` is the raw request-target (RFC 9112 §3.2), query and all,
        as it was on the request line; ``uri`` keeps it, ``path`` gets the
        part before "?" (and, for an absolute-form target, after the
        authority).  Twisted names this parameter ``path``; it is passed
        positionally, so either name reads the same.
        """
        self.method, self.uri, self.clientproto = command, target, version
        if not target.startswith("/") and "://" in target:
            # absolute-form (RFC 9112 §3.2.2): what proxies receive; origin
            # servers accept it too.  Its authority wins over any Host header.
            try:
                _, authority, host, port, target = wire.splitAbsoluteTarget(target)
            except error.Error as exc:  # the channel checked it; a caller may not have
                self.respondWithError(exc)
                return
            self._useTargetAuthority(authority, host, port)
        self.path, _, query = target.partition("?")
        if query:
            self.args = urllib.parse.parse_qs(query, keep_blank_values=True)
        if self.content is not None and self.method in ("POST", "PUT", "PATCH"):
            try:
                self._parseFormBody()
            except error.Error as exc:  # a form over maxFormFields
                self.respondWithError(exc)
                return
        self.process()

    def _useTargetAuthority(self, authority, host, port):
        """RFC 9112 §3.2.2: with an absolute-form target, the server MUST
        ignore Host and use the target's authority, as written (no port
        added); getRequestHostname, getHost and the URLs built from them
        all see it."""
        from refweb.internet.address import IPv4Address
        self.requestHeaders.setRawHeaders("host", [authority])
        self._host = IPv4Address("TCP", host, port)

    def _parseFormBody(self):
        contentType = self.getHeader("content-type") or ""
        mediaType = contentType.split(";", 1)[0].strip().lower()
        if mediaType not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return
        if bodyLength(self.content) > self.maxFormBytes:
            return  # too large to hold in memory as args; the body stays in content
        body = self.content.read()
        self.content.seek(0)
        from refweb import forms
        if mediaType == "multipart/form-data":
            fields = forms.parseMultipart(body, contentType, self.maxFormFields)
        else:
            fields = forms.parseURLEncoded(body, self.maxFormFields)
        for name, value in fields:
            self.args.setdefault(name, []).append(value)

    def process(self):
        """Decide the response.  server.Request walks the resource tree here."""
        self.setResponseCode(404)
        self.finish()

    def getHeader(self, name):
        """The (last) value of a request header, or None."""
        return self.requestHeaders.getLast(name)

    def getAllHeaders(self):
        return {name.lower(): values[-1] for name, values in self.requestHeaders.getAllRawHeaders()}

    def getCookie(self, name):
        """The value of cookie ``name`` the client sent, or None."""
        if self._receivedCookies is None:
            self._receivedCookies = {}
            for header in self.requestHeaders.getRawHeaders("cookie", []):
                for pair in header.split(";"):
                    key, sep, value = pair.strip(" \t").partition("=")
                    # RFC 6265 §4.1.1 / §5.2: a cookie's name is a token; a
                    # pair without one is ignored, not guessed at.
                    key = key.strip(" \t")
                    if sep and grammar.isToken(key) and key not in self._receivedCookies:
                        self._receivedCookies[key] = value.strip().strip('"')
        return self._receivedCookies.get(toText(name))

    @property
    def received_cookies(self):
        self.getCookie("")
        return self._receivedCookies

    def getClientAddress(self):
        if self._client is None:
            self._client = self.transport.getPeer()
        return self._client

    client = property(getClientAddress)

    def getClientIP(self):
        return getattr(self.getClientAddress(), "host", None)

    def getHost(self):
        """The address the request arrived at (as VHostMonster may have rewritten it)."""
        if self._host is None:
            self._host = self.transport.getHost()
        return self._host

    def setHost(self, host, port, ssl=False):
        """Pretend the request arrived for host:port (used by VHostMonster)."""
        from refweb.internet.address import IPv4Address
        host = toText(host)
        self._secure = bool(ssl)
        default = 443 if ssl else 80
        self.requestHeaders.setRawHeaders("host", [host if port == default
                                                   else "%s:%d" % (host, port)])
        self._host = IPv4Address("TCP", host, int(port))

    def getRequestHostname(self):
        """The host name the client asked for (Host header, without its port)."""
        host = self.getHeader("host")
        if host:
            if host.startswith("["):  # an IPv6 literal: [::1]:8080
                return host[:host.index("]") + 1]
            return host.rsplit(":", 1)[0] if ":" in host else host
        return self.getHost().host

    def isSecure(self):
        """Over TLS -- or as setHost said: behind VHostMonster, the public
        site's scheme, whatever the connection to refweb is."""
        if self._secure is not None:
            return self._secure
        return bool(getattr(self.transport, "isTLS", False))

    def __repr__(self):
        return "<%s at 0x%x method=%s uri=%s clientproto=%s>" % (
            type(self).__name__, id(self), self.method, self.uri, self.clientproto)


__all__ = ["Request", "CACHED", "RESPONSES"]
