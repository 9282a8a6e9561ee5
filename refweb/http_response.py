# -*- test-case-name: tests.test_pipeline -*-
"""The response: what a render method sets and writes, on its way to the connection.

Guide: "Resource rendering" -- ``request.setHeader``, ``request.write``,
``request.finish``; "Request encoders" -- the encoder is a body filter
here; "Knowing When We're Not Wanted" -- ``request.notifyFinish()``.

``Response`` is the half of ``http_request.Request`` that answers (the
other half, in http_request.py, is what was asked).  It knows nothing of
sockets or of HTTP/1.1's framing: it talks to the connection the request
came on through ``ResponseChannel``, the small contract declared below,
which ``http.HTTPChannel`` implements over a socket, ``distrib``'s relay
implements as messages, and the tests' doubles implement in memory.

The pipeline, steps 8 and 9 of the journey (docs/internals/design.rst), in
the order a response goes out:

    8a. status and headers   setResponseCode, setHeader, addCookie...
    8b. the head             _startResponse, at the first write or finish:
                             complete the headers, then channel.sendHead,
                             where the connection chooses the framing
                             (Content-Length, chunks, or the close)
    8c. the encoder          useEncoder: gzip and the like, a body filter
    8d. writes               write, writeFile -> channel.sendData/sendFile
    9a. the access log       channel.logAccess, before the last bytes go out
    9b. finish               channel.endResponse (the last chunk, or a cut
                             if the body fell short); then notifyFinish

Errors take the same road: ``respondWithError`` sets the status and
``error.pageResponse``'s page and finishes; ``processingFailed`` does so
with a 500 for an exception that is a bug.  ``write`` and ``finish`` may
be called from any thread: the channel serialises the socket writes, and
the request's own state changes happen under ``_stateLock``.

Start reading at ``Response.write``.
"""


from refweb import error, wire
from refweb.http_headers import toText
from refweb.internet import defer
from refweb.internet.error import ConnectionDone, ConnectionLost
from refweb.internet.protocol import copyFileRange
from refweb.python import log
from refweb.python.clock import EverySecond
from refweb.python.failure import Failure
from refweb.status import NOT_MODIFIED, PRECONDITION_FAILED, phrase

CACHED = object()  # returned by setLastModified/setETag: "answer 304, send no body"
SERVER_NAME = "refweb"

# Statuses whose responses never carry a body (RFC 9110 §6.4.1), with every 1xx.
_BODYLESS = wire.BODYLESS_STATUSES

_dateHeader = EverySecond(wire.formatHTTPDate)


class ResponseChannel:
    """What a response needs from the connection it goes out on.

    The contract between a request and its channel: ``http.HTTPChannel``
    implements it over a socket (HTTP/1.1), ``distrib``'s relay as
    messages to the user server, the tests' doubles in memory.  Calls go
    one way, from the request down; the channel never calls the request
    back but for ``connectionLost``.

    Methods the request calls, from whichever thread writes the response::

        sendHead(request, code, reason, headers)  the status and header
                              lines, [(name, value)]; the channel adds the
                              framing (Content-Length, chunks, Connection)
        startRawResponse(request)  instead of sendHead: the body is a whole
                              response, head and all (as-is files)
        sendData(data)        body bytes; returns how many went as body
        sendFile(fileobj, offset, count)  a file range as body; returns how
                              many bytes went, None if the client left
        endResponse(request)  the body is complete; keep the connection or
                              close it, as the channel's rules say
        logAccess(request)    one access-log line
        abortConnection()     cut the connection: the response cannot end well

    Attributes: ``transport`` (getPeer, getHost, isTLS, disconnected) and
    ``site`` (the Site, or None).
    """

    transport = None
    site = None

    def sendHead(self, request, code, reason, headers):
        raise NotImplementedError

    def startRawResponse(self, request):
        raise NotImplementedError

    def sendData(self, data):
        raise NotImplementedError

    def sendFile(self, fileobj, offset, count):
        raise NotImplementedError

    def endResponse(self, request):
        raise NotImplementedError

    def logAccess(self, request):
        """The default keeps no log."""

    def abortConnection(self):
        raise NotImplementedError


def _bytes(data):
    if isinstance(data, str):
        return data.encode("utf-8")
    return bytes(data)


