"""HTTP/2 speed (issue 24): h2load against refweb and Twisted, and the memory of an idle connection.

Servers, each a fresh process per row, pinned to CPU 0 (h2load to CPU 1):

    refweb-h2c   refweb, cleartext, HTTP/2 by prior knowledge
    refweb-tls   refweb over TLS, HTTP/2 chosen by ALPN
    twisted-tls  Twisted over TLS with ALPN (Twisted speaks HTTP/2 only so),
                 from ~/.cache/refweb-bench/twisted with ``twisted[tls,http2]``
    baseline-h2c, baseline-tls   with ``--baseline TREE``: refweb from another
                 checkout (``git worktree add /tmp/before main~3``), in the same
                 run: a before/after comparison, each against twisted-tls

Each serves "/hello" (a Resource answering ``Hello, world!``) and "/4k.bin"
(its own file server).  Rows: both paths at ``-c 4 -m 20`` (4 connections,
20 streams each at once) and ``-c 100 -m 1``; h2load runs ``-D`` seconds
after a warm-up, one thread.  A row whose "Application protocol" is not h2,
or with failed requests, is marked.  Then each server holds N idle HTTP/2
connections (preface, SETTINGS both ways and their ACKs, then silence):
the growth of its VmRSS over N is the memory of one idle connection.

    python bench/bench_h2.py [--duration S] [--idle N] [--servers a,b] [--baseline TREE]
"""

import argparse
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

from benchservers import CACHE, importable
from benchsupport import freePort, statusField, waitForPort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVERS = ("refweb-h2c", "refweb-tls", "twisted-tls")
BASELINES = ("baseline-h2c", "baseline-tls")  # only with --baseline
BASELINE = {}  # "tree": the other refweb checkout (--baseline)
ROWS = [("hello", "/hello", 4, 20), ("hello", "/hello", 100, 1),
        ("4 KiB", "/4k.bin", 4, 20), ("4 KiB", "/4k.bin", 100, 1)]
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS_ACK = b"\x00\x00\x00\x04\x01\x00\x00\x00\x00"
EMPTY_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"

# The server script: the same tree for both, the imports and listening differ.
TREE = r'''
import sys
from WHO.web import resource, server, static
class Hello(resource.Resource):
    isLeaf = True
    def render_GET(self, request):
        return b"Hello, world!"
root = static.File(sys.argv[2])
root.putChild(b"hello", Hello())
site = server.Site(root)
'''
REFWEB_SERVER = TREE.replace("WHO.web", "refweb") + r'''
from refweb.internet import endpoints, reactor
endpoints.listen(sys.argv[1], site)
reactor.run()
'''
TWISTED_SERVER = TREE.replace("WHO.web", "twisted.web") + r'''
from twisted.internet import endpoints, reactor
endpoints.serverFromString(reactor, sys.argv[1]).listen(site)
reactor.run()
'''


def twistedPython():
    """The Twisted venv of bench_workloads, with twisted[tls,http2] added on first use."""
    venv = os.path.join(CACHE, "twisted")
    python = os.path.join(venv, "bin", "python")
    if not importable(python, "twisted.web, h2, OpenSSL"):
        print("(installing twisted[tls,http2] into %s)" % venv, flush=True)
        if not os.path.exists(python):
            subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", "twisted[tls,http2]"], check=True)
    return python


def makeCertificate(workdir):
    key, cert = os.path.join(workdir, "key.pem"), os.path.join(workdir, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True)
    return key, cert


def serverCommand(name, port, workdir, twisted):
    """(argv, URL scheme) of server ``name`` listening on ``port``."""
    if name.endswith("-h2c"):
        listen, scheme = "tcp:%d:interface=127.0.0.1" % port, "http"
    else:
        listen, scheme = ("ssl:%d:privateKey=%s:certKey=%s:interface=127.0.0.1"
                          % (port, os.path.join(workdir, "key.pem"),
                             os.path.join(workdir, "cert.pem"))), "https"
    if name.startswith("twisted"):
        python, text, script = twisted, TWISTED_SERVER, "twisted_h2.py"
    else:
        python, text, script = sys.executable, REFWEB_SERVER, "refweb_h2.py"
    path = os.path.join(workdir, script)
    with open(path, "w") as f:
        f.write(text)
    return [python, path, listen, workdir], scheme


