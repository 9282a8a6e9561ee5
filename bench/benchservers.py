"""The contestants of bench/bench_workloads.py: which program each server
runs for a workload, the small scripts they run, and the scratch
virtualenvs the peers are installed into.

A *Site* contestant answers hello with a ``Resource`` and files with its
own file server; a *WSGI* contestant answers both through the same WSGI
applications (``BENCHAPPS``; files through ``wsgi.file_wrapper``), so
refweb WSGI, Twisted WSGI, waitress and cheroot run identical code.  Peers
are installed by the benchmark, never by refweb: each gets a scratch
virtualenv under ~/.cache/refweb-bench/ made with ``pip install`` on
first use.
"""

import collections
import os
import subprocess
import sys

CACHE = os.path.join(os.path.expanduser("~"), ".cache", "refweb-bench")

# family: the program and Python that run it (refweb and baseline: a refweb
# tree with this Python; floor: this Python; the others: a peer's venv).
# wsgi: answers hello and files through BENCHAPPS rather than a Resource.
Server = collections.namedtuple("Server", "name family wsgi title")
SERVERS = [
    Server("refweb", "refweb", False, "refweb Site"),
    Server("refweb-wsgi", "refweb", True, "refweb WSGI"),
    Server("twisted", "twisted", False, "Twisted Site"),
    Server("twisted-wsgi", "twisted", True, "Twisted WSGI"),
    Server("waitress", "waitress", True, "waitress"),
    Server("cheroot", "cheroot", True, "cheroot"),
    Server("floor", "floor", False, "bare threaded floor"),
    Server("baseline", "baseline", False, "baseline Site (--baseline)"),
    Server("baseline-wsgi", "baseline", True, "baseline WSGI (--baseline)"),
]
SERVER = {s.name: s for s in SERVERS}

# The peers' packages: family -> (what pip installs, a module that proves it did).
PEER_PACKAGES = {
    "twisted": ("twisted", "twisted.web"),
    "waitress": ("waitress", "waitress"),
    "cheroot": ("cheroot", "cheroot.wsgi"),
}


# One module the server processes import (it is written into the scratch
# folder, which is on their PYTHONPATH): the same WSGI applications for
# every WSGI contestant, and the listening code of the two hello scripts.
BENCHAPPS = r'''
import os

HELLO = b"Hello, world!"

def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(HELLO)))])
    return [HELLO]

def static(environ, start_response):
    """Files of BENCH_DIR through wsgi.file_wrapper (the WSGI servers have no file server)."""
    path = os.path.join(os.environ["BENCH_DIR"], environ["PATH_INFO"].lstrip("/"))
    try:
        f = open(path, "rb")
    except OSError:
        start_response("404 Not Found", [("Content-Length", "0")])
        return [b""]
    size = os.fstat(f.fileno()).st_size
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(size))])
    # wsgi.file_wrapper is optional (PEP 3333): Twisted and cheroot have none.
    return environ.get("wsgi.file_wrapper", FileBlocks)(f, 1 << 16)

class FileBlocks:
    """What a server without wsgi.file_wrapper gets: the file, block by block."""
    def __init__(self, f, size):
        self.f, self.size, self.close = f, size, f.close
    def __iter__(self):
        return iter(lambda: self.f.read(self.size), b"")

def serveResource(site, reactor, port):
    reactor.listenTCP(port, site, interface="127.0.0.1")
    reactor.run()
'''

REFWEB_HELLO = r'''
import sys
from refweb import resource, server
from refweb.internet import reactor
import benchapps
class Hello(resource.Resource):
    isLeaf = True
    def render_GET(self, request):
        return benchapps.HELLO
benchapps.serveResource(server.Site(Hello()), reactor, int(sys.argv[1]))
'''

TWISTED_HELLO = REFWEB_HELLO.replace("from refweb import", "from twisted.web import").replace(
    "from refweb.internet import", "from twisted.internet import")

# The file servers of refweb and Twisted: what `web --path DIR` builds (a
# Site over a static.File) without the access log that command writes, as
# waitress and cheroot write none.
REFWEB_STATIC = r'''
import sys
from refweb import server, static
from refweb.internet import reactor
import benchapps
benchapps.serveResource(server.Site(static.File(sys.argv[2])), reactor, int(sys.argv[1]))
'''

TWISTED_STATIC = REFWEB_STATIC.replace("from refweb import", "from twisted.web import").replace(
    "from refweb.internet import", "from twisted.internet import")

# The WSGI contestants of refweb and Twisted: what `web --wsgi` builds (a
# Site over a WSGIResource and its thread pool) without the access log that
# command writes, as waitress and cheroot write none.  refweb's pool is the
# one `refweb web --wsgi` makes (tap.WSGI_MIN_THREADS, WSGI_MAX_THREADS);
# Twisted's, as `twistd web --wsgi`, the reactor's.
REFWEB_WSGI = r'''
import sys
from refweb import server, tap, wsgi
from refweb.internet import reactor
from refweb.python.threadpool import ThreadPool
import benchapps
pool = ThreadPool(tap.WSGI_MIN_THREADS, tap.WSGI_MAX_THREADS, name="refweb-wsgi")
pool.start()
root = wsgi.WSGIResource(reactor, pool, getattr(benchapps, sys.argv[2]))
benchapps.serveResource(server.Site(root), reactor, int(sys.argv[1]))
'''

