"""The guide's examples answer over HTTP/2 as they answer over HTTP/1.1.

Issue 24: "The guide's examples and the reference suite pass over HTTP/2
as over HTTP/1.1 (where a behaviour is HTTP/1.1-only, the suite says so)".
Each example that serves is started once, by the command its page prints
(as tests/test_docs_commands.py runs it, on a free cleartext port), and
every URL its page fetches is asked twice: over HTTP/1.1, a fresh
connection each, and over HTTP/2 with prior knowledge (RFC 9113 §3.3), all
on one connection.  Both clients are refweb.reference's strict ones; the
HTTP/2 one reads nothing but frames, so an answer it returns came in
HTTP/2.  The two answers must agree on the status, the body (a gzip body
decoded; what changes between requests, a clock or a session id, masked)
and every header field -- content-type, location, content-encoding,
allow... -- but the date, set-cookie (compared by presence: ids differ)
and the connection-specific fields HTTP/2 has no place for.

``EXAMPLES`` is the table, one row per example.  A row with ``http11Only``
says why that example cannot work over HTTP/2: its test checks that HTTP/2
fails for that reason (``http2Says``) and is then an xfail; the day it
works, the test fails, so the table and guide/18-http2.rst change with it.
That chapter's "What works over HTTP/2, what is HTTP/1.1 only" lists the
same names (``test_chapter_lists_what_works_over_http2``).

Last, chapter 16 over HTTP/2: a client that leaves resets its stream, and
notifyFinish hears it as it hears an HTTP/1.1 client hanging up.
"""

import collections
import contextlib
import gzip
import os
import re
import time

import pytest

from refweb import server
from refweb.h2 import frames
from refweb.internet.error import ConnectionDone
from refweb.reference import client, h2client
from refweb.resource import Resource
from tests.support import waitUntil
from tests.test_docs import DOCS, includedFiles, procs, workdir  # noqa: F401 (fixtures)
from tests.test_docs import EXAMPLES as EXAMPLES_DIR
from tests.test_docs_commands import (EXPECTED, Run, printedCommands, withInternal,
                                      withOrigin, withPortsFile)

Fetch = collections.namedtuple("Fetch", "path method headers body host mask cookie")


def fetch(path, method="GET", headers=(), body=b"", host=None, mask=None, cookie=False):
    """One request a chapter makes.  ``host``: the Host (HTTP/2: :authority)
    to send, else 127.0.0.1:PORT; ``mask``: a regular expression whose
    matches in the body change between requests; ``cookie``: send back the
    last set-cookie this protocol's run received."""
    return Fetch(path, method, tuple(headers), body, host, mask, cookie)


Example = collections.namedtuple("Example", "name fetches setup http11Only http2Says")


def example(name, fetches, setup=None, http11Only=None, http2Says=None):
    """One row.  ``http11Only``: why HTTP/2 cannot do what the chapter shows;
    ``http2Says``: what the HTTP/2 failure then reads (so it fails for that reason)."""
    return Example(name, [fetch(f) if isinstance(f, str) else f for f in fetches],
                   setup, http11Only, http2Says)


FORM = (("Content-Type", "application/x-www-form-urlencoded"),)
GZIP = (("Accept-Encoding", "gzip"),)
IDENTITY = (("Accept-Encoding", "identity"),)
CLOCK = r"\d\d:\d\d:\d\d"
SESSION = r"session \w+"


def originFirst(path):
    """The forward proxy's request: the target URL in absolute form (RFC 9112 §3.2.2)."""
    return fetch(path, host="ORIGIN")


def quickFinish(run):
    """notifyFinish's examples wait 10 s before finish(); a third of a second will do."""
    for name in ("notify_finish.py", "notify_cancel.py"):
        path = run.cwd / name
        path.write_text(path.read_text().replace("delay = 10 ", "delay = 0.3 "))


def onFirstPort(run):
    """ports.tac listens on the ports in the file ``ports``: fetch from the first."""
    withPortsFile(run)
    run.port = run.ports[0]


# --------------------------------------------------------------------------
# the table: each example, the URLs its chapter fetches
# --------------------------------------------------------------------------

