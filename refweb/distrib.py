# -*- test-case-name: tests.test_distrib -*-
"""Spreadable web servers: one HTTP port, many servers behind it.

Guide: "Spreadable Web Servers" -- ``twistd web --user`` and ``twistd web
--personal``; "Rewriting URLs" (``distrib.UserDirectory`` as the ``users``
child).  In refweb: ``refweb web --user`` serves ``Site(UserDirectory())``;
``refweb web --personal`` listens on ``~/.refweb-web-pb`` with
``ResourcePublisher(site)``.  A request for ``/alice.refweb/x`` reaches the
user server, whose ``ResourceSubscription`` relays it to Alice's personal
server; Alice's site renders it and the response comes back, streamed.

Journey of a relayed request::

    browser -> user server: HTTPChannel -> server.Request -> UserDirectory
      -> ResourceSubscription.render  --(rpc frames, refweb.rpc)-->
    personal server: PublisherProtocol.handleConnection -> RelayRequest
      -> Site root, traversal of the remaining segments -> render
      -> request.write / finish -> RelayChannel  --(head, data..., finish)-->
    user server: _Relay (a thread) -> request.write ... request.finish

Twisted relays "over a PB connection"; refweb uses the small JSON-and-bytes
protocol of ``refweb.rpc`` instead (its docstring has the message table).

Security notes
--------------
* The personal server's socket is created with mode 0600 in its owner's
  home (``refweb web --personal``), so only that user (and root) can connect
  to it: only the owner publishes at ``/OWNER.refweb/``, and the personal
  server trusts the user server exactly as far as UNIX permissions let it
  connect.  Listening on TCP instead (``--port tcp:...``) lets anyone who
  can reach the port send requests -- and forge the client address, Host and
  "secure" flag that the user server would otherwise vouch for.
* Nothing but JSON and raw bytes crosses the socket (no pickle, no eval), so
  a peer can only ask for what an HTTP client could ask for; every frame has
  a size limit and every wait a timeout (``refweb.rpc``).
* ``/USER/`` serves ``~USER/public_html`` as plain files: ``.rpy`` and CGI
  are *not* enabled there, because they would run as the user server's
  account.  Scripts belong on the personal server, which runs as the user.

Start reading at ResourceSubscription.render, then PublisherProtocol.
"""

import html
import os
import pwd
import socket
import stat
import tempfile
import threading
import time
import urllib.parse

from refweb import error, resource, rpc, server, wire
from refweb.http_request import bodyLength
from refweb.http_response import ResponseChannel
from refweb.internet.address import IPv4Address, IPv6Address, UNIXAddress
from refweb.internet.error import ConnectionDone, ConnectionLost
from refweb.internet.protocol import Factory, Protocol, copyFileRange
from refweb.python import log
from refweb.python.failure import Failure

# Headers not relayed in either direction: the hop-by-hop ones (wire.HOP_BY_HOP),
# and Expect, which the front server's channel has already answered.  A
# request's Content-Length is recomputed (sendRequest); a response's is kept.
_NOT_RELAYED = wire.HOP_BY_HOP | {"expect"}


def endToEndHeaders(headers):
    """A Headers -> [[name, value], ...] without hop-by-hop headers (nor
    those the Connection header names, RFC 9110 §7.6.1) or Content-Length."""
    drop = (_NOT_RELAYED | {"content-length"}
            | wire.connectionTokens(headers.getRawHeaders("connection", [])))
    return [[name, value] for name, value in headers.items() if name.lower() not in drop]


def encodeAddress(addr):
    """An address object -> [type, host, port] for a message."""
    if getattr(addr, "type", None) == "UNIX" or isinstance(addr, UNIXAddress):
        return ["UNIX", getattr(addr, "name", None) or "", 0]
    return ["TCP", str(getattr(addr, "host", "")), int(getattr(addr, "port", 0) or 0)]


def decodeAddress(triple):
    kind, host, port = triple
    if kind == "UNIX":
        return UNIXAddress(host or None)
    return (IPv6Address if ":" in host else IPv4Address)("TCP", host, port)


