"""Benchmark: stream a 1 GiB file from refweb.static and watch the server's memory.

Run from the checkout's root:  python bench/bench_static.py [--size-mib N] [--site]

It creates a sparse file of the given size in a temporary folder, starts
`python -m refweb -n web --path TMP --listen tcp:PORT` (or, with --site or
when the command line does not exist yet, a tiny script that serves a
static.File with a Site), downloads the file over a raw socket while
discarding the bytes, and prints the throughput and the server process's
peak resident memory (VmHWM from /proc/PID/status).  Target: under 64 MiB.
"""

import argparse
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time

from benchsupport import freePort, peakMemoryKiB, waitForPort

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
TARGET_MIB = 64

SITE_SCRIPT = """
import sys
from refweb import server, static
from refweb.internet import reactor
reactor.listenTCP(int(sys.argv[2]), server.Site(static.File(sys.argv[1])), interface='127.0.0.1')
reactor.run()
"""


def download(port, path):
    """GET path over a raw socket, discard the body: (status line, body bytes, seconds)."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    head, received, t0 = b"", 0, time.perf_counter()
    while True:
        n = sock.recv_into(view)
        if not n:
            break
        if not head:
            head = bytes(view[:n])
            end = head.find(b"\r\n\r\n")
            received += n - (end + 4)
            head = head[:end]
        else:
            received += n
    seconds = time.perf_counter() - t0
    sock.close()
    return head.split(b"\r\n", 1)[0].decode(), received, seconds


def startServer(folder, port, useSite):
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if useSite:
        args = [sys.executable, "-c", SITE_SCRIPT, folder, str(port)]
    else:
        args = [sys.executable, "-m", "refweb", "-n", "web", "--path", folder,
                "--listen", "tcp:%d" % port]
    return subprocess.Popen(args, cwd=folder, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--site", action="store_true", help="serve with a Site script")
    options = parser.parse_args()
    sys.path.insert(0, REPO)
    useSite = options.site or importlib.util.find_spec("refweb.runner") is None
    size = options.size_mib << 20
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, "big.bin"), "wb") as f:
            f.truncate(size)  # sparse: no disk space, reads as zeros
        port = freePort()
        proc = startServer(folder, port, useSite)
        try:
            waitForPort(port, proc)
            before = peakMemoryKiB(proc.pid)
            status, received, seconds = download(port, "/big.bin")
            peak = peakMemoryKiB(proc.pid)
        finally:
            proc.terminate()
            proc.wait(10)
    print("server:      %s" % ("Site script" if useSite else "python -m refweb -n web --path"))
    print("status:      %s" % status)
    print("received:    %d bytes of %d (%s)" % (received, size,
                                               "complete" if received == size else "SHORT"))
    print("time:        %.2f s" % seconds)
    print("throughput:  %.1f MiB/s" % (received / (1 << 20) / max(seconds, 1e-9)))
    print("peak RSS:    %.1f MiB before, %.1f MiB after (target < %d MiB): %s"
          % (before / 1024, peak / 1024, TARGET_MIB, "OK" if peak < TARGET_MIB * 1024 else "OVER"))
    return 0 if received == size and peak < TARGET_MIB * 1024 else 1


if __name__ == "__main__":
    sys.exit(main())
