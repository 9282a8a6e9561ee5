"""Tests for refweb.encoders and EncodingResourceWrapper (guide: "Request encoders").

One Site, served for the whole module, holds every resource these tests
need under its own path; responses are read as raw bytes so that
Content-Encoding, Vary and the exact compressed body can be checked.
"""

import gzip
import socket
import threading
import zlib

import pytest

from refweb import encoders, resource, server
from refweb.encoders import GzipEncoderFactory, acceptedCodings
from refweb.resource import EncodingResourceWrapper
from support import parseResponse, rawHTTP, served

WAIT = 5.0
HELLO = b"<html>Hello, world!</html>"


class Simple(resource.Resource):
    """The guide's example resource."""

    isLeaf = True

    def render_GET(self, request):
        return "<html>Hello, world!</html>"


class Streamer(resource.Resource):
    """Writes one part, waits until the test has seen it, writes another, finishes."""

    isLeaf = True
    go = None

    def render_GET(self, request):
        request.write(b"first part;")
        self.go.wait(WAIT)
        request.write("second part")  # str is written as UTF-8
        request.finish()
        return server.NOT_DONE_YET


class PutOnly(resource.Resource):
    isLeaf = True

    def render_PUT(self, request):
        return b"put"


class Broken(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        raise RuntimeError("render failed")


class UpperEncoder:
    """A toy encoder: upper-cases the body."""

    def encode(self, data):
        return data.upper()

    def finish(self):
        return b"!"


class UpperFactory:
    def encoderForRequest(self, request):
        request.setHeader("content-encoding", "x-upper")
        return UpperEncoder()


class NeverFactory:
    def encoderForRequest(self, request):
        return None


def buildRoot():
    gz = [GzipEncoderFactory()]
    tree = resource.Resource()
    tree.putChild("leaf", Simple())
    root = resource.Resource()
    root.putChild("gz", EncodingResourceWrapper(Simple(), gz))
    root.putChild("stream", EncodingResourceWrapper(Streamer(), gz))
    root.putChild("two", EncodingResourceWrapper(Simple(), [UpperFactory(), GzipEncoderFactory()]))
    root.putChild("never", EncodingResourceWrapper(Simple(), [NeverFactory(), GzipEncoderFactory()]))
    root.putChild("tree", EncodingResourceWrapper(tree, gz))
    root.putChild("putonly", EncodingResourceWrapper(PutOnly(), gz))
    root.putChild("broken", EncodingResourceWrapper(Broken(), gz))
    return root


@pytest.fixture(scope="module")
def site():
    root = buildRoot()
    with served(root) as port:
        yield root, port


def request(port, path, acceptEncoding=None, method="GET"):
    """(status, {lower name: [values]}, body) of one HTTP/1.0 request as raw bytes."""
    head = "%s %s HTTP/1.0\r\n" % (method, path)
    if acceptEncoding is not None:
        head += "Accept-Encoding: %s\r\n" % acceptEncoding
    return parseResponse(rawHTTP(port, (head + "\r\n").encode(), timeout=WAIT))


# -- acceptedCodings -----------------------------------------------------------

@pytest.mark.parametrize("values, expected", [
    ([], {}),
    (["gzip"], {"gzip": 1.0}),
    (["gzip;q=0.5, br"], {"gzip": 0.5, "br": 1.0}),
    (["gzip;q=0"], {"gzip": 0.0}),
    (["identity;q=0"], {"identity": 0.0}),
    (["*"], {"*": 1.0}),
    (["*;q=0"], {"*": 0.0}),
    (["GZIP ; Q=0.3"], {"gzip": 0.3}),
    (["gzip;q=abc"], {"gzip": 0.0}),
    (["deflate", "gzip;q=0.2"], {"deflate": 1.0, "gzip": 0.2}),
    ([" , ,gzip, "], {"gzip": 1.0}),
])
def test_acceptedCodings_table(values, expected):
    """acceptedCodings maps each coding to its q-value (1.0 when none; unreadable q = 0)."""
    assert acceptedCodings(values) == expected


# -- when gzip applies ---------------------------------------------------------

@pytest.mark.parametrize("acceptEncoding, gzipped", [
    (None, False),
    ("gzip", True),
    ("GZip;q=0.1", True),
    ("gzip;q=0", False),
    ("*", True),
    ("*;q=0", False),
    ("gzip;q=0, *", False),
    ("*;q=0, gzip", True),
    ("identity", False),
    ("br, deflate", False),
])
def test_gzip_onlyWhenAccepted(site, acceptEncoding, gzipped):
    """The body is gzipped exactly when Accept-Encoding gives gzip (or *) a q above 0."""
    _, port = site
    status, headers, body = request(port, "/gz", acceptEncoding)
    assert status == 200
    assert headers["vary"] == ["Accept-Encoding"]  # always, so caches keep versions apart
    assert headers["content-length"] == [str(len(body))]
    if gzipped:
        assert headers["content-encoding"] == ["gzip"]
        assert gzip.decompress(body) == HELLO
    else:
        assert "content-encoding" not in headers
        assert body == HELLO


def test_gzip_identityGetsThePlainBody(site):
    """Accept-Encoding: identity gets the plain body with its own length and a Vary header."""
    _, port = site
    status, headers, body = request(port, "/gz", "identity")
    assert (status, body) == (200, HELLO)
    assert headers["content-length"] == [str(len(HELLO))]
    assert headers["content-type"] == ["text/html; charset=utf-8"]
    assert headers["vary"] == ["Accept-Encoding"]
    assert "content-encoding" not in headers


def test_gzip_headThroughTheWrapperHasNoBody(site):
    """HEAD through the wrapper gets the gzip headers and no body at all."""
    _, port = site
    status, headers, body = request(port, "/gz", "gzip", method="HEAD")
    getStatus, getHeaders, getBody = request(port, "/gz", "gzip")
    assert status == 200
    assert body == b""
    assert headers["content-encoding"] == ["gzip"]
    assert headers["vary"] == ["Accept-Encoding"]
    assert headers["content-length"] == [str(len(getBody))]


def test_gzip_wrapsTheWholeSubtree(site):
    """Children found below a wrapped resource are encoded too."""
    _, port = site
    status, headers, body = request(port, "/tree/leaf", "gzip")
    assert status == 200
    assert headers["content-encoding"] == ["gzip"]
    assert gzip.decompress(body) == HELLO


def test_gzip_errorPagesAreNotLeftEncodedWrongly(site):
    """A 405 or 500 from a wrapped resource is a plain page without Content-Encoding."""
    _, port = site
    status, headers, body = request(port, "/putonly", "gzip")
    assert status == 405
    assert headers["allow"] == ["PUT"]
    assert "content-encoding" not in headers
    assert body.startswith(b"<!DOCTYPE html>")
    status, headers, body = request(port, "/broken", "gzip")
    assert status == 500
    assert "content-encoding" not in headers
    assert b"render failed" not in body
    assert b"<h1>500 Internal Server Error</h1>" in body


# -- which encoder -------------------------------------------------------------

def test_encoderFactories_firstReturningAnEncoderWins(site):
    """Of two factories that would both encode, the first one listed is used."""
    _, port = site
    status, headers, body = request(port, "/two", "gzip")
    assert status == 200
    assert headers["content-encoding"] == ["x-upper"]
    assert body == HELLO.upper() + b"!"


def test_encoderFactories_noneMeansAskTheNext(site):
    """A factory returning None passes the request on to the next factory."""
    _, port = site
    status, headers, body = request(port, "/never", "gzip")
    assert status == 200
    assert headers["content-encoding"] == ["gzip"]
    assert gzip.decompress(body) == HELLO


# -- streaming -----------------------------------------------------------------

def readChunk(sock, buffer):
    """Read one chunk of a chunked body; returns (data, rest of buffer)."""
    while b"\r\n" not in buffer:
        more = sock.recv(65536)
        assert more, "connection closed inside a chunk size line"
        buffer += more
    sizeLine, _, buffer = buffer.partition(b"\r\n")
    size = int(sizeLine.split(b";")[0], 16)
    while len(buffer) < size + 2:
        more = sock.recv(65536)
        assert more, "connection closed inside a chunk"
        buffer += more
    assert buffer[size:size + 2] == b"\r\n"
    return buffer[:size], buffer[size + 2:]


def test_gzip_streamedWritesArriveDecompressibleOneByOne(site):
    """Each write of a NOT_DONE_YET response is compressed and flushed: readable on arrival."""
    root, port = site
    streamer = root.children["stream"].original
    streamer.go = threading.Event()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
            sock.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n"
                         b"Connection: close\r\n\r\n")
            buffer = b""
            while b"\r\n\r\n" not in buffer:
                more = sock.recv(65536)
                assert more
                buffer += more
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            assert lines[0] == b"HTTP/1.1 200 OK"
            assert b"Content-Encoding: gzip" in lines
            assert b"Transfer-Encoding: chunked" in lines
            assert b"Vary: Accept-Encoding" in lines
            assert not any(line.lower().startswith(b"content-length") for line in lines)
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            first, buffer = readChunk(sock, buffer)
            # The server is now waiting for `go`: this much must decompress on its own.
            assert inflater.decompress(first) == b"first part;"
            streamer.go.set()
            rest = b""
            while True:
                data, buffer = readChunk(sock, buffer)
                if not data:
                    break
                rest += data
            assert inflater.decompress(rest) == b"second part"
            assert inflater.eof is True  # the gzip trailer came with finish()
    finally:
        streamer.go.set()


# -- the encoder objects -------------------------------------------------------

def test_gzipEncoder_producesOneGzipStream():
    """Pieces encoded one by one plus finish() form one valid gzip stream."""
    encoder = encoders.GzipEncoder(9)
    data = encoder.encode(b"abc" * 1000) + encoder.encode(b"") + encoder.encode(b"xyz")
    data += encoder.finish()
    assert gzip.decompress(data) == b"abc" * 1000 + b"xyz"
    assert len(data) < 3003


def test_gzipEncoderFactory_compressLevel():
    """GzipEncoderFactory keeps a chosen compressLevel and defaults to 6."""
    assert GzipEncoderFactory().compressLevel == 6
    assert GzipEncoderFactory(compressLevel=1).compressLevel == 1
    assert server.GzipEncoderFactory is GzipEncoderFactory  # the guide imports it from server