# ---------------------------------------------------------------------------
# The personal server: ResourcePublisher
# ---------------------------------------------------------------------------

class _RelayTransport:
    """The transport a RelayRequest sees: the addresses the user server saw
    (the browser's, and the Host it was asked for), and whether the real
    connection back to the user server is still there."""

    def __init__(self, transport, client, host, secure):
        self.real = transport
        self.client, self.host, self.isTLS = client, host, secure

    @property
    def disconnected(self):
        return self.real.disconnected

    def loseConnection(self):
        # Shut down only: the connection's own thread is blocked reading this
        # socket, wakes up, and closes it (closing under it could reuse the fd).
        try:
            self.real.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    abortConnection = loseConnection

    def getPeer(self):
        return self.client

    def getHost(self):
        return self.host


class RelayChannel(ResponseChannel):
    """The ResponseChannel of a relayed request: its response goes back to
    the user server as messages -- ``head`` (status and headers, no framing:
    the user server's own channel frames them for the browser), ``data``
    frames, then ``finish``."""

    def __init__(self, protocol, transport):
        self.protocol, self.transport = protocol, transport
        self.site = protocol.factory.site
        self._bodyless = False

    def sendHead(self, request, code, reason, headers):
        self._bodyless = request.method == "HEAD" or code in (204, 304) or code < 200
        relayed = [[name, value] for name, value in headers
                   if name.lower() not in _NOT_RELAYED]
        self.protocol.connection.send(
            {"type": "head", "code": code, "message": reason, "headers": relayed})

    def startRawResponse(self, request):
        raise error.InternalServerError(detail="an as-is response cannot be relayed")

    def sendData(self, data):
        if self._bodyless or not data:
            return 0
        self.protocol.connection.sendData(data)
        return len(data)

    def sendFile(self, fileobj, offset, count):
        """No sendfile through a relay: the file goes in DATA_CHUNK pieces."""
        whole = copyFileRange(fileobj, offset, count, self.sendData, rpc.DATA_CHUNK,
                              isGone=lambda: self.transport.disconnected)
        return count if whole else None

    def endResponse(self, request):
        self.protocol.requestDone(request)

    def logAccess(self, request):
        self.site.log(request)

    def abortConnection(self):
        self.transport.loseConnection()


class RelayRequest(server.Request):
    """A server.Request that came over a relay, not from a socket.

    Resources see a normal request (args, content, headers, cookies,
    sessions of the personal site, the browser's address, the user server's
    host); its response goes back through a RelayChannel."""

    def __init__(self, channel, message, queued=False):
        server.Request.__init__(self, channel, queued)
        self.relayed = message
        for name, value in message["headers"]:
            self.requestHeaders.addRawHeader(name, value)

    def splitPath(self):
        """The walk starts from what the user server left over: ``prepath``
        keeps the user server's part (``alice.refweb``), so that URLs built
        with prePathURL, childLink and getRootURL lead back through the user
        server.  Everything else of server.Request.process is the same."""
        return list(self.relayed["prepath"]), list(self.relayed["postpath"])


