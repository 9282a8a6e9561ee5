# -*- test-case-name: tests.test_proxy -*-
"""Proxies and reverse proxies: relay a request to another server and back.

Guide: "Proxies and reverse proxies" (and "Using VHostMonster" for a
ReverseProxyResource in front of an internal server).

The classes, and how they fit (the guide's own description)::

    Proxy(HTTPChannel)             requestFactory = ProxyRequest
      ProxyRequest(http.Request)   process(): absolute URI -> connectTCP
        ProxyClientFactory         makes one ProxyClient per upstream connection
          ProxyClient(HTTPClient)  sends the request, relays the response
    ReverseProxy(HTTPChannel)      requestFactory = ReverseProxyRequest
      ReverseProxyRequest          every request goes to factory.host:port
    ReverseProxyResource           a Resource: the path below it goes upstream

A proxied request's journey: the worker thread serving the client's
connection has read the request and calls ``process()`` (or ``render()`` for the resource), which
calls ``reactor.connectTCP``.  That starts a *client thread* which sends the
request upstream and, for each piece of the answer, calls
``father.write(data)`` on the client's request.  ``write`` blocks while the
client is slow, so the client thread stops reading from the upstream and
TCP pushes back on it: a 100 MiB response passes through in 64 KiB pieces.
The relay ends with ``father.finish()``, which lets the client's
connection take its next request.

What is *not* relayed (RFC 9110 section 7.6.1): hop-by-hop headers, which
describe one connection and not the message -- Connection, Keep-Alive,
Proxy-Authenticate, Proxy-Authorization, Proxy-Connection, TE, Trailer,
Transfer-Encoding, Upgrade, and any header named in Connection.  The
request is framed afresh for the upstream: a body goes on with a
Content-Length we computed, never with the client's Transfer-Encoding, so a
request cannot mean one thing to us and another upstream ("smuggling").

Failures become pages: a bad proxy URI 400, CONNECT 501, an upstream that
cannot be reached 502, one that answers garbage 502, one that stays silent
longer than ``timeout`` seconds 504.  Once part of the answer has gone to
the client, a failure can only cut the connection, so that the client sees
a truncated message rather than a complete-looking wrong one.  The pages
are the ones every refweb error gets (``errorPage`` ->
``Request.respondWithError`` -> ``error.pageResponse``); the upstream's
response is framed by the rules the server uses (``wire.responseFraming``,
through HTTPClient).

Start reading at ``ProxyRequest.process``.
"""

import threading
import urllib.parse

from refweb import error, http, wire
from refweb.http_headers import Headers, toText
from refweb.http_request import bodyLength
from refweb.httpclient import HTTPClient
from refweb.internet import error as netError
from refweb.internet import protocol
from refweb.internet import reactor as globalReactor
from refweb.python import log
from refweb.resource import Resource
from refweb.server import NOT_DONE_YET

# Request headers the proxy writes itself rather than copying: the framing
# (we know the body's length) and Expect (our channel already said 100).
_REFRAMED = frozenset(["host", "content-length", "expect"])
# RFC 3986 pchar: what may stay unescaped in a path segment ("/" may not).
_PCHAR_SAFE = "!$&'()*+,;=:@"
_COPY_SIZE = 65536


def hostHeader(host, port, defaultPort=80):
    """'example.com' for port 80, else 'example.com:8080'; IPv6 in brackets."""
    if ":" in host and not host.startswith("["):
        host = "[%s]" % (host,)
    return host if port == defaultPort else "%s:%d" % (host, port)


def upstreamHeaders(request, host, forwardedFor=False):
    """[(name, value)] for the upstream: the client's end-to-end headers,
    a fresh Host, a computed Content-Length, and optionally X-Forwarded-For."""
    received = request.requestHeaders
    drop = wire.hopByHopNames(received.getRawHeaders("connection", ())) | _REFRAMED
    if forwardedFor:
        drop = drop | {"x-forwarded-for"}
    headers = [("Host", host)]
    for name, values in received.getAllRawHeaders():
        if name.lower() not in drop:
            headers.extend((name, value) for value in values)
    if forwardedFor:
        chain = received.getRawHeaders("x-forwarded-for", [])
        headers.append(("X-Forwarded-For", ", ".join(chain + [request.getClientIP() or "unknown"])))
    length = bodyLength(request.content)
    if length or received.hasHeader("content-length") or received.hasHeader("transfer-encoding"):
        headers.append(("Content-Length", str(length)))
    headers.append(("Connection", "close"))   # one request per upstream connection
    return headers


