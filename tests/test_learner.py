"""The learner's view: exact output of Site(trace=True), Site(wire=True) and describe(),
and of their command-line forms: `refweb web --trace/--wire` and `refweb tree FILE.tac`.

The tree is the guide's Hello tree (root, /fred, /bob) with ``isLeaf = False``
so that the walk really goes down it.  Log lines are captured with
``refweb.python.log.addObserver``; requests are typed by hand on a raw socket
so that every header, and so every ``wire`` line, is known in advance (only
the ``Date`` value is replaced before comparing, and the ``conn-N`` name, which
counts connections across the whole process, is read from the first line).
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from refweb import server, static, vhost
from refweb.python import log
from refweb.resource import EncodingResourceWrapper, Resource, describe
from refweb.server import GzipEncoderFactory
from tests.support import Hello, freePort, helloTree, readUntilClosed, served


def logLines(site, path, method="GET"):
    """Serve ``site`` on a free port, send one request for ``path``; the log lines, Date masked."""
    lines = []
    log.addObserver(lines.append)
    try:
        with served(site) as port, \
                socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(("%s %s HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"
                          % (method, path)).encode())
            response = readUntilClosed(sock)
    finally:
        log.removeObserver(lines.append)
    assert response.startswith(b"HTTP/1.1 ")
    return [re.sub(r"^(wire conn-\d+ << Date: ).*$", r"\1<date>", line) for line in lines]


def traceLines(path, root=None, method="GET"):
    site = server.Site(root or helloTree(isLeaf=False), trace=True)
    return [line for line in logLines(site, path, method) if line.startswith("trace:")]


def wireLines(path, root=None):
    site = server.Site(root or helloTree(isLeaf=False), wire=True)
    return [line for line in logLines(site, path) if line.startswith("wire")]


# --------------------------------------------------------------------------
# trace
# --------------------------------------------------------------------------

# (path, what its trace shows, the trace's lines): each is one GET through
# the Hello tree made a branch.
TRACES = [
    ("/", "one step, for the empty segment, which Hello's getChild answers with itself", [
        "trace: GET /  prepath=[] postpath=['']",
        "trace:   1. Hello --''--> Hello (getChild)  prepath=[''] postpath=[]",
        "trace:   render Hello.render_GET -> 200",
    ]),
    ("/fred", "one step, to the putChild child 'fred'", [
        "trace: GET /fred  prepath=[] postpath=['fred']",
        "trace:   1. Hello --'fred'--> Hello (putChild)  prepath=['fred'] postpath=[]",
        "trace:   render Hello.render_GET -> 200",
    ]),
    ("/fred/", "a second step for the trailing empty segment", [
        "trace: GET /fred/  prepath=[] postpath=['fred', '']",
        "trace:   1. Hello --'fred'--> Hello (putChild)  prepath=['fred'] postpath=['']",
        "trace:   2. Hello --''--> Hello (getChild)  prepath=['fred', ''] postpath=[]",
        "trace:   render Hello.render_GET -> 200",
    ]),
    ("/bob", "one step, to the putChild child 'bob'", [
        "trace: GET /bob  prepath=[] postpath=['bob']",
        "trace:   1. Hello --'bob'--> Hello (putChild)  prepath=['bob'] postpath=[]",
        "trace:   render Hello.render_GET -> 200",
    ]),
    ("/nobody", "the NoResource getChild returned for an unknown segment; "
                "its own render() gives 404", [
        "trace: GET /nobody  prepath=[] postpath=['nobody']",
        "trace:   1. Hello --'nobody'--> NoResource (getChild)  prepath=['nobody'] postpath=[]",
        "trace:   render NoResource.render -> 404",
    ]),
    ("/a%20b", "segments as the str the resource receives (percent-decoded)", [
        "trace: GET /a%20b  prepath=[] postpath=['a b']",
        "trace:   1. Hello --'a b'--> NoResource (getChild)  prepath=['a b'] postpath=[]",
        "trace:   render NoResource.render -> 404",
    ]),
]


@pytest.mark.parametrize("path, shows, expected", TRACES, ids=[row[0] for row in TRACES])
def test_trace(path, shows, expected):
    """GET path through the Hello tree traces exactly the row's lines (see ``shows``)."""
    assert traceLines(path) == expected