class PublisherProtocol(Protocol):
    """One relayed request on the personal server, in the connection's thread.

    Read ``request``, the body's ``data`` frames and ``end`` (all within
    requestTimeout, at most maxBodySize bytes); render through the site;
    then wait until the response is finished or the user server hangs up
    (which is the browser going away: notifyFinish errbacks)."""

    requestTimeout = 60.0      # seconds for the whole request to arrive
    sendTimeout = 300.0        # seconds one write may block on a stalled user server
    maxBodySize = 64 * 1024 * 1024
    memoryBodyLimit = 1024 * 1024   # larger bodies are spooled to a temporary file

    request = None

    def connectionMade(self):
        self.transport.socket.settimeout(self.sendTimeout)
        self.connection = rpc.Connection(self.transport.socket, write=self.transport.write)

    def handleConnection(self):
        reason = Failure(ConnectionDone())
        try:
            message, body = self.readRequest()
            self.request = self.buildRequest(message, body)
            self.render(self.request, message)
            self.waitForEnd()
        except (rpc.ProtocolError, TimeoutError, error.Error) as e:
            self.refuse(e)
        except (rpc.ConnectionClosed, OSError) as e:
            reason = Failure(ConnectionLost(str(e)))
        finally:
            self.transport.loseConnection()
            if self.request is not None and not self.request.finished:
                self.request.connectionLost(reason)

    def readRequest(self):
        """-> (the request message, its body as a file at offset 0)."""
        deadline = _Deadline(self.requestTimeout)
        message = self.connection.receive(deadline.left())
        if message["type"] != "request":
            raise rpc.ProtocolError(f"expected a request, got {message['type']!r}")
        body, size = tempfile.SpooledTemporaryFile(max_size=self.memoryBodyLimit), 0
        while True:
            part = self.connection.receive(deadline.left())
            if part["type"] == "end":
                body.seek(0)
                return message, body
            if part["type"] != "data":
                raise rpc.ProtocolError(f"expected body data or end, got {part['type']!r}")
            size += len(part["data"])
            if size > self.maxBodySize:
                raise error.PayloadTooLarge(detail=f"relayed bodies are limited to {self.maxBodySize} bytes")
            body.write(part["data"])

    def buildRequest(self, message, body):
        channel = RelayChannel(self, _RelayTransport(
            self.transport, decodeAddress(message["client"]),
            decodeAddress(message["host"]), message["secure"]))
        request = RelayRequest(channel, message)
        request.content = body
        return request

    def render(self, request, message):
        try:
            request.requestReceived(message["method"], message["uri"], message["clientproto"])
        except Exception:  # as HTTPChannel does: a bug in a resource is a 500, not a dead thread
            request.processingFailed(Failure())

    def waitForEnd(self):
        """Block until finish() shuts the socket down, or the user server closes
        it; anything it sends meanwhile is a protocol error."""
        message = self.connection.receive(None)
        raise rpc.ProtocolError(f"unexpected {message['type']!r} after the request")

    def refuse(self, exc):
        """Tell the user server why (if we still can), then close."""
        log.msg(f"distrib: refusing a relayed request: {exc}")
        if self.request is None or not self.request.startedWriting:
            code = getattr(exc, "code", 400 if isinstance(exc, rpc.ProtocolError) else 408)
            self.connection.send({"type": "error", "code": code, "message": str(exc)})

    def requestDone(self, request):
        """finish() was called (in any thread): say ``finish``, hang up."""
        self.connection.send({"type": "finish"})
        request.channel.transport.loseConnection()


class ResourcePublisher(Factory):
    """Publish ``site`` to user servers: pass it to reactor.listenUNIX (the
    personal server listens on ``~/.refweb-web-pb``) or listenTCP."""

    protocol = PublisherProtocol

    def __init__(self, site):
        self.site = site

    def startFactory(self):
        self.site.doStart()   # opens the personal site's access log

    def stopFactory(self):
        self.site.doStop()


class _Deadline:
    """Seconds left until a fixed moment; TimeoutError once it has passed."""

    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self):
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError("the relayed request did not arrive in time")
        return left


# ---------------------------------------------------------------------------
# The user server: ResourceSubscription
# ---------------------------------------------------------------------------