def startServer(name, workdir, twisted, pin):
    port = freePort()
    argv, scheme = serverCommand(name, port, workdir, twisted)
    if pin:
        argv = ["taskset", "-c", "0"] + argv
    tree = BASELINE["tree"] if name.startswith("baseline") else ROOT
    proc = subprocess.Popen(argv, cwd=workdir, env=dict(os.environ, PYTHONPATH=tree),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    waitForPort(port, proc, timeout=30)
    return proc, port, scheme


def parseH2load(text):
    """{reqs, done, succeeded, failed, protocol} from h2load's report."""
    out = {"protocol": None, "reqs": 0.0, "done": 0, "succeeded": 0, "failed": 0}
    found = re.search(r"Application protocol: (\S+)", text)
    if found:
        out["protocol"] = found.group(1)
    found = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", text)
    if found:
        out["reqs"] = float(found.group(1))
    found = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, "
                      r"(\d+) failed", text)
    if found:
        out["done"], out["succeeded"], out["failed"] = map(int, found.groups())
    return out


def h2loadCommand(url, connections, streams, seconds, warmup, pin):
    # -N: a connection silent for 5 s is dropped (and its requests counted as
    # failed), or one stuck stream would keep h2load waiting for ever.
    argv = ["h2load", "-t1", "-c%d" % connections, "-m%d" % streams, "-D%d" % seconds,
            "--warm-up-time=%d" % warmup, "-N5", url]
    return (["taskset", "-c", "1"] + argv) if pin else argv


def runH2load(port, scheme, path, connections, streams, options):
    url = "%s://127.0.0.1:%d%s" % (scheme, port, path)
    argv = h2loadCommand(url, connections, streams, options.duration, options.warmup,
                         options.pin)
    try:
        done = subprocess.run(argv, capture_output=True, text=True,
                              timeout=options.duration + options.warmup + 60)
    except subprocess.TimeoutExpired:
        return dict(parseH2load(""), failed=-1)  # h2load hung: the row is marked
    return parseH2load(done.stdout)


def idleConnection(port, tls):
    """One HTTP/2 connection through its preface and SETTINGS, left idle."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        context.set_alpn_protocols(["h2"])
        sock = context.wrap_socket(sock)
        if sock.selected_alpn_protocol() != "h2":
            raise SystemExit("ALPN did not choose h2 on port %d" % port)
    sock.sendall(PREFACE + EMPTY_SETTINGS)
    received = b""
    while len(received) < 9 or len(received) < 9 + int.from_bytes(received[:3], "big"):
        data = sock.recv(65536)  # the server's SETTINGS comes first (RFC 9113 §3.4)
        if not data:
            raise SystemExit("the server on port %d closed instead of sending SETTINGS" % port)
        received += data
    sock.sendall(SETTINGS_ACK)
    return sock


def idleMemory(proc, port, tls, count):
    """The server's VmRSS growth (KiB) per idle HTTP/2 connection, over ``count``."""
    time.sleep(0.5)
    before = statusField(proc.pid, "VmRSS")
    socks = [idleConnection(port, tls) for _ in range(count)]
    time.sleep(1.0)  # let the server settle each one into waiting
    after = statusField(proc.pid, "VmRSS")
    for sock in socks:
        sock.close()
    return (after - before) / count


def ratioLines(results, names):
    """refweb's (and the baseline's) req/s over Twisted's, row by row (TLS
    against TLS, h2c against TLS)."""
    lines = []
    for key, figures in results.items():
        twisted = figures.get("twisted-tls")
        if not twisted or not twisted["reqs"]:
            continue
        cells = ["%s/twisted %.2f" % (name, figures[name]["reqs"] / twisted["reqs"])
                 for name in names if name.startswith(("refweb", "baseline"))
                 and name in figures]
        lines.append("%-22s %s" % (key, "  ".join(cells)))
    return lines