def errorPage(request, code, detail):
    """Answer ``request`` with refweb's error page (nothing sent yet): the
    upstream's headers are dropped, the page is error.pageResponse's."""
    request.responseHeaders = Headers()
    try:
        request.respondWithError(error.Error(code, detail=detail))
    except RuntimeError:
        pass   # the client left meanwhile; nobody to tell


def cutConnection(request):
    """Part of a response went out and the rest never will: close the
    client's connection so the message is visibly incomplete (a chunked
    body without its last chunk, or fewer bytes than Content-Length).
    ``finish()`` then only releases the channel thread: its bytes go nowhere."""
    request.loseConnection()
    try:
        request.finish()
    except RuntimeError:
        pass


class ProxyClient(HTTPClient):
    """Sends one request upstream and relays the answer to ``father``.

    ``father`` is the client's request; every outcome ends it exactly once
    (``_settle``), whichever thread sees the outcome first: this client
    thread (response end, truncation, garbage) or the client's channel
    thread (the client hung up: ``notifyFinish`` errback).
    """

    requestVersion = "HTTP/1.1"   # so upstreams may stream with chunked framing

    def __init__(self, command, rest, version, headers, data, father):
        self.command = toText(command)
        self.rest = toText(rest)
        self.version = toText(version)
        self.headers = list(headers.items()) if isinstance(headers, dict) else list(headers)
        self.data = data
        self.father = father
        self.requestMethod = self.command
        self._lock = threading.Lock()   # guards _settled
        self._settled = False
        self._status = (502, "")
        self._responseHeaders = []

    def _settle(self):
        """True for the one caller that gets to end the father's response."""
        with self._lock:
            if self._settled:
                return False
            self._settled = True
            return True

    # -- sending ------------------------------------------------------------

    def connectionMade(self):
        timeout = getattr(self.factory, "timeout", None)
        if timeout:
            # Each wait for the upstream is bounded; HTTPClient.handleConnection
            # turns a wait that runs out into a TimeoutError (-> 504).
            self.transport.socket.settimeout(timeout)
        self.father.notifyFinish().addErrback(self._fatherGone)
        try:
            self.sendCommand(self.command, self.rest)
            for name, value in self.headers:
                self.sendHeader(name, value)
            self.endHeaders()
            self._sendBody()
        except Exception as exc:
            log.err(None, "Could not send the request upstream:")
            self._fail(502, "the request could not be sent upstream: %s" % (exc,))
            self.transport.abortConnection()

    def _sendBody(self):
        """Copy the request body upstream in blocks (never all in memory)."""
        data = self.data
        if isinstance(data, (bytes, bytearray)):
            self.transport.write(bytes(data))
            return
        while data is not None and not self.transport.disconnected:
            try:
                block = data.read(_COPY_SIZE)
            except ValueError:  # closed: the client left (HTTPChannel._releaseBody)
                return
            if not block:
                break
            self.transport.write(block)

    # -- relaying -------------------------------------------------------------

    def handleStatus(self, version, status, message):
        self._status = (int(status), message)

    def handleHeader(self, key, value):
        self._responseHeaders.append((key, value))

    def handleEndHeaders(self):
        code, message = self._status
        if code == 101:
            self._fail(502, "the upstream tried to switch protocols")
            self.transport.abortConnection()
            return
        names = [n.lower() for n, _ in self._responseHeaders]
        drop = wire.hopByHopNames(wire.fieldValues(self._responseHeaders, "connection"))
        if "transfer-encoding" in names:
            drop = drop | {"content-length"}   # RFC 9112 section 6.3: TE wins
        grouped = {}
        for name, value in self._responseHeaders:
            if name.lower() not in drop:
                grouped.setdefault(name, []).append(value)
        with self._lock:
            if self._settled:
                return
            self.father.setResponseCode(code, message)
            for name, values in grouped.items():
                self.father.responseHeaders.setRawHeaders(name, values)

    def handleResponsePart(self, data):
        if self._settled:
            return
        try:
            self.father.write(data)   # blocks while the client is slow: backpressure
        except RuntimeError:
            pass   # finished meanwhile by _fatherGone; the check below agrees
        if self._settled or self.father.transport.disconnected:
            self._fatherGone(None)

    def handleResponseEnd(self):
        if self._settle():
            try:
                self.father.finish()
            except RuntimeError:
                pass   # the client hung up just as the response ended
        self.transport.loseConnection()

    # -- the unhappy paths ------------------------------------------------------

    def handleResponseTruncated(self, reason):
        if reason is not None and reason.check(netError.TimeoutError):
            self._fail(504, "the upstream did not answer within %s seconds"
                       % getattr(self.factory, "timeout", "?"))
        else:
            self._fail(502, "the upstream closed the connection before the response ended")

    def handleMalformedResponse(self, why):
        self._fail(502, "the upstream sent a malformed response: %s" % (why,))
        self.transport.abortConnection()

    def _fail(self, code, detail):
        if not self._settle():
            return
        if self.father.startedWriting:  # too late for a page: the client's head is out
            log.msg("proxy: %s %s: %s; the client's connection cut"
                    % (self.command, self.rest, detail))
            cutConnection(self.father)
        else:
            log.msg("proxy: %s %s -> %d: %s" % (self.command, self.rest, code, detail))
            errorPage(self.father, code, detail)

    def _fatherGone(self, reason):
        """The client left: stop talking to the upstream."""
        if self._settle():
            self.transport.abortConnection()
            cutConnection(self.father)


