"""Benchmark: refweb (Site and WSGI) beside Twisted Web (Site and WSGI),
waitress, cheroot and a bare threaded floor, on the workloads of issues 11
and 23, in one run, as a table of req/s and p99 latency and as ratios.

Not a test: it prints figures and asserts none (they depend on the machine,
its neighbours and the hour; a test that asserted them would fail at random
and teach nothing).  Run it from the checkout's root:

    python bench/bench_workloads.py [--quick] [--only W1,W3,HOLD]
                                    [--servers refweb,refweb-wsgi,waitress,...]
                                    [--duration S] [--rounds N] [--peer-python PYTHON]

Method:

- Every server is a real process started afresh for each workload (so its
  peak memory, VmHWM, belongs to that workload), warmed up with the same load
  for a moment, then measured.  Servers take turns *per workload* (every
  server on W1, then every server on W2, ...) so a drift in
  the machine's speed hits them alike rather than one server.  With
  ``--rounds N`` each workload is measured N times per server, the servers
  in a rotating order, and the table gives the medians and the spread of the
  rates ((highest - lowest) / median).
- On a machine with two cores or more the server is pinned to CPU 0 and the
  load generator to CPU 1 with ``taskset``: neither steals the other's core,
  and "the server's core is full" is then the limit being measured.
- The load generator is ``wrk`` (``apt-get install wrk``).  Only when wrk is
  missing does a small Python client stand in; the table then says so, and
  its figures are lower (the client is as slow as the servers).
- Each row reads wrk's requests/s (MiB/s for the 16 MiB file), latency p50
  and p99, socket errors (connect/read/write/timeout) and non-2xx/3xx
  answers, and the change in the kernel's listen-queue counters
  (ListenOverflows/ListenDrops of TcpExt in /proc/net/netstat) over the run.
- The summary gives every server's req/s and p99 on every workload, as a
  Markdown table (issue 23's comparison).  The ratios are refweb's figure
  over each peer's, and refweb WSGI's over each WSGI peer's (above 1:
  refweb is faster).  A ratio from one run is what the targets of issues 11
  and 23 are stated in; with one round it is one sample, so use
  ``--rounds 3`` (or run it twice) before believing a small difference.
- The hold-out is not a throughput test: 500 connections trickle one byte of
  a request head per second and 500 more connect and say nothing, while one
  more client makes 200 sequential requests (a new connection each).  It
  prints the errors, latency p50/p99/max and the server's thread count
  (Threads: in /proc/PID/status, the most seen while the hold-out runs).

What each server runs is in benchservers.py (``SERVERS``): a Site server
answers hello with a Resource and files with its file server, a WSGI server
runs the same WSGI applications as every other.  Peers are installed by the
benchmark, never by refweb: Twisted, waitress and cheroot each get a scratch
virtualenv under ~/.cache/refweb-bench/ made with ``pip install`` on first
use (``--peer-python`` reuses a Python that already has all three).  The
floor is a ``socketserver.ThreadingTCPServer`` that parses just enough HTTP
for these workloads: the speed limit of a thread-per-connection Python
server.
"""

import argparse
import collections
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from benchservers import (BENCHAPPS, CACHE, FLOOR, SERVER, SERVERS,  # noqa: F401 (FLOOR, script:
                          choosePythons, script, serverCommand)     # tests/test_bench.py)
from benchsupport import freePort, peakMemoryKiB, threadCount, waitForPort
from bench_static import download

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SERVER_NAMES = tuple(s.name for s in SERVERS)
BASELINES = ("baseline", "baseline-wsgi")  # run only with --baseline
# Whose figures the ratios divide, and by whose: each of ours by its peers.
RATIOS = {
    "refweb": ("twisted", "waitress", "cheroot", "floor", "baseline"),
    "refweb-wsgi": ("twisted-wsgi", "waitress", "cheroot", "baseline-wsgi"),
}
BASELINE = {}  # "tree": another refweb checkout (--baseline), run as servers "baseline*"
BIG_FILE_LIMIT_MIB = 64

Workload = collections.namedtuple(
    "Workload", "key title kind path connections close mib")