def cell(figure):
    # h2load says "h2c" for HTTP/2 in cleartext (prior knowledge).
    flag = "" if figure["protocol"] in ("h2", "h2c") and not figure["failed"] else "*"
    return "%9.0f%s" % (figure["reqs"], flag)


def parseOptions(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per row")
    parser.add_argument("--warmup", type=int, default=2, help="h2load's warm-up seconds")
    parser.add_argument("--idle", type=int, default=200, help="idle connections to count")
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--baseline", metavar="TREE",
                        help="another refweb checkout, run as baseline-h2c and baseline-tls")
    options = parser.parse_args(argv)
    options.servers = [s for s in options.servers.split(",") if s]
    if options.baseline:
        BASELINE["tree"] = os.path.abspath(options.baseline)
        if not os.path.isdir(os.path.join(BASELINE["tree"], "refweb", "h2")):
            # A tree from before HTTP/2 has nothing to compare here: its
            # HTTP/1.1 is compared by bench_workloads.py --baseline.
            parser.error("%s has no refweb/h2: compare its HTTP/1.1 with "
                         "bench/bench_workloads.py --baseline" % options.baseline)
        options.servers += [name for name in BASELINES if name not in options.servers]
    elif set(options.servers) & set(BASELINES):
        parser.error("the baseline servers need --baseline TREE")
    unknown = set(options.servers) - set(SERVERS) - set(BASELINES)
    if unknown:
        parser.error("unknown servers: %s" % ", ".join(sorted(unknown)))
    options.pin = (os.cpu_count() or 1) >= 2 and bool(shutil.which("taskset"))
    return options


def main(argv=None):
    options = parseOptions(argv)
    if not shutil.which("h2load"):
        raise SystemExit("needs h2load (apt-get install nghttp2-client)")
    twisted = twistedPython() if "twisted-tls" in options.servers else None
    print("load average %s; pinned: %s; %d s per row after %d s warm-up"
          % (open("/proc/loadavg").read().split()[0], options.pin, options.duration,
             options.warmup))
    results, idle = {}, {}
    with tempfile.TemporaryDirectory(prefix="refweb-bench-h2-") as workdir:
        with open(os.path.join(workdir, "4k.bin"), "wb") as f:
            f.write(os.urandom(4096))
        makeCertificate(workdir)
        for label, path, connections, streams in ROWS:
            key = "%s -c %d -m %d" % (label, connections, streams)
            results[key] = {}
            for name in options.servers:  # the servers take turns on each row
                proc, port, scheme = startServer(name, workdir, twisted, options.pin)
                try:
                    results[key][name] = runH2load(port, scheme, path, connections, streams,
                                                   options)
                finally:
                    proc.kill()
                    proc.wait()
        for name in options.servers:
            proc, port, scheme = startServer(name, workdir, twisted, options.pin)
            try:
                idle[name] = idleMemory(proc, port, scheme == "https", options.idle)
            finally:
                proc.kill()
                proc.wait()
    print("\nreq/s (* = not all h2 or some failed)")
    print("| %-20s | %s |" % ("row", " | ".join("%10s" % n for n in options.servers)))
    for key, figures in results.items():
        print("| %-20s | %s |" % (key, " | ".join("%10s" % cell(figures[n])
                                                 for n in options.servers)))
    for key, figures in results.items():
        for name in options.servers:
            figure = figures[name]
            if cell(figure).endswith("*"):
                print("  * %s, %s: protocol %s, %d failed of %d done"
                      % (key, name, figure["protocol"], figure["failed"], figure["done"]))
    print("\nratios")
    for line in ratioLines(results, options.servers):
        print(line)
    print("\nmemory per idle HTTP/2 connection (VmRSS growth / %d)" % options.idle)
    for name in options.servers:
        print("  %-12s %6.1f KiB" % (name, idle[name]))


if __name__ == "__main__":
    main()
