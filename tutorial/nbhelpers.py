"""Small helpers for the tutorial notebooks (standard library only).

    fetch(url, method="GET", headers=None, body=None) -> (status, headers, body)
    show((status, headers, body))          print a response the way a learner reads it
    raw(port, data) -> bytes                send raw bytes, read until the server closes
    folder({"a.txt": "alpha", "sub/b.txt": "beta"}) -> path of a new temporary folder
    watching()                              collect refweb log lines in a list, in a `with`
    freePort(), waitPort(port)              for servers started as separate processes
    refweb(*args, cwd=..., port=...)        start `python -m refweb ...`; stop(proc)
    cleanup()                               remove every folder folder() made

Importing this module also puts the refweb checkout on ``sys.path``, so a
notebook started in tutorial/ can ``import refweb`` without installing it.
"""

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(HERE)
if CHECKOUT not in sys.path:
    sys.path.insert(0, CHECKOUT)

from refweb.python import log  # noqa: E402  (needs the sys.path line above)

_folders = []


def fetch(url, method="GET", headers=None, body=None, timeout=10):
    """One request over a fresh connection: (status, headers, body bytes).

    ``url`` may be absolute (``http://127.0.0.1:PORT/path``).  ``headers`` is
    a case-insensitive http.client message: ``headers["Content-Type"]``.
    """
    parts = urllib.parse.urlsplit(url)
    target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def show(response, skip=("Date", "Server"), limit=600):
    """Print status, headers (less the ones that change every time) and body."""
    status, headers, body = response
    print("status", status)
    for name, value in headers.items():
        if name not in skip:
            print("%s: %s" % (name, value))
    print()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = repr(body)
    print(text[:limit] + ("..." if len(text) > limit else ""))


def raw(port, data, timeout=5.0, settle=None):
    """Send ``data`` to 127.0.0.1:port; return all bytes until the server closes.

    ``settle``: stop once nothing arrived for that many seconds (for
    connections the server keeps open).
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        sock.settimeout(settle or timeout)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def folder(files):
    """A new temporary folder holding ``files`` ({relative path: text or bytes})."""
    root = tempfile.mkdtemp(prefix="refweb-tutorial-")
    _folders.append(root)
    for name, content in files.items():
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(path, mode) as f:
            f.write(content)
    return root


def cleanup():
    """Remove the folders made by folder()."""
    while _folders:
        shutil.rmtree(_folders.pop(), ignore_errors=True)


@contextlib.contextmanager
def watching():
    """Collect every refweb log line written inside the ``with`` block."""
    lines = []
    log.addObserver(lines.append)
    try:
        yield lines
    finally:
        time.sleep(0.05)  # let a connection thread finish its last log line
        log.removeObserver(lines.append)


def freePort():
    """A TCP port that was free a moment ago (for separate server processes)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def waitPort(port, timeout=15.0):
    """Wait until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    raise TimeoutError("nothing listens on port %d" % port)


def refweb(*args, cwd=None, port=None, env=None):
    """Start ``python -m refweb ARGS`` as its own process; wait for ``port``.

    What the process prints goes to a temporary file that stop() reads.
    """
    environment = dict(os.environ, PYTHONPATH=CHECKOUT, **(env or {}))
    output = tempfile.TemporaryFile("w+")
    proc = subprocess.Popen([sys.executable, "-m", "refweb", *args], cwd=cwd,
                            env=environment, stdout=output, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    proc.output = output
    if port is not None:
        try:
            waitPort(port)
        except TimeoutError:
            raise TimeoutError("refweb did not listen on port %d; it said:\n%s"
                               % (port, stop(proc))) from None
    return proc


def _quiet(proc, still=0.3, timeout=5.0):
    """Wait until ``proc`` has printed nothing for ``still`` seconds.

    A server writes a request's access-log line just after the response, so
    the client can have its answer first; waiting for silence lets that line
    land before stop() asks the server to shut down.
    """
    deadline = time.monotonic() + timeout
    size, since = -1, time.monotonic()
    while time.monotonic() < deadline and proc.poll() is None:
        now = os.fstat(proc.output.fileno()).st_size
        if now != size:
            size, since = now, time.monotonic()
        elif time.monotonic() - since >= still:
            return
        time.sleep(0.05)


def stop(proc):
    """Stop a process started by refweb() (SIGTERM, as `kill` would); return its output."""
    _quiet(proc)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=10)
    proc.output.seek(0)
    text = proc.output.read()
    proc.output.close()
    return text
