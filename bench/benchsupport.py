"""What the benchmark scripts share: a free port, waiting for a server to
listen, and a process's peak memory and thread count.  Each script in bench/
imports it from beside itself (``python bench/NAME.py`` puts bench/ on
sys.path)."""

import socket
import time


def freePort():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def waitForPort(port, proc, timeout=15.0):
    """Return once ``port`` accepts connections; SystemExit if ``proc`` dies or never listens."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the server exited early (code %s)" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the server did not listen on %d" % port)


def statusField(pid, name):
    """The number a field of /proc/PID/status starts with (Linux), or 0 if absent."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    return 0


def peakMemoryKiB(pid):
    """VmHWM of a process, in KiB: its peak resident set size."""
    return statusField(pid, "VmHWM")


def threadCount(pid):
    """How many threads a process has now."""
    return statusField(pid, "Threads")
