"""Tests for refweb.session through a real Site: cookies, reuse, expiry, limits.

Each test serves a small resource that calls ``request.getSession()`` and
talks to it with http.client, carrying the cookie by hand as a browser would.
Expiry uses a Session subclass with a tiny ``sessionTimeout`` installed as
the Site's ``sessionFactory``; every wait is bounded.
"""

import contextlib
import re
import threading
import time

import pytest

from refweb import resource, server
from refweb.internet import reactor
from refweb.session import Session, SessionStore
from support import clientContext, get, served, serverContext, siteWith

WAIT = 5.0
COOKIE = re.compile(r"REFWEB_SESSION=([0-9a-f]{32}); Path=/; SameSite=Lax; HttpOnly")


class Counter(resource.Resource):
    """Counts visits per session; answers 'uid visits'."""

    isLeaf = True

    def render_GET(self, request):
        session = request.getSession()
        session.visits = getattr(session, "visits", 0) + 1
        return "%s %d" % (session.uid, session.visits)


class IColour:
    """A component key (any hashable object works, as in Twisted's interfaces)."""


class Colour(resource.Resource):
    """GET /set?c=red stores a component; GET /get reads it back through getSession(IColour)."""

    isLeaf = True

    def render_GET(self, request):
        if request.postpath == ["set"]:
            request.getSession().setComponent(IColour, request.args["c"][0])
            return "stored"
        return repr(request.getSession(IColour))


@contextlib.contextmanager
def site(root, **attributes):
    """A Site (with these attributes set) on a free port; yields (site, port number)."""
    s = siteWith(root, **attributes)
    with served(s) as port:
        yield s, port


def fetch(port, path="/", cookie=None, context=None):
    """(body text, list of Set-Cookie values) of one GET answered 200."""
    status, headers, body = get(port, path, headers={"Cookie": cookie} if cookie else None,
                                timeout=WAIT, context=context)
    assert status == 200
    return body.decode(), headers.get_all("Set-Cookie") or []


def uidFrom(setCookies):
    (value,) = setCookies
    match = COOKIE.fullmatch(value)
    assert match, value
    return match.group(1)


class Tiny(Session):
    sessionTimeout = 0.3


# -- cookies and reuse ---------------------------------------------------------

def test_getSession_setsAnHttpOnlyLaxCookieForTheWholeSite():
    """The first getSession sends REFWEB_SESSION=<128-bit hex>; Path=/; SameSite=Lax; HttpOnly."""
    with site(Counter()) as (s, port):
        body, cookies = fetch(port)
        uid = uidFrom(cookies)
        assert body == "%s 1" % uid
        assert uid in s.sessions
        assert s.getSession(uid).uid == uid


def test_getSession_withTheCookieReturnsTheSameSession():
    """With its cookie sent back, the same Session object is returned and no new cookie is set."""
    with site(Counter()) as (s, port):
        _, cookies = fetch(port)
        uid = uidFrom(cookies)
        first = s.getSession(uid)
        body, again = fetch(port, cookie="REFWEB_SESSION=" + uid)
        assert body == "%s 2" % uid
        assert again == []
        assert s.getSession(uid) is first
        assert len(s.sessions) == 1


def test_getSession_eachBrowserGetsItsOwnSession():
    """Requests without a cookie get different, unrelated session ids."""
    with site(Counter()) as (s, port):
        uids = {uidFrom(fetch(port)[1]) for _ in range(3)}
        assert len(uids) == 3
        assert len(s.sessions) == 3


def test_getSession_unknownCookieGetsAFreshSession():
    """A cookie naming no live session gets a new session (a forged id is not adopted)."""
    with site(Counter()) as (s, port):
        body, cookies = fetch(port, cookie="REFWEB_SESSION=" + "0" * 32)
        uid = uidFrom(cookies)
        assert uid != "0" * 32
        assert body == "%s 1" % uid
        assert "0" * 32 not in s.sessions


def test_getSession_calledTwiceInOneRequestSetsOneCookie():
    """Two getSession calls while rendering one request give one session and one cookie."""
    class Twice(resource.Resource):
        isLeaf = True

        def render_GET(self, request):
            return str(request.getSession() is request.getSession())

    with site(Twice()) as (s, port):
        body, cookies = fetch(port)
        assert body == "True"
        uidFrom(cookies)


def test_session_componentsAreStoredPerSession():
    """setComponent on a session is returned later by request.getSession(interface)."""
    with site(Colour()) as (s, port):
        body, cookies = fetch(port, "/set?c=red")
        assert body == "stored"
        cookie = "REFWEB_SESSION=" + uidFrom(cookies)
        assert fetch(port, "/get", cookie=cookie)[0] == "'red'"
        assert fetch(port, "/get")[0] == "None"  # another browser: no component


def test_session_getComponentDefault():
    """getComponent returns the default for a key that was never set."""
    session = Session(server.Site(Counter()), "uid", reactor=reactor)
    assert session.getComponent(IColour) is None
    assert session.getComponent(IColour, "dflt") == "dflt"
    assert repr(session) == "<Session uid>"


# -- expiry ---------------------------------------------------------------------