# kind: which server each contestant runs ("hello", "static", "wsgi").
# mib: the body's size when the figure is MiB/s rather than requests/s.
WORKLOADS = [
    Workload("W1", "hello, keep-alive, c=50", "hello", "/", 50, False, None),
    Workload("W2", "hello, Connection: close, c=50", "hello", "/", 50, True, None),
    Workload("W3", "4 KiB file, keep-alive, c=50", "static", "/4k.bin", 50, False, None),
    Workload("W4", "16 MiB file, keep-alive, c=4", "static", "/16m.bin", 4, False, 16),
    Workload("W5", "hello, keep-alive, c=500", "hello", "/", 500, False, None),
    Workload("W6", "WSGI hello, keep-alive, c=50", "wsgi", "/", 50, False, None),
]
HOLD = "HOLD"


# --- the servers (what each one runs: benchservers.py) ------------------------

def raiseFileLimit():
    """In the child: as many file descriptors as the hard limit allows (the hold-out needs > 1,000)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def startServer(name, kind, pythons, workdir, pin):
    """Start one server process on a free port: (process, port)."""
    port = freePort()
    argv = serverCommand(name, kind, port, pythons, workdir)
    if pin:
        argv = ["taskset", "-c", "0"] + argv  # taskset execs: the pid is the server's
    tree = BASELINE["tree"] if SERVER[name].family == "baseline" else ROOT
    env = dict(os.environ, BENCH_DIR=workdir,
               PYTHONPATH=os.pathsep.join([tree, workdir]))
    proc = subprocess.Popen(argv, cwd=workdir, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, preexec_fn=raiseFileLimit)
    waitForPort(port, proc, timeout=30)
    return proc, port


def stopServer(proc):
    proc.kill()
    proc.wait()


# --- parsing wrk and the kernel's counters ---------------------------------

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def parseWrk(text):
    """The figures of a ``wrk --latency`` report, as a dict.

    rate (requests/s), p50 and p99 (ms), errors (connect, read, write,
    timeout) and non2xx (wrk counts answers that are not 2xx or 3xx).
    """
    def latency(percent):
        m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s|m)\s*$" % percent, text, re.M)
        return float(m.group(1)) * UNITS[m.group(2)] if m else None

    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       text)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {
        "rate": float(rate.group(1)) if rate else 0.0,
        "p50": latency(50),
        "p99": latency(99),
        "errors": dict(zip(("connect", "read", "write", "timeout"),
                           map(int, errors.groups()))) if errors else
                  {"connect": 0, "read": 0, "write": 0, "timeout": 0},
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def parseNetstat(text):
    """The TcpExt counters of /proc/net/netstat: a header line of names, then a line of values."""
    lines = [line.split() for line in text.splitlines() if line.startswith("TcpExt:")]
    names, values = lines[0][1:], lines[1][1:]
    return dict(zip(names, map(int, values)))


def listenCounters():
    with open("/proc/net/netstat") as f:
        counters = parseNetstat(f.read())
    return counters.get("ListenOverflows", 0), counters.get("ListenDrops", 0)


def counterDelta(before, after):
    return tuple(b - a for a, b in zip(before, after))


# --- the load --------------------------------------------------------------

def runWrk(port, workload, seconds, pin):
    argv = ["wrk", "-t1", "-c%d" % workload.connections, "-d%ds" % seconds,
            "--timeout", "5s", "--latency"]
    # One wrk thread: it has one core, and a second thread would only share it.
    if workload.close:
        argv += ["-H", "Connection: close"]
    argv.append("http://127.0.0.1:%d%s" % (port, workload.path))
    if pin:
        argv = ["taskset", "-c", "1"] + argv
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60).stdout
    return parseWrk(out)


# Stand-in when wrk is missing: N connections from one process, each sending
# a request, reading the whole answer, and (with close) reconnecting.
PYTHON_LOAD = r'''
import json, selectors, socket, sys, time
port, path, conns, seconds, close = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5] == "1"
request = ("GET %s HTTP/1.1\r\nHost: bench\r\n%s\r\n" % (path, "Connection: close\r\n" if close else "")).encode()
sel = selectors.DefaultSelector()
stats = {"done": 0, "non2xx": 0, "connect": 0, "read": 0, "latencies": []}
def start(sock=None):
    try:
        sock = sock or socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        stats["connect"] += 1
        return
    sock.setblocking(False)
    sock.sendall(request)
    sel.register(sock, selectors.EVENT_READ, [bytearray(), time.perf_counter()])
def finish(sock, buf, t0):
    i = buf.find(b"\r\n\r\n")
    if i < 0: return False
    head = bytes(buf[:i]).lower()
    m = head.find(b"content-length:")
    n = int(head[m + 15:].split(b"\r\n", 1)[0]) if m >= 0 else 0
    if len(buf) < i + 4 + n: return False
    stats["done"] += 1
    stats["latencies"].append((time.perf_counter() - t0) * 1000)
    if not head[9:10] in b"23": stats["non2xx"] += 1
    sel.unregister(sock)
    if close: sock.close(); start()
    else: start(sock)
    return True
for _ in range(conns): start()
end = time.monotonic() + seconds
while time.monotonic() < end:
    for key, _ in sel.select(0.2):
        sock, (buf, t0) = key.fileobj, key.data
        try: data = sock.recv(1 << 20)
        except OSError: data = b""
        if not data:
            stats["read"] += 1; sel.unregister(sock); sock.close(); start(); continue
        buf += data
        finish(sock, buf, t0)
lat = sorted(stats.pop("latencies")) or [0.0]
stats["p50"], stats["p99"] = lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))]
print(json.dumps(stats))
'''


def runPythonLoad(port, workload, seconds, pin):
    argv = [sys.executable, "-c", PYTHON_LOAD, str(port), workload.path,
            str(workload.connections), str(seconds), "1" if workload.close else "0"]
    if pin:
        argv = ["taskset", "-c", "1"] + argv
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60,
                         preexec_fn=raiseFileLimit).stdout
    s = json.loads(out)
    return {"rate": s["done"] / seconds,
            "p50": s["p50"], "p99": s["p99"], "non2xx": s["non2xx"],
            "errors": {"connect": s["connect"], "read": s["read"], "write": 0, "timeout": 0}}


def runLoad(port, workload, seconds, pin):
    load = runWrk if shutil.which("wrk") else runPythonLoad
    return load(port, workload, seconds, pin)


def measureWorkload(name, workload, options, pythons, workdir):
    """Start ``name`` for ``workload``, warm it up, measure it: a row of figures."""
    proc, port = startServer(name, workload.kind, pythons, workdir, options.pin)
    try:
        runLoad(port, workload, options.warmup, options.pin)
        before = listenCounters()
        row = runLoad(port, workload, options.duration, options.pin)
        row["overflows"], row["drops"] = counterDelta(before, listenCounters())
        row["peakKiB"] = peakMemoryKiB(proc.pid)
    finally:
        stopServer(proc)
    return row


def measureInRounds(workload, options, pythons, workdir):
    """Every server on ``workload``, ``options.rounds`` times, in a rotating order: a row each."""
    names = options.servers
    rows = {name: [] for name in names}
    for turn in range(options.rounds):
        for name in names[turn % len(names):] + names[:turn % len(names)]:
            rows[name].append(measureWorkload(name, workload, options, pythons, workdir))
    return {name: combineRounds(rows[name]) for name in names}


def combineRounds(rows):
    """One row from a server's rounds: the medians of its figures, the sums of
    its failures, its highest peak memory, and the spread of its rates
    ((highest - lowest) / median, in %; None for a single round)."""
    def median(key):
        values = [row[key] for row in rows if row[key] is not None]
        return statistics.median(values) if values else None

    rates = [row["rate"] for row in rows]
    rate = statistics.median(rates)
    spread = (max(rates) - min(rates)) / rate * 100 if len(rows) > 1 and rate else None
    return {
        "rate": rate, "spread": spread, "p50": median("p50"), "p99": median("p99"),
        "errors": {kind: sum(row["errors"][kind] for row in rows) for kind in rows[0]["errors"]},
        "non2xx": sum(row["non2xx"] for row in rows),
        "overflows": sum(row["overflows"] for row in rows),
        "drops": sum(row["drops"] for row in rows),
        "peakKiB": max(row["peakKiB"] for row in rows),
    }


# --- the hold-out ----------------------------------------------------------

HOLDOUT_CLIENT = r'''
import json, resource, socket, sys, threading, time
port, trickling, silent, requests, settle, wait, deadline = map(int, sys.argv[1:8])
resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
# A head that never ends while the hold-out lasts: one byte a second.
SLOW = b"GET / HTTP/1.1\r\nHost: bench\r\nX-Slow: " + b"a" * 4000
counts = {"refused": 0, "closedByServer": 0}

def openMany(n):
    socks = []
    for _ in range(n):
        try:
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        except OSError:
            counts["refused"] += 1
    return socks

slow, quiet = openMany(trickling), openMany(silent)
stop = threading.Event()

def trickle():
    offset = 0
    while not stop.wait(1.0):
        for sock in list(slow):
            try:
                sock.send(SLOW[offset:offset + 1])
            except OSError:
                slow.remove(sock); counts["closedByServer"] += 1
        offset += 1

def fetch():
    """The answer to one GET / on a new connection (what arrived before a reset, too)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        answer = b""
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                if answer:
                    return answer  # e.g. a 503 sent before the server closed
                raise
            if not data:
                return answer
            answer += data

