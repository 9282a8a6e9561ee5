"""Benchmark: a keep-alive hello-world, refweb beside other Python servers.

Not a test: it prints figures.  Each server runs as its own process on a free
port; the same load is sent to each in turn, and the server's peak memory
(VmHWM from /proc) is read at the end.

    python bench/bench_hello.py [--seconds 5] [--connections 1,8,50]

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
import socket
import subprocess
import sys
import tempfile
import time

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


def freePort():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def waitForPort(port, proc, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited early")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def peakMemoryMiB(pid):
    with open("/proc/%d/status" % pid) as f:
        match = re.search(r"VmHWM:\s+(\d+) kB", f.read())
    return int(match.group(1)) / 1024.0


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


def bench(name, python, seconds, connectionCounts, workdir):
    """Requests/s for each connection count, the peak memory, and the load tool."""
    script = os.path.join(workdir, name + "_server.py")
    with open(script, "w") as f:
        f.write(SERVERS[name])
    port = freePort()
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.Popen([python, script, str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        waitForPort(port, proc)
        runLoad(port, 1, max(connectionCounts))  # warm up
        rates = []
        for connections in connectionCounts:
            rate, tool = runLoad(port, seconds, connections)
            rates.append(rate)
        memory = peakMemoryMiB(proc.pid)
    finally:
        proc.kill()
        proc.wait()
    return rates, memory, tool


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", default="1,8,50",
                        help="keep-alive connections, a comma-separated list (default 1,8,50)")
    args = parser.parse_args()
    counts = [int(n) for n in args.connections.split(",")]
    servers = [("refweb", sys.executable), ("stdlib", sys.executable)]
    twisted = twistedPython()
    if twisted:
        servers.append(("twisted", twisted))
    else:
        print("(Twisted not found: set TWISTED_PYTHON or create /tmp/twisted-venv)")
    print("keep-alive hello world, requests/s, %d s per figure" % args.seconds)
    print("%-8s %s   peak memory" % ("", "".join("%9s" % ("c=%d" % n) for n in counts)))
    with tempfile.TemporaryDirectory() as workdir:
        for name, python in servers:
            rates, memory, tool = bench(name, python, args.seconds, counts, workdir)
            print("%-8s %s   %6.1f MiB   (load: %s)"
                  % (name, "".join("%9.0f" % rate for rate in rates), memory, tool))


if __name__ == "__main__":
    main()
