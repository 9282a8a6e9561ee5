"""A mutation fuzzer: refweb answers any bytes with a well-formed response or a clean close.

Two parts, both from ``tests/fuzzing.py`` (fixed seeds, stdlib ``random``):

* in-process, against the sans-I/O parser (``fuzzing.parseStream``): every
  case ends in parsed requests, "incomplete", or a ``refweb.error.Error``
  of an allowed status -- never another exception -- and whatever refweb
  accepted also satisfies an independent strict reading of RFC 9112;
* live, against a real Site: static files (with Range), a .rpy script, a
  directory listing, and a ReverseProxyResource in front of a WSGI
  application on a second Site.  Each answer is read strictly
  (tests/strict.py); no 5xx, nothing logged as unhandled, a good request
  is answered afterwards, and no threads or file descriptors are left.

``REFWEB_FUZZ_CASES`` sets the in-process count (default 20,000; the live
part runs an eighth of it, at least 2,000); ``REFWEB_FUZZ_SEED`` the seed.
A failure prints its seed, case number and bytes: ``fuzzing.case(seed, i)``
makes it again.
"""

import concurrent.futures
import os
import threading

import pytest

import fuzzing
from refweb import proxy, resource, script, server, static, wsgi
from refweb.h2.frames import PREFACE as HTTP2_PREFACE
from refweb.internet import reactor
from refweb.python.threadpool import ThreadPool
from strict import StrictError, exchange, parseOne
from support import served, siteWith, waitUntil

SEED = int(os.environ.get("REFWEB_FUZZ_SEED", "12"))
CASES = int(os.environ.get("REFWEB_FUZZ_CASES", "20000"))
LIVE_CASES = max(2000, CASES // 8)
MAX_SHOWN = 12


def _describe(index, data, what, seed=SEED):
    return "seed %d case %d: %s\n    %r" % (seed, index, what, data[:600])


def test_fuzz_parser_in_process():
    """Every mutated request is parsed, left incomplete, or refused with an allowed status;
    nothing refweb accepts breaks RFC 9112's grammar."""
    failures = []
    outcomes = {}
    for index in range(CASES):
        data, _ = fuzzing.case(SEED, index)
        try:
            requests, outcome = fuzzing.parseStream(data)
        except Exception as exc:  # a refweb bug, or refweb more lenient than the RFC
            failures.append(_describe(index, data, "%s: %s" % (type(exc).__name__, exc)))
            continue
        code = getattr(outcome, "code", outcome)
        outcomes[code] = outcomes.get(code, 0) + 1
        if code not in (None, "incomplete") and code not in fuzzing.ALLOWED_ERRORS:
            failures.append(_describe(index, data, "status %s" % code))
    assert not failures, "%d of %d cases failed:\n%s" % (
        len(failures), CASES, "\n".join(failures[:MAX_SHOWN]))
    # The mutations reach every outcome, or the fuzzer is not exploring.
    assert outcomes.get(None, 0) > CASES // 20 and outcomes.get(400, 0) > CASES // 20
    assert outcomes.get("incomplete", 0) and outcomes.get(505, 0) and outcomes.get(501, 0)


# -- live ---------------------------------------------------------------------

def echoApp(environ, start_response):
    body = environ["wsgi.input"].read()
    text = ("%s %s %d" % (environ["REQUEST_METHOD"], environ["PATH_INFO"], len(body))).encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(text)))])
    return [text]


