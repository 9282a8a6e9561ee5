# -*- test-case-name: tests.test_session -*-
"""Sessions: remembering a browser between requests with a cookie.

Guide: "Session" -- "Calling request.getSession() checks to see if a
session cookie has been set; if not, it creates a unique session id, creates
a Session object, stores it in the Site, and returns it.  If a session
object already exists, the same session object is returned."

The id is 128 random bits from ``secrets`` (unguessable: knowing one id
tells nothing about another).  The cookie is ``Path=/``, ``HttpOnly`` (no
script can read it), ``SameSite=Lax``, and ``Secure`` over TLS.  A session
left untouched for ``sessionTimeout`` seconds expires: it leaves the Site
and its ``notifyOnExpire`` callbacks run.

Start reading at ``Session``.
"""

import secrets
import threading
import time

from refweb.python import log


class Session:
    """Data kept for one browser; put your own attributes on it, or components."""

    sessionTimeout = 900  # seconds without a request before the session expires

    def __init__(self, site, uid, reactor=None):
        if reactor is None:
            from refweb.internet import reactor
        self.site = site
        self.uid = uid
        self.reactor = reactor
        self.expireCallbacks = []
        self.lastModified = time.monotonic()
        self._components = {}
        self._expireCall = None

    def startCheckingExpiration(self):
        """Arrange for expiry; touch() only moves lastModified, the check reschedules."""
        self._expireCall = self.reactor.callLater(self.sessionTimeout, self._checkExpired)

    def _checkExpired(self):
        idle = time.monotonic() - self.lastModified
        if idle >= self.sessionTimeout:
            self.expire()
        else:
            self._expireCall = self.reactor.callLater(self.sessionTimeout - idle,
                                                      self._checkExpired)

    def notifyOnExpire(self, callback):
        """Call ``callback()`` when this session expires."""
        self.expireCallbacks.append(callback)

    def expire(self):
        """End the session now: forget it in the Site, then tell the listeners."""
        self.site._forgetSession(self.uid)
        if self._expireCall is not None and self._expireCall.active():
            self._expireCall.cancel()
        self._expireCall = None
        callbacks, self.expireCallbacks = self.expireCallbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.err(None, "Error in a session expiry callback:")

    def touch(self):
        """Note that the browser is still here."""
        self.lastModified = time.monotonic()

    def setComponent(self, interface, component):
        self._components[interface] = component

    def getComponent(self, interface, default=None):
        return self._components.get(interface, default)

    def __repr__(self):
        return "<Session %s>" % (self.uid,)


class SessionStore:
    """The Site's sessions, by uid.  Thread-safe: requests come from many threads."""

    maxSessions = 100000  # beyond this, the least recently used session expires

    def __init__(self):
        self._sessions = {}
        self._lock = threading.Lock()  # guards _sessions

    def newUID(self):
        return secrets.token_hex(16)  # 128 bits

    def add(self, session):
        with self._lock:
            full = len(self._sessions) >= self.maxSessions
            oldest = min(self._sessions.values(), key=lambda s: s.lastModified) if full else None
            self._sessions[session.uid] = session
        if oldest is not None:
            oldest.expire()

    def get(self, uid):
        with self._lock:
            return self._sessions[uid]

    def remove(self, uid):
        with self._lock:
            self._sessions.pop(uid, None)

    def __len__(self):
        return len(self._sessions)

    def __contains__(self, uid):
        return uid in self._sessions