def test_session_expiresAfterSessionTimeout():
    """Untouched for sessionTimeout seconds, a session leaves the Site and its callbacks run."""
    with site(Counter(), sessionFactory=Tiny) as (s, port):
        _, cookies = fetch(port)
        uid = uidFrom(cookies)
        session = s.getSession(uid)
        assert isinstance(session, Tiny)
        expired = threading.Event()
        calls = []
        session.notifyOnExpire(lambda: calls.append("first"))
        session.notifyOnExpire(lambda: (calls.append("second"), expired.set()))
        assert expired.wait(WAIT)
        assert calls == ["first", "second"]
        assert uid not in s.sessions
        with pytest.raises(KeyError):
            s.getSession(uid)
        body, again = fetch(port, cookie="REFWEB_SESSION=" + uid)
        newUid = uidFrom(again)
        assert newUid != uid
        assert body == "%s 1" % newUid


def test_session_touchPostponesExpiry():
    """touch() restarts the idle clock: the session outlives its first deadline."""
    class Short(Session):
        sessionTimeout = 0.6

    s = server.Site(Counter())
    s.sessionFactory = Short
    session = s.makeSession()
    expired = threading.Event()
    session.notifyOnExpire(expired.set)
    started = time.monotonic()
    time.sleep(0.4)
    touched = time.monotonic()
    session.touch()
    time.sleep(max(0.0, started + 0.8 - time.monotonic()))  # past the first deadline (0.6)
    assert not expired.is_set()
    assert session.uid in s.sessions
    assert expired.wait(WAIT)
    assert time.monotonic() - touched >= 0.6
    assert session.uid not in s.sessions


def test_session_requestWithCookieTouchesTheSession():
    """Each request that calls getSession counts as activity for the session."""
    with site(Counter()) as (s, port):
        uid = uidFrom(fetch(port)[1])
        session = s.getSession(uid)
        session.lastModified -= 100
        fetch(port, cookie="REFWEB_SESSION=" + uid)
        assert time.monotonic() - session.lastModified < 5


def test_session_expireRemovesItFromTheSiteAtOnce():
    """expire() forgets the session in the Site, cancels its timer and runs callbacks once."""
    with site(Counter()) as (s, port):
        uid = uidFrom(fetch(port)[1])
        session = s.getSession(uid)
        timer = session._expireCall
        calls = []
        session.notifyOnExpire(lambda: calls.append(1))
        session.expire()
        assert uid not in s.sessions
        assert calls == [1]
        assert timer.active() is False
        session.expire()  # a second expire: no callback runs twice
        assert calls == [1]
        assert uidFrom(fetch(port, cookie="REFWEB_SESSION=" + uid)[1]) != uid


def test_session_failingExpireCallbackIsLoggedOthersStillRun(logged):
    """An expiry callback that raises is logged and the following callbacks still run."""
    s = server.Site(Counter())
    session = s.makeSession()
    calls = []

    def broken():
        raise RuntimeError("callback failed")

    session.notifyOnExpire(broken)
    session.notifyOnExpire(lambda: calls.append("after"))
    session.expire()
    assert calls == ["after"]
    text = "\n".join(logged)
    assert "Error in a session expiry callback:" in text
    assert "RuntimeError: callback failed" in text


def test_sessionStore_maxSessionsEvictsTheLeastRecentlyUsed():
    """Beyond SessionStore.maxSessions, the least recently used session expires."""
    with site(Counter()) as (s, port):
        s.sessions.maxSessions = 2
        first = uidFrom(fetch(port)[1])
        second = uidFrom(fetch(port)[1])
        evicted = []
        s.getSession(first).notifyOnExpire(lambda: evicted.append(first))
        s.getSession(second).notifyOnExpire(lambda: evicted.append(second))
        fetch(port, cookie="REFWEB_SESSION=" + first)  # first is now the most recent
        third = uidFrom(fetch(port)[1])
        assert evicted == [second]
        assert len(s.sessions) == 2
        assert first in s.sessions and third in s.sessions and second not in s.sessions


def test_sessionStore_idsAre128RandomBits():
    """newUID gives 32 hex digits, different every time."""
    store = SessionStore()
    uids = {store.newUID() for _ in range(50)}
    assert len(uids) == 50
    assert all(re.fullmatch(r"[0-9a-f]{32}", u) for u in uids)
    store.remove("absent")  # removing an unknown id is harmless
    assert len(store) == 0


# -- over TLS ------------------------------------------------------------------

def test_getSession_overTLSUsesASecureCookie(certfiles):
    """Over TLS the cookie is REFWEB_SECURE_SESSION and carries the Secure flag."""
    s = server.Site(Counter())
    port = reactor.listenSSL(0, s, serverContext(certfiles), interface="127.0.0.1")

    def fetchTLS(cookie=None):
        return fetch(port.getHost().port, cookie=cookie, context=clientContext())

    try:
        body, cookies = fetchTLS()
        (value,) = cookies
        match = re.fullmatch(r"REFWEB_SECURE_SESSION=([0-9a-f]{32}); Path=/; SameSite=Lax; "
                             r"Secure; HttpOnly", value)
        assert match, value
        uid = match.group(1)
        assert body == "%s 1" % uid
        assert fetchTLS("REFWEB_SECURE_SESSION=" + uid) == ("%s 2" % uid, [])
        # The plain-HTTP cookie name does not find the secure session.
        body, cookies = fetchTLS("REFWEB_SESSION=" + uid)
        assert body != "%s 3" % uid and len(cookies) == 1
    finally:
        port.stopListening()