EXAMPLES = [
    example("serve_folder.sh", ["/", "/notes/todo.txt", "/notes"]),
    example("watch_cli.sh", ["/notes/todo.txt"]),
    example("first_site.py", ["/", "/any/path/at/all"]),
    example("hello_tree.py", ["/", "/fred", "/fred/", "/bob", "/nobody", "/fred/x"]),
    example("render_methods.py", [
        "/?name=Ada", "/", fetch("/", "POST", FORM, b"name=%3Cb%3E"),
        fetch("/", "PUT")]),
    example("render_later.py", ["/"]),
    example("render_errors.py", ["/", "/secret", "/elsewhere"]),
    example("gzip_site.py", [fetch("/", headers=GZIP), fetch("/", headers=IDENTITY)]),
    example("session_counter.py", [
        fetch("/", mask=SESSION), fetch("/", mask=SESSION, cookie=True),
        fetch("/logout", cookie=True), fetch("/", mask=SESSION, cookie=True)]),
    example("proxy_forward.py", [originFirst("/hello")], setup=withOrigin, http11Only=(
        "a forward proxy is asked for absolute-form targets (RFC 9112 §3.2.2); "
        "HTTP/2 carries :scheme, :authority and :path instead (RFC 9113 §8.3.1), and "
        "ProxyRequest, as Twisted's, reads only the request line's absolute URI"),
        http2Says="a proxy needs an absolute URI"),
    example("proxy_reverse.py", ["/hello", "/nope"], setup=withOrigin),
    example("static_root.tac", ["/"]),
    example("hello.tac", ["/fred/"]),
    example("doc_child.py", ["/doc/README.txt", "/"]),
    example("cgi_bin.py", ["/cgi-bin/hello.cgi/extra?x=1"]),
    example("index_rpy.tac", ["/", fetch("/clock.rpy", mask=CLOCK)]),
    example("ignore_ext.tac", [fetch("/clock", mask=CLOCK), "/nothing"]),
    example("vhosts.tac", [fetch("/", host=host) for host in (
        "foo.com", "BAR.com:8080", "baz", "elsewhere.org")]),
    example("vhosts_listdir.tac", [fetch("/", host=host) for host in (
        "foo.com", "bar.com", "unknown.example")]),
    example("ports.tac", ["/"], setup=onFirstPort),
    example("web_scripts.sh", [
        "/mygreatresource.rpy", fetch("/counter.rpy", mask=r"\d+"), "/reloading.rpy",
        "/hello.cgi?x=1", "/vhost.rpy/http/example.com:80/notes"]),
    example("user.sh", ["/"]),
    example("distrib_by_hand.py", ["/alice.refweb/", "/alice.refweb/notes/todo.txt"]),
    example("perl_script.sh", ["/", "/index.pl?a=b"]),
    example("wsgi_command.sh", ["/"]),
    example("wsgi_hello.tac", ["/anything"]),
    example("vhost_internal.sh", ["/vhost.rpy/http/example.com:80/notes"]),
    example("vhost_proxy.tac", [
        fetch("/notes", host="example.com"), fetch("/notes/todo.txt", host="example.com")],
        setup=withInternal),
    example("rewrite_tilde.py", ["/~foo/bar.html", "/users/foo/bar.html", "/"]),
    example("notify_finish.py", ["/"], setup=quickFinish),
    example("notify_cancel.py", ["/"], setup=quickFinish),
    example("asis_site.py", ["/hello.asis"], http11Only=(
        "an .asis file is a whole HTTP/1.x response, status line and all; HTTP/2 "
        "cannot carry those bytes, so the stream is reset with HTTP_1_1_REQUIRED (§7)"),
        http2Says="reset stream 1 with HTTP_1_1_REQUIRED"),
    example("h2_serve.sh", ["/notes/todo.txt"]),
]

#: Serving commands the docs print that this file does not run, and why.
NOT_HERE = {
    "h2_tls.sh": "a TLS port: ALPN, not prior knowledge (tests/test_docs.py::test_h2_over_tls)",
}


def serveCommand(name):
    """The one serving command (tests/test_docs_commands.EXPECTED) ``name`` prints."""
    commands = [command for command, source in printedCommands().items()
                if source == name and command in EXPECTED and EXPECTED[command].serve]
    assert len(commands) == 1, (name, commands)
    return commands[0]


def test_table_covers_every_serving_example():
    """Every example whose chapter prints a command that serves is in EXAMPLES
    (or NOT_HERE, with a reason), and every row is such an example."""
    serving = {source for command, source in printedCommands().items()
               if command in EXPECTED and EXPECTED[command].serve}
    rows = {row.name for row in EXAMPLES}
    assert serving - set(NOT_HERE) == rows
    assert set(NOT_HERE) <= serving


# --------------------------------------------------------------------------
# asking twice
# --------------------------------------------------------------------------

Answer = collections.namedtuple("Answer", "status body headers")

#: Fields not compared: the date moves on, and the connection-specific ones
#: (transfer-encoding: chunked above all) have no place in HTTP/2 (RFC 9113 §8.2.2).
UNCOMPARED = frozenset(["date"]) | h2client.CONNECTION_SPECIFIC


