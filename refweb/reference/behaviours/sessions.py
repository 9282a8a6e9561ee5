"""Sessions: request.getSession() and its cookie (guide: "Session")."""

import re

from refweb.reference.suite import behaviour, check, equal

SESSION = 'guide, "Session"'


def sessionCookie(response):
    """(name, value, attributes) of the session cookie set by ``response``."""
    cookies = response.headerList("set-cookie")
    check(cookies, "no Set-Cookie in the response")
    first, _, rest = cookies[0].partition(";")
    name, _, value = first.strip().partition("=")
    attributes = {}
    for part in rest.split(";"):
        key, _, val = part.strip().partition("=")
        if key:
            attributes[key.lower()] = val
    return name, value, attributes


def visits(response):
    match = re.match(rb"visits=(\d+) uid=(\S+)", response.body)
    check(match, "body %r is not the counter's" % response.body[:60])
    return int(match.group(1)), match.group(2).decode()


@behaviour("sessions", "session", SESSION)
def first_visit_sets_cookie(server):
    """The first getSession() creates a session and sets its cookie."""
    response = server.get("/count")
    equal(response.status, 200, "status")
    sessionCookie(response)
    equal(visits(response)[0], 1, "visits")


@behaviour("sessions", "session", SESSION)
def cookie_returns_same_session(server):
    """Sending the cookie back finds the same session object: the count goes on."""
    name, value, _ = sessionCookie(server.get("/count"))
    cookie = [("Cookie", "%s=%s" % (name, value))]
    second = server.get("/count", headers=cookie)
    third = server.get("/count", headers=cookie)
    equal((visits(second)[0], visits(third)[0]), (2, 3), "visits on the 2nd and 3rd request")


@behaviour("sessions", "session", SESSION)
def uid_is_cookie_value(server):
    """The session's uid is the cookie's value, and stays the same for the session."""
    first = server.get("/count")
    name, value, _ = sessionCookie(first)
    equal(visits(first)[1], value, "uid against cookie value")
    again = server.get("/count", headers=[("Cookie", "%s=%s" % (name, value))])
    equal(visits(again)[1], value, "uid on the next request")


@behaviour("sessions", "session", SESSION)
def no_new_cookie_for_known_session(server):
    """A request that brings a live session's cookie is not given a new session id."""
    name, value, _ = sessionCookie(server.get("/count"))
    again = server.get("/count", headers=[("Cookie", "%s=%s" % (name, value))])
    for header in again.headerList("set-cookie"):
        check(value in header or not header.startswith(name + "="),
              "a different session cookie was set: %r" % header)


@behaviour("sessions", "session", SESSION)
def clients_get_separate_sessions(server):
    """Two clients without cookies get two different sessions."""
    one, two = sessionCookie(server.get("/count"))[1], sessionCookie(server.get("/count"))[1]
    check(one != two, "both clients got session %r" % one)


@behaviour("sessions", "session", SESSION)
def unknown_cookie_new_session(server):
    """A cookie naming no live session gets a fresh session (visits=1) and a new cookie."""
    name = sessionCookie(server.get("/count"))[0]
    response = server.get("/count", headers=[("Cookie", "%s=not-a-session" % name)])
    equal(visits(response)[0], 1, "visits with a made-up cookie")
    check(sessionCookie(response)[1] != "not-a-session", "the made-up id was accepted")


@behaviour("sessions", "session", "RFC 6265 §5.2.4; guide, \"Session\"")
def cookie_path_is_root(server):
    """The session cookie of a site at / has Path=/, so it is sent for every page."""
    attributes = sessionCookie(server.get("/count"))[2]
    equal(attributes.get("path"), "/", "Path attribute")


@behaviour("sessions", "session", SESSION)
def expired_session_is_gone(server):
    """After session.expire() the old cookie no longer finds it: the count starts again."""
    name, value, _ = sessionCookie(server.get("/count"))
    cookie = [("Cookie", "%s=%s" % (name, value))]
    equal(server.get("/expire", headers=cookie).body, b"expired", "body of /expire")
    equal(visits(server.get("/count", headers=cookie))[0], 1, "visits after expire")