def test_trace_leaf_stops_the_walk():
    """Below a leaf the walk stops, and the trace says what was left in postpath."""
    root = helloTree(isLeaf=False)
    leaf = Hello()
    leaf.isLeaf = True
    root.putChild("leaf", leaf)
    assert traceLines("/leaf/a/b", root) == [
        "trace: GET /leaf/a/b  prepath=[] postpath=['leaf', 'a', 'b']",
        "trace:   1. Hello --'leaf'--> Hello (putChild)  prepath=['leaf'] postpath=['a', 'b']",
        "trace:   Hello is a leaf: the walk stops, postpath=['a', 'b']",
        "trace:   render Hello.render_GET -> 200",
    ]


def test_trace_is_off_by_default():
    """A plain Site logs no trace and no wire lines (only the access log)."""
    lines = logLines(server.Site(helloTree(isLeaf=False)), "/fred/")
    assert [line for line in lines if line.startswith(("trace", "wire"))] == []


# --------------------------------------------------------------------------
# wire
# --------------------------------------------------------------------------

def connName(lines):
    """The "conn-N" of the first wire line (N counts every connection of the process)."""
    name = lines[0].split()[1]
    assert re.fullmatch(r"conn-[1-9][0-9]*", name), lines[0]
    return name


def expectedWire(name, path, length):
    return ["wire %s %s" % (name, line) for line in [
        ">> GET %s HTTP/1.1" % path,
        ">> Host: example.com",
        ">> Connection: close",
        "<< HTTP/1.1 200 OK",
        "<< Content-Length: %d" % length,
        "<< Content-Type: text/html; charset=utf-8",
        "<< Date: <date>",
        "<< Server: refweb",
        "<< Connection: close",
        "-- closed",
    ]]


@pytest.mark.parametrize("path, body", [
    ("/", "Hello, world! I am located at ['']."),
    ("/fred", "Hello, world! I am located at ['fred']."),
    ("/fred/", "Hello, world! I am located at ['fred', '']."),
    ("/bob", "Hello, world! I am located at ['bob']."),
])
def test_wire_heads(path, body):
    """wire=True logs the request head as sent (>>), the response head as written (<<), and the fate."""
    lines = wireLines(path)
    assert lines == expectedWire(connName(lines), path, len(body))


def test_wire_says_when_a_connection_is_kept_open():
    """After each response the fate line says "kept open" (HTTP/1.1 default) or "closed"."""
    lines = []
    log.addObserver(lines.append)
    try:
        with served(helloTree(isLeaf=False), wire=True) as port, \
                socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /bob HTTP/1.1\r\nHost: example.com\r\n\r\n")
            data = b""
            while not data.endswith(b"located at ['bob']."):
                chunk = sock.recv(65536)
                assert chunk, data
                data += chunk
            sock.sendall(b"GET /fred HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")
            readUntilClosed(sock)
    finally:
        log.removeObserver(lines.append)
    wire = [line for line in lines if line.startswith("wire")]
    name = connName(wire)
    assert [line for line in wire if " -- " in line or " >> GET" in line] == [
        "wire %s >> GET /bob HTTP/1.1" % name,
        "wire %s -- kept open" % name,
        "wire %s >> GET /fred HTTP/1.1" % name,
        "wire %s -- closed" % name,
    ]


def test_wire_error_response():
    """A 404 is logged like any response head."""
    lines = wireLines("/nobody")
    name = connName(lines)
    assert lines[3:5] == ["wire %s << HTTP/1.1 404 Not Found" % name,
                          "wire %s << Content-Type: text/html; charset=utf-8" % name]
    assert lines[-2:] == ["wire %s << Connection: close" % name, "wire %s -- closed" % name]


def test_trace_and_wire_interleave_in_order():
    """With both on, the trace sits between the request head and the response head."""
    site = server.Site(helloTree(isLeaf=False), trace=True, wire=True)
    lines = [line for line in logLines(site, "/fred/") if line.startswith(("trace", "wire"))]
    wire = expectedWire(connName(lines), "/fred/", 43)
    assert lines == wire[:3] + [
        "trace: GET /fred/  prepath=[] postpath=['fred', '']",
        "trace:   1. Hello --'fred'--> Hello (putChild)  prepath=['fred'] postpath=['']",
        "trace:   2. Hello --''--> Hello (getChild)  prepath=['fred', ''] postpath=[]",
        "trace:   render Hello.render_GET -> 200",
    ] + wire[3:]


# --------------------------------------------------------------------------
# describe
# --------------------------------------------------------------------------

HELLO_TREE = "\n".join([
    "/                         Hello +getChild",
    "/bob                      Hello +getChild",
    "/fred                     Hello +getChild",
])


