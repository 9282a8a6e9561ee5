"""The HTTP/2 attacks of refweb.h2.states.LIMITS, each sent through a real server.

Each test sends one attack on one connection with tests/h2support.Client
(in a thread of its own), and checks three things: the attacker gets what
LIMITS (or the channel's writeTimeout) says is beyond the limit, GOAWAY or
RST_STREAM; another client, over HTTP/1.1 and over HTTP/2, is answered
meanwhile in under a second; and the server's memory (tracemalloc's peak
over the attack: the server runs in this process) stays within a few MiB.
"""

import threading
import time
import tracemalloc

import pytest

from h2support import Client, encodeInteger, literal, request
from refweb import static
from refweb.h2 import frames
from refweb.h2.states import DEFAULT_LIMITS
from refweb.resource import Resource
from support import get, siteWith

MiB = 1 << 20
BOUND = 8 * MiB  # what an attack may make the server (and this test) allocate at most
BIG = 16 * MiB  # the file a client asks for and never opens its window to


class Hello(Resource):
    isLeaf = True
    renders = 0

    def render_GET(self, request):
        Hello.renders += 1
        return b"hello"

    def render_POST(self, request):
        return b"got " + request.content.read()


@pytest.fixture
def port(serve, tmp_path):
    """A Site: "/big" a 16 MiB file, anything else Hello; writeTimeout 0.5 s."""
    (tmp_path / "big.bin").write_bytes(b"\x07" * BIG)
    root = Resource()
    root.putChild(b"big", static.File(str(tmp_path / "big.bin")))
    root.putChild(b"", Hello())
    root.getChild = lambda name, request: Hello()
    Hello.renders = 0
    return serve(siteWith(root, writeTimeout=0.5))


@pytest.fixture
def memory():
    """tracemalloc running; yields a function: the peak above the start so far."""
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    try:
        yield lambda: tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()


def othersServed(port):
    """A fresh HTTP/1.1 client and a fresh HTTP/2 client each get "/" in under a second."""
    began = time.monotonic()
    status, _, body = get(port, "/", timeout=2)
    assert (status, body) == (200, b"hello")
    assert time.monotonic() - began < 1.0, "HTTP/1.1 took %.2fs" % (time.monotonic() - began)
    began = time.monotonic()
    other = Client(port, timeout=2)
    try:
        other.request(1, "/")
        assert other.answer(1)[::2] == (200, b"hello")
    finally:
        other.close()
    assert time.monotonic() - began < 1.0, "HTTP/2 took %.2fs" % (time.monotonic() - began)


def attack(port, memory, send, until, settings=None):
    """Open a connection (one request answered, so the preface is done),
    then send the chunks ``send()`` yields from one thread while another
    reads until ``until(client)``; others are served meanwhile.  The client."""
    c = Client(port, settings=settings)
    c.request(1, "/")
    assert c.answer(1)[::2] == (200, b"hello")

    def sender():
        for chunk in send():
            try:
                c.sock.sendall(chunk)
            except OSError:
                return  # the server has closed: the attack is over
    reached = []
    threads = [threading.Thread(target=sender, daemon=True),
               threading.Thread(target=lambda: reached.append(c.until(lambda: until(c))),
                                daemon=True)]
    for thread in threads:
        thread.start()
    othersServed(port)
    for thread in threads:
        thread.join(30)
    assert reached == [True], "the server never answered the attack"
    othersServed(port)
    assert memory() < BOUND, "peak %.1f MiB" % (memory() / MiB)
    c.close()
    return c


def repeat(chunk, times):
    return lambda: (chunk for _ in range(times))


def goaway(c):
    return c.goaway is not None


def test_rapid_reset_gets_goaway(port, memory):
    """Rapid reset (CVE-2023-44487), thousands of HEADERS + RST_STREAM:
    beyond resetsPerSecond, GOAWAY ENHANCE_YOUR_CALM."""
    def send():
        for streamId in range(3, 3 + 2 * 5000, 2):
            yield (frames.frame("HEADERS", frames.END_HEADERS | frames.END_STREAM, streamId,
                                b"".join(literal(*field) for field in request("/")))
                   + frames.rstStreamFrame(streamId, frames.CANCEL))
    c = attack(port, memory, send, goaway)
    assert c.goaway == frames.ENHANCE_YOUR_CALM
    # Streams answered or reset before the budget ran out, not thousands.
    assert Hello.renders <= 1 + 2 * DEFAULT_LIMITS["resetsPerSecond"] + 4  # + othersServed


