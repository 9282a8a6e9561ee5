# -*- test-case-name: tests.test_journey -*-
"""A request's journey, as a table that runs: each step, its function, its thread.

Guide: "Site Objects" and "Resource Objects" follow a request from the
outside; this table follows it from the inside.  ``STEPS`` is the journey
``docs/internals/design.rst`` tells step by step and the package's
docstring maps in ten lines: ``tests/test_journey.py`` fails when a
function named here no longer exists, or when design.rst's steps are not
these, in this order.

``Site(root, journey=True)`` (``refweb web --journey``) makes the server
log, for each request, the steps it took, by number, with the time spent
since the one before::

    journey conn-1 #1 GET /hello: 1 accept | 3 head found in the selector 0.31 ms |
        3 taken by a worker 0.05 ms | 4 body 0.01 ms | 6 walk 0.02 ms | ... | 10 kept open

Each request carries a ``Journey`` only when that is on; otherwise its
``journey`` is None and the steps cost one test of an attribute.

Start reading at ``STEPS``.
"""

import collections
import time

Step = collections.namedtuple("Step", "number name function thread")
Step.__doc__ = """One step of a request's journey: its number in design.rst, a
short name, the function that does it (dotted, below ``refweb``), and the
thread it runs in."""

STEPS = (
    Step("1", "accept", "internet.selectorloop.ConnectionSelector._acceptAll", "selector"),
    Step("2", "wait for the head", "http.HTTPChannel.dataReceivedWhileWaiting", "selector"),
    Step("3", "head", "http11.ServerConnection.receive", "selector or worker"),
    Step("4", "body", "http.HTTPChannel._readBody", "worker"),
    Step("5", "received", "http_request.Request.requestReceived", "worker"),
    Step("6", "walk", "resource.getChildForRequest", "worker"),
    Step("7", "render", "server.Request.render", "worker"),
    Step("8", "write", "http_response.Response.write", "worker or any"),
    Step("9", "finish", "http_response.Response.finish", "worker or any"),
    Step("10", "kept or closed", "http.HTTPChannel._requestEnded", "worker"),
)

class Journey:
    """The steps one request took, each with when it ended (time.monotonic()).

    It begins where the request's wait began: the accept, for a
    connection's first request; the end of the previous response otherwise.
    """

    def __init__(self, connectionName, number, waitingSince, firstOnConnection):
        self.connectionName = connectionName
        self.number = number
        start = ("1", "accept") if firstOnConnection else ("2", "wait after the last response")
        self.marks = [start + (waitingSince,)]

    def mark(self, number, what, when=None):
        """Step ``number`` ended (now, or at ``when``); ``what`` says how."""
        self.marks.append((number, what, time.monotonic() if when is None else when))

    def line(self, request, kept):
        """The log line: each step by number, and the time since the step before."""
        parts, before = [], None
        for number, what, when in self.marks + [("10", "kept open" if kept else "closed",
                                                 time.monotonic())]:
            spent = "" if before is None else " %.2f ms" % ((when - before) * 1000)
            parts.append("%s %s%s" % (number, what, spent))
            before = when
        return "journey %s #%d %s %s: %s" % (self.connectionName, self.number, request.method,
                                            request.uri, " | ".join(parts))
