"""Benchmark: a keep-alive hello-world, refweb beside other Python servers.

Not a test: it prints figures.  Each server runs as its own process on a free
port, all started at once; the same load is sent to each in turn, round after
round, and the median of the rounds is printed (this machine's speed drifts
with its neighbours, so servers measured one after the other would not be
compared fairly).  Each server's peak memory (VmHWM from /proc) is read at
the end.

    python bench/bench_hello.py [--seconds 3] [--rounds 3] [--connections 1,8,50]

Servers compared, side by side in the same run:
  refweb      refweb.server.Site with the guide's Simple resource
  stdlib      http.server.ThreadingHTTPServer (HTTP/1.1, keep-alive)
  twisted     twisted.web (only if a Python with Twisted is found: set
              TWISTED_PYTHON, or make /tmp/twisted-venv with pip install twisted)

Load: `wrk` when installed (apt-get install wrk), else a small Python client
that keeps ``--connections`` keep-alive connections busy from a few processes.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

from benchsupport import freePort, peakMemoryKiB, waitForPort

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

SERVERS = {
    "refweb": """
import sys
from refweb import server, resource
from refweb.internet import reactor
class Simple(resource.Resource):
    isLeaf = True
    def render_GET(self, request):
        return b"<html>Hello, world!</html>"
reactor.listenTCP(int(sys.argv[1]), server.Site(Simple()), interface="127.0.0.1")
reactor.run()
""",
    "stdlib": """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = b"<html>Hello, world!</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Hello).serve_forever()
""",
    "twisted": """
import sys
from twisted.web import server, resource
from twisted.internet import reactor
class Simple(resource.Resource):
    isLeaf = True
    def render_GET(self, request):
        return b"<html>Hello, world!</html>"
reactor.listenTCP(int(sys.argv[1]), server.Site(Simple()), interface="127.0.0.1")
reactor.run()
""",
}

CLIENT = r"""
import socket, sys, time
port, conns, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
import selectors
request = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
sel = selectors.DefaultSelector()
socks = []
for _ in range(conns):
    s = socket.create_connection(("127.0.0.1", port))
    s.setblocking(False)
    s.sendall(request)
    sel.register(s, selectors.EVENT_READ, bytearray())
done = 0
end = time.monotonic() + seconds
while time.monotonic() < end:
    for key, _ in sel.select(0.5):
        s, buf = key.fileobj, key.data
        data = s.recv(65536)
        if not data:
            sel.unregister(s); continue
        buf += data
        while True:
            i = buf.find(b"\r\n\r\n")
            if i < 0: break
            m = buf.find(b"Content-Length: ", 0, i) if b"Content-Length: " in buf[:i] else buf.lower().find(b"content-length: ", 0, i)
            n = int(buf[m+16:buf.find(b"\r\n", m)])
            if len(buf) < i + 4 + n: break
            del buf[:i + 4 + n]
            done += 1
            s.send(request)
print(done)
"""


def runLoad(port, seconds, connections):
    """Requests per second against 127.0.0.1:port."""
    if shutil.which("wrk"):
        threads = min(2, connections)  # wrk needs a connection per thread at least
        out = subprocess.run(["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % seconds,
                              "http://127.0.0.1:%d/" % port],
                             capture_output=True, text=True, timeout=seconds + 30).stdout
        return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "wrk"
    shares = [connections - connections // 2, connections // 2]  # two client processes
    procs = [subprocess.Popen([sys.executable, "-c", CLIENT, str(port), str(share),
                               str(seconds)], stdout=subprocess.PIPE)
             for share in shares if share]
    total = sum(int(p.communicate(timeout=seconds + 30)[0]) for p in procs)
    return total / seconds, "python client"


def twistedPython():
    candidate = os.environ.get("TWISTED_PYTHON", "/tmp/twisted-venv/bin/python")
    if os.path.exists(candidate):
        ok = subprocess.run([candidate, "-c", "import twisted.web"], capture_output=True)
        if ok.returncode == 0:
            return candidate
    return None


def startServer(name, python, workdir):
    """Start one server process on a free port; return (process, port)."""
    script = os.path.join(workdir, name + "_server.py")
    with open(script, "w") as f:
        f.write(SERVERS[name])
    port = freePort()
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.Popen([python, script, str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    waitForPort(port, proc)
    return proc, port


def measure(servers, counts, seconds, rounds):
    """Median requests/s per (server, connections).

    The machine's speed drifts (other tenants, CPU frequency), so the servers
    take turns: every round measures each of them once per connection count,
    in a rotating order, and the median of the rounds is kept.
    """
    results = {(name, c): [] for name in servers for c in counts}
    names = list(servers)
    tool = None
    for turn in range(rounds):
        order = names[turn % len(names):] + names[:turn % len(names)]
        for connections in counts:
            for name in order:
                rate, tool = runLoad(servers[name][1], seconds, connections)
                results[(name, connections)].append(rate)
    return {key: statistics.median(rates) for key, rates in results.items()}, tool


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", default="1,8,50",
                        help="keep-alive connections, a comma-separated list (default 1,8,50)")
    args = parser.parse_args()
    counts = [int(n) for n in args.connections.split(",")]
    pythons = {"refweb": sys.executable, "stdlib": sys.executable}
    twisted = twistedPython()
    if twisted:
        pythons["twisted"] = twisted
    else:
        print("(Twisted not found: set TWISTED_PYTHON or create /tmp/twisted-venv)")
    print("keep-alive hello world: median requests/s of %d rounds, %d s per figure"
          % (args.rounds, args.seconds))
    with tempfile.TemporaryDirectory() as workdir:
        servers = {}
        try:
            for name, python in pythons.items():
                servers[name] = startServer(name, python, workdir)
                runLoad(servers[name][1], 1, max(counts))  # warm up
            medians, tool = measure(servers, counts, args.seconds, args.rounds)
            print("%-8s %s   peak memory" % ("", "".join("%9s" % ("c=%d" % n) for n in counts)))
            for name, (proc, _) in servers.items():
                print("%-8s %s   %6.1f MiB" % (name, "".join(
                    "%9.0f" % medians[(name, c)] for c in counts), peakMemoryKiB(proc.pid) / 1024.0))
            if "twisted" in servers:
                print("%-8s %s" % ("ratio", "".join(
                    "%9.2f" % (medians[("refweb", c)] / medians[("twisted", c)]) for c in counts)))
                print("(ratio: refweb / twisted; the first target is at least 1.00 at c=50)")
            print("(load: %s)" % tool)
        finally:
            for proc, _ in servers.values():
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    main()