def test_continuation_flood_gets_goaway(port, memory):
    """A CONTINUATION flood (a header block that never ends): beyond
    maxHeaderBlockBytes, GOAWAY ENHANCE_YOUR_CALM, before any decoding."""
    def send():
        yield frames.frame("HEADERS", frames.END_STREAM, 3, literal(":method", "GET"))
        for _ in range(100000):
            yield frames.frame("CONTINUATION", 0, 3, literal("x-flood", "f" * 1000))
    c = attack(port, memory, send, goaway)
    assert c.goaway == frames.ENHANCE_YOUR_CALM


def test_hpack_bomb_gets_goaway(port, memory):
    """An HPACK bomb, one 4 KB dynamic entry referenced 12,000 times in a
    16 KB block (48 MB decoded): beyond maxHeaderListSize, GOAWAY COMPRESSION_ERROR."""
    entry = b"\x40" + literal("x-bomb", "b" * 4000)[1:]  # §6.2.1: incremental indexing
    bomb = entry + b"\xbe" * 12000  # §6.1: index 62, the newest dynamic entry
    block = b"".join(literal(*field) for field in request("/")) + bomb
    assert len(block) <= 16384
    c = attack(port, memory, repeat(frames.frame("HEADERS", frames.END_HEADERS
                                                 | frames.END_STREAM, 3, block), 1), goaway)
    assert c.goaway == frames.COMPRESSION_ERROR


def test_settings_flood_gets_goaway(port, memory):
    """A SETTINGS flood, each frame owed an ACK: beyond settingsPerSecond,
    GOAWAY ENHANCE_YOUR_CALM."""
    c = attack(port, memory, repeat(frames.settingsFrame({"MAX_FRAME_SIZE": 16384}) * 100, 100),
               goaway)
    assert c.goaway == frames.ENHANCE_YOUR_CALM


def test_ping_flood_gets_goaway(port, memory):
    """A PING flood, each owed a reply: beyond pingsPerSecond, GOAWAY ENHANCE_YOUR_CALM."""
    c = attack(port, memory, repeat(frames.pingFrame(b"12345678") * 100, 100), goaway)
    assert c.goaway == frames.ENHANCE_YOUR_CALM


def test_empty_data_flood_gets_goaway(port, memory):
    """A flood of empty DATA frames on an open request: beyond
    emptyFramesPerSecond, GOAWAY ENHANCE_YOUR_CALM."""
    def send():
        fields = b"".join(literal(*field) for field in request("/", "POST"))
        yield frames.frame("HEADERS", frames.END_HEADERS, 3, fields)
        for _ in range(100):
            yield frames.dataFrame(3, b"") * 100
    c = attack(port, memory, send, goaway)
    assert c.goaway == frames.ENHANCE_YOUR_CALM


def test_shut_window_stream_reset(port, memory):
    """A client that asks for a 16 MiB file and never opens its window:
    after writeTimeout, RST_STREAM CANCEL, and the file was never held in memory."""
    def send():
        fields = b"".join(literal(*field) for field in request("/big"))
        yield frames.frame("HEADERS", frames.END_HEADERS | frames.END_STREAM, 3, fields)

    def stalled(client):
        client.autoWindow = False
        return 3 in client.resets
    began = time.monotonic()
    c = attack(port, memory, send, stalled)
    assert c.resets[3] == frames.CANCEL and c.goaway is None
    assert len(c.bodies[3]) == 65535  # the first window (stream 1's "hello" was given back)
    assert time.monotonic() - began < 5


def test_too_many_streams_refused(port, memory):
    """More concurrent streams than advertised (requests whose bodies never
    come): each beyond maxConcurrentStreams gets RST_STREAM REFUSED_STREAM."""
    limit = DEFAULT_LIMITS["maxConcurrentStreams"]
    ids = list(range(3, 3 + 2 * (limit + 50), 2))
    fields = b"".join(literal(*field) for field in request("/", "POST"))

    def send():
        for streamId in ids:
            yield frames.frame("HEADERS", frames.END_HEADERS, streamId, fields)
    c = attack(port, memory, send, lambda client: set(ids[limit:]) <= set(client.resets))
    assert c.goaway is None
    assert set(c.resets) == set(ids[limit:])
    assert set(c.resets.values()) == {frames.REFUSED_STREAM}
