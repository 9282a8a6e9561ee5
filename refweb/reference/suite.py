# -*- test-case-name: tests.test_reference -*-
"""The reference suite's own small test runner: a registry of behaviours and their outcomes.

refweb's package imports only the standard library, so the reference suite
cannot lean on pytest.  This module is all the runner it needs:

* ``@behaviour(chapter, site, source)`` registers a function as one
  behaviour.  Its docstring says what a server must do; ``source`` names
  where that rule comes from (a guide section, or an RFC 9110 / 9112 / 3875
  or PEP 3333 clause); ``site`` names the example site (a file in
  ``refweb/reference/sites/``) it runs against.
* The function gets a ``SiteServer`` (host, port, helpers to send requests)
  and checks what comes back with ``check`` / ``equal``; a failed check
  raises ``Failure`` with a one-line reason, ``skip(why)`` raises ``Skipped``.
* ``runAll`` starts each site once per implementation (through an adapter),
  runs that site's behaviours one after the other on it, runs different
  sites at the same time, and returns an ``Outcome`` for every pair.  A
  failed Outcome keeps the bytes its behaviour sent and received
  (``exchanges``), cut to ``EXCHANGE_LIMIT`` bytes a direction, for ``-v``.
* ``runAll(..., http2="h2c" or "tls")`` runs the protocol-independent
  behaviours over HTTP/2; each one ``protocols.HTTP11_ONLY`` lists is not
  run and gets the outcome ``http11`` with the reason the table gives.

Part of refweb.reference: cli -> suite -> adapters (servers) -> behaviours -> client.
"""

import concurrent.futures
import fnmatch
import re
import socket
import traceback

from refweb.reference import client, protocols
from refweb.reference.adapters import NotOverHTTP2
from refweb.reference.client import ConnectionClosed, ProtocolError

#: The guide's chapters, in the order the table shows them: (key, title).
CHAPTERS = [
    ("trees", "Resource trees, prepath and postpath"),
    ("rendering", "Resource rendering"),
    ("encoders", "Request encoders"),
    ("sessions", "Sessions"),
    ("static", "Static files"),
    ("rpy", "Resource scripts (.rpy)"),
    ("vhosts", "Virtual hosts and VHostMonster"),
    ("rewriting", "Rewriting URLs"),
    ("cgi", "CGI"),
    ("proxies", "Proxies and reverse proxies"),
    ("wsgi", "WSGI"),
    ("web", "The web command"),
    ("asis", "As-is files"),
    ("framing", "HTTP/1.1 framing"),
]
CHAPTER_TITLES = dict(CHAPTERS)

REGISTRY = []


class Failure(Exception):
    """A behaviour did not hold; the message is the one-line reason."""


class Skipped(Exception):
    """A behaviour cannot be checked against this implementation; the message says why."""


class Behaviour:
    """One registered behaviour: a function plus where it belongs and where its rule comes from."""

    def __init__(self, function, chapter, site, source):
        if chapter not in CHAPTER_TITLES:
            raise ValueError("unknown chapter %r" % chapter)
        if not (function.__doc__ or "").strip():
            raise ValueError("%s has no docstring stating its rule" % function.__name__)
        self.function = function
        self.chapter = chapter
        self.site = site
        self.source = source
        self.name = "%s.%s" % (chapter, function.__name__)

    @property
    def doc(self):
        """The docstring as one line."""
        return " ".join(self.function.__doc__.split())


def behaviour(chapter, site, source):
    """Register the decorated function as a behaviour of ``chapter`` run on ``site``."""
    def register(function):
        REGISTRY.append(Behaviour(function, chapter, site, source))
        return function
    return register


def check(condition, reason):
    """Fail with ``reason`` unless ``condition`` holds."""
    if not condition:
        raise Failure(reason)


def equal(actual, expected, what):
    """Fail unless ``actual == expected``, saying what was compared and what came."""
    if actual != expected:
        raise Failure("%s: got %s, expected %s" % (what, _short(actual), _short(expected)))


def skip(why):
    raise Skipped(why)


def _short(value, limit=70):
    """repr(value), cut to ``limit`` characters (a long body says enough in its start)."""
    text = repr(value)
    if len(text) <= limit:
        return text
    # Never leave half an escape such as \x0 at the cut.
    return re.sub(r"\\(x[0-9a-f]?|u[0-9a-f]{0,3}|)$", "", text[:limit - 3]) + "..."


#: Bytes kept of each run of sends (or reads) on a connection of a failed behaviour.
EXCHANGE_LIMIT = 2048


class Outcome:
    """What one behaviour did on one implementation: ``kind`` is pass, fail or skip.

    ``exchanges`` (for a failure) is one list per connection the behaviour
    opened, of ``(direction, bytes kept, length sent or received)``, where
    direction is ``">>"`` (to the server) or ``"<<"`` (from it).
    """

    def __init__(self, kind, reason="", exchanges=()):
        self.kind = kind
        self.reason = " ".join(str(reason).split())
        self.exchanges = list(exchanges)

    def __repr__(self):
        return "<Outcome %s %s>" % (self.kind, self.reason)

    def cell(self):
        """The table cell: ``pass``, ``FAIL: reason``, ``skip: why`` or ``HTTP/1.1 only``."""
        if self.kind == "pass":
            return "pass"
        if self.kind == "http11":
            return "HTTP/1.1 only"
        return ("FAIL: " if self.kind == "fail" else "skip: ") + self.reason