def answer(fetch, response, major):
    """What must agree between the two protocols, from one response: every
    field by value (the chapter's content-type, location, content-encoding,
    allow... among them), but set-cookie, compared by presence (ids differ)."""
    assert response.version[0] == major, (fetch.path, response.version)
    data = response.body
    if response.header("content-encoding") == "gzip":
        data = gzip.decompress(data)
    if fetch.mask:
        data = re.sub(fetch.mask.encode(), b"*", data)
    headers = sorted((name, "(set)" if name == "set-cookie" else value)
                     for name, value in response.headers if name not in UNCOMPARED)
    return Answer(response.status, data, headers)


def requestHeaders(fetch, jar):
    headers = list(fetch.headers)
    if fetch.cookie and jar:
        headers.append(("Cookie", jar[-1]))
    return headers


def remember(response, jar):
    cookie = response.header("set-cookie")
    if cookie:
        jar.append(cookie.split(";")[0])


def target(fetch, run, http2=False):
    """(request target, Host or :authority) as each protocol sends them: a
    proxy's target in absolute form over HTTP/1.1; over HTTP/2, the
    origin's authority and the path (RFC 9113 §8.3.1)."""
    if fetch.host == "ORIGIN":
        origin = "127.0.0.1:%d" % run.origin
        return (fetch.path if http2 else "http://%s%s" % (origin, fetch.path)), origin
    return fetch.path, fetch.host or "127.0.0.1:%d" % run.port


def overHTTP11(run, fetches):
    """Each fetch on a fresh HTTP/1.1 connection."""
    answers, jar = [], []
    for each in fetches:
        path, host = target(each, run)
        with client.Connection("127.0.0.1", run.port) as conn:
            conn.send(client.request(each.method, path, requestHeaders(each, jar),
                                     each.body, host=host))
            response = conn.readFinal(each.method)
        remember(response, jar)
        answers.append(answer(each, response, 1))
    return answers


def overHTTP2(run, fetches):
    """Every fetch on one HTTP/2 connection, opened with the preface (prior knowledge)."""
    answers, jar = [], []
    with h2client.H2ClientConnection("127.0.0.1", run.port) as conn:
        for each in fetches:
            path, host = target(each, run, http2=True)
            try:
                response = conn.request(each.method, path, requestHeaders(each, jar),
                                        each.body, authority=host)
            except client.ProtocolError as e:
                raise AssertionError("%s over HTTP/2: %s\n%s" % (each.path, e, b"".join(
                    line for _, line in conn.transcript).decode("latin-1")))
            remember(response, jar)
            answers.append(answer(each, response, 2))
    return answers


def compare(row, http11, http2):
    for each, one, two in zip(row.fetches, http11, http2):
        assert one == two, "%s %s\n  HTTP/1.1: %r\n  HTTP/2:   %r" % (
            each.method, each.path, one, two)


@pytest.mark.parametrize("row", EXAMPLES, ids=[row.name for row in EXAMPLES])
def test_example_answers_alike_over_http2(row, procs, workdir):  # noqa: F811
    """Each URL of the example's chapter gets, over HTTP/2 with prior
    knowledge, the status, body and headers it gets over HTTP/1.1; an
    HTTP/1.1-only example fails over HTTP/2 for the reason its row gives
    (then an xfail), and its test fails the day it works."""
    command = serveCommand(row.name)
    case = EXPECTED[command]
    if case.needs and not os.access(case.needs, os.X_OK):
        pytest.skip("%s is not installed" % case.needs)
    with contextlib.ExitStack() as stack:
        run = Run(procs, workdir / case.cwd, stack)
        if row.setup:
            row.setup(run)
        run.proc = run.start(command, port=run.port)
        http11 = overHTTP11(run, row.fetches)
        if not row.http11Only:
            compare(row, http11, overHTTP2(run, row.fetches))
            return
        with pytest.raises(AssertionError) as failed:
            compare(row, http11, overHTTP2(run, row.fetches))
    assert row.http2Says in str(failed.value), failed.value
    pytest.xfail("HTTP/1.1 only: " + row.http11Only)


# --------------------------------------------------------------------------
# the chapter's list, kept in step with the table
# --------------------------------------------------------------------------

#: HTTP/1.1-only servers the docs print that refweb does not run (no row above).
HTTP11_ELSEWHERE = {
    "learner_server.py": "the reader's own server and its ladder/ stages speak HTTP/1.1, "
                         "the protocol that page teaches",
}

SECTION = "What works over HTTP/2, what is HTTP/1.1 only"


def pageOf(name):
    """Where ``name`` is shown: "chapter N" (its first guide chapter), else the page's name."""
    pages = sorted(includedFiles()[os.path.join(EXAMPLES_DIR, name)])
    chapters = [page for page in pages if re.match(r"guide/\d\d-", page)]
    if chapters:
        return "chapter %d" % int(chapters[0][6:8])
    return "the " + os.path.splitext(os.path.basename(pages[0]))[0].replace("-", " ")


