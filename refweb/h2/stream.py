# -*- test-case-name: tests.test_h2_channel -*-
"""One HTTP/2 stream as the ``ResponseChannel`` its request writes to.

Guide: "Resource rendering" and "Knowing When We're Not Wanted" (what
``request.write``, ``finish`` and ``notifyFinish`` do over HTTP/2).

Where it sits: ``h2.channel.H2Channel`` makes an ``H2Stream`` for each
request a client opens, and the request (``site.requestFactory``) is made
on it; the stream keeps its body (``takeBody``) and hands it to the Site
once whole (``render``, in a worker).  Each call of the
``ResponseChannel`` contract becomes frames:

    sendHead     HEADERS: ":status", then the headers, minus the
                 connection-specific ones (RFC 9113 §8.2.2)
    sendData     DATA, as flow control allows (the channel waits for it)
    sendFile     the file copied through sendData, in pieces
    endResponse  END_STREAM
    abortConnection, startRawResponse   RST_STREAM: this stream only

Start reading at ``H2Stream``.
"""

import io
import tempfile

from refweb.h2 import frames
from refweb.h2.fields import CONNECTION_SPECIFIC
from refweb.http_headers import Headers
from refweb.http_response import ResponseChannel
from refweb.internet.protocol import copyFileRange
from refweb.python.failure import Failure

BODYLESS = {204, 304}  # with every 1xx: no body (RFC 9110 §6.4.1), and none for HEAD


class StreamTransport:
    """A stream's request sees the connection's transport, but for two
    things: it is ``disconnected`` once the stream is gone (so the response
    stops, and notifyFinish says so), and losing it resets the stream only."""

    def __init__(self, stream, transport):
        self._stream = stream
        self._transport = transport

    @property
    def disconnected(self):
        return self._stream.gone or self._transport.disconnected

    def loseConnection(self):
        self._stream.h2.resetStream(self._stream, frames.CANCEL)

    abortConnection = loseConnection

    def __getattr__(self, name):  # getPeer, getHost, isTLS...: the connection's
        return getattr(self._transport, name)


class H2Stream(ResponseChannel):
    """One stream: the ResponseChannel its request writes its response to."""

    def __init__(self, channel, streamId):
        self.h2 = channel
        self.streamId = streamId
        self.transport = StreamTransport(self, channel.transport)
        self.site = channel.site
        self.factory = channel.factory
        self.request = None
        self.body = io.BytesIO()
        self.bodyBytes = 0
        self.gone = False  # reset, by either side, or the connection closed
        self.rendering = False  # its request is whole and in a worker's hands
        self.rendered = False  # render has returned: an open response waits for finish()
        self.bodyless = False
        self.remaining = None  # body bytes the response's Content-Length still allows

    def takeBody(self, data, maxBodySize, memoryBodyLimit):
        """Keep some of the request body; False once it is beyond maxBodySize."""
        self.bodyBytes += len(data)
        if self.bodyBytes > maxBodySize:
            return False
        if isinstance(self.body, io.BytesIO) and self.bodyBytes > memoryBodyLimit:
            spooled = tempfile.TemporaryFile()  # larger bodies wait on disk
            spooled.write(self.body.getvalue())
            self.body = spooled
        self.body.write(data)
        return True

    def render(self):
        """The request is whole: hand it to the Site (in a worker)."""
        if self.gone:
            return  # reset before its turn came
        request, pseudo = self.request, self.pseudo
        self.body.seek(0)
        request.content = self.body
        if "host" not in request.requestHeaders and ":authority" in pseudo:
            request.requestHeaders.setRawHeaders("host", [pseudo[":authority"]])
        try:
            request.requestReceived(pseudo[":method"], pseudo.get(":path", "/"), "HTTP/2")
        except Exception:
            request.processingFailed(Failure())
        self.rendered = True

    def lost(self, reason=None):
        """The stream is gone; tell its request (notifyFinish's errback).

        ``reason`` None: refweb cut it (a shut window, a body too large):
        the writer finds out at its next write, and its finish() only wraps
        up.  A ``reason``: the client left (RST_STREAM, or the connection
        closed).  Once render has returned, that is HTTP/1.1's client who
        hangs up while a response waits for finish(): the request loses
        its connection for ``reason``, and a later finish() raises (guide
        chapter 16), as it does over HTTP/1.1.
        """
        if reason is not None and self.rendered:
            self.request.connectionLost(reason)
        else:
            self.request._noticeLostTransport()

    def sendHead(self, request, code, reason, headers):
        self.bodyless = request.method == "HEAD" or code < 200 or code in BODYLESS
        fields = [(":status", str(code))]
        for name, value in headers:
            name = name.lower()
            if name in CONNECTION_SPECIFIC:
                continue  # RFC 9113 §8.2.2: they mean nothing here
            if name == "content-length" and not self.bodyless and value.isdigit():
                self.remaining = int(value)
            fields.append((name, value))
        self.h2.act(lambda conn: conn.sendHeaders(self.streamId, fields, self.bodyless))

    def startRawResponse(self, request):
        """An as-is response carries an HTTP/1.1 head: say HTTP/1.1 is required (§7)."""
        self.h2.resetStream(self, frames.HTTP_1_1_REQUIRED)

    def sendData(self, data):
        """Send body bytes as flow control allows; how many went."""
        if self.bodyless:
            return 0
        if self.remaining is not None:  # never past the Content-Length it announced
            data, self.remaining = data[:self.remaining], max(0, self.remaining - len(data))
        return self.h2.sendData(self, data)

    def sendFile(self, fileobj, offset, count):
        return copyFileRange(fileobj, offset, count, self.sendData, isGone=lambda: self.gone)

    def endResponse(self, request):
        self.h2.endStream(self)

    def logAccess(self, request):
        if self.factory is not None and hasattr(self.factory, "log"):
            self.factory.log(request)

    def abortConnection(self):
        """The response cannot end well: only this stream is cut."""
        self.h2.resetStream(self, frames.INTERNAL_ERROR)


def requestHeaders(fields):
    """A request's regular fields as Headers; HTTP/2's separate cookie
    fields joined into one, as HTTP/1.1 would carry them (§8.2.3)."""
    headers = Headers()
    cookies = [value for name, value in fields if name == "cookie"]
    headers._addTrustedFields((name, value) for name, value in fields
                              if not name.startswith(":") and name != "cookie")
    if cookies:
        headers.setRawHeaders("cookie", ["; ".join(cookies)])
    return headers