def loadBehaviours():
    """Import every module of refweb.reference.behaviours (each registers its tests once)."""
    from refweb.reference.behaviours import MODULES  # noqa: F401 -- importing registers
    return list(REGISTRY)


def select(behaviours, patterns):
    """The behaviours whose name or chapter matches one of ``patterns`` (all if none).

    A pattern is a substring, or a shell-style glob when it holds ``*``/``?``.
    """
    if not patterns:
        return list(behaviours)
    def matches(item, pattern):
        if re.search(r"[*?\[]", pattern):
            return fnmatch.fnmatch(item.name, pattern)
        return pattern in item.name
    return [item for item in behaviours if any(matches(item, p) for p in patterns)]


def exchangesOf(connections, limit=EXCHANGE_LIMIT):
    """What went over each connection: runs of sends or reads joined, each cut to ``limit``."""
    found = []
    for connection in connections:
        runs = []
        for direction, data in connection.transcript or ():
            if runs and runs[-1][0] == direction:
                runs[-1][1].append(data)
            else:
                runs.append((direction, [data]))
        found.append([(direction, b"".join(parts)[:limit], sum(map(len, parts)))
                      for direction, parts in runs])
    return found


def runOne(item, server):
    """Run one behaviour on a started site and return its Outcome (a failure with its bytes)."""
    connections = getattr(server, "connections", None)
    if connections is not None:
        del connections[:]
    outcome = _outcomeOf(item, server)
    if outcome.kind == "fail" and connections:
        outcome.exchanges = exchangesOf(connections)
    return outcome


def _outcomeOf(item, server):
    try:
        item.function(server)
    except Skipped as e:
        return Outcome("skip", str(e))
    except (Failure, NotOverHTTP2) as e:
        return Outcome("fail", str(e))
    except ConnectionClosed as e:
        return Outcome("fail", str(e))
    except ProtocolError as e:
        return Outcome("fail", "bad response: %s" % e)
    except (BrokenPipeError, ConnectionResetError) as e:
        return Outcome("fail", "the server closed the connection while the request was still "
                               "being sent (%s)" % type(e).__name__)
    except socket.timeout:
        return Outcome("fail", "no answer within %g s (the server is still waiting for "
                               "something, or stuck)" % client.TIMEOUT)
    except (OSError, TimeoutError) as e:
        return Outcome("fail", "%s: %s" % (type(e).__name__, e))
    except Exception as e:  # a bug in the behaviour itself: say where
        where = traceback.extract_tb(e.__traceback__)[-1]
        return Outcome("fail", "error in the test: %s: %s (line %d)"
                       % (type(e).__name__, e, where.lineno))
    return Outcome("pass")


def scrubbed(outcome, server):
    """``outcome`` with the site's port numbers written PORT, so that reasons repeat run to run."""
    ports = [server.port] + [v for v in server.info.values() if isinstance(v, int)]
    for port in ports:
        outcome.reason = re.sub(r"\b%d\b" % port, "PORT", outcome.reason)
    return outcome


def runSite(adapter, site, items, http2=None):
    """Start ``site`` once with ``adapter``, run ``items`` on it in order, stop it.

    With ``http2`` ("h2c" or "tls") the requests go over HTTP/2, and the
    behaviours that are HTTP/1.1 only are not run (their outcome says so).
    """
    if http2:
        folded = {item.name: Outcome("http11", protocols.HTTP11_ONLY[item.name])
                  for item in items if item.name in protocols.HTTP11_ONLY}
        items = [item for item in items if item.name not in folded]
        folded.update(_runStarted(adapter, site, items, http2))
        return folded
    return _runStarted(adapter, site, items, None)


def _runStarted(adapter, site, items, http2):
    if not items:
        return {}
    why = adapter.unsupported(site)
    if why:
        return {item.name: Outcome("skip", why) for item in items}
    try:
        server = adapter.start(site)
    except Exception as e:
        reason = "site %r did not start: %s" % (site, " ".join(str(e).split())[:200])
        return {item.name: Outcome("fail", reason) for item in items}
    server.http2 = http2
    try:
        return {item.name: scrubbed(runOne(item, server), server) for item in items}
    finally:
        server.stop()


def runAll(adapter, items, workers=3, http2=None):
    """Run ``items`` against one implementation: {behaviour name: Outcome}.

    Each site is one server, started once; different sites run at the same
    time (they are separate processes on separate ports, so the results do
    not depend on the order), behaviours of one site run one after another.
    """
    bySite = {}
    for item in items:
        bySite.setdefault(item.site, []).append(item)
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(runSite, adapter, site, group, http2)
                   for site, group in bySite.items()]
        for future in futures:
            results.update(future.result())
    return results