class ResourceSubscription(resource.Resource):
    """Relay every request below this point to a ResourcePublisher.

    ``ResourceSubscription(path)`` connects to a UNIX socket,
    ``ResourceSubscription(host, port)`` to TCP (Twisted's spelling
    ``ResourceSubscription('unix', path)`` works too).  A publisher that is
    not there answers 503 at once; one that stops answering, 502 or 504."""

    isLeaf = True
    connectTimeout = 10.0   # seconds to connect, and for any one send
    idleTimeout = 300.0     # seconds the publisher may stay silent mid-response

    def __init__(self, host, port=None):
        resource.Resource.__init__(self)
        if host == "unix" and isinstance(port, str):
            host, port = port, None
        self.host, self.port = host, port

    def address(self):
        return self.host if self.port is None else (self.host, self.port)

    def describe(self):
        return self.host if self.port is None else f"{self.host}:{self.port}"

    def render(self, request):
        try:
            connection = rpc.connect(self.address(), self.connectTimeout)
        except OSError as e:
            raise error.ServiceUnavailable(detail=f"the server at {self.describe()} is not running "
                                                  f"({e.strerror or e})") from None
        try:
            self.sendRequest(connection, request)
        except OSError as e:
            refusal = self.refusal(connection)  # the publisher may have said why it hung up
            connection.close()
            raise refusal or error.BadGateway(
                detail=f"could not send the request to {self.describe()}: {e}") from None
        relay = _Relay(request, connection, self.idleTimeout, self.describe())
        request.notifyFinish().addErrback(relay.clientGone)
        threading.Thread(target=relay.run, name=f"refweb-distrib:{self.describe()}",
                         daemon=True).start()
        return server.NOT_DONE_YET

    def refusal(self, connection):
        """The publisher's ``error`` message as an error.Error, if it sent one."""
        try:
            message = connection.receive(timeout=1.0)
        except (OSError, rpc.ConnectionClosed, rpc.ProtocolError):
            return None
        if message["type"] == "error" and 400 <= message["code"] < 600:
            return error.Error(message["code"], detail=f"{self.describe()}: {message['message']}")
        return None

    def sendRequest(self, connection, request):
        content = request.content
        headers = endToEndHeaders(request.requestHeaders)
        size = bodyLength(content)
        if size or request.getHeader("content-length") is not None:
            headers.append(["Content-Length", str(size)])
        connection.send({
            "type": "request", "method": request.method, "uri": request.uri,
            "clientproto": request.clientproto, "prepath": list(request.prepath),
            "postpath": list(request.postpath), "headers": headers,
            "client": encodeAddress(request.getClientAddress()),
            "host": encodeAddress(request.getHost()), "secure": request.isSecure()})
        while size:
            chunk = content.read(rpc.DATA_CHUNK)
            if not chunk:
                break
            connection.sendData(chunk)
        connection.send({"type": "end"})


class _Relay:
    """Copies one response from the publisher to the browser (own thread)."""

    def __init__(self, request, connection, idleTimeout, where):
        self.request, self.connection = request, connection
        self.idleTimeout, self.where = idleTimeout, where
        self.gone = False
        self.headSeen = False

    def clientGone(self, reason):
        """The browser left: hang up, so the personal server hears it too."""
        self.gone = True
        self.connection.close()

    def run(self):
        try:
            while not self.gone and self.step(self.connection.receive(self.idleTimeout)):
                pass
        except TimeoutError:
            self.fail(504, f"{self.where} did not answer within {self.idleTimeout} s")
        except (rpc.ConnectionClosed, rpc.ProtocolError) as e:
            self.fail(502, f"{self.where} broke off the response: {e}")
        except Exception:
            log.err(None, f"distrib: error relaying {self.request.uri} from {self.where}")
            self.fail(502, f"{self.where}: the relay failed")
        finally:
            self.connection.close()

    def step(self, message):
        """Act on one message; False when the response is complete."""
        kind, request = message["type"], self.request
        if kind == "head" and not self.headSeen:
            self.headSeen = True
            request.setResponseCode(message["code"], message["message"])
            for name, value in message["headers"]:
                if name.lower() not in _NOT_RELAYED:
                    request.responseHeaders.addRawHeader(name, value)
        elif kind == "data" and self.headSeen:
            request.write(message["data"])
        elif kind == "finish" and self.headSeen:
            self.finish()
            return False
        elif kind == "error" and not self.headSeen:
            code = message["code"] if 400 <= message["code"] < 600 else 502
            self.fail(code, f"{self.where}: {message['message']}")
            return False
        else:
            raise rpc.ProtocolError(f"unexpected {kind!r} in a response")
        return True

    def finish(self):
        try:
            self.request.finish()
        except RuntimeError:   # the browser left meanwhile (finish after connectionLost)
            pass

    def fail(self, code, detail):
        """An error page if nothing was sent yet; otherwise cut the response short."""
        request = self.request
        if self.gone or request.finished:
            return
        log.msg(f"distrib: {detail}")
        if self.headSeen:
            # Too late for an error page: cut the response short, so the browser
            # sees it incomplete, and release the user server's connection thread.
            request.loseConnection()
        else:
            body = resource.ErrorPage(code, error.Error(code).message, detail).render(request)
            request.setHeader("content-length", str(len(body)))
            request.write(body)
        self.finish()