def chapterLists():
    """guide/18-http2.rst's section SECTION, as two sets: (page, name) for
    each example that works over HTTP/2, and the names that are HTTP/1.1 only."""
    with open(os.path.join(DOCS, "guide", "18-http2.rst"), encoding="utf-8") as f:
        page = f.read()
    section = page.split(SECTION + "\n", 1)[1].split("\nIn refweb:\n", 1)[0]
    works, only = section.split("\nHTTP/1.1 only", 1)
    listed = set()
    for where, names in re.findall(r"^\* (.+?): ((?:``[\w./]+``(?:, )?)+)$", works, re.M):
        listed |= {(where, name) for name in re.findall(r"``([\w./]+)``", names)}
    return listed, set(re.findall(r"^\* ``([\w./]+)``", only, re.M))


def test_chapter_lists_what_works_over_http2():
    """guide/18-http2.rst lists, page by page, every example of EXAMPLES that
    works over HTTP/2, and names each HTTP/1.1-only one: no more, no fewer."""
    works, only = chapterLists()
    assert works == {(pageOf(row.name), row.name) for row in EXAMPLES if not row.http11Only}
    assert only == {row.name for row in EXAMPLES if row.http11Only} | set(HTTP11_ELSEWHERE)


# --------------------------------------------------------------------------
# chapter 16 over HTTP/2: a client that leaves resets its stream
# --------------------------------------------------------------------------

class Waiting(Resource):
    """Writes, then leaves the response open (NOT_DONE_YET); records what
    notifyFinish's errback gets and what a later finish() does."""
    isLeaf = True

    def __init__(self):
        Resource.__init__(self)
        self.failures, self.request = [], None

    def render(self, request):
        self.request = request
        request.notifyFinish().addErrback(self.failures.append)
        request.write(b"hello world")
        return server.NOT_DONE_YET

    def laterFinish(self):
        """What the guide's ``reactor.callLater(delay, request.finish)`` meets."""
        try:
            self.request.finish()
        except RuntimeError as e:
            return str(e)
        return "finish() did not raise"


def resetOnceWaiting(port, tree, close=False):
    """Ask for / over HTTP/2; once the body began and render has returned,
    RST_STREAM CANCEL (or, with ``close``, hang up the connection)."""
    from tests.h2support import Client
    c = Client(port)
    try:
        c.request(1)
        c.until(lambda: c.bodies.get(1))
        time.sleep(0.2)  # render has returned: the response waits for finish()
        if not close:
            c.send(frames.rstStreamFrame(1, frames.CANCEL))
            assert waitUntil(lambda: tree.failures)
    finally:
        c.close()
    assert waitUntil(lambda: tree.failures)


@pytest.mark.parametrize("close", [False, True], ids=["rst_stream", "connection_closed"])
def test_client_leaving_an_open_response_is_connection_done(serve, close):
    """A client that resets an HTTP/2 stream (or closes the connection) while
    its response waits for finish() has left, as an HTTP/1.1 client that
    hangs up: notifyFinish's errback gets ConnectionDone, and a later
    finish() raises RuntimeError (guide chapter 16)."""
    tree = Waiting()
    resetOnceWaiting(serve(tree), tree, close)
    assert [f.check(ConnectionDone) for f in tree.failures] == [ConnectionDone]
    assert "after its connection was lost" in tree.laterFinish()


def leaveEarlyOverHTTP2(port):
    """notify_finish.py's page over HTTP/2, reset once its first bytes came."""
    with h2client.H2ClientConnection("127.0.0.1", port) as conn:
        stream = h2client._Stream(1, conn.initialWindow)
        conn.streams[1] = stream
        conn._send(frames.headersFrame(1, conn.encoder.encode(
            [(":method", "GET"), (":scheme", "http"), (":path", "/"),
             (":authority", "127.0.0.1:%d" % port)]), True), "HEADERS stream 1")
        while b"hello world" not in b"".join(stream.body):
            conn._readFrame()
        time.sleep(0.2)  # the page's render has returned
        conn._send(frames.rstStreamFrame(1, frames.CANCEL), "RST_STREAM stream 1 CANCEL")


@pytest.mark.parametrize("name, printed", [
    ("notify_finish.py",
     "[Failure instance: ConnectionDone: Connection was closed cleanly.] error"),
    ("notify_cancel.py", "client left: Connection was closed cleanly."),
], ids=["notify_finish.py", "notify_cancel.py"])
def test_notify_examples_hear_an_http2_reset(name, printed, procs, workdir):  # noqa: F811
    """Chapter 16's examples print, for an HTTP/2 client that resets its
    stream, the very line they print for an HTTP/1.1 client that hangs up."""
    command = serveCommand(name)
    with contextlib.ExitStack() as stack:
        run = Run(procs, workdir, stack)
        quickFinish(run)
        run.proc = run.start(command, port=run.port)
        leaveEarlyOverHTTP2(run.port)
        run.waitOutput(printed)
