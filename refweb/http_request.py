# -*- test-case-name: tests.test_http -*-
"""The HTTP request object: what was asked, and the response being written.

Guide: "Resource rendering" -- a render method receives ``request`` and uses
``request.write``, ``request.finish``, ``request.setHeader``...;
"Request encoders" -- the encoder is a body filter here; "Knowing When
We're Not Wanted" -- ``request.notifyFinish()``.

Where it sits in a request's path: ``http.HTTPChannel`` reads the head and
body off the socket (with ``wire``), fills in a request and calls
``requestReceived``, which parses the target and form arguments and calls
``process()``.  This base class answers 404 there; ``server.Request``
overrides ``process`` to walk the resource tree and render.  Whatever
renders then writes the response through this module, and only this one.

The response pipeline, top to bottom in the second half of the class:
steps 8 (write) and 9 (finish) of the journey docs/internals/design.rst
numbers, in the order a response goes out:

    8a. status and headers   setResponseCode, setHeader, addCookie...
    8b. framing decision     _startResponse, at the first write or finish:
                             ``wire.framingToSend`` -- Content-Length when
                             the application set one, chunks on HTTP/1.1,
                             the close on HTTP/1.0 (RFC 9112 §6.3)
    8c. the encoder          useEncoder: gzip and the like, a body filter
    8d. writes               write, writeFile (os.sendfile when it can)
    9a. the access log       the factory's log, before the last bytes go out
    9b. finish               the last chunk, or a cut if the body fell short;
                             then notifyFinish

Errors take the same road: ``respondWithError`` sets the status and
``error.pageResponse``'s page and finishes; ``processingFailed`` does so
with a 500 for an exception that is a bug.  ``write`` and ``finish`` may
be called from any thread: the socket writes are serialised by the
transport, and the request's own state changes happen under
``_stateLock``.

This module is re-exported as ``refweb.http.Request``.
"""

import io
import threading
import time
import urllib.parse

from refweb import error, grammar, wire
from refweb.http_headers import Headers
from refweb.internet import defer
from refweb.internet.error import ConnectionDone, ConnectionLost
from refweb.internet.protocol import copyFileRange
from refweb.python import log
from refweb.python.failure import Failure
from refweb.status import NOT_MODIFIED, PRECONDITION_FAILED, RESPONSES, phrase

CACHED = object()  # returned by setLastModified/setETag: "answer 304, send no body"
SERVER_NAME = "refweb"

# Statuses whose responses never carry a body (RFC 9110 §6.4.1), as
# wire.framingToSend counts them (with every 1xx).
_BODYLESS = wire.BODYLESS_STATUSES

_dateCache = [0, ""]  # [second, formatted]: one strftime per second, not per request


def _dateHeader():
    now = int(time.time())
    if _dateCache[0] != now:
        _dateCache[1] = wire.formatHTTPDate(now)
        _dateCache[0] = now
    return _dateCache[1]


def bodyLength(content):
    """The size of a request body the channel stored (``None``: no body),
    rewound to its start for whoever reads it next."""
    if content is None:
        return 0
    length = content.seek(0, io.SEEK_END)
    content.seek(0)
    return length


def _bytes(data):
    if isinstance(data, str):
        return data.encode("utf-8")
    return bytes(data)