threading.Thread(target=trickle, daemon=True).start()
time.sleep(settle)
print("ready", flush=True)
latencies, errors = [], {}
end = time.monotonic() + deadline
for sent in range(requests):
    if time.monotonic() > end:
        # A server that makes every request wait would keep the run for hours.
        errors["not sent: %d s deadline" % deadline] = requests - sent
        break
    t0 = time.perf_counter()
    try:
        answer = fetch()
        status = answer[9:12].decode() or "no answer"
        if status == "200" and answer.endswith(b"Hello, world!"):
            latencies.append((time.perf_counter() - t0) * 1000)
        else:
            errors[status] = errors.get(status, 0) + 1
    except OSError as e:
        errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
stop.set()
print(json.dumps({"latencies": latencies, "errors": errors, **counts}), flush=True)
'''


# 500 trickling and 500 silent connections, then HOLD_SETTLE seconds before
# the 200 requests, each given HOLD_WAIT seconds (twice the target's 1 s) and
# all of them HOLD_DEADLINE seconds.
HOLD_TRICKLING, HOLD_SILENT, HOLD_REQUESTS = 500, 500, 200
HOLD_SETTLE, HOLD_WAIT, HOLD_DEADLINE = 2, 2, 30


def measureHoldout(name, options, pythons, workdir):
    """The hold-out against ``name``'s hello server: a row of figures."""
    proc, port = startServer(name, "hello", pythons, workdir, options.pin)
    try:
        baseline = threadCount(proc.pid)
        argv = [sys.executable, "-c", HOLDOUT_CLIENT, str(port)] + [
            str(n) for n in (HOLD_TRICKLING, HOLD_SILENT, HOLD_REQUESTS, HOLD_SETTLE,
                             HOLD_WAIT, HOLD_DEADLINE)]
        if options.pin:
            argv = ["taskset", "-c", "1"] + argv
        client = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        most = sampleThreads(proc.pid, client)
        report = json.loads(client.stdout.read().splitlines()[-1])
        client.wait()
        row = summariseHoldout(report)
        row.update(threadsBefore=baseline, threadsMost=most, peakKiB=peakMemoryKiB(proc.pid))
    finally:
        stopServer(proc)
    return row


def sampleThreads(pid, client):
    """The most threads ``pid`` had while the hold-out client ran."""
    most = 0
    while client.poll() is None:
        most = max(most, threadCount(pid))
        time.sleep(0.1)
    return most


def summariseHoldout(report):
    latencies = sorted(report["latencies"])
    pick = (lambda q: latencies[min(len(latencies) - 1, int(len(latencies) * q))]
            if latencies else None)
    return {"ok": len(latencies), "errors": report["errors"], "p50": pick(0.5),
            "p99": pick(0.99), "max": latencies[-1] if latencies else None,
            "refused": report["refused"], "closedByServer": report["closedByServer"]}


# --- the 1 GiB file --------------------------------------------------------

def measureBigFile(workdir, pythons, pin):
    """refweb serving a sparse 1 GiB file once: (bytes received, seconds, peak KiB)."""
    with open(os.path.join(workdir, "1g.bin"), "wb") as f:
        f.truncate(1 << 30)  # sparse: no disk space, reads as zeros
    proc, port = startServer("refweb", "static", pythons, workdir, pin)
    try:
        _, received, seconds = download(port, "/1g.bin")
        peak = peakMemoryKiB(proc.pid)
    finally:
        stopServer(proc)
        os.remove(os.path.join(workdir, "1g.bin"))
    return received, seconds, peak


# --- the report ------------------------------------------------------------

def fmt(value, spec="%.2f"):
    return "-" if value is None else spec % value


def throughput(workload, row):
    """Requests/s, or MiB/s of body when the workload says the body's size."""
    return row["rate"] * workload.mib if workload.mib else row["rate"]


def printWorkload(workload, rows):
    unit = "MiB/s" if workload.mib else "req/s"
    print("\n%s  %s" % (workload.key, workload.title))
    print("  %-13s %10s %7s %9s %9s  %-15s %7s %10s %9s" % (
        "server", unit, "spread", "p50 ms", "p99 ms", "errors c/r/w/t", "non-2xx",
        "ovfl/drop", "peak RSS"))
    for name, row in rows.items():
        e = row["errors"]
        print("  %-13s %10.1f %7s %9s %9s  %-15s %7d %10s %5.1f MiB" % (
            name, throughput(workload, row), fmt(row["spread"], "%.0f%%"),
            fmt(row["p50"]), fmt(row["p99"]),
            "%d/%d/%d/%d" % (e["connect"], e["read"], e["write"], e["timeout"]),
            row["non2xx"], "%d/%d" % (row["overflows"], row["drops"]),
            row["peakKiB"] / 1024))


def p99Cell(value):
    """A p99 in ms for the summary: one decimal below 10 ms, whole ms above."""
    if value is None:
        return "-"
    return "%.1f" % value if value < 10 else "%.0f" % value


def flawed(row):
    """True if some answers were not 2xx/3xx or some requests failed: the
    figure then counts failures too, and is not comparable."""
    return bool(row.get("non2xx") or any(row.get("errors", {}).values()))


def summaryLines(workloads, results, names):
    """The Markdown table of every server's req/s (W4: MiB/s) and p99 ms on
    every workload: one row per workload, two columns per server; a flawed
    figure is marked with an asterisk."""
    head = ["workload"]
    for name in names:
        head += [SERVER[name].title, "p99 ms"]
    lines = ["| " + " | ".join(head) + " |",
             "|---|" + "---:|" * (2 * len(names))]
    for w in workloads:
        cells = ["%s %s" % (w.key, w.title)]
        for name in names:
            row = results[w.key][name]
            mark = " *" if flawed(row) else ""
            cells += ["%.0f%s" % (throughput(w, row), mark), p99Cell(row["p99"])]
        lines.append("| " + " | ".join(cells) + " |")
    if any(flawed(results[w.key][name]) for w in workloads for name in names):
        lines.append("\n\\* with errors or answers not 2xx/3xx: see the workload's table")
    return lines


def printSummary(workloads, results, names):
    if not workloads:
        return
    print("\nsummary: req/s (W4: MiB/s) and wrk's p99 latency in ms, per server")
    for line in summaryLines(workloads, results, names):
        print(line)


def printRatios(workloads, results, names):
    for mine, theirs in RATIOS.items():
        peers = [p for p in theirs if p in names]
        if mine not in names or not peers:
            continue
        print("\nratios: %s's req/s (W4: MiB/s) over each peer's; above 1.00 %s is faster"
              % (mine, mine))
        heads = ["  %s/%s" % (mine, p) for p in peers]
        print("  %-40s %s" % ("workload", "".join(heads)))
        for w in workloads:
            rows = results[w.key]
            figure = throughput(w, rows[mine])
            cells = []
            for p, head in zip(peers, heads):
                other = throughput(w, rows[p])
                cells.append("%*s" % (len(head), fmt(figure / other) if other else "-"))
            print("  %-40s %s" % ("%s %s" % (w.key, w.title), "".join(cells)))


def printHoldoutHead():
    print("\nHOLD  %d connections trickling a head at 1 byte/s + %d connected and silent;"
          "\n      meanwhile %d sequential requests, a new connection each (%d s each at most)"
          % (HOLD_TRICKLING, HOLD_SILENT, HOLD_REQUESTS, HOLD_WAIT))
    print("  %-13s %4s %8s %8s %8s %11s %9s %13s  %s" % (
        "server", "ok", "p50 ms", "p99 ms", "max ms", "threads", "peak RSS",
        "slow: lost/cut", "errors"))


def printHoldoutRow(name, row):
    errors = ", ".join("%s: %d" % item for item in sorted(row["errors"].items())) or "0"
    print("  %-13s %4d %8s %8s %8s %11s %5.1f MiB %13s  %s" % (
        name, row["ok"], fmt(row["p50"]), fmt(row["p99"]), fmt(row["max"]),
        "%d -> %d" % (row["threadsBefore"], row["threadsMost"]), row["peakKiB"] / 1024,
        "%d/%d" % (row["refused"], row["closedByServer"]), errors), flush=True)


def printBigFile(received, seconds, peakKiB):
    complete = "complete" if received == 1 << 30 else "SHORT: %d bytes" % received
    print("\n1 GiB file from refweb (a Site over static.File), once: %s, %.0f MiB/s,"
          " peak RSS %.1f MiB (target < %d MiB: %s)" % (
              complete, received / (1 << 20) / max(seconds, 1e-9), peakKiB / 1024,
              BIG_FILE_LIMIT_MIB, "OK" if peakKiB < BIG_FILE_LIMIT_MIB * 1024 else "OVER"))


# --- the run ---------------------------------------------------------------

def makeFiles(workdir):
    with open(os.path.join(workdir, "4k.bin"), "wb") as f:
        f.write(os.urandom(4096))
    with open(os.path.join(workdir, "16m.bin"), "wb") as f:
        f.write(os.urandom(16 << 20))  # real bytes, in the page cache after the warm-up
    with open(os.path.join(workdir, "benchapps.py"), "w") as f:
        f.write(BENCHAPPS)


def parseOptions(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="3 s per figure and 1 s of warm-up (default 10 s and 2 s)")
    parser.add_argument("--only", default=",".join([w.key for w in WORKLOADS] + [HOLD]),
                        help="workloads to run: W1..W6 and HOLD, comma-separated")
    parser.add_argument("--servers", default=",".join(
        n for n in SERVER_NAMES if n not in BASELINES),
        help="comma-separated, of: %s" % ", ".join(SERVER_NAMES))
    parser.add_argument("--baseline", metavar="TREE",
                        help="also run another refweb checkout (e.g. `git worktree add "
                             "/tmp/before main~5`) as servers 'baseline' (and "
                             "'baseline-wsgi' beside refweb-wsgi): a before/after "
                             "table in one run")
    parser.add_argument("--duration", type=int, help="seconds per figure")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure each workload this many times per server, servers "
                        "in a rotating order, and print the medians (default 1)")
    parser.add_argument("--peer-python", help="a Python that has twisted, waitress and cheroot "
                        "(default: make scratch venvs under %s)" % CACHE)
    parser.add_argument("--no-big-file", action="store_true",
                        help="skip the 1 GiB file line")
    options = parser.parse_args(argv)
    options.duration = options.duration or (3 if options.quick else 10)
    options.warmup = 1 if options.quick else 2
    options.only = options.only.upper().split(",")
    options.servers = options.servers.split(",")
    if options.baseline:
        BASELINE["tree"] = os.path.abspath(options.baseline)
        if "baseline" not in options.servers:
            options.servers.append("baseline")
        if "refweb-wsgi" in options.servers and "baseline-wsgi" not in options.servers:
            options.servers.append("baseline-wsgi")
    elif set(BASELINES) & set(options.servers):
        parser.error("the servers 'baseline' and 'baseline-wsgi' need --baseline TREE")
    unknown = set(options.servers) - set(SERVER_NAMES)
    if unknown:
        parser.error("unknown servers: %s" % ", ".join(sorted(unknown)))
    options.pin = bool(shutil.which("taskset")) and (os.cpu_count() or 1) >= 2
    return options


def printPreamble(options, pythons):
    if shutil.which("wrk"):
        tool = "wrk -t1 --timeout 5s --latency"
    else:
        tool = ("PYTHON LOAD GENERATOR (wrk is not installed: apt-get install wrk); "
                "its figures are not comparable with wrk's")
    print("load: %s; %d s per figure after %d s of warm-up, %d round(s)" % (
        tool, options.duration, options.warmup, options.rounds))
    print("load average before the run: %.2f %.2f %.2f (other work on the machine "
          "skews every figure)" % os.getloadavg())
    print("pinning: %s" % ("server on CPU 0, load on CPU 1 (taskset)" if options.pin
                           else "none (needs taskset and 2 cores)"))
    for name in options.servers:
        print("%-14s %s" % (name + ":", pythons[name]))


def main(argv=None):
    # Killed, still stop the server of the moment (the finally clauses run).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(1))
    options = parseOptions(argv)
    pythons = choosePythons(options.servers, options.peer_python)
    printPreamble(options, pythons)
    workloads = [w for w in WORKLOADS if w.key in options.only]
    results = {}
    with tempfile.TemporaryDirectory(prefix="refweb-bench-") as workdir:
        makeFiles(workdir)
        for w in workloads:
            results[w.key] = measureInRounds(w, options, pythons, workdir)
            printWorkload(w, results[w.key])
            sys.stdout.flush()
        printSummary(workloads, results, options.servers)
        printRatios(workloads, results, options.servers)
        if HOLD in options.only:
            printHoldoutHead()
            for name in options.servers:
                printHoldoutRow(name, measureHoldout(name, options, pythons, workdir))
        if "refweb" in options.servers and not options.no_big_file:
            printBigFile(*measureBigFile(workdir, pythons, options.pin))


if __name__ == "__main__":
    main()
