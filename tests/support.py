"""Helpers for tests: serve a resource on a free port, talk to it for real.

    with served(Simple()) as port:           # listenTCP(0, Site(...)) ... stopListening()
        status, headers, body = get(port, "/")
        data = rawHTTP(port, b"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
"""

import contextlib
import http.client
import socket
import time

from refweb import server
from refweb.internet import reactor


@contextlib.contextmanager
def served(resourceOrSite, **siteArgs):
    """Serve a resource (wrapped in a Site) or a factory on 127.0.0.1:0; yield the port."""
    factory = resourceOrSite
    if not hasattr(factory, "buildProtocol"):
        factory = server.Site(resourceOrSite, **siteArgs)
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    try:
        yield port.getHost().port
    finally:
        port.stopListening()


def get(port, path="/", method="GET", headers=None, body=None, timeout=10):
    """One request over a fresh http.client connection: (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def rawHTTP(port, data, timeout=5.0, settle=None):
    """Send raw bytes; return everything received until the server closes.

    ``settle``: stop early once nothing more arrived for that many seconds
    (for keep-alive connections the server leaves open).
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        return readUntilClosed(sock, timeout, settle)


def readUntilClosed(sock, timeout=5.0, settle=None):
    chunks = []
    deadline = time.monotonic() + timeout
    sock.settimeout(settle or timeout)
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def statusOf(response):
    """b"HTTP/1.1 404 Not Found\\r\\n..." -> 404."""
    return int(response.split(b" ", 2)[1])
