"""Benchmark: the server CPU one request for a 4 KiB file costs, in-process.

Run from the checkout's root:  python bench/bench_smallfile.py [-n N] [--hello]
                                   [--wsgi] [--no-log] [--profile [SORT]]

(``--hello --wsgi`` prints both, their rounds taken in turn.)

It builds what ``python -m refweb -n web --path DIR`` builds -- a Site over
a static.File, its access log going to a log observer (here writing to
/dev/null, as ``-n`` writes to stdout) -- and an HTTPChannel on a real
SocketTransport over a socketpair whose other end a thread drains.  Then it
hands the channel the same keep-alive GET N times (``serveOne``: the
connection parses it, then ``_serveRequest`` walks, renders, sends, logs)
and prints the serving thread's CPU time per request (``time.thread_time``,
system time included), best to worst of five rounds.  CPU time, not wall
time: neighbours on the machine do not change it much.

``--hello`` serves a hello-world Resource instead (the floor a file's cost
sits on); ``--wsgi`` a WSGIResource over a hello application, the same
answer through PEP 3333 (the environ, start_response, the body relay; the
application runs in the serving thread, as ``ThreadPool.runHereIfFree``
lets it when the pool has a slot); ``--no-log`` drops the access log, and
``--profile`` prints cProfile's table instead (sorted by tottime, or SORT).

What it leaves out: the selector thread and the hand-over to a worker, and
the socket's read, which cost the same for every resource.
"""

import argparse
import cProfile
import os
import pstats
import socket
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from refweb import resource, server, static, wsgi  # noqa: E402
from refweb.internet.protocol import SocketTransport  # noqa: E402
from refweb.python import log  # noqa: E402
from refweb.python.threadpool import ThreadPool  # noqa: E402

HEAD = (b"GET /file4k.bin HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
        b"User-Agent: wrk\r\nAccept: */*")


class Hello(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        return b"Hello, world!"


def helloApplication(environ, start_response):
    """The WSGI hello: what bench_workloads' W1 serves through WSGIResource."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"Hello, world!"]


def benchResource(kind, folder):
    """The resource the Site serves for ``kind`` (a name in KINDS)."""
    if kind == "wsgi hello":
        return wsgi.WSGIResource(None, ThreadPool(0, 64, "bench-wsgi"), helloApplication)
    if kind == "hello":
        return Hello()
    return static.File(folder)


def serveOne(channel):
    """One request, as a worker serves it: the connection finds the head in
    the bytes (http11), then the channel serves it (``_serveRequest``)."""
    channel._events = channel.connection.receive(HEAD + b"\r\n\r\n")
    channel._serveRequest(channel._events.pop(0))


def connectedChannel(site):
    """An HTTPChannel of ``site`` on one end of a socketpair; the other end is drained."""
    ours, theirs = socket.socketpair()

    def drain():
        while theirs.recv(1 << 20):
            pass

    threading.Thread(target=drain, daemon=True).start()
    channel = site.buildProtocol(None)
    channel.makeConnection(SocketTransport(ours))
    return channel


def kindsAsked(options):
    """What to serve: --hello, --wsgi (both: side by side), else the file."""
    kinds = [kind for kind, asked in (("hello", options.hello), ("wsgi hello", options.wsgi))
             if asked]
    return kinds or ["4 KiB file"]


def measure(channels, n):
    """Five rounds of ``n`` requests on each channel, taken in turn (so a
    neighbour's burst weighs on every kind alike): µs of CPU per request."""
    rounds = {kind: [] for kind in channels}
    for _ in range(5):
        for kind, channel in channels.items():
            start = time.thread_time()
            for _ in range(n):
                serveOne(channel)
            rounds[kind].append((time.thread_time() - start) / n * 1e6)
    return rounds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20000, help="requests per round")
    parser.add_argument("--hello", action="store_true")
    parser.add_argument("--wsgi", action="store_true")
    parser.add_argument("--no-log", action="store_true")
    parser.add_argument("--profile", nargs="?", const="tottime", metavar="SORT")
    options = parser.parse_args()
    kinds = kindsAsked(options)
    if options.profile and len(kinds) > 1:
        parser.error("--profile takes one of --hello and --wsgi")
    with tempfile.TemporaryDirectory() as folder, open(os.devnull, "w") as devnull:
        with open(os.path.join(folder, "file4k.bin"), "wb") as f:
            f.write(os.urandom(4096))
        log.startLogging(devnull)
        channels = {}
        for kind in kinds:
            site = server.Site(benchResource(kind, folder))
            if options.no_log:
                site.log = lambda request: None
            channels[kind] = connectedChannel(site)
            for _ in range(2000):  # warm-up: caches, the first realpath
                serveOne(channels[kind])
        if options.profile:
            channel = channels[kinds[0]]
            profile = cProfile.Profile(time.thread_time)
            profile.runcall(lambda: [serveOne(channel) for _ in range(options.n)])
            pstats.Stats(profile).sort_stats(options.profile).print_stats(40)
            return
        for kind, rounds in measure(channels, options.n).items():
            print("%s: %s us CPU per request (5 rounds, best first)"
                  % (kind, " ".join("%.1f" % r for r in sorted(rounds))))


if __name__ == "__main__":
    main()