class ProxyClientFactory(protocol.ClientFactory):
    """Builds the ProxyClient for one upstream connection; answers for it
    when the connection cannot be made."""

    protocol = ProxyClient
    timeout = 30.0   # the requester sets its own; see ProxyRequest.timeout

    def __init__(self, command, rest, version, headers, data, father):
        self.command, self.rest, self.version = command, rest, version
        self.headers, self.data, self.father = headers, data, father

    def buildProtocol(self, addr):
        client = self.protocol(self.command, self.rest, self.version,
                               self.headers, self.data, self.father)
        client.factory = self
        return client

    def clientConnectionFailed(self, connector, reason):
        if reason.check(netError.TimeoutError):
            code = 504
        else:
            code = 502
        detail = "could not connect to %s:%s: %s" % (
            connector.host, connector.port, reason.getErrorMessage())
        log.msg("proxy: %s" % (detail,))
        errorPage(self.father, code, detail)


def relay(request, reactor, factoryClass, host, port, rest, headers, timeout):
    """Start relaying ``request`` to host:port; the client thread ends it."""
    factory = factoryClass(request.method, rest, request.clientproto, headers,
                           request.content, request)
    factory.timeout = timeout
    reactor.connectTCP(host, port, factory, timeout)


class ProxyRequest(http.Request):
    """A request to a forward proxy: ``GET http://host:port/path HTTP/1.1``.

    Subclass it to change how requests are processed or logged (the guide's
    advice): override ``process``, or ``parseTarget`` to vet destinations.
    """

    protocols = {"http": ProxyClientFactory}
    ports = {"http": 80}
    timeout = 30.0   # seconds to connect, and for each wait on the upstream

    def __init__(self, channel, queued=False, reactor=None):
        http.Request.__init__(self, channel, queued)
        self.reactor = reactor if reactor is not None else globalReactor

    def parseTarget(self):
        """(scheme, host, port, origin-form target) from the absolute URI."""
        if self.method == "CONNECT":
            raise error.NotImplementedMethod(detail="CONNECT tunnels are not supported")
        parts = urllib.parse.urlsplit(self.uri)
        scheme = parts.scheme.lower()
        if scheme not in self.protocols:
            raise error.BadRequest(detail="a proxy needs an absolute URI with one of the "
                                   "schemes %s" % ", ".join(sorted(self.protocols)))
        try:
            host, port = parts.hostname, parts.port
        except ValueError:
            host = port = None
        if not host:
            raise error.BadRequest(detail="the URI has no host, or a bad port")
        rest = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        return scheme, host, port or self.ports[scheme], rest

    def process(self):
        try:
            scheme, host, port, rest = self.parseTarget()
        except error.Error as exc:
            errorPage(self, exc.code, exc.detail)
            return
        headers = upstreamHeaders(self, hostHeader(host, port, self.ports[scheme]))
        relay(self, self.reactor, self.protocols[scheme], host, port, rest, headers,
              self.timeout)


