"""Helpers for tests: serve a resource on a free port, talk to it for real.

    with served(helloTree()) as port:        # listenTCP(0, Site(...)) ... stopListening()
        status, headers, body = get(port, "/")
        status, reason, headers, body = fetch(port, "/", host="example.com")
        data = rawHTTP(port, b"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
        status, headers, body = parseResponse(data)

``helloTree()`` is the guide's Hello tree; ``freePort()`` a port nobody
listens on.  Shared fixtures (``serve``, ``hello``, ``docroot``, ``logged``,
``certfiles``) live in conftest.py.
"""

import collections
import contextlib
import http.client
import os
import shutil
import socket
import ssl
import subprocess
import time

import pytest

from refweb import resource, server
from refweb.internet import reactor
from refweb.internet.address import IPv4Address


class Hello(resource.Resource):
    """The guide's Hello ("Resource Trees"), as the guide writes it."""

    isLeaf = True

    def getChild(self, name, request):
        if name == "":
            return self
        return resource.Resource.getChild(self, name, request)

    def render_GET(self, request):
        return "Hello, world! I am located at %r." % (request.prepath,)


def helloTree(isLeaf=True):
    """The guide's Hello tree: a Hello root with Hello children fred and bob.

    As the guide writes it every Hello is a leaf, so the Site never walks
    below the root (/fred renders the root, prepath []); ``isLeaf=False``
    makes each one a branch, so the walk goes down to /fred and /bob.
    """
    root, fred, bob = Hello(), Hello(), Hello()
    for node in (root, fred, bob):
        node.isLeaf = isLeaf
    root.putChild("fred", fred)
    root.putChild("bob", bob)
    return root


class RecordingTransport:
    """Stands in for a connection's transport in tests that feed bytes by
    hand: keeps what is written, remembers being closed, has an address."""

    disconnected = False

    def __init__(self):
        self.written = []

    def write(self, data):
        self.written.append(data)

    def loseConnection(self):
        self.disconnected = True

    abortConnection = loseConnection

    def getPeer(self):
        return IPv4Address("TCP", "127.0.0.1", 40000)

    getHost = getPeer


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


def siteWith(resource, **attributes):
    """A Site for ``resource`` with these attributes set on it: a limit
    (``maxBodySize=10``), a ``sessionFactory``... whatever a test changes."""
    site = server.Site(resource)
    for name, value in attributes.items():
        setattr(site, name, value)
    return site


Response = collections.namedtuple("Response", "status reason headers body")


def fetch(port, path="/", method="GET", headers=None, body=None, timeout=10, host=None,
          context=None):
    """One request over a fresh http.client connection: a Response(status,
    reason, headers, body); ``headers`` is case-insensitive (``get_all`` for
    repeated fields).

    ``host``: the Host header to send (http.client's own is 127.0.0.1:port);
    ``context``: an ssl.SSLContext, to ask over TLS.
    """
    if context is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    else:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=context)
    headers = dict(headers or {})
    if host is not None:
        headers["Host"] = host
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return Response(response.status, response.reason, response.headers, response.read())
    finally:
        conn.close()


def get(port, path="/", method="GET", headers=None, body=None, **options):
    """(status, headers, body) of one request; ``options`` as for ``fetch``."""
    status, _, headers, body = fetch(port, path, method, headers, body, **options)
    return status, headers, body


def freePort():
    """A port number nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rawHTTP(port, data, timeout=5.0, settle=None):
    """Send raw bytes; return everything received until the server closes.

    ``settle``: stop early once nothing more arrived for that many seconds
    (for keep-alive connections the server leaves open).
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        return readUntilClosed(sock, timeout, settle)


def readUntilClosed(sock, timeout=5.0, settle=None):
    """Everything ``sock`` receives until the peer closes or ``timeout`` passes
    (or, with ``settle``, until it has been quiet that long)."""
    return receive(sock, timeout, settle)[0]


def receive(sock, timeout=5.0, settle=None):
    """As readUntilClosed, and whether the peer closed: (bytes, closed)."""
    chunks, closed = [], False
    deadline = time.monotonic() + timeout
    sock.settimeout(settle or timeout)
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except ConnectionError:  # reset or aborted: the peer is gone all the same
            closed = True
            break
        if not chunk:
            closed = True
            break
        chunks.append(chunk)
    return b"".join(chunks), closed


def statusOf(response):
    """b"HTTP/1.1 404 Not Found\\r\\n..." -> 404."""
    return int(response.split(b" ", 2)[1])


def parseResponse(data):
    """One response read to its close -> (status, {lower name: [values]}, body)."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return int(lines[0].split()[1]), headers, body


def dechunk(data):
    """A chunked body (RFC 9112 §7.1) without trailers -> (body, the bytes after it)."""
    parts, at = [], 0
    while True:
        end = data.index(b"\r\n", at)
        size = int(data[at:end].split(b";")[0], 16)   # a chunk extension is ignored
        if size == 0:
            return b"".join(parts), data[end + 4:]
        parts.append(data[end + 2:end + 2 + size])
        at = end + 4 + size


def waitUntil(predicate, timeout=5.0, interval=0.01):
    """Poll ``predicate`` until it is true or ``timeout`` passes; its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


# -- TLS -------------------------------------------------------------------

def makeCertificate(folder):
    """A throwaway self-signed certificate for 127.0.0.1: (key path, cert path).
    Skips the test where the openssl command is missing."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a throwaway certificate")
    key, cert = os.path.join(folder, "key.pem"), os.path.join(folder, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return key, cert


def serverContext(certfiles):
    """A server-side context for ``certfiles`` (the conftest fixture: cert, key)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*certfiles)
    return ctx


def clientContext():
    """A client-side context that takes any certificate (they are throwaway ones)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx
