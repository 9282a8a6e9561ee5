"""The learner's view: exact output of Site(trace=True), Site(wire=True) and describe().

The tree is the guide's Hello tree (root, /fred, /bob) with ``isLeaf = False``
so that the walk really goes down it.  Log lines are captured with
``refweb.python.log.addObserver``; requests are typed by hand on a raw socket
so that every header, and so every ``wire`` line, is known in advance (only
the ``Date`` value is replaced before comparing).
"""

import re
import socket

import pytest

from refweb import server, static
from refweb.python import log
from refweb.resource import EncodingResourceWrapper, Resource, describe
from refweb.server import GzipEncoderFactory
from tests.support import readUntilClosed


class Hello(Resource):
    """The guide's Hello, with isLeaf False so that traversal happens."""

    isLeaf = False

    def getChild(self, name, request):
        if name == '':
            return self
        return Resource.getChild(self, name, request)

    def render_GET(self, request):
        return "Hello, world! I am located at %r." % (request.prepath,)


def helloTree():
    root = Hello()
    root.putChild('fred', Hello())
    root.putChild('bob', Hello())
    return root


def logLines(site, path, method="GET"):
    """Serve ``site`` on a free port, send one request for ``path``; the log lines, Date masked."""
    from refweb.internet import reactor
    lines = []
    log.addObserver(lines.append)
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    try:
        with socket.create_connection(("127.0.0.1", port.getHost().port), timeout=5) as sock:
            sock.sendall(("%s %s HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"
                          % (method, path)).encode())
            response = readUntilClosed(sock)
    finally:
        port.stopListening()
        log.removeObserver(lines.append)
    assert response.startswith(b"HTTP/1.1 ")
    return [re.sub(r"^wire << Date: .*$", "wire << Date: <date>", line) for line in lines]


def traceLines(path, root=None, method="GET"):
    site = server.Site(root or helloTree(), trace=True)
    return [line for line in logLines(site, path, method) if line.startswith("trace:")]


def wireLines(path, root=None):
    site = server.Site(root or helloTree(), wire=True)
    return [line for line in logLines(site, path) if line.startswith("wire")]


# --------------------------------------------------------------------------
# trace
# --------------------------------------------------------------------------

def test_trace_root():
    """GET / takes one step, for the empty segment, which Hello answers itself."""
    assert traceLines("/") == [
        "trace: GET /",
        "trace:   Hello.getChildWithDefault('') -> Hello  prepath=[''] postpath=[]",
        "trace:   Hello.render_GET -> 200",
    ]


def test_trace_fred():
    """GET /fred takes one step, to the putChild child 'fred'."""
    assert traceLines("/fred") == [
        "trace: GET /fred",
        "trace:   Hello.getChildWithDefault('fred') -> Hello  prepath=['fred'] postpath=[]",
        "trace:   Hello.render_GET -> 200",
    ]


def test_trace_fred_slash():
    """GET /fred/ takes a second step for the trailing empty segment."""
    assert traceLines("/fred/") == [
        "trace: GET /fred/",
        "trace:   Hello.getChildWithDefault('fred') -> Hello  prepath=['fred'] postpath=['']",
        "trace:   Hello.getChildWithDefault('') -> Hello  prepath=['fred', ''] postpath=[]",
        "trace:   Hello.render_GET -> 200",
    ]


def test_trace_bob():
    """GET /bob takes one step, to the putChild child 'bob'."""
    assert traceLines("/bob") == [
        "trace: GET /bob",
        "trace:   Hello.getChildWithDefault('bob') -> Hello  prepath=['bob'] postpath=[]",
        "trace:   Hello.render_GET -> 200",
    ]


def test_trace_unknown_child():
    """An unknown segment shows the NoResource that getChild returned, and its 404."""
    assert traceLines("/nobody") == [
        "trace: GET /nobody",
        "trace:   Hello.getChildWithDefault('nobody') -> NoResource  prepath=['nobody'] postpath=[]",
        "trace:   NoResource.render_GET -> 404",
    ]


def test_trace_leaf_stops_the_walk():
    """Below a leaf the walk stops, and the trace says what was left in postpath."""
    root = helloTree()
    leaf = Hello()
    leaf.isLeaf = True
    root.putChild("leaf", leaf)
    assert traceLines("/leaf/a/b", root) == [
        "trace: GET /leaf/a/b",
        "trace:   Hello.getChildWithDefault('leaf') -> Hello  prepath=['leaf'] postpath=['a', 'b']",
        "trace:   Hello.isLeaf: traversal stops, postpath=['a', 'b']",
        "trace:   Hello.render_GET -> 200",
    ]


