# -*- test-case-name: tests.test_server -*-
"""Site and Request: where a parsed request meets the resource tree.

Guide: "Site Objects" ("Site objects serve as the glue between a port to
listen for HTTP requests on, and a root Resource object"), "Resource
rendering", "Session", "Request encoders", "Knowing When We're Not Wanted".

Journey: http.HTTPChannel -> Request.requestReceived (http_request) ->
Request.process (here) -> Site.getResourceFor -> resource.getChildForRequest
-> Request.render (here) -> http_response's pipeline (write/finish).

``Request.render`` is where a render method's outcome becomes a response:
a str or bytes body is sent with its length (``_sendWholeBody``);
NOT_DONE_YET leaves the response open for a later ``finish()``; an
``error.Error`` becomes its status page (``respondWithError``); any other
exception becomes a 500 (``processingFailed``), logged with its traceback
(shown in the page only when ``Site.displayTracebacks`` is on).  This
Request adds the resource layer (traversal, render dispatch, sessions,
URLs) and overrides nothing of how a response is written.

``Site(root, trace=True)`` logs each step of the walk and the render's
outcome; the logging is ``refweb.tracing``'s, called from
``getResourceFor`` and ``render`` only when ``trace`` is on.

Start reading at ``Request.process``.
"""

import re
import urllib.parse

from refweb import error, http, resource as resource_module, tracing
from refweb.encoders import GzipEncoderFactory  # noqa: F401  (the guide imports it from here)
from refweb.python.failure import Failure
from refweb.session import Session, SessionStore

NOT_DONE_YET = 1  # a render method's way of saying "I will call finish() later"
version = "refweb/" + __import__("refweb").__version__
SESSION_COOKIE = "REFWEB_SESSION"
SECURE_SESSION_COOKIE = "REFWEB_SECURE_SESSION"


def splitSegments(path):
    """"/foo/a%20b/" -> ["foo", "a b", ""]  (guide: a trailing slash gives '')."""
    return [urllib.parse.unquote(segment, errors="replace") for segment in path[1:].split("/")]