@pytest.fixture
def live(tmp_path):
    """(port of the front Site, its Site): files, .rpy, listing, proxy -> WSGI."""
    (tmp_path / "a.txt").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("beta\n")
    (tmp_path / "page.rpy").write_text(
        "from refweb import resource\n"
        "class R(resource.Resource):\n"
        "    isLeaf = True\n"
        "    def render(self, request):\n"
        "        return repr((request.method, request.args, request.received_cookies,\n"
        "                     request.getRequestHostname())).encode()\n"
        "resource = R()\n")
    pool = ThreadPool(2, 4, name="fuzz-wsgi")
    pool.start()
    backendRoot = resource.Resource()
    backendRoot.putChild(b"wsgi", wsgi.WSGIResource(reactor, pool, echoApp))
    root = static.File(str(tmp_path))
    root.processors = {".rpy": script.ResourceScript}
    backend = server.Site(backendRoot)
    try:
        with served(backend) as backendPort:
            root.putChild(b"proxy", proxy.ReverseProxyResource("127.0.0.1", backendPort, "/wsgi"))
            # Small timeouts: a cut request is answered 408 (or closed) quickly.
            site = siteWith(root, readTimeout=0.5, headTimeout=1.0, idleTimeout=0.1)
            with served(site) as port:
                yield port
    finally:
        pool.stop()


def _openFds():
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 0


def _check(raw, closed, data, method):
    """None when ``raw`` is well-formed responses ending in a close; else why not."""
    if not closed:
        return "the server neither answered completely nor closed within 5 s"
    if data.startswith(HTTP2_PREFACE):
        # HTTP/2 with prior knowledge (RFC 9113 §3.3): the server's first
        # frame is its SETTINGS (type 4, no flags, stream 0), whatever follows.
        if raw[3:9] == b"\x04\x00\x00\x00\x00\x00":
            return None
        return "the HTTP/2 preface was not answered with a SETTINGS frame"
    methods = [fuzzing.methodOf(data, "GET")]  # what the server can tell; not the seed's
    while raw:
        try:
            response, raw = parseOne(raw, methods[-1] if len(methods) == 1 else "GET")
        except StrictError as exc:
            return "unreadable response: %s" % exc
        methods.append("GET")
        if response.status >= 500 and response.status != 505 and response.status != 501:
            return "status %d: %r" % (response.status, response.body[:200])
        if response.closed:
            break
    return None


def test_fuzz_live_server(live, logged):
    """Mutated requests to a live Site (files, Range, .rpy, listing, reverse proxy, WSGI):
    strictly well-formed answers or clean closes, no 5xx, nothing unhandled, nothing leaked."""
    port = live
    warm, _ = exchange(port, b"GET /proxy/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    assert warm.startswith(b"HTTP/1.1 200 "), warm[:100]
    # The worker pool grows under load and shrinks after idleSeconds: a
    # short idle time here lets "no thread left behind" be checked in seconds.
    pool = reactor.workers
    idleSeconds, pool.idleSeconds = pool.idleSeconds, 0.5
    threadsBefore, fdsBefore = threading.active_count(), _openFds()

    def run(index):
        data, method = fuzzing.case(SEED + 1, index)
        # A proxied request would be abandoned on our half-close; those wait for
        # the server's own timeouts instead.
        halfClose = b"/proxy" not in data
        raw, closed = exchange(port, data, halfClose=halfClose)
        why = _check(raw, closed, data, method)
        return None if why is None else _describe(index, data, why + "\n    got %r" % raw[:300],
                                                  SEED + 1)

    with concurrent.futures.ThreadPoolExecutor(8) as workers:
        results = list(workers.map(run, range(LIVE_CASES)))
    failures = [r for r in results if r]
    unhandled = [line for line in logged if "Unhandled" in line or "Traceback" in line]
    assert not failures, "%d of %d live cases failed:\n%s" % (
        len(failures), LIVE_CASES, "\n".join(failures[:MAX_SHOWN]))
    assert not unhandled, unhandled[0][:2000]
    good, closed = exchange(port, b"GET /a.txt HTTP/1.1\r\nHost: a\r\nRange: bytes=0-3\r\n"
                            b"Connection: close\r\n\r\n")
    assert good.startswith(b"HTTP/1.1 206 ") and good.endswith(b"\x00\x01\x02\x03")
    try:
        assert waitUntil(lambda: threading.active_count() <= threadsBefore, timeout=15), \
            "threads: %d before, %d after" % (threadsBefore, threading.active_count())
    finally:
        pool.idleSeconds = idleSeconds
    assert waitUntil(lambda: _openFds() <= fdsBefore, timeout=15), \
        "open fds: %d before, %d after" % (fdsBefore, _openFds())