def test_describe_hello_tree():
    """describe() gives each resource a line: its URL path padded to 24 columns, then its class;
    putChild children follow in name order, and "+getChild" marks a class that makes children."""
    assert describe(helloTree(isLeaf=False), write=lambda text: None) == HELLO_TREE


def test_describe_writes_text_to_the_writer():
    """describe(root, write) passes the whole text, newline-terminated, to ``write``."""
    written = []
    describe(helloTree(isLeaf=False), write=written.append)
    assert written == [HELLO_TREE + "\n"]


def test_describe_logs_when_someone_listens():
    """Without a writer, describe() logs the text when a log observer is listening."""
    lines = []
    log.addObserver(lines.append)
    try:
        describe(helloTree(isLeaf=False))
    finally:
        log.removeObserver(lines.append)
    assert lines == [HELLO_TREE]


def test_describe_prints_when_nobody_listens(capsys):
    """Without a writer or an observer, describe() prints the text."""
    describe(helloTree(isLeaf=False))
    assert capsys.readouterr().out == HELLO_TREE + "\n"


def test_describe_leaves_and_shared_nodes():
    """Leaves say so, and a resource reached twice is shown once."""
    root = helloTree(isLeaf=False)
    root.putChild("again", root)
    root.putChild("data", static.Data(b"x", "text/plain"))
    assert describe(root, write=lambda text: None) == "\n".join([
        "/                         Hello +getChild",
        "/again                    Hello +getChild  (shown above)",
        "/bob                      Hello +getChild",
        "/data                     Data leaf",
        "/fred                     Hello +getChild",
    ])


def test_describe_wrapper_and_file(tmp_path):
    """A wrapper shows what it wraps, indented; a File shows its folder, processors and index names."""
    folder = static.File(str(tmp_path))
    folder.processors = {".rpy": object}
    folder.indexNames = ["index.rpy"]
    root = EncodingResourceWrapper(folder, [GzipEncoderFactory()])
    assert describe(root, write=lambda text: None) == "\n".join([
        "/                         EncodingResourceWrapper",
        "  (wraps)                 File +getChild folder=%s processors=.rpy indexNames=index.rpy"
        % tmp_path,
    ])


def test_describe_virtual_hosts():
    """A NameVirtualHost shows its shared children, then each host and the default, indented."""
    root = vhost.NameVirtualHost()
    root.putChild("shared", static.Data(b"x", "text/plain"))
    root.addHost("foo.com", helloTree(isLeaf=False))
    root.addHost("bar.com", static.Data(b"y", "text/plain"))
    root.default = Resource()
    assert describe(root, write=lambda text: None) == "\n".join([
        "/                         NameVirtualHost",
        "/shared                   Data leaf",
        "  [host bar.com]          Data leaf",
        "  [host foo.com]          Hello +getChild",
        "  /bob                    Hello +getChild",
        "  /fred                   Hello +getChild",
        "  [default]               Resource",
    ])


# --------------------------------------------------------------------------
# the command line: refweb web --trace / --wire, refweb tree FILE.tac
# --------------------------------------------------------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def refwebEnv():
    return dict(os.environ, PYTHONPATH=ROOT, PYTHONDONTWRITEBYTECODE="1")


def runRefweb(*args, cwd):
    """`python -m refweb ARGS` to completion: (exit status, stdout, stderr)."""
    done = subprocess.run([sys.executable, "-m", "refweb", *args], cwd=str(cwd),
                          env=refwebEnv(), capture_output=True, text=True, timeout=30)
    return done.returncode, done.stdout, done.stderr