class Request(http.Request):
    """An HTTP request that finds its resource in a Site and renders it.

    It adds what the resource layer needs -- traversal (``process``), the
    render dispatch (``render``), sessions, URLs (``prePathURL``...) --
    and leaves the response itself (headers, encoder, writes, finish,
    error pages) to ``http_response.Response``, overriding none of it.
    """

    defaultContentType = "text/html"
    site = None
    session = None

    @property
    def displayTracebacks(self):
        """processingFailed shows a traceback in the 500 page when the Site says so."""
        return self.site is not None and self.site.displayTracebacks

    def process(self):
        """Find the resource for this request and let it render."""
        self.site = self.channel.site
        self.sitepath = []
        self.prepath = []
        if self.journey is not None:
            self.journey.mark("5", "received")
        try:
            if self.path == "*" and self.method == "OPTIONS":
                # RFC 9112 §3.2.4: "OPTIONS *" asks about the server, not a resource.
                self.setHeader("content-length", "0")
                self.finish()
                return
            self.prepath, self.postpath = self.splitPath()
            resource = self.site.getResourceFor(self)
            if self.journey is not None:
                self.journey.mark("6", "walk to %s" % type(resource).__name__)
            self.render(resource)
        except error.Error as exc:
            self.respondWithError(exc)
        except Exception:
            self.processingFailed(Failure())

    def splitPath(self):
        """(prepath, postpath) for the walk to start from: nothing walked
        yet, and the path's segments ("/a/b/" -> [], ["a", "b", ""])."""
        if not self.path.startswith("/"):
            raise error.BadRequest(detail="the request target must be a path")
        return [], splitSegments(self.path)

    def render(self, resource):
        """Render ``resource`` and send what it returns (see the module docstring)."""
        traced = self.site is not None and self.site.trace  # Site(trace=True): refweb.tracing
        try:
            body = resource.render(self)
        except error.Error as exc:
            if traced:
                tracing.renderRaised(self, resource, exc)
            self.respondWithError(exc)
            return
        except Exception as exc:
            if traced:
                tracing.renderRaised(self, resource, exc)
            raise
        if self.journey is not None:
            self.journey.mark("7", "render" + (" (NOT_DONE_YET)" if body is NOT_DONE_YET else ""))
        if body is NOT_DONE_YET:
            if traced:
                tracing.renderLater(self, resource)
            return
        if traced:
            tracing.renderReturned(self, resource)
        if isinstance(body, str):
            body = body.encode("utf-8")
            self._textBody = True
        if not isinstance(body, bytes):
            raise TypeError("%r.render returned %r; expected str, bytes or NOT_DONE_YET"
                            % (resource, type(body).__name__))
        self._sendWholeBody(body)

    # -- sessions ---------------------------------------------------------
    def getSession(self, sessionInterface=None):
        """The Session for this browser, made (with its cookie) on first use."""
        if self.session is None:
            cookieName = self.sessionCookieName()
            uid = self.getCookie(cookieName)
            if uid:
                try:
                    self.session = self.site.getSession(uid)
                except KeyError:
                    pass
            if self.session is None:
                self.session = self.site.makeSession()
                cookiePath = "/" + "/".join(urllib.parse.quote(s, safe="") for s in self.sitepath)
                self.addCookie(cookieName, self.session.uid, path=cookiePath, httpOnly=True,
                               secure=self.isSecure() or None, sameSite="Lax")
        self.session.touch()
        if sessionInterface is not None:
            return self.session.getComponent(sessionInterface)
        return self.session

    def sessionCookieName(self):
        """REFWEB_SESSION, or REFWEB_SECURE_SESSION over TLS; a site mounted below
        the root (sitepath, as distrib's personal sites are) adds its path, so two
        such sites on one host keep separate sessions."""
        name = SECURE_SESSION_COOKIE if self.isSecure() else SESSION_COOKIE
        if self.sitepath:
            name += "_" + "_".join(re.sub(r"[^A-Za-z0-9.-]", "_", s) for s in self.sitepath)
        return name

    # -- URLs -------------------------------------------------------------
    def prePathURL(self):
        """The URL of the resource being rendered: scheme://host[:port]/prepath."""
        return self._urlFor(self.prepath)

    def _urlFor(self, segments):
        secure = self.isSecure()
        port = self.getHost().port
        host = self.getRequestHostname()
        if port != (443 if secure else 80):
            host = "%s:%d" % (host, port)
        path = "/".join(urllib.parse.quote(segment, safe="") for segment in segments)
        return "%s://%s/%s" % ("https" if secure else "http", host, path)

    def URLPath(self):
        from refweb.urlpath import URLPath
        return URLPath.fromString(self.prePathURL())

    def childLink(self, name):
        """A link to ``name`` below the current resource, relative to this URL."""
        last = self.prepath[-1] if self.prepath else ""
        quoted = urllib.parse.quote(name, safe="")
        if last:
            return urllib.parse.quote(last, safe="") + "/" + quoted
        return quoted

    def siblingLink(self, name):
        return urllib.parse.quote(name, safe="")

    def getRootURL(self):
        return self._urlFor(self.sitepath)


class Site(http.HTTPFactory):
    """The glue between a listening port and a root resource."""

    requestFactory = Request
    sessionFactory = Session
    displayTracebacks = False

    def __init__(self, resource, requestFactory=None, logPath=None, displayTracebacks=None,
                 trace=False, wire=False, timeout=None, journey=False):
        http.HTTPFactory.__init__(self, logPath=logPath, timeout=timeout)
        self.resource = resource
        if requestFactory is not None:
            self.requestFactory = requestFactory
        if displayTracebacks is not None:
            self.displayTracebacks = displayTracebacks
        self.trace = trace
        self.wire = wire
        self.journey = journey  # log each request's steps (refweb.journey)
        self.sessions = SessionStore()

    def buildProtocol(self, addr):
        channel = super().buildProtocol(addr)
        channel.site = self
        channel.requestFactory = self.requestFactory
        return channel

    def getResourceFor(self, request):
        """Traverse from the root along the request's path."""
        request.site = self
        request.sitepath = request.prepath[:]
        onStep = tracing.walkTracer(self.resource, request) if self.trace else None
        return resource_module.getChildForRequest(self.resource, request, onStep)

    # -- sessions ---------------------------------------------------------
    def makeSession(self):
        session = self.sessionFactory(self, self.sessions.newUID())
        self.sessions.add(session)
        session.startCheckingExpiration()
        return session

    def getSession(self, uid):
        """The live session with this uid; KeyError if there is none."""
        return self.sessions.get(uid)

    def _forgetSession(self, uid):
        self.sessions.remove(uid)