class Request:
    """One HTTP request and its response; see the module docstring."""

    method = "GET"
    uri = "/"
    path = "/"
    clientproto = "HTTP/1.1"
    content = None
    maxFormBytes = 16 * 1024 * 1024  # bodies larger than this are not parsed into args
    maxFormFields = 10000  # a form body with more fields is refused: 413

    # A fresh request's state.  The values that are never changed in place
    # are class attributes, so that __init__, run once per request served,
    # sets only what each request must have of its own.
    code = 200
    code_message = "OK"
    startedWriting = False
    finished = False
    sentLength = 0
    etag = None
    lastModified = None
    _disconnected = False
    # How the body is framed, decided at the first write (_startResponse):
    # "length", "chunked", "none" (no body) or "close".  Until then (and when
    # a caller marks startedWriting itself, as static's as-is files do),
    # "close": bytes go out as they are.
    _framing = "close"
    _cutMidResponse = False  # write() found the client gone (see _noticeLostTransport)
    smallFileBytes = 65536  # writeFile: a file body this small goes out with the head
    _declaredLength = None  # with "length": the Content-Length promised
    _encoder = None  # the body filter (useEncoder), if any
    _textBody = False  # the body was given as str: a default text/html says utf-8
    defaultContentType = None  # server.Request: "text/html"; None adds no Content-Type
    displayTracebacks = False  # server.Request: its Site's setting
    _forceSSL = False
    _receivedCookies = None
    _host = None
    _client = None

    def __init__(self, channel, queued=False):
        """``queued`` is accepted for compatibility with Twisted's signature
        and kept as an attribute; nothing in refweb reads it (a connection
        answers one request at a time, so none is ever queued)."""
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
                _, host, port, target = wire.splitAbsoluteTarget(target)
            except error.Error as exc:  # the channel checked it; a caller may not have
                self.respondWithError(exc)
                return
            self._useTargetAuthority(host, port)
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

    def _useTargetAuthority(self, host, port):
        """RFC 9112 §3.2.2: with an absolute-form target, the server MUST
        ignore Host and use the target's host; getRequestHostname, getHost
        and the URLs built from them all see it."""
        from refweb.internet.address import IPv4Address
        self.requestHeaders.setRawHeaders("host", ["%s:%d" % (host, port)])
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
        values = self.requestHeaders.getRawHeaders(name)
        return values[-1] if values else None

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
        return self._receivedCookies.get(_text(name))

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
        host = _text(host)
        self._forceSSL = bool(ssl)
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
        if self._forceSSL:
            return True
        return bool(getattr(self.transport, "isTLS", False))

    # -- the response -----------------------------------------------------
    def setResponseCode(self, code, message=None):
        self.code = int(code)
        self.code_message = _text(message) if message else phrase(self.code)

    def setHeader(self, name, value):
        """Set a response header, replacing earlier values.  CR/LF -> ValueError."""
        self.responseHeaders.setRawHeaders(name, [value])

    def addCookie(self, k, v, expires=None, domain=None, path=None, max_age=None,
                  comment=None, secure=None, httpOnly=False, sameSite=None):
        """Queue a Set-Cookie header for the response."""
        parts = ["%s=%s" % (_text(k), _text(v))]
        for label, value in (("Expires", expires), ("Domain", domain), ("Path", path),
                             ("Max-Age", max_age), ("Comment", comment),
                             ("SameSite", sameSite)):
            if value is not None:
                parts.append("%s=%s" % (label, _text(value)))
        if secure:
            parts.append("Secure")
        if httpOnly:
            parts.append("HttpOnly")
        cookie = "; ".join(parts)
        if "\r" in cookie or "\n" in cookie:
            raise ValueError("a cookie may not contain CR or LF: %r" % (cookie,))
        self.cookies.append(cookie)

    def redirect(self, url):
        self.setResponseCode(302)
        self.setHeader("location", url)

    def setLastModified(self, when):
        """Record Last-Modified; returns CACHED when If-Modified-Since says 304."""
        when = int(when)
        if self.lastModified is None or when > self.lastModified:
            self.lastModified = when
        since = self.getHeader("if-modified-since")
        # RFC 9110 §13.1.3: If-Modified-Since is ignored when If-None-Match is present
        if since and self.getHeader("if-none-match") is None:
            sinceSeconds = wire.parseHTTPDate(since.split(";", 1)[0])
            if sinceSeconds is not None and sinceSeconds >= self.lastModified:
                self.setResponseCode(NOT_MODIFIED)
                return CACHED
        return None

    def setETag(self, etag):
        """Record an ETag; returns CACHED when If-None-Match matches it."""
        if not etag:
            return None
        self.etag = _text(etag)
        tags = self.getHeader("if-none-match")
        if tags:
            candidates = [t.strip() for t in tags.split(",")]
            weak = lambda t: t[2:] if t.startswith("W/") else t
            if "*" in candidates or weak(self.etag) in [weak(t) for t in candidates]:
                code = NOT_MODIFIED if self.method in ("GET", "HEAD") else PRECONDITION_FAILED
                self.setResponseCode(code)
                return CACHED
        return None

    # == the response pipeline, in the order a response goes out ==========
    #
    #   8a. status and headers   setResponseCode, setHeader, addCookie (above)
    #   8b. framing decision     _startResponse, at the first write or finish:
    #                            wire.framingToSend says length, chunks, close
    #                            or no body; formatHead makes the head's bytes
    #   8c. the encoder          an optional body filter (useEncoder): write
    #                            passes each piece through it, finish flushes it
    #   8d. writes               write / writeFile -> _frame -> the transport
    #   9a. the access log       _logAccess, before the last bytes go out
    #   9b. finish               _sendEnd: the last chunk, or a cut if the body
    #                            fell short; then notifyFinish's Deferreds
    #
    # Errors take the same road: respondWithError sets a status and the page
    # of error.pageResponse, then writes and finishes like any response.

    def _noticeLostTransport(self):
        """If the transport closed under this response (the client left or
        stopped reading for writeTimeout), tell notifyFinish listeners now.

        Without this, a writer in another thread could write its whole body
        into a closed socket -- every write silently dropped -- and then
        finish() before the channel's thread noticed: notifyFinish would say
        "finished" for a response the client never got.  A later finish()
        only wraps the request up (see finish).
        """
        if getattr(self.transport, "disconnected", False) and not self.finished:
            with self._stateLock:
                if self.finished or self._disconnected:
                    return
                self._cutMidResponse = True
            self.connectionLost(Failure(ConnectionLost("the connection closed mid-response")))

    def useEncoder(self, encoder):
        """Step 8c: pass the body through ``encoder`` (``encode(data)`` ->
        bytes, ``finish()`` -> the last bytes), e.g. gzip.  Set by
        ``resource.EncodingResourceWrapper`` before rendering; the encoded
        body's length is unknown, so a Content-Length the application sets
        is dropped (but ``_sendWholeBody`` sets the encoded one)."""
        self._encoder = encoder

    def _startResponse(self):
        """Steps 8a-8b, once, at the first write (or a finish with nothing
        written): complete the headers, decide the framing, return the head.

        A subclass that sends its response some other way than an HTTP/1.x
        head (distrib's relay) overrides this.
        """
        self.startedWriting = True
        headers = self.responseHeaders
        if self._encoder is not None:
            headers.removeHeader("content-length")
        self.setDefaultContentType()
        version = "HTTP/1.1" if self.clientproto == "HTTP/1.1" else "HTTP/1.0"
        declared = headers.getFirst("content-length")
        self._framing, length = wire.framingToSend(version, self.method, self.code, declared)
        if self.code in _BODYLESS or self.code < 200:
            # RFC 9110 §8.6 / RFC 9112 §6.1: these never describe a body.
            headers.removeHeader("content-length")
            headers.removeHeader("transfer-encoding")
        elif self._framing == "none":  # HEAD: a stated length is the GET's, kept
            pass
        elif self._framing == "length":
            self._declaredLength = length
        elif self._framing == "chunked":
            headers.setRawHeaders("transfer-encoding", ["chunked"])
        else:  # "close": only the end of the connection ends the body
            self.channel.persistent = False
        return self.formatHead(version)

    def setDefaultContentType(self):
        """No Content-Type set: ``defaultContentType`` (server.Request's is
        text/html), with charset=utf-8 when the body was given as str.

        ``defaultContentType = None`` (the base class's, and what
        WSGIResource sets) adds none: the headers go out as they were set."""
        if self.defaultContentType is None:
            return
        if not self.responseHeaders.hasHeader("content-type") and self.code not in _BODYLESS:
            contentType = self.defaultContentType
            if self._textBody and contentType == "text/html":
                contentType = "text/html; charset=utf-8"
            self.responseHeaders.setRawHeaders("content-type", [contentType])

    def formatHead(self, version=None):
        """The head's bytes for the status and headers as they stand now.

        Changes nothing (the framing was decided by ``_startResponse``);
        ``outgoingHeaders`` gives the header lines alone.
        """
        if version is None:
            version = "HTTP/1.1" if self.clientproto == "HTTP/1.1" else "HTTP/1.0"
        lines = ["%s %d %s" % (version, self.code, self.code_message)]
        lines += [name + ": " + value for name, value in self.outgoingHeaders()]
        connection = self.channel.connectionHeader(version)
        if connection:
            lines.append(connection)
        lines.append("\r\n")
        head = "\r\n".join(lines)
        if self.channel.wireLog:
            self.channel.logWire("response", head)
        return head.encode("latin-1")

    def outgoingHeaders(self):
        """(name, value) for every header line of the response, in order."""
        headers = self.responseHeaders
        pairs = headers.items()
        if not headers.hasHeader("date"):
            pairs.append(("Date", _dateHeader()))
        if not headers.hasHeader("server"):
            pairs.append(("Server", SERVER_NAME))
        if self.lastModified is not None and not headers.hasHeader("last-modified"):
            pairs.append(("Last-Modified", wire.formatHTTPDate(self.lastModified)))
        if self.etag is not None and not headers.hasHeader("etag"):
            pairs.append(("ETag", self.etag))
        pairs.extend(("Set-Cookie", cookie) for cookie in self.cookies)
        return pairs

    def write(self, data):
        """Step 8d: send part of the body (the head goes first, on the first call).

        ``data`` is bytes, or str (sent as UTF-8, and then a default
        text/html Content-Type says charset=utf-8).
        """
        if self.finished:
            raise RuntimeError("Request.write called on a request after Request.finish was called.")
        if type(data) is not bytes:
            if isinstance(data, str):
                self._textBody = True
            data = _bytes(data)
        if self._disconnected:
            return
        if self._encoder is not None:
            data = self._encoder.encode(data)
        if not self.startedWriting:
            self.transport.write(self._startResponse() + self._frame(data))
        elif data:
            self.transport.write(self._frame(data))
        self._noticeLostTransport()

    def _sendWholeBody(self, body):
        """The whole body at once (what a render method returned): it gets
        a Content-Length -- after the encoder, so an encoded body has its
        length too -- and the response is finished."""
        if not self.startedWriting:
            if self._encoder is not None:
                encoder, self._encoder = self._encoder, None
                body = encoder.encode(body) + encoder.finish()
            self.responseHeaders.setRawHeaders("content-length", [str(len(body))])
        self.write(body)
        self.finish()

    def _frame(self, data):
        """Body bytes as they go on the wire, by the framing decided in step 8b."""
        framing = self._framing
        if framing == "none" or not data:
            return b""
        if framing == "length":
            room = self._declaredLength - self.sentLength
            if len(data) > room:
                # More than Content-Length promised: the extra bytes would be read
                # as the start of the next response, so they are dropped, and the
                # connection closes after this response.
                log.msg("Warning: %r wrote past its Content-Length; %d bytes dropped"
                        % (self, len(data) - room))
                self.channel.persistent = False
                data = data[:room]
        self.sentLength += len(data)
        return wire.formatChunk(data) if framing == "chunked" else data

    def writeFile(self, fileobj, offset, count):
        """Step 8d for a file: send ``count`` bytes of it, from ``offset``, as body.

        With a Content-Length set and nothing transforming the body, the
        kernel copies the file straight to the socket (os.sendfile), so
        memory use does not grow with the file's size.  Otherwise (an
        encoder, or chunks) the file is copied through ``write`` in 64 KiB
        pieces, as is a whole body of at most ``smallFileBytes``, which then
        goes out with the head.  Returns False if the client went away before the end.
        """
        if self._encoder is not None:
            return self._copyFile(fileobj, offset, count)
        if not self.startedWriting and count <= self.smallFileBytes:
            # One send for the head and a small body: one packet, where a head
            # then a sendfile are two.  A 4 KiB file at 50 keep-alive clients:
            # 8-15 % more requests/s and half the p99 latency (wrk, three
            # interleaved rounds on two cores).
            return self._copyFile(fileobj, offset, count)
        if not self.startedWriting:
            self.transport.write(self._startResponse())
        if self._framing == "none":
            return not self._disconnected
        if self._framing == "chunked":
            return self._copyFile(fileobj, offset, count)
        if self._disconnected or not self.transport.sendFile(fileobj, offset, count):
            return False
        self.sentLength += count
        return True

    def _copyFile(self, fileobj, offset, count):
        return copyFileRange(fileobj, offset, count, self.write,
                             isGone=lambda: self._disconnected or self.transport.disconnected)

    def finish(self):
        """Steps 9a and 9b: the response is complete.  Safe to call from any thread, once."""
        if self.startedWriting:
            self._noticeLostTransport()
        with self._stateLock:
            if self._disconnected and not self._cutMidResponse:
                raise RuntimeError("Request.finish called on a request after its connection "
                                   "was lost; use Request.notifyFinish to keep track of this.")
            if self.finished:
                log.msg("Warning: Request.finish called twice on %r" % (self,))
                return
            if self._encoder is not None:
                encoder, self._encoder = self._encoder, None
                tail = encoder.finish()
                if tail or not self.startedWriting:
                    self._writeUnencoded(tail)
            # Logged before the last bytes go out: once the client has its
            # answer it may stop the server, and the line must not be lost.
            self._logAccess()
            if not self._cutMidResponse:  # else notifyFinish was told; nothing can be sent
                self._sendEnd()
            self.finished = True
            deferreds, self._finishDeferreds = self._finishDeferreds, []
        self.channel.requestDone(self)
        for d in deferreds:
            d.callback(None)

    def _sendEnd(self):
        """Step 9b: the head if nothing was written, the last chunk, or a cut
        for a body that fell short of its Content-Length."""
        if not self.startedWriting:
            if not self.responseHeaders.hasHeader("content-length") and \
                    self.code not in _BODYLESS and self.code >= 200:
                self.responseHeaders.setRawHeaders("content-length", ["0"])
            self.transport.write(self._startResponse())
        elif self._framing == "chunked":
            self.transport.write(wire.LAST_CHUNK)
        elif self._framing == "length" and self.sentLength < self._declaredLength:
            # Fewer bytes than promised: only closing tells the client so.
            log.msg("Warning: %r finished %d bytes short of its Content-Length"
                    % (self, self._declaredLength - self.sentLength))
            self.channel.persistent = False
            self.transport.loseConnection()

    def _writeUnencoded(self, data):
        """The encoder's last bytes: written as they are (the head first if need be)."""
        if not self.startedWriting:
            self.transport.write(self._startResponse() + self._frame(data))
        else:
            self.transport.write(self._frame(data))

    def _logAccess(self):
        """Step 9a: one line in the factory's access log (Site(logPath=...))."""
        writeLog = getattr(getattr(self.channel, "factory", None), "log", None)
        if writeLog is not None:
            try:
                writeLog(self)
            except Exception:
                log.err(None, "Error writing the access log:")

    def notifyFinish(self):
        """A Deferred: fires None when the response is done, errbacks if the client left first."""
        with self._stateLock:
            if self.finished:
                return defer.succeed(None)
            if self._disconnected:
                return defer.fail(Failure(ConnectionDone()))
            d = defer.Deferred()
            self._finishDeferreds.append(d)
            return d

    def connectionLost(self, reason):
        """The client went away before finish(); tell notifyFinish listeners."""
        with self._stateLock:
            if self.finished or self._disconnected:
                return
            self._disconnected = True
            deferreds, self._finishDeferreds = self._finishDeferreds, []
        for d in deferreds:
            d.errback(reason)

    def loseConnection(self):
        self.transport.loseConnection()

    # -- errors: the same pipeline, with error.pageResponse's page ----------
    def respondWithError(self, exc):
        """Answer with the error page of ``exc`` (a ``refweb.error.Error``),
        or cut the connection if the response has already begun.

        The page goes out as it is, not through an encoder; headers the
        application had set stay (cookies, for one), but any
        Content-Encoding does not, since the page is not encoded.
        """
        if self.startedWriting:
            log.msg("Error after the response started (%s); closing the connection" % exc)
            self.loseConnection()
            return
        self._encoder = None
        self.responseHeaders.removeHeader("content-encoding")
        self.setResponseCode(exc.code, exc.message)
        headers, body = error.pageResponse(exc)
        for name, value in headers:
            self.responseHeaders.setRawHeaders(name, [value])
        self.write(body)
        self.finish()

    def processingFailed(self, reason):
        """An exception that is not an ``error.Error`` -- a bug: log it with
        its traceback and answer 500 (or cut a response already begun).  The
        page shows the traceback only when ``displayTracebacks`` is on."""
        log.err(reason, "Error processing %s %s:" % (self.method, self.uri))
        if self.finished:
            return
        if self.startedWriting:
            self.loseConnection()
            return
        detail = "An error occurred while processing this request."
        if self.displayTracebacks:
            detail = reason.getTraceback()
        self.respondWithError(error.InternalServerError(detail=detail))

    def __repr__(self):
        return "<%s at 0x%x method=%s uri=%s clientproto=%s>" % (
            type(self).__name__, id(self), self.method, self.uri, self.clientproto)


def _text(value):
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


__all__ = ["Request", "CACHED", "RESPONSES"]