def serveAndAsk(tmp_path, options, path):
    """Run `refweb -n web --path DOCROOT OPTIONS`, send one raw request; the log, timestamps cut."""
    docroot = tmp_path / "docroot"
    (docroot / "notes").mkdir(parents=True)
    (docroot / "notes" / "todo.txt").write_text("read the guide\n")
    port = freePort()
    proc = subprocess.Popen([sys.executable, "-m", "refweb", "-n", "web", "--path", str(docroot),
                             "--listen", "tcp:%d:interface=127.0.0.1" % port, *options],
                            cwd=str(tmp_path), env=refwebEnv(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "no server"
                time.sleep(0.05)
        with sock:
            sock.sendall(("GET %s HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"
                          % path).encode())
            readUntilClosed(sock)
        time.sleep(0.3)  # the render line may follow the last byte sent
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=10)
    # "2026-11-25T10:00:00+0000 trace: ..." -> "trace: ..."
    return [line.split(" ", 1)[1] for line in output.splitlines() if " " in line]


def test_web_trace_option(tmp_path):
    """`refweb -n web --path DIR --trace` logs each step of the walk to stdout."""
    lines = serveAndAsk(tmp_path, ["--trace"], "/notes/todo.txt")
    assert [line for line in lines if line.startswith("trace:")] == [
        "trace: GET /notes/todo.txt  prepath=[] postpath=['notes', 'todo.txt']",
        "trace:   1. File --'notes'--> File (getChild)  prepath=['notes'] postpath=['todo.txt']",
        "trace:   2. File --'todo.txt'--> File (getChild)  prepath=['notes', 'todo.txt'] postpath=[]",
        "trace:   render File.render_GET -> NOT_DONE_YET (finished: 200)",
    ]
    assert not [line for line in lines if line.startswith("wire")]


def test_web_wire_option(tmp_path):
    """`refweb -n web --path DIR --wire` logs the raw heads of the server's first connection."""
    lines = [line for line in serveAndAsk(tmp_path, ["--wire"], "/notes/todo.txt")
             if line.startswith("wire")]
    assert lines[:4] == [
        "wire conn-1 >> GET /notes/todo.txt HTTP/1.1",
        "wire conn-1 >> Host: example.com",
        "wire conn-1 >> Connection: close",
        "wire conn-1 << HTTP/1.1 200 OK",
    ]
    assert "wire conn-1 << Content-Type: text/plain" in lines
    assert "wire conn-1 << Content-Length: 15" in lines
    assert lines[-2:] == ["wire conn-1 << Connection: close", "wire conn-1 -- closed"]
    assert not [line for line in lines if line.startswith("trace")]


def test_web_help_lists_trace_and_wire(tmp_path):
    """`refweb web --help` documents --trace and --wire."""
    status, out, err = runRefweb("web", "--help", cwd=tmp_path)
    assert status == 0
    assert "--trace " in out and "--wire " in out


HELLO_TAC = '''
from refweb import server
from refweb.application import internet, service
from refweb.resource import Resource


class Hello(Resource):
    isLeaf = False


root = Hello()
root.putChild('fred', Hello())
root.putChild('bob', Hello())
application = service.Application('hello')
site = server.Site(root)
internet.TCPServer(0, site, interface='127.0.0.1').setServiceParent(application)
internet.TCPServer(0, site, interface='127.0.0.1').setServiceParent(application)
'''


def test_tree_command_prints_describe_of_the_site(tmp_path):
    """`refweb tree FILE.tac` prints describe() of the site root, once per site, and serves nothing."""
    (tmp_path / "hello.tac").write_text(HELLO_TAC)
    status, out, err = runRefweb("tree", "hello.tac", cwd=tmp_path)
    assert (status, err) == (0, "")
    assert out == ("TCPServer(0):\n"
                   "/                         Hello\n"
                   "/bob                      Hello\n"
                   "/fred                     Hello\n")


def test_tree_command_finds_a_published_site(tmp_path):
    """A site published to --user servers (a ResourcePublisher) is shown too."""
    (tmp_path / "personal.tac").write_text(
        "from refweb import distrib, server, static\n"
        "from refweb.application import internet, service\n"
        "application = service.Application('personal')\n"
        "site = server.Site(static.Data(b'hi', 'text/plain'))\n"
        "internet.UNIXServer('web.sock', distrib.ResourcePublisher(site))"
        ".setServiceParent(application)\n")
    status, out, err = runRefweb("tree", "personal.tac", cwd=tmp_path)
    assert (status, out) == (0, "UNIXServer('web.sock'):\n/                         Data leaf\n")
    assert not (tmp_path / "web.sock").exists()


@pytest.mark.parametrize("args, words", [
    (["tree"], "give exactly one .tac file"),
    (["tree", "a.tac", "b.tac"], "give exactly one .tac file"),
    (["tree", "missing.tac"], "cannot load application"),
])
def test_tree_command_usage_errors(tmp_path, args, words):
    """A wrong `refweb tree` command line is exit 1 and one line on stderr."""
    status, out, err = runRefweb(*args, cwd=tmp_path)
    assert status == 1 and out == ""
    assert words in err and len(err.strip().splitlines()) == 1, err


def test_tree_command_help(tmp_path):
    """`refweb tree --help` explains the command; `refweb --help` lists it."""
    status, out, _ = runRefweb("tree", "--help", cwd=tmp_path)
    assert status == 0 and out.startswith("Usage: refweb tree FILE.tac\n")
    status, out, _ = runRefweb("--help", cwd=tmp_path)
    assert status == 0 and "    tree     " in out