TWISTED_WSGI = r'''
import sys
from twisted.web import server, wsgi
from twisted.internet import reactor
import benchapps
root = wsgi.WSGIResource(reactor, reactor.getThreadPool(), getattr(benchapps, sys.argv[2]))
benchapps.serveResource(server.Site(root), reactor, int(sys.argv[1]))
'''

# The two WSGI-only peers, with their default thread counts (waitress: 4;
# cheroot: 10), as a user would start them.
WAITRESS = r'''
import sys, waitress, benchapps
waitress.serve(getattr(benchapps, sys.argv[2]), listen="127.0.0.1:%s" % sys.argv[1])
'''

CHEROOT = r'''
import socket, sys, benchapps
from cheroot import wsgi
# Its default listen backlog of 5 would turn wrk's 50 simultaneous connects
# into SYN retries (a second each): the backlog the other servers have.
wsgi.Server(("127.0.0.1", int(sys.argv[1])), getattr(benchapps, sys.argv[2]),
            request_queue_size=socket.SOMAXCONN).start()
'''

PEER_SCRIPTS = {"waitress": WAITRESS, "cheroot": CHEROOT}

FLOOR = r'''
"""The floor: a thread per connection and just enough HTTP for the workloads."""
import os, socket, socketserver, sys

HELLO = b"Hello, world!"
FOLDER = os.environ["BENCH_DIR"]

class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        sock, buf = self.request, b""
        # Without it a head and a small file, written separately, wait for a
        # delayed ACK (40 ms) between them.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            while b"\r\n\r\n" not in buf:
                data = sock.recv(65536)
                if not data:
                    return
                buf += data
            head, buf = buf.split(b"\r\n\r\n", 1)
            target = head.split(b" ", 2)[1].decode()
            close = b"\r\nconnection: close" in head.lower()
            if target == "/":
                self.hello(sock, close)
            else:
                self.file(sock, os.path.join(FOLDER, target.lstrip("/")), close)
            if close:
                return

    def hello(self, sock, close):
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s"
                     % (len(HELLO), b"Connection: close\r\n" if close else b"", HELLO))

    def file(self, sock, path, close):
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            # MSG_MORE: the head goes out in the same packet as the file's start.
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n"
                         % (size, b"Connection: close\r\n" if close else b""), socket.MSG_MORE)
            sent = 0
            while sent < size:
                sent += os.sendfile(sock.fileno(), f.fileno(), sent, size - sent)

class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = socket.SOMAXCONN  # a well-set floor: no tiny backlog

Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
'''


def serverCommand(name, kind, port, pythons, workdir):
    """The argv that starts server ``name`` for a workload of ``kind``
    ("hello", "static" or "wsgi": W6, where even a Site server runs WSGI)."""
    server, python = SERVER[name], pythons[name]
    app = "static" if kind == "static" else "hello"
    if server.family in PEER_SCRIPTS:
        peer = script(workdir, server.family + "_server", PEER_SCRIPTS[server.family])
        return [python, peer, str(port), app]
    if server.family == "floor":
        return [python, script(workdir, "floor_server", FLOOR), str(port)]
    twisted = server.family == "twisted"
    if kind == "hello" and not server.wsgi:
        hello = ("twisted_hello", TWISTED_HELLO) if twisted else ("refweb_hello", REFWEB_HELLO)
        return [python, script(workdir, *hello), str(port)]
    if server.wsgi or kind == "wsgi":
        wsgiScript = ("twisted_wsgi", TWISTED_WSGI) if twisted else ("refweb_wsgi", REFWEB_WSGI)
        return [python, script(workdir, *wsgiScript), str(port), app]
    files = ("twisted_static", TWISTED_STATIC) if twisted else ("refweb_static", REFWEB_STATIC)
    return [python, script(workdir, *files), str(port), workdir]


def script(workdir, name, text):
    path = os.path.join(workdir, name + ".py")
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write(text)
    return path


# --- the peers' virtualenvs ------------------------------------------------

def peerPython(package, module):
    """A Python with ``package`` installed: a scratch venv under CACHE, made on first use."""
    venv = os.path.join(CACHE, package)
    python = os.path.join(venv, "bin", "python")
    if not importable(python, module):
        print("(installing %s into %s)" % (package, venv), flush=True)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        done = subprocess.run([python, "-m", "pip", "install", "-q", package],
                              capture_output=True, text=True)
        if done.returncode:
            raise SystemExit("pip install %s failed:\n%s" % (package, done.stderr))
    return python


def importable(python, module):
    if not os.path.exists(python):
        return False
    return subprocess.run([python, "-c", "import " + module],
                          capture_output=True).returncode == 0


def choosePythons(names, peerPythonPath):
    """name -> the Python that runs it: this one, ``peerPythonPath`` for
    every peer if given, else each peer's scratch venv."""
    pythons = {}
    for name in names:
        family = SERVER[name].family
        if family not in PEER_PACKAGES:
            pythons[name] = sys.executable
        elif peerPythonPath:
            module = PEER_PACKAGES[family][1]
            if not importable(peerPythonPath, module):
                raise SystemExit("%s cannot import %s" % (peerPythonPath, module))
            pythons[name] = peerPythonPath
        else:
            pythons[name] = peerPython(*PEER_PACKAGES[family])
    return pythons
