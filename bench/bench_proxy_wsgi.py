"""Requests per second: a hello-world Site, the same through WSGI, and through
a ReverseProxyResource.  Not a test; run it from the checkout's root:

    python bench/bench_proxy_wsgi.py [--seconds 5] [--connections 50]

Each server runs as its own process on a free port (so the load generator's
threads do not share a GIL with it).  The load generator opens N keep-alive
connections, each in its own thread, and sends GET / back to back for the
given time; a response counts once its whole body has arrived.  Only the
standard library is used.
"""

import argparse
import os
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# One script for the three servers: argv[1] names which, argv[2] is the
# upstream port for the proxy.  It prints its port, then serves until killed.
SERVER = r'''
import sys
from refweb import proxy, resource, server
from refweb.internet import reactor
from refweb.python.threadpool import ThreadPool
from refweb.wsgi import WSGIResource

class Hello(resource.Resource):
    isLeaf = True
    def render_GET(self, request):
        return b"Hello, world!"

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"Hello, world!"]

kind = sys.argv[1]
if kind == "site":
    root = Hello()
elif kind == "wsgi":
    pool = ThreadPool()
    pool.start()
    root = WSGIResource(reactor, pool, application)
else:
    root = proxy.ReverseProxyResource("127.0.0.1", int(sys.argv[2]), "")
port = reactor.listenTCP(0, server.Site(root), backlog=128, interface="127.0.0.1")
print(port.getHost().port, flush=True)
reactor.run()
'''

REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"


def startServer(kind, upstream=None):
    """(process, port) of a server started with SERVER."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    args = [sys.executable, "-c", SERVER, kind] + ([str(upstream)] if upstream else [])
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise SystemExit("the %s server did not start" % kind)
    return proc, int(line)


def readResponse(sock, buffer):
    """Read one response (Content-Length or chunked); return the leftover bytes."""
    while b"\r\n\r\n" not in buffer:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed before the head")
        buffer += data
    head, _, buffer = buffer.partition(b"\r\n\r\n")
    lowered = head.lower()
    if b"transfer-encoding: chunked" in lowered:
        while not buffer.endswith(b"0\r\n\r\n") and b"\r\n0\r\n\r\n" not in buffer:
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("closed inside a chunked body")
            buffer += data
        return buffer.partition(b"0\r\n\r\n")[2]
    length = int(lowered.split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
    while len(buffer) < length:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed inside the body")
        buffer += data
    return buffer[length:]


def worker(port, deadline, counts, index):
    done = errors = 0
    sock = None
    buffer = b""
    while time.monotonic() < deadline:
        try:
            if sock is None:
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                buffer = b""
            sock.sendall(REQUEST)
            buffer = readResponse(sock, buffer)
            done += 1
        except OSError:
            errors += 1
            if sock is not None:
                sock.close()
            sock = None
    if sock is not None:
        sock.close()
    counts[index] = (done, errors)


def load(port, seconds, connections):
    """(requests per second, errors) for ``connections`` keep-alive clients."""
    counts = [(0, 0)] * connections
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=worker, args=(port, deadline, counts, i))
               for i in range(connections)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return sum(c[0] for c in counts) / elapsed, sum(c[1] for c in counts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=50)
    options = parser.parse_args()
    procs = []
    try:
        site, sitePort = startServer("site")
        wsgi, wsgiPort = startServer("wsgi")
        rproxy, proxyPort = startServer("proxy", sitePort)
        procs = [site, wsgi, rproxy]
        results = []
        for label, port in (("Site (hello)", sitePort), ("WSGIResource (hello)", wsgiPort),
                            ("ReverseProxyResource -> Site", proxyPort)):
            load(port, 0.5, 4)   # warm up: threads, imports, caches
            results.append((label,) + load(port, options.seconds, options.connections))
        print("%d keep-alive connections, %.0f s each" % (options.connections, options.seconds))
        print("%-30s %12s %8s" % ("server", "requests/s", "errors"))
        for label, rps, errors in results:
            print("%-30s %12.0f %8d" % (label, rps, errors))
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