class Response:
    """The answering half of a request; see the module docstring.

    ``http_request.Request`` inherits it; ``self.channel`` is a ResponseChannel.
    """

    # A fresh response's state.  The values that are never changed in place
    # are class attributes, so that a request's __init__ sets only what each
    # request must have of its own.
    code = 200
    code_message = "OK"
    startedWriting = False
    finished = False
    sentLength = 0
    etag = None
    lastModified = None
    _disconnected = False
    _cutMidResponse = False  # write() found the client gone (see _noticeLostTransport)
    smallFileBytes = 65536  # writeFile: a file body this small goes out with the head
    _encoder = None  # the body filter (useEncoder), if any
    _textBody = False  # the body was given as str: a default text/html says utf-8
    defaultContentType = None  # server.Request: "text/html"; None adds no Content-Type
    displayTracebacks = False  # server.Request: its Site's setting

    # -- 8a. status and headers ----------------------------------------------
    def setResponseCode(self, code, message=None):
        self.code = int(code)
        self.code_message = toText(message) if message else phrase(self.code)

    def setHeader(self, name, value):
        """Set a response header, replacing earlier values.  CR/LF -> ValueError."""
        self.responseHeaders.setRawHeaders(name, [value])

    def addCookie(self, k, v, expires=None, domain=None, path=None, max_age=None,
                  comment=None, secure=None, httpOnly=False, sameSite=None):
        """Queue a Set-Cookie header for the response."""
        parts = ["%s=%s" % (toText(k), toText(v))]
        for label, value in (("Expires", expires), ("Domain", domain), ("Path", path),
                             ("Max-Age", max_age), ("Comment", comment),
                             ("SameSite", sameSite)):
            if value is not None:
                parts.append("%s=%s" % (label, toText(value)))
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
        self.etag = toText(etag)
        tags = self.getHeader("if-none-match")
        if tags:
            candidates = [t.strip() for t in tags.split(",")]
            weak = lambda t: t[2:] if t.startswith("W/") else t
            if "*" in candidates or weak(self.etag) in [weak(t) for t in candidates]:
                code = NOT_MODIFIED if self.method in ("GET", "HEAD") else PRECONDITION_FAILED
                self.setResponseCode(code)
                return CACHED
        return None

    # -- 8b. the head -----------------------------------------------------------
    def _startResponse(self):
        """Steps 8a-8b, once, at the first write (or a finish with nothing
        written): complete the headers and hand them to the channel, which
        frames them."""
        self.startedWriting = True
        if self._encoder is not None:
            self.responseHeaders.removeHeader("content-length")
        self.setDefaultContentType()
        self.channel.sendHead(self, self.code, self.code_message, self.outgoingHeaders())
        if self.journey is not None:
            self.journey.mark("8", "head framed (%d)" % self.code)

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

    def useEncoder(self, encoder):
        """Step 8c: pass the body through ``encoder`` (``encode(data)`` ->
        bytes, ``finish()`` -> the last bytes), e.g. gzip.  Set by
        ``resource.EncodingResourceWrapper`` before rendering; the encoded
        body's length is unknown, so a Content-Length the application sets
        is dropped (but ``_sendWholeBody`` sets the encoded one)."""
        self._encoder = encoder

    def startRawResponse(self):
        """The body that follows is a whole response, head and all (as-is
        files): no head of ours goes out, and the close ends the body."""
        self.startedWriting = True
        self.channel.startRawResponse(self)

    # -- 8d. writes -------------------------------------------------------------
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
            self._startResponse()
        self.sentLength += self.channel.sendData(data)
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

    def writeFile(self, fileobj, offset, count):
        """Step 8d for a file: send ``count`` bytes of it, from ``offset``, as body.

        With nothing transforming the body, the channel may let the kernel
        copy the file straight to the socket (os.sendfile), so memory use
        does not grow with the file's size.  With an encoder the file is
        copied through ``write`` in 64 KiB pieces, as is a whole body of at
        most ``smallFileBytes``, which then goes out with the head in one
        send.  Returns False if the client went away before the end.
        """
        if self._encoder is not None or (not self.startedWriting
                                         and count <= self.smallFileBytes):
            return self._copyFile(fileobj, offset, count)
        if not self.startedWriting:
            self._startResponse()
        if self._disconnected:
            return False
        sent = self.channel.sendFile(fileobj, offset, count)
        if sent is None:
            return False
        self.sentLength += sent
        return True

    def _copyFile(self, fileobj, offset, count):
        return copyFileRange(fileobj, offset, count, self.write,
                             isGone=lambda: self._disconnected or self.transport.disconnected)

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

    # -- 9. finish --------------------------------------------------------------
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
                    if not self.startedWriting:
                        self._startResponse()
                    self.sentLength += self.channel.sendData(tail)
            # Logged before the last bytes go out: once the client has its
            # answer it may stop the server, and the line must not be lost.
            self._logAccess()
            if self.journey is not None:
                self.journey.mark("9", "finish")
            if not self._cutMidResponse:  # else notifyFinish was told; nothing can be sent
                if not self.startedWriting:
                    if not self.responseHeaders.hasHeader("content-length") and \
                            self.code not in _BODYLESS and self.code >= 200:
                        self.responseHeaders.setRawHeaders("content-length", ["0"])
                    self._startResponse()
                self.channel.endResponse(self)
            self.finished = True
            deferreds, self._finishDeferreds = self._finishDeferreds, []
        for d in deferreds:
            d.callback(None)

    def _logAccess(self):
        """Step 9a: one line in the factory's access log (Site(logPath=...))."""
        try:
            self.channel.logAccess(self)
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

    @property
    def clientGone(self):
        """True once notifyFinish has been told the client left (connectionLost)."""
        return self._disconnected

    def loseConnection(self):
        """Cut the connection (a response that cannot be completed)."""
        self.channel.abortConnection()

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