def test_trace_percent_decoded_segments():
    """Segments appear in the trace as the str the resource receives (percent-decoded)."""
    lines = traceLines("/a%20b")
    assert lines[1] == ("trace:   Hello.getChildWithDefault('a b') -> NoResource"
                        "  prepath=['a b'] postpath=[]")


def test_trace_is_off_by_default():
    """A plain Site logs no trace and no wire lines (only the access log)."""
    lines = logLines(server.Site(helloTree()), "/fred/")
    assert [line for line in lines if line.startswith(("trace", "wire"))] == []


# --------------------------------------------------------------------------
# wire
# --------------------------------------------------------------------------

def expectedWire(path, length):
    return [
        "wire >> GET %s HTTP/1.1" % path,
        "wire >> Host: example.com",
        "wire >> Connection: close",
        "wire << HTTP/1.1 200 OK",
        "wire << Content-Length: %d" % length,
        "wire << Content-Type: text/html; charset=utf-8",
        "wire << Date: <date>",
        "wire << Server: refweb",
        "wire << Connection: close",
    ]


@pytest.mark.parametrize("path, body", [
    ("/", "Hello, world! I am located at ['']."),
    ("/fred", "Hello, world! I am located at ['fred']."),
    ("/fred/", "Hello, world! I am located at ['fred', '']."),
    ("/bob", "Hello, world! I am located at ['bob']."),
])
def test_wire_heads(path, body):
    """wire=True logs the request head as sent (>>) and the response head as written (<<)."""
    assert wireLines(path) == expectedWire(path, len(body))


def test_wire_error_response():
    """A 404 is logged like any response head."""
    lines = wireLines("/nobody")
    assert lines[3:5] == ["wire << HTTP/1.1 404 Not Found",
                          "wire << Content-Type: text/html; charset=utf-8"]


def test_trace_and_wire_interleave_in_order():
    """With both on, the trace sits between the request head and the response head."""
    site = server.Site(helloTree(), trace=True, wire=True)
    lines = [line for line in logLines(site, "/fred/") if line.startswith(("trace", "wire"))]
    assert lines == expectedWire("/fred/", 43)[:3] + [
        "trace: GET /fred/",
        "trace:   Hello.getChildWithDefault('fred') -> Hello  prepath=['fred'] postpath=['']",
        "trace:   Hello.getChildWithDefault('') -> Hello  prepath=['fred', ''] postpath=[]",
        "trace:   Hello.render_GET -> 200",
    ] + expectedWire("/fred/", 43)[3:]


# --------------------------------------------------------------------------
# describe
# --------------------------------------------------------------------------

def test_describe_hello_tree():
    """describe() lists putChild children, sorted, indented under their parent."""
    assert describe(helloTree(), write=lambda text: None) == "\n".join([
        "/  Hello",
        "  bob  Hello",
        "  fred  Hello",
    ])


def test_describe_writes_text_to_the_writer():
    """describe(root, write) passes the whole text, newline-terminated, to ``write``."""
    written = []
    describe(helloTree(), write=written.append)
    assert written == ["/  Hello\n  bob  Hello\n  fred  Hello\n"]


def test_describe_logs_when_someone_listens():
    """Without a writer, describe() logs the text when a log observer is listening."""
    lines = []
    log.addObserver(lines.append)
    try:
        describe(helloTree())
    finally:
        log.removeObserver(lines.append)
    assert lines == ["/  Hello\n  bob  Hello\n  fred  Hello"]


def test_describe_prints_when_nobody_listens(capsys):
    """Without a writer or an observer, describe() prints the text."""
    describe(helloTree())
    assert capsys.readouterr().out == "/  Hello\n  bob  Hello\n  fred  Hello\n"


def test_describe_leaves_and_shared_nodes():
    """Leaves say so, and a resource reached twice is shown once."""
    root = helloTree()
    root.putChild("again", root)
    root.putChild("data", static.Data(b"x", "text/plain"))
    assert describe(root, write=lambda text: None) == "\n".join([
        "/  Hello",
        "  again  Hello  (shown above)",
        "  bob  Hello",
        "  data  Data leaf",
        "  fred  Hello",
    ])


def test_describe_wrapper_and_file(tmp_path):
    """A wrapper shows what it wraps; a File shows its folder, processors and index names."""
    folder = static.File(str(tmp_path))
    folder.processors = {".rpy": object}
    folder.indexNames = ["index.rpy"]
    root = EncodingResourceWrapper(folder, [GzipEncoderFactory()])
    assert describe(root, write=lambda text: None) == "\n".join([
        "/  EncodingResourceWrapper",
        "  (wraps)  File folder=%s processors=.rpy indexNames=index.rpy" % tmp_path,
    ])