# ---------------------------------------------------------------------------
# UserDirectory: /USER/ and /USER.refweb/
# ---------------------------------------------------------------------------

class UserDirectory(resource.Resource):
    """``/USER/`` -> ``static.File(~USER/public_html)``; ``/USER.refweb/`` ->
    ``ResourceSubscription(~USER/.refweb-web-pb)``; ``/`` lists the users
    who have either.  Homes come from ``pwd`` (``getpwnam``/``getpwall`` may
    be replaced, e.g. by tests)."""

    userDirName = "public_html"
    userSocketName = ".refweb-web-pb"
    suffix = ".refweb"

    def __init__(self, userDirectory="public_html", userSocket=".refweb-web-pb",
                 getpwnam=None, getpwall=None):
        resource.Resource.__init__(self)
        self.userDirName, self.userSocketName = userDirectory, userSocket
        self._getpwnam = getpwnam or pwd.getpwnam
        self._getpwall = getpwall or pwd.getpwall

    def home(self, user):
        """USER's home folder, or None for an unknown (or unspeakable) name."""
        try:
            return self._getpwnam(user).pw_dir
        except (KeyError, ValueError, UnicodeError):
            return None

    def getChild(self, name, request):
        if name == "":
            return self
        personal = name.endswith(self.suffix)
        user = name[:-len(self.suffix)] if personal else name
        home = self.home(user) if user else None
        if home is None:
            return resource.NoResource(f"No such user {user!r}.")
        if personal:
            return ResourceSubscription(os.path.join(home, self.userSocketName))
        path = os.path.join(home, self.userDirName)
        if not os.path.isdir(path):
            return resource.NoResource(f"{user} has no {self.userDirName}.")
        from refweb import static  # lazily: static imports much of refweb
        return static.File(path)

    def listUsers(self):
        """[(name, gecos, has public_html, has a personal server socket)], sorted."""
        seen, users = set(), []
        for entry in self._getpwall():
            if entry.pw_name in seen:
                continue
            seen.add(entry.pw_name)
            web = os.path.isdir(os.path.join(entry.pw_dir, self.userDirName))
            personal = _isSocket(os.path.join(entry.pw_dir, self.userSocketName))
            if web or personal:
                users.append((entry.pw_name, entry.pw_gecos.split(",")[0], web, personal))
        return sorted(users)

    def render_GET(self, request):
        base = request.childLink("")  # "" at /users/, "users/" at /users
        items = []
        for name, gecos, web, personal in self.listUsers():
            links = []
            if web:
                links.append(_link(base, name))
            if personal:
                links.append(_link(base, name + self.suffix))
            about = f" ({html.escape(gecos)})" if gecos else ""
            items.append(f"<li>{' '.join(links)}{about}</li>")
        request.setHeader("content-type", "text/html; charset=utf-8")
        return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Users</title></head>\n"
                "<body><h1>Users</h1>\n<ul>\n" + "\n".join(items) + "\n</ul>\n</body></html>\n")


def _link(base, name):
    href = base + urllib.parse.quote(name, safe="") + "/"
    return f'<a href="{html.escape(href)}">{html.escape(name)}</a>'


def _isSocket(path):
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False