class Proxy(http.HTTPChannel):
    """An HTTP channel whose requests are forward-proxy requests."""

    requestFactory = ProxyRequest


class ReverseProxyRequest(http.Request):
    """A request relayed, as it is, to ``channel.factory.host:port``."""

    proxyClientFactoryClass = ProxyClientFactory
    timeout = 30.0

    def __init__(self, channel, queued=False, reactor=None):
        http.Request.__init__(self, channel, queued)
        self.reactor = reactor if reactor is not None else globalReactor

    def process(self):
        factory = self.channel.factory
        host, port = toText(factory.host), int(factory.port)
        rest = self.path + ("?" + self.uri.partition("?")[2] if "?" in self.uri else "")
        headers = upstreamHeaders(self, hostHeader(host, port), forwardedFor=True)
        relay(self, self.reactor, self.proxyClientFactoryClass, host, port, rest, headers,
              self.timeout)


class ReverseProxy(http.HTTPChannel):
    """An HTTP channel whose factory has ``host`` and ``port`` to relay to."""

    requestFactory = ReverseProxyRequest


def climb(segments, segment):
    """``segments`` (quoted, below the proxied prefix) after one more decoded
    ``segment``, with RFC 3986 §5.2.4's dot segments applied: "." stays put,
    ".." goes up one.  None when ".." would climb above the prefix.

    The segment arrives decoded, so ``%2e%2e`` is ".." here too: were it
    passed on as a literal "..", an upstream that removes dot segments
    would serve a path outside the prefix.
    """
    if segment == ".":
        return segments
    if segment == "..":
        return segments[:-1] if segments else None
    return segments + [urllib.parse.quote(segment, safe=_PCHAR_SAFE)]


class ReverseProxyResource(Resource):
    """Serve everything below this resource from host:port, under ``path``.

    Children are made per URL segment, as Twisted does: the child for
    ``name`` is a ReverseProxyResource whose path is ``path + '/' + name``.
    So ``ReverseProxyResource('internal', 8538, '/app')`` answers
    ``/x/y?q=1`` with the upstream's ``/app/x/y?q=1``.

    Dot segments, literal or percent-encoded (``%2e%2e``), are resolved
    here (``climb``) and never forwarded: ``/x/../y`` goes up as
    ``/app/y``, and a path that would climb above ``/app`` is answered 400.
    """

    proxyClientFactoryClass = ProxyClientFactory
    timeout = 30.0   # seconds to connect, and for each wait on the upstream

    def __init__(self, host, port, path, reactor=globalReactor):
        Resource.__init__(self)
        self.host = toText(host)
        self.port = int(port)
        self.path = toText(path)
        self.reactor = reactor
        self._base = self.path  # the prefix nothing may climb above
        self._below = []  # quoted segments under _base

    def getChild(self, path, request):
        below = climb(self._below, path)
        if below is None:
            return _aboveThePrefix()
        child = ReverseProxyResource(self.host, self.port, self._base, self.reactor)
        child._below = below
        child.path = "/".join([self._base] + below)
        child.timeout = self.timeout
        return child

    def render(self, request):
        below = self._below
        for segment in request.postpath:   # rendered as a leaf: the rest goes along
            below = climb(below, segment)
            if below is None:
                return _aboveThePrefix().render(request)
        rest = "/".join([self._base] + below)
        last = (request.postpath or request.prepath or [""])[-1]
        if last in (".", "..") and not rest.endswith("/"):
            rest += "/"   # RFC 3986 §5.2.4: "/a/b/.." is "/a/"
        if not rest.startswith("/"):
            rest = "/" + rest
        query = request.uri.partition("?")[2]
        if query:
            rest += "?" + query
        headers = upstreamHeaders(request, hostHeader(self.host, self.port), forwardedFor=True)
        relay(request, self.reactor, self.proxyClientFactoryClass, self.host, self.port,
              rest, headers, self.timeout)
        return NOT_DONE_YET


def _aboveThePrefix():
    from refweb.resource import ErrorPage
    return ErrorPage(400, "Bad Request",
                     "the path climbs above the proxied prefix with '..'")
