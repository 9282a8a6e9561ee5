"""Write the tutorial notebooks (tutorial/NN-*.ipynb) from the sources below.

    python tools/make_notebooks.py          write every notebook
    python tools/make_notebooks.py --check  exit 1 if a notebook differs

Each notebook is written here as text: cells are separated by lines that
say ``~~~ md`` or ``~~~ code``.  The generator turns that into nbformat 4
JSON with no outputs and no execution counts, so the committed notebooks
stay small and ``git diff`` shows only real changes.  tests/test_tutorial.py
checks that the committed notebooks are exactly what this script writes,
and executes every code cell.

Conventions: one sentence of markdown before each code cell; servers listen
on 127.0.0.1 port 0 and stop at the end; every notebook ends with
"Questions" and "Where this lives in the code".
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TUTORIAL = os.path.join(os.path.dirname(HERE), "tutorial")

SOURCES = {}  # file name (without .ipynb) -> source text, in order


def notebook(name, text):
    SOURCES[name] = text


# ---------------------------------------------------------------------------
# the generator
# ---------------------------------------------------------------------------

def cells(text):
    """Split a source into [(kind, source)], kind 'markdown' or 'code'."""
    result = []
    kind, lines = None, []
    for line in text.strip("\n").split("\n"):
        if line.startswith("~~~ "):
            if kind is not None:
                result.append((kind, "\n".join(lines).strip("\n")))
            kind = {"md": "markdown", "code": "code"}[line[4:].strip()]
            lines = []
        else:
            lines.append(line)
    if kind is not None:
        result.append((kind, "\n".join(lines).strip("\n")))
    return result


def sourceLines(text):
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + [lines[-1]]


def toJSON(text):
    """One notebook's source -> its nbformat 4 JSON text."""
    nbcells = []
    for kind, source in cells(text):
        cell = {"cell_type": kind, "metadata": {}, "source": sourceLines(source)}
        if kind == "code":
            cell["execution_count"] = None
            cell["outputs"] = []
        nbcells.append(cell)
    document = {
        "cells": nbcells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 4,
    }
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def main(argv):
    check = "--check" in argv
    stale = []
    for name, text in SOURCES.items():
        path = os.path.join(TUTORIAL, name + ".ipynb")
        wanted = toJSON(text)
        try:
            with open(path, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current == wanted:
            continue
        stale.append(path)
        if not check:
            with open(path, "w", encoding="utf-8") as f:
                f.write(wanted)
    for path in stale:
        print(("out of date: " if check else "wrote ") + os.path.relpath(path))
    return 1 if check and stale else 0


# ---------------------------------------------------------------------------
# the notebooks
# ---------------------------------------------------------------------------


INDEX_ENTRIES = [
    ("01-Bytes-On-The-Wire", "Bytes on the wire",
     "a request typed by hand on a socket, then parsed by hand with refweb.wire"),
    ("02-Hello-Site", "Hello, Site",
     "Site + Resource + render_GET; what listenTCP does with threads"),
    ("03-Resource-Trees", "Resource trees",
     "getChild and putChild; prepath and postpath at every step; isLeaf"),
    ("04-Rendering-Methods-And-Errors", "Rendering, methods and errors",
     "render_METHOD, HEAD, 405, str or bytes, NOT_DONE_YET, errors as statuses"),
    ("05-Serving-Files", "Serving files",
     "static.File, indexNames, processors, ignoreExt, and what is never served"),
    ("06-Resource-Scripts", "Resource scripts",
     ".rpy files, the registry, reloading modules"),
    ("07-Encoders-And-Sessions", "Encoders and sessions",
     "gzip with EncodingResourceWrapper; getSession and its cookie"),
    ("08-Virtual-Hosts-And-Rewriting", "Virtual hosts and rewriting",
     "NameVirtualHost, VHostMonster, RewriterResource"),
    ("09-Proxies", "Proxies",
     "a reverse proxy and a forward proxy in front of a local origin"),
    ("10-Threads-Reactor-And-WSGI", "Threads, the reactor and WSGI",
     "callLater, callFromThread, ThreadPool, WSGIResource"),
    ("11-Applications-And-The-Command-Line", "Applications and the command line",
     "services, .tac files, `refweb -ny`, `refweb -n web --path`"),
    ("12-CGI-And-Spreadable-Servers", "CGI and spreadable servers",
     "CGIDirectory and FilteredScript; a personal server behind a user server"),
    ("13-Knowing-When-We-Are-Not-Wanted", "Knowing when we are not wanted",
     "notifyFinish when the client leaves; as-is files"),
]


def indexSource():
    links = "\n".join("%d. [%s](%s.ipynb) -- %s" % (number, title, name, about)
                      for number, (name, title, about) in enumerate(INDEX_ENTRIES, 1))
    return r'''
~~~ md
# refweb, hands on

These notebooks walk through the Twisted Web guide with **refweb**, a small
threaded re-implementation of the Twisted Web server that uses only Python's
standard library.  Each notebook takes one idea, runs real servers on free
ports of `127.0.0.1`, looks at what they answer, and stops them at the end,
so each one runs top to bottom in a fresh kernel.

**How to run them.**  Open this folder in Jupyter (`jupyter notebook` or
`jupyter lab`, started in `tutorial/`) and run the cells in order.  Without
Jupyter, `python -m pytest tests/test_tutorial.py` (from the checkout's root)
executes every cell of every notebook with the standard library alone.
The notebooks are generated by `tools/make_notebooks.py`: edit the sources
there and run it, rather than editing the `.ipynb` files.

## The notebooks, in order

''' + links + r'''

The documentation in `docs/` explains the same chapters in prose:
`docs/index.rst` maps each guide section to its chapter, its code and its
notebook.
~~~ md
First, a check that refweb can be imported from here (`nbhelpers` puts the checkout on `sys.path`).
~~~ code
import nbhelpers
import refweb
print("refweb", refweb.__version__)
~~~ md
## Questions

1. Which notebook would you open to see why `/fred` and `/fred/` are different requests?
2. Where in the documentation is the map from guide sections to modules?

## Where this lives in the code

`refweb/__init__.py` holds a ten-line map of a request's journey through the
modules; `docs/internals/design.rst` follows one request in detail.
'''


notebook("00-Index", indexSource())

notebook("01-Bytes-On-The-Wire", r'''
~~~ md
# 01 · Bytes on the wire

HTTP/1.1 is text on a TCP connection.  In this notebook we type a request
by hand on a raw socket, read the raw answer, and then parse the same bytes
by hand with `refweb.wire` -- the module that does the parsing inside the
server, and that contains no sockets at all.
~~~ md
We need a socket helper, the server classes, and the parser.
~~~ code
from nbhelpers import raw, watching
from refweb import error, resource, server, wire
from refweb.internet import reactor
~~~ md
A resource to talk to: one leaf that answers every path with a line of text.
~~~ code
class Hello(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        request.setHeader("content-type", "text/plain")
        return b"hello\n"
~~~ md
Port 0 asks the operating system for any free port; `interface="127.0.0.1"` keeps it on this machine.
~~~ code
port = reactor.listenTCP(0, server.Site(Hello()), interface="127.0.0.1")
PORT = port.getHost().port
print("listening on port", PORT)
~~~ md
A request is a request line, header lines, and an empty line, each ending in CR LF.
~~~ code
request = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
reply = raw(PORT, request)
print(reply.decode())
~~~ md
The response has the same shape: everything before the first empty line is the head, the rest is the body.
~~~ code
head, _, body = reply.partition(b"\r\n\r\n")
print(head.split(b"\r\n")[0])
print(body)
~~~ md
Now the server's side of it: `wire.splitHead` separates the request line from the header lines.
~~~ code
requestHead = request.split(b"\r\n\r\n")[0]
line, headerLines = wire.splitHead(requestHead)
print(line)
print(headerLines)
~~~ md
`parseRequestLine` turns the first line into three strings.
~~~ code
print(wire.parseRequestLine(line))
~~~ md
`parseHeaderLines` turns each header line into a (name, value) pair, refusing more than `maxCount` lines.
~~~ code
print(wire.parseHeaderLines(headerLines, maxCount=100))
~~~ md
The server itself calls `parseHead`, which does all of that at once. It first tries one regular expression that spells out a well-formed head; almost every request matches it and is split with no further checks. Only a head that does not match goes through the line-by-line functions above, which name the first problem.
~~~ code
print(wire.parseHead(requestHead, maxHeaderCount=100))
~~~ md
Whether the connection stays open after the response depends on the version and the `Connection` header.
~~~ code
for version, connection in [("HTTP/1.1", ""), ("HTTP/1.1", "close"),
                            ("HTTP/1.0", ""), ("HTTP/1.0", "keep-alive")]:
    tokens = wire.connectionTokens([connection] if connection else [])
    print(version, repr(connection), "->", wire.wantsKeepAlive(version, tokens))
~~~ md
Malformed input raises an error that carries the status the server answers with.
~~~ code
for bad in [b"GET /", b"GET / HTTP/9.9", b"GET /a b HTTP/1.1", b"G(T / HTTP/1.1"]:
    try:
        wire.parseRequestLine(bad)
    except error.Error as exc:
        print(bad, "->", exc.code, exc.message)
~~~ md
A header continued on a second line (old "obs-fold" syntax) is refused too.
~~~ code
try:
    wire.parseHeaderLines([b"X-Note: first part", b"  second part"], maxCount=100)
except error.Error as exc:
    print(exc.code, exc.detail)
~~~ md
The head says how the body is delimited: by a length, by chunks, or -- refused -- by both.
~~~ code
print(wire.bodyFraming([], ["5"], maxBodySize=1000))
print(wire.bodyFraming(["chunked"], [], maxBodySize=1000))
try:
    wire.bodyFraming(["chunked"], ["5"], maxBodySize=1000)
except error.Error as exc:
    print(exc.code, exc.detail)
~~~ md
A chunked body may arrive in arbitrary pieces; the decoder keeps its place between them.
~~~ code
decoder = wire.ChunkedDecoder(maxBodySize=1000)
for piece in [b"5\r\nhel", b"lo\r\n0\r", b"\n\r\n"]:
    print(piece, "->", decoder.feed(piece), "done" if decoder.done else "")
~~~ md
`Site(wire=True)` logs the raw heads as the server reads and writes them, each line naming its connection (`conn-N`): `>>` in, `<<` out, then `--` whether the connection was kept open.
~~~ code
wirePort = reactor.listenTCP(0, server.Site(Hello(), wire=True), interface="127.0.0.1")
with watching() as lines:
    raw(wirePort.getHost().port, request)
print("\n".join(line for line in lines if line.startswith("wire")))
~~~ md
An HTTP/1.1 request without a `Host` header is answered with 400, and the connection is closed.
~~~ code
print(raw(PORT, b"GET / HTTP/1.1\r\n\r\n").split(b"\r\n")[0])
~~~ md
Two requests sent at once (pipelined) are answered one after the other, in order.
~~~ code
two = (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
       b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
print(raw(PORT, two).count(b"HTTP/1.1 200 OK"), "responses")
~~~ md
Done: stop both ports.
~~~ code
port.stopListening()
wirePort.stopListening()
~~~ md
## Questions

1. Why does the server refuse a request that has both `Transfer-Encoding: chunked` and `Content-Length`?  (Think of a proxy and a server that disagree.)
2. Send `GET / HTTP/1.0` without `Connection: keep-alive`: does the connection stay open?  Check with `wire.wantsKeepAlive`.
3. What does the server answer to a request line longer than 8190 bytes?  Which attribute sets that limit?

## Where this lives in the code

* `refweb/wire.py` -- `parseHead`, `splitHead`, `parseRequestLine`, `parseHeaderLines`, `checkHost`, `wantsKeepAlive`, `bodyFraming`, `ChunkedDecoder`.
* `refweb/http.py` -- `HTTPChannel._readHead` and `_readBody` call them; `logWire` prints the `wire` lines.
* `docs/internals/wire.rst` -- the rules and every limit, in tables.
''')

notebook("02-Hello-Site", r'''
~~~ md
# 02 · Hello, Site

The guide's first example: a `Site` glued to a port, and one `Resource`
that answers every request.  We serve it, fetch from it, and look at which
threads do the work -- refweb's reactor is made of threads, so a port
serves as soon as `listenTCP` returns and we never call `reactor.run()`.
~~~ md
The imports, with `twisted.web` spelled `refweb`.
~~~ code
import threading

from nbhelpers import fetch, show
from refweb import resource, server
from refweb.internet import reactor
~~~ md
The guide's `Simple` resource; we also note the name of the thread that renders.
~~~ code
renderedIn = []

class Simple(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        renderedIn.append(threading.current_thread().name)
        return "<html>Hello, world!</html>"
~~~ md
`Site(Simple())` makes the resource the root of the site; port 0 picks a free port.
~~~ code
site = server.Site(Simple())
port = reactor.listenTCP(0, site, interface="127.0.0.1")
URL = "http://127.0.0.1:%d" % port.getHost().port
print(URL)
~~~ md
The port already serves: fetch the root page and look at the whole response.
~~~ code
show(fetch(URL + "/"))
~~~ md
`render_GET` returned a `str`, so refweb sent UTF-8 and said so in `Content-Type`; the length was known, so `Content-Length` too.
~~~ code
status, headers, body = fetch(URL + "/")
print(headers["Content-Type"], "|", headers["Content-Length"], "|", body)
~~~ md
`isLeaf = True` means this one resource answers every path.
~~~ code
for path in ["/", "/a", "/a/b/c?x=1"]:
    print(path, fetch(URL + path)[2])
~~~ md
A HEAD request is answered by `render_GET`, with the body left out.
~~~ code
status, headers, body = fetch(URL + "/", method="HEAD")
print(status, headers["Content-Length"], body)
~~~ md
There is no `render_POST`, so a POST gets 405 and an `Allow` header listing what would work.
~~~ code
status, headers, body = fetch(URL + "/", method="POST", body=b"x=1")
print(status, headers["Allow"])
~~~ md
Which threads rendered?  One per connection, named `refweb-conn-N` -- never this notebook's own thread.
~~~ code
print(sorted(set(renderedIn)))
print("this notebook runs in", threading.current_thread().name)
~~~ md
The listening port has its own thread, which accepts connections.
~~~ code
print([t.name for t in threading.enumerate() if t.name.startswith("refweb-listen")])
~~~ md
`stopListening()` closes the port; a new connection is then refused.
~~~ code
port.stopListening()
try:
    fetch(URL + "/")
except ConnectionRefusedError as exc:
    print("refused:", exc)
~~~ md
## Questions

1. Change `render_GET` to return `b"<html>Hello</html>"` (bytes).  What happens to the `charset` in `Content-Type`?
2. Add `render_POST = render_GET` to `Simple`.  What does the POST above answer now?
3. Why can a cell fetch from the server without `reactor.run()` here, when the guide's script ends with `reactor.run()`?

## Where this lives in the code

* `refweb/server.py` -- `Site` (a factory for HTTP connections) and `Request.render`, which turns the `str` into UTF-8 bytes.
* `refweb/resource.py` -- `Resource.render`: the `render_GET`/HEAD/405 dispatch.
* `refweb/internet/threadedreactor.py` -- `listenTCP`, `Port`, `_Listener.process_request` (one thread per connection).
* `docs/guide/01-resource-trees.rst` and `docs/internals/reactor.rst`.
''')

notebook("03-Resource-Trees", r'''
~~~ md
# 03 · Resource trees

A site is a tree of resources, one per URL segment.  For each request the
Site walks the tree: the path's segments start in `request.postpath`, and
at each step one segment moves to `request.prepath` while the current
resource is asked for the child of that name.  Here we print both lists at
every step.
~~~ md
The imports.
~~~ code
from nbhelpers import fetch, watching
from refweb import server
from refweb.internet import reactor
from refweb.resource import Resource, describe
~~~ md
A resource that records, each time it is asked for a child, the segment and both lists -- and makes a new node for any name.
~~~ code
steps = []

class Noisy(Resource):
    def __init__(self, name):
        Resource.__init__(self)
        self.name = name

    def getChild(self, segment, request):
        steps.append("%-6s getChild(%r)  prepath=%r postpath=%r"
                     % (self.name, segment, request.prepath, request.postpath))
        return Noisy(segment or self.name + "/")

    def render_GET(self, request):
        steps.append("%-6s renders     prepath=%r postpath=%r"
                     % (self.name, request.prepath, request.postpath))
        return "rendered by %s" % self.name
~~~ md
Serve a `Noisy` root on a free port.
~~~ code
port = reactor.listenTCP(0, server.Site(Noisy("root")), interface="127.0.0.1")
URL = "http://127.0.0.1:%d" % port.getHost().port
~~~ md
A helper: fetch a path, then print the steps of its walk.
~~~ code
def walk(path):
    del steps[:]
    status, headers, body = fetch(URL + path)
    print(path, "->", status, body.decode())
    print("\n".join("    " + step for step in steps))
~~~ md
`/a/b`: two steps; when `getChild` is called, the segment has already moved to `prepath`.
~~~ code
walk("/a/b")
~~~ md
A trailing slash adds a last, empty segment -- so `/a/b/` is one step longer than `/a/b`.
~~~ code
walk("/a/b/")
~~~ md
`/` is one empty segment, so even the root page takes one step.
~~~ code
walk("/")
~~~ md
Segments are percent-decoded into `str`: `%20` is a space, `%C3%A9` is "é".
~~~ code
walk("/caf%C3%A9/a%20b")
~~~ md
A leaf stops the walk; what is left stays in `postpath` for the leaf to use.
~~~ code
class Leaf(Noisy):
    isLeaf = True

root = Noisy("root")
root.putChild("docs", Leaf("docs"))
leafPort = reactor.listenTCP(0, server.Site(root), interface="127.0.0.1")
URL = "http://127.0.0.1:%d" % leafPort.getHost().port
walk("/docs/chapter/1")
~~~ md
A child put with `putChild` is found without asking `getChild`: only the step below it calls `getChild`.
~~~ code
walk("/docs")
root.putChild("fixed", Noisy("fixed"))
walk("/fixed/x")
~~~ md
Now the guide's `Hello` tree, with `isLeaf = False` so that the walk really goes down it.
~~~ code
class Hello(Resource):
    isLeaf = False

    def getChild(self, name, request):
        if name == '':
            return self
        return Resource.getChild(self, name, request)

    def render_GET(self, request):
        return "Hello, world! I am located at %r." % (request.prepath,)

hello = Hello()
hello.putChild('fred', Hello())
hello.putChild('bob', Hello())
helloPort = reactor.listenTCP(0, server.Site(hello, trace=True), interface="127.0.0.1")
HELLO = "http://127.0.0.1:%d" % helloPort.getHost().port
for path in ["/", "/fred", "/fred/", "/bob", "/nobody"]:
    status, headers, body = fetch(HELLO + path)
    print("%-8s %d %s" % (path, status, body.decode() if status == 200 else "(a 404 page)"))
~~~ md
`Site(trace=True)` logs each step of the walk, numbered, saying whether the child came from `putChild` or `getChild`; here is `/fred/`.
~~~ code
with watching() as lines:
    fetch(HELLO + "/fred/")
print("\n".join(line for line in lines if line.startswith("trace")))
~~~ md
`describe` prints the static shape of a tree, one URL path per line: what `putChild` built (`+getChild` marks a class whose children made by `getChild` do not exist until asked for).
~~~ code
text = describe(hello, write=lambda text: None)
print(text)
~~~ md
With the guide's `isLeaf = True`, the root would answer everything itself, and `prepath` would stay empty.
~~~ code
Hello.isLeaf = True
status, headers, body = fetch(HELLO + "/fred")
print(body.decode())
Hello.isLeaf = False
~~~ md
Stop the three ports.
~~~ code
for p in (port, leafPort, helloPort):
    p.stopListening()
~~~ md
## Questions

1. In `walk("/a/b/")`, which resource renders, and why is its `postpath` empty?
2. What would `/fred/x` give on the Hello tree, and which line of `Hello.getChild` decides it?
3. Why does the last cell print `[]` for `prepath` although the URL was `/fred`?

## Where this lives in the code

* `refweb/resource.py` -- `getChildForRequest` (the walk), `Resource.getChildWithDefault` (putChild children first), `getChild`, `putChild`, `describe`.
* `refweb/server.py` -- `splitSegments` (path to segments), `Site.getResourceFor` and `_traceStep` (the `trace:` lines).
* `docs/guide/01-resource-trees.rst`.
''')

notebook("04-Rendering-Methods-And-Errors", r'''
~~~ md
# 04 · Rendering: methods, bodies and errors

When the walk ends, the Site calls the resource's `render(request)`, which
calls `render_GET`, `render_POST`... after the request's method.  What it
returns becomes the response: a `str`, `bytes`, or `NOT_DONE_YET` -- "I will
finish later".  Errors are statuses: raise one and refweb sends its page.
~~~ md
The imports.
~~~ code
import time

from nbhelpers import fetch, show
from refweb import error, server
from refweb.internet import reactor
from refweb.resource import Resource
~~~ md
One resource, two methods sharing a body: `request.args` holds the form fields, from the query or from a POSTed body.
~~~ code
class Greeter(Resource):
    isLeaf = True

    def render_GET(self, request):
        name = request.args.get("name", ["stranger"])[0]
        return "Hello, %s (%s)" % (name, request.method)

    render_POST = render_GET

root = Resource()
root.putChild("greet", Greeter())
port = reactor.listenTCP(0, server.Site(root), interface="127.0.0.1")
URL = "http://127.0.0.1:%d" % port.getHost().port
~~~ md
The same answer for a query string and for a form body.
~~~ code
print(fetch(URL + "/greet?name=Ada")[2])
form = {"Content-Type": "application/x-www-form-urlencoded"}
print(fetch(URL + "/greet", method="POST", body=b"name=Grace", headers=form)[2])
~~~ md
`args` maps each name to a list, because a field may repeat.
~~~ code
class Args(Resource):
    isLeaf = True

    def render_GET(self, request):
        return repr(request.args)

root.putChild("args", Args())
print(fetch(URL + "/args?a=1&a=2&b=")[2].decode())
~~~ md
A method with no `render_` method gets 405, with `Allow` listing the methods that exist.
~~~ code
status, headers, body = fetch(URL + "/greet", method="DELETE")
print(status, headers["Allow"])
~~~ md
`bytes` go out as they are; set the content type yourself, and the status with `setResponseCode`.
~~~ code
class Teapot(Resource):
    isLeaf = True

    def render_GET(self, request):
        request.setResponseCode(418)
        request.setHeader("content-type", "text/plain")
        return b"I am a teapot\n"

root.putChild("teapot", Teapot())
show(fetch(URL + "/teapot"))
~~~ md
`NOT_DONE_YET` leaves the response open; here a timer finishes it 0.3 seconds later, on the reactor's timer thread.
~~~ code
class Later(Resource):
    isLeaf = True

    def render_GET(self, request):
        request.write("first part, ")
        reactor.callLater(0.3, self.finish, request)
        return server.NOT_DONE_YET

    def finish(self, request):
        request.write("second part")
        request.finish()

root.putChild("later", Later())
started = time.monotonic()
status, headers, body = fetch(URL + "/later")
print(body, "after %.1f s" % (time.monotonic() - started))
~~~ md
Its length was unknown when the head went out, so the body was sent in chunks.
~~~ code
print(headers["Transfer-Encoding"])
~~~ md
refweb is threaded, so a render method may also just block: only its own connection waits.
~~~ code
class Sleepy(Resource):
    isLeaf = True

    def render_GET(self, request):
        time.sleep(0.3)
        return "slept"

root.putChild("sleepy", Sleepy())
print(fetch(URL + "/sleepy")[2])
~~~ md
Raising an `refweb.error` class sends that status, with its `detail` on the page.
~~~ code
class Guarded(Resource):
    isLeaf = True

    def render_GET(self, request):
        if request.getHeader("x-password") != "swordfish":
            raise error.Forbidden(detail="Say the password.")
        return "welcome"

root.putChild("guarded", Guarded())
status, headers, body = fetch(URL + "/guarded")
print(status, b"Say the password." in body)
print(fetch(URL + "/guarded", headers={"X-Password": "swordfish"})[2])
~~~ md
Any other exception is a bug: a 500 page for the client, the traceback in the log -- and the server goes on.
~~~ code
from nbhelpers import watching

class Broken(Resource):
    isLeaf = True

    def render_GET(self, request):
        return 1 / 0

root.putChild("broken", Broken())
with watching() as lines:
    status, headers, body = fetch(URL + "/broken")
print(status, body[-60:])
print([line.splitlines()[-1] for line in lines if "Traceback" in line])
print(fetch(URL + "/greet")[0], "-- still serving")
~~~ md
`request.redirect(url)` sets 302 and a `Location` header.
~~~ code
class Moved(Resource):
    isLeaf = True

    def render_GET(self, request):
        request.redirect("/greet?name=again")
        return b""

root.putChild("moved", Moved())
status, headers, body = fetch(URL + "/moved")
print(status, headers["Location"])
~~~ md
Stop the port.
~~~ code
port.stopListening()
~~~ md
## Questions

1. What does `/greet` answer to a HEAD request, and why is there no `render_HEAD`?
2. In `Later`, what would happen if `finish` were never called?  Try it with a short client timeout.
3. Why is `Site(root, displayTracebacks=True)` handy while developing and dangerous in production?

## Where this lives in the code

* `refweb/resource.py` -- `Resource.render` and `allowedMethodsOf` (405 and `Allow`).
* `refweb/server.py` -- `Request.render`: str, bytes, `NOT_DONE_YET`, `error.Error`, or a 500 via `processingFailed`.
* `refweb/http_request.py` -- `write`, `formatHead` (length or chunks), `finish`, `redirect`.
* `refweb/error.py` -- the error classes and the page they become.
* `docs/guide/02-rendering.rst`.
''')

notebook("05-Serving-Files", r'''
~~~ md
# 05 · Serving files

`static.File(path)` is a resource for a folder on disk and everything below
it: each URL segment becomes one name inside the folder.  We build a small
folder, serve it, and try the three settings the guide changes --
`indexNames`, `processors`, `ignoreExt` -- and a few requests that must
never reach outside the folder.
~~~ md
The imports, and a temporary folder with a few files in it.
~~~ code
import os

from nbhelpers import cleanup, fetch, folder, show
from refweb import server, static
from refweb.internet import reactor
from refweb.resource import Resource, describe

site = folder({
    "index.html": "<h1>home</h1>\n",
    "notes.txt": "plain text\n",
    "docs/guide.html": "<p>the guide</p>\n",
    "empty/.keep": "",
    ".secret": "do not serve me\n",
})
print(sorted(os.listdir(site)))
~~~ md
Serve the folder as the root of a site.
~~~ code
root = static.File(site)
port = reactor.listenTCP(0, server.Site(root), interface="127.0.0.1")
URL = "http://127.0.0.1:%d" % port.getHost().port
~~~ md
`/` finds `index.html`, one of the default `indexNames`.
~~~ code
print(root.indexNames)
show(fetch(URL + "/"))
~~~ md
A text file gets its type from its extension, and validators (`Last-Modified`, `ETag`) so a browser can revalidate it.
~~~ code
status, headers, body = fetch(URL + "/notes.txt")
print(status, headers["Content-Type"], headers["ETag"], body)
~~~ md
Asking again with `If-None-Match` gives 304 Not Modified and no body.
~~~ code
status, headers, body = fetch(URL + "/notes.txt", headers={"If-None-Match": headers["ETag"]})
print(status, body)
~~~ md
A `Range` header asks for part of the file: 206 Partial Content.
~~~ code
status, headers, body = fetch(URL + "/notes.txt", headers={"Range": "bytes=0-4"})
print(status, headers["Content-Range"], body)
~~~ md
A folder asked for without its slash is redirected to the slash form, so relative links inside it work.
~~~ code
status, headers, body = fetch(URL + "/docs")
print(status, headers["Location"])
~~~ md
A folder without an index file gets a listing (names HTML-escaped; hidden files left out).
~~~ code
status, headers, body = fetch(URL + "/empty/")
print(status, b"Directory listing for /empty/" in body, b".keep" in body)
~~~ md
These never leave the folder: `..`, its percent-encoded forms, and dotfiles are all 404.
~~~ code
for path in ["/../etc/passwd", "/%2e%2e/etc/passwd", "/docs/..%2f..%2fetc", "/.secret"]:
    print(path, fetch(URL + path)[0])
~~~ md
`indexNames` decides which names count as a folder's page; make `guide.html` one.
~~~ code
root.indexNames = ["guide.html"]
status, headers, body = fetch(URL + "/docs/")
print(status, body)
~~~ md
A processor turns files with one extension into resources; here `.upper` files are served in capitals.
~~~ code
class Shout(Resource):
    isLeaf = True

    def __init__(self, path, registry):
        Resource.__init__(self)
        self.path = path

    def render_GET(self, request):
        with open(self.path) as f:
            return f.read().upper()

with open(os.path.join(site, "quiet.upper"), "w") as f:
    f.write("please speak up\n")
root.processors = {".upper": Shout}
print(fetch(URL + "/quiet.upper")[2])
~~~ md
`ignoreExt` lets the URL leave an extension off: `/quiet` finds `quiet.upper`.
~~~ code
print(fetch(URL + "/quiet")[0])
root.ignoreExt(".upper")
print(fetch(URL + "/quiet")[2])
~~~ md
`putChild` grafts a resource onto the folder, and wins over the disk.
~~~ code
root.putChild("notes.txt", static.Data(b"not the file\n", "text/plain"))
print(fetch(URL + "/notes.txt")[2])
~~~ md
`describe` shows the root with its folder, processors and index names, and the grafted child.
~~~ code
text = describe(root, write=lambda text: None)
print(text.replace(site, "SITE"))
~~~ md
Stop the port and remove the folder.
~~~ code
port.stopListening()
cleanup()
~~~ md
## Questions

1. Which `indexNames` would you use so that a folder's page can be `index.rpy` or `index.html`, preferring the script?
2. Why does refweb check `..` *after* percent-decoding the segment?
3. What would a visitor see at `/quiet.upper` if you removed the `.upper` processor?

## Where this lives in the code

* `refweb/static.py` -- `File.getChild` (one segment to one name, with `_badSegment` and `_inside`), `_indexOrListing`, `_resourceFor` (processors), `_ignoredExtSibling`, `render_GET`, `DirectoryLister`.
* `refweb/http_request.py` -- `writeFile` streams the file (with `os.sendfile` when it can).
* `docs/guide/07-static-files.rst`.
''')

notebook("06-Resource-Scripts", r'''
~~~ md
# 06 · Resource scripts (.rpy)

A `.rpy` file is Python that sets a variable called `resource`.  With the
`.rpy` processor on, refweb runs the file on *every* request that reaches it,
so an edit shows on the next reload.  Scripts see `__file__`, `registry`
and `resource`; state that must outlive one request goes in the registry.
~~~ md
The imports.
~~~ code
import os
import sys

from nbhelpers import cleanup, fetch, folder, watching
from refweb import script, server, static
from refweb.internet import reactor
~~~ md
A folder with one script in it.
~~~ code
site = folder({"hello.rpy": """
from refweb.resource import Resource

class Hello(Resource):
    isLeaf = True
    def render_GET(self, request):
        return "hello from a script; postpath=%r" % (request.postpath,)

resource = Hello()
"""})
~~~ md
Serve it with `.rpy` mapped to `script.ResourceScript` -- what `refweb web --path` does.
~~~ code
root = static.File(site)
root.processors = {".rpy": script.ResourceScript}
port = reactor.listenTCP(0, server.Site(root), interface="127.0.0.1")
URL = "http://127.0.0.1:%d" % port.getHost().port
print(fetch(URL + "/hello.rpy")[2])
~~~ md
The script's resource takes the file's place in the walk; this one is a leaf, so it gets the rest of the path.
~~~ code
print(fetch(URL + "/hello.rpy/more/path")[2])
~~~ md
Edit the script: the next request runs the new version, with no restart.
~~~ code
path = os.path.join(site, "hello.rpy")
with open(path) as f:
    source = f.read()
with open(path, "w") as f:
    f.write(source.replace("hello from a script", "HELLO, EDITED"))
print(fetch(URL + "/hello.rpy")[2])
~~~ md
A variable set by a script is new on every request: this counter never passes 1.
~~~ code
with open(os.path.join(site, "forgetful.rpy"), "w") as f:
    f.write("""
from refweb.resource import Resource
count = 0
class Page(Resource):
    def render_GET(self, request):
        global count
        count += 1
        return "count=%d" % count
resource = Page()
""")
print([fetch(URL + "/forgetful.rpy")[2] for _ in range(3)])
~~~ md
`registry` is shared by every script of the tree and outlives requests -- but look what happens with a key class defined in the script.
~~~ code
with open(os.path.join(site, "counter.rpy"), "w") as f:
    f.write("""
from refweb.resource import Resource

class Visits:
    def __init__(self):
        self.n = 0

visits = registry.getComponent(Visits)
if visits is None:
    visits = Visits()
    registry.setComponent(Visits, visits)

class Page(Resource):
    def render_GET(self, request):
        visits.n += 1
        return "visitor %d" % visits.n
resource = Page()
""")
print([fetch(URL + "/counter.rpy")[2] for _ in range(3)])
~~~ md
Each run defines a *new* class `Visits`, so the registry never finds the old key; the guide imports its `Counter` from a module for this reason.
~~~ code
modules = folder({"visits.py": """
class Visits:
    def __init__(self):
        self.n = 0
"""})
sys.path.insert(0, modules)
with open(os.path.join(site, "counter.rpy")) as f:
    source = f.read()
source = source.replace("class Visits:\n    def __init__(self):\n        self.n = 0\n",
                        "from visits import Visits\n")
with open(os.path.join(site, "counter.rpy"), "w") as f:
    f.write(source)
print([fetch(URL + "/counter.rpy")[2] for _ in range(3)])
~~~ md
A script that fails gives a 500 page naming the script; the traceback goes to the log.
~~~ code
with open(os.path.join(site, "broken.rpy"), "w") as f:
    f.write("resource = undefined_name\n")
with watching() as lines:
    status, headers, body = fetch(URL + "/broken.rpy")
print(status, b"broken.rpy" in body)
print([line.splitlines()[-1] for line in lines if "Traceback" in line])
~~~ md
A script that forgets to set `resource` is a 500 too.
~~~ code
with open(os.path.join(site, "empty.rpy"), "w") as f:
    f.write("x = 1\n")
with watching() as lines:
    print(fetch(URL + "/empty.rpy")[0])
print([line.splitlines()[-1] for line in lines if "Traceback" in line])
~~~ md
Classes that settled belong in modules; while developing, a script can reload its module on every request.
~~~ code
with open(os.path.join(modules, "greeting.py"), "w") as f:
    f.write("""
from refweb.resource import Resource
class Greeting(Resource):
    def render_GET(self, request):
        return "version 1"
""")
with open(os.path.join(site, "greet.rpy"), "w") as f:
    f.write("""
import importlib
import greeting
importlib.reload(greeting)  # comment out when finished debugging
resource = greeting.Greeting()
""")
print(fetch(URL + "/greet.rpy")[2])
with open(os.path.join(modules, "greeting.py")) as f:
    source = f.read()
with open(os.path.join(modules, "greeting.py"), "w") as f:
    f.write(source.replace("version 1", "version two"))
print(fetch(URL + "/greet.rpy")[2])
~~~ md
Without the processor, a `.rpy` is just a file -- and its source is sent to whoever asks.
~~~ code
plain = reactor.listenTCP(0, server.Site(static.File(site)), interface="127.0.0.1")
print(fetch("http://127.0.0.1:%d/hello.rpy" % plain.getHost().port)[2][:60])
~~~ md
Stop the ports, forget the module folder, remove the folders.
~~~ code
port.stopListening()
plain.stopListening()
sys.path.remove(modules)
for name in ("greeting", "visits"):
    sys.modules.pop(name, None)
cleanup()
~~~ md
## Questions

1. Why does `forgetful.rpy` always say `count=1`, while `counter.rpy` counts?
2. `refweb web --path DIR` turns the `.rpy` processor on.  Who can then make your server run a script, and which scripts?
3. The module reload happens on every request.  What would it cost on a busy site?

## Where this lives in the code

* `refweb/script.py` -- `ResourceScript` (the processor), `runScript` (the namespace: `__file__`, `registry`, `resource`), `ScriptErrorPage`.
* `refweb/static.py` -- `Registry`, and `File._resourceFor`, where processors apply.
* `docs/guide/10-resource-scripts.rst`, and the `--path` warning in `docs/guide/09-the-web-command.rst`.
''')

notebook("07-Encoders-And-Sessions", r'''
~~~ md
# 07 · Encoders and sessions

Two things a Site can add around your resources: **encoders**, which
compress a response body for clients that accept it, and **sessions**,
which recognise a browser across requests with a cookie.
~~~ md
The imports.
~~~ code
import gzip

from nbhelpers import fetch
from refweb import server
from refweb.internet import reactor
from refweb.resource import EncodingResourceWrapper, Resource
from refweb.server import GzipEncoderFactory
~~~ md
A resource with a body worth compressing, wrapped with the gzip encoder factory.
~~~ code
class Repetitive(Resource):
    isLeaf = True

    def render_GET(self, request):
        return "all work and no play makes a dull server\n" * 50

wrapped = EncodingResourceWrapper(Repetitive(), [GzipEncoderFactory()])
port = reactor.listenTCP(0, server.Site(wrapped), interface="127.0.0.1")
URL = "http://127.0.0.1:%d" % port.getHost().port
~~~ md
A client that does not ask for gzip gets the plain body.
~~~ code
status, headers, plain = fetch(URL + "/", headers={"Accept-Encoding": "identity"})
print(status, headers["Content-Encoding"], len(plain), "bytes")
~~~ md
A client that accepts gzip gets a much smaller body, marked `Content-Encoding: gzip`.
~~~ code
status, headers, packed = fetch(URL + "/", headers={"Accept-Encoding": "gzip"})
print(status, headers["Content-Encoding"], len(packed), "bytes")
print(gzip.decompress(packed) == plain)
~~~ md
Both answers say `Vary: Accept-Encoding`, so a cache keeps the two apart.
~~~ code
print(headers["Vary"])
~~~ md
`q=0` means "not gzip, please".
~~~ code
print(fetch(URL + "/", headers={"Accept-Encoding": "gzip;q=0"})[1]["Content-Encoding"])
~~~ md
Now sessions: a resource that counts visits in `request.getSession()`.
~~~ code
class Visits(Resource):
    isLeaf = True

    def render_GET(self, request):
        session = request.getSession()
        session.count = getattr(session, "count", 0) + 1
        return "visit %d" % session.count

site = server.Site(Visits())
sessionPort = reactor.listenTCP(0, site, interface="127.0.0.1")
SESSIONS = "http://127.0.0.1:%d" % sessionPort.getHost().port
~~~ md
The first visit makes a session and sets its cookie.
~~~ code
status, headers, body = fetch(SESSIONS + "/")
setCookie = headers["Set-Cookie"]
print(body)
print(setCookie.split("=")[0], "...", setCookie.split(";", 1)[1])
~~~ md
Sending the cookie back finds the same session: the count goes on, and no new cookie is set.
~~~ code
cookie = setCookie.split(";")[0]
for _ in range(2):
    status, headers, body = fetch(SESSIONS + "/", headers={"Cookie": cookie})
    print(body, headers["Set-Cookie"])
~~~ md
A browser without the cookie is a stranger: a new session, a new cookie.
~~~ code
print(fetch(SESSIONS + "/")[2], len(site.sessions), "sessions in the Site")
~~~ md
The session id is 128 random bits, in hex; the Site keeps the sessions by id.
~~~ code
uid = cookie.split("=")[1]
print(len(uid) * 4, "bits;", uid in site.sessions)
~~~ md
`expire()` ends a session now; its `notifyOnExpire` callbacks run.
~~~ code
session = site.getSession(uid)
session.notifyOnExpire(lambda: print("session expired"))
session.expire()
print(fetch(SESSIONS + "/", headers={"Cookie": cookie})[2])
~~~ md
Idle sessions expire by themselves after `sessionTimeout` seconds (900 by default); here we shorten it for one session.
~~~ code
import time
status, headers, body = fetch(SESSIONS + "/")
newUid = headers["Set-Cookie"].split(";")[0].split("=")[1]
short = site.getSession(newUid)
short.sessionTimeout = 0.2
short.startCheckingExpiration()
time.sleep(0.5)
print(newUid in site.sessions)
~~~ md
Stop both ports.
~~~ code
port.stopListening()
sessionPort.stopListening()
~~~ md
## Questions

1. Why must a compressed response say `Vary: Accept-Encoding`?
2. The cookie is `HttpOnly`.  What attack does that make harder?
3. Where do sessions live, and what happens to them when the server restarts?

## Where this lives in the code

* `refweb/resource.py` -- `EncodingResourceWrapper`; `refweb/encoders.py` -- `GzipEncoderFactory.encoderForRequest`, `GzipEncoder`.
* `refweb/server.py` -- `Request.getSession`, `Site.makeSession`, `Site.getSession`.
* `refweb/session.py` -- `Session` (`touch`, `expire`, `notifyOnExpire`), `SessionStore`.
* `docs/guide/03-request-encoders.rst` and `docs/guide/04-sessions.rst`.
''')

notebook("08-Virtual-Hosts-And-Rewriting", r'''
~~~ md
# 08 · Virtual hosts, VHostMonster and rewriting

Three resources that change *which* resource answers, before the walk goes
on: `NameVirtualHost` picks a site by the `Host` header, `VHostMonsterResource`
lets a server behind a proxy learn its public name from the URL, and
`RewriterResource` edits the path before it is looked up.
~~~ md
The imports.
~~~ code
from nbhelpers import cleanup, fetch, folder
from refweb import proxy, rewrite, server, static, vhost
from refweb.internet import reactor
from refweb.resource import Resource
~~~ md
A small resource that says which site it belongs to and where it sits.
~~~ code
class Page(Resource):
    def __init__(self, site):
        Resource.__init__(self)
        self.site = site

    def getChild(self, name, request):
        return self

    def render_GET(self, request):
        return "%s: prepath=%r" % (self.site, request.prepath)
~~~ md
A `NameVirtualHost` as the root: two named sites and a default.
~~~ code
root = vhost.NameVirtualHost()
root.addHost("foo.example", Page("foo"))
root.addHost("bar.example", Page("bar"))
root.default = Page("default")
port = reactor.listenTCP(0, server.Site(root), interface="127.0.0.1")
URL = "http://127.0.0.1:%d" % port.getHost().port
~~~ md
The same URL, three `Host` headers, three sites; case and port do not matter.
~~~ code
for host in ["foo.example", "BAR.example:8080", "other.example"]:
    print("%-18s" % host, fetch(URL + "/a/b", headers={"Host": host})[2])
~~~ md
A child put on the `NameVirtualHost` itself is shared by every host.
~~~ code
root.putChild("robots.txt", static.Data(b"User-agent: *\n", "text/plain"))
print(fetch(URL + "/robots.txt", headers={"Host": "foo.example"})[2])
~~~ md
Now VHostMonster: an internal server with a folder, and `vhost.rpy`'s resource at `/vhost.rpy`.
~~~ code
pages = folder({"notes/todo.txt": "read the guide\n"})
internalRoot = static.File(pages)
internalRoot.putChild("vhost.rpy", vhost.VHostMonsterResource())
internal = reactor.listenTCP(0, server.Site(internalRoot), interface="127.0.0.1")
INTERNAL = "http://127.0.0.1:%d" % internal.getHost().port
~~~ md
Asked directly, the internal server's redirect names itself -- useless to a browser outside.
~~~ code
print(fetch(INTERNAL + "/notes")[1]["Location"])
~~~ md
With the `/vhost.rpy/http/www.example.com:80` prefix, it knows the public name and builds its URLs with it.
~~~ code
status, headers, body = fetch(INTERNAL + "/vhost.rpy/http/www.example.com:80/notes")
print(status, headers["Location"])
~~~ md
`https` in the prefix makes the request "secure", and the port goes into URLs when it is not the default.
~~~ code
print(fetch(INTERNAL + "/vhost.rpy/https/www.example.com:8443/notes")[1]["Location"])
~~~ md
The front server adds the prefix: a reverse proxy for `www.example.com`, behind a `NameVirtualHost`.
~~~ code
front = vhost.NameVirtualHost()
front.addHost("www.example.com", proxy.ReverseProxyResource(
    "127.0.0.1", internal.getHost().port, "/vhost.rpy/http/www.example.com"))
frontPort = reactor.listenTCP(0, server.Site(front), interface="127.0.0.1")
FRONT = "http://127.0.0.1:%d" % frontPort.getHost().port
status, headers, body = fetch(FRONT + "/notes", headers={"Host": "www.example.com"})
print(status, headers["Location"])
print(fetch(FRONT + "/notes/todo.txt", headers={"Host": "www.example.com"})[2])
~~~ md
Rewriting: `tildeToUsers` turns `/~alice/x` into `/users/alice/x` before the walk goes on.
~~~ code
users = Resource()
users.putChild("alice", Page("alice's pages"))
default = Resource()
default.putChild("users", users)
rewritten = rewrite.RewriterResource(default, rewrite.tildeToUsers)
rewritePort = reactor.listenTCP(0, server.Site(rewritten), interface="127.0.0.1")
REWRITE = "http://127.0.0.1:%d" % rewritePort.getHost().port
print(fetch(REWRITE + "/~alice/photos")[2])
print(fetch(REWRITE + "/users/alice/photos")[2])
~~~ md
A rule is any function of the request; this one sends the old `/blog/...` to `/journal/...`.
~~~ code
def blogToJournal(request):
    if request.postpath[:1] == ["blog"]:
        request.postpath[0] = "journal"
        rewrite.setPath(request, request.prepath + request.postpath)

default.putChild("journal", Page("journal"))
rewritten.rewriteRules.append(blogToJournal)
print(fetch(REWRITE + "/blog/2024/post")[2])
~~~ md
Stop the ports and remove the folder.
~~~ code
for p in (port, internal, frontPort, rewritePort):
    p.stopListening()
cleanup()
~~~ md
## Questions

1. Without VHostMonster, what would a browser do with the redirect `http://127.0.0.1:PORT/notes/` it got through the front proxy?
2. What does the internal server answer to `/vhost.rpy/ftp/www.example.com/notes`, and why?
3. Why does `blogToJournal` call `rewrite.setPath` and not only change `postpath`?

## Where this lives in the code

* `refweb/vhost.py` -- `NameVirtualHost.getResourceForRequest` and `getChildWithDefault`; `VHostMonsterResource`, `_PublicHost.getChild` (`request.setHost`, then the walk restarts at the Site's root).
* `refweb/rewrite.py` -- `RewriterResource.getChildWithDefault`, `tildeToUsers`, `setPath`.
* `docs/guide/08-virtual-hosts.rst`, `docs/guide/14-vhostmonster.rst`, `docs/guide/15-rewriting.rst`.
''')

notebook("09-Proxies", r'''
~~~ md
# 09 · Proxies

A proxy answers a request by making another one.  A **reverse proxy** stands
in front of servers (clients think it is the site); a **forward proxy**
stands in front of clients (it fetches whatever URL they ask for).  We put
both in front of a small origin server running in this notebook.
~~~ md
The imports.
~~~ code
from http.client import HTTPConnection  # before `from refweb import http`, which shadows the name

from nbhelpers import fetch, freePort, raw
from refweb import http, proxy, server
from refweb.internet import reactor
from refweb.resource import Resource
~~~ md
The origin: it echoes the path it was asked for and a few headers it received.
~~~ code
class Echo(Resource):
    isLeaf = True

    def render_GET(self, request):
        request.setHeader("content-type", "text/plain")
        lines = ["uri=%s" % request.uri]
        for name in ("Host", "X-Forwarded-For", "Connection", "X-Custom"):
            lines.append("%s: %s" % (name, request.getHeader(name)))
        return "\n".join(lines) + "\n"

origin = reactor.listenTCP(0, server.Site(Echo()), interface="127.0.0.1")
ORIGIN_PORT = origin.getHost().port
~~~ md
A reverse proxy: a `ReverseProxyResource` as the root of another site.
~~~ code
reverse = proxy.ReverseProxyResource("127.0.0.1", ORIGIN_PORT, "/backend")
reversePort = reactor.listenTCP(0, server.Site(reverse), interface="127.0.0.1")
REVERSE = "http://127.0.0.1:%d" % reversePort.getHost().port
~~~ md
The path below the proxy is appended to its `path`; the query string goes along.
~~~ code
print(fetch(REVERSE + "/a/b?q=1", headers={"X-Custom": "kept"})[2].decode())
~~~ md
The origin saw its own name in `Host`, the client's address in `X-Forwarded-For`, and a fresh `Connection` header: hop-by-hop headers are not passed on.
~~~ code
print(fetch(REVERSE + "/", headers={"Connection": "keep-alive, X-Custom", "X-Custom": "dropped"})[2].decode())
~~~ md
A forward proxy is a channel, not a resource: `proxy.Proxy` reads requests whose target is a whole URL.
~~~ code
class ProxyFactory(http.HTTPFactory):
    def buildProtocol(self, addr):
        return proxy.Proxy()

forward = reactor.listenTCP(0, ProxyFactory(), interface="127.0.0.1")
FORWARD_PORT = forward.getHost().port
~~~ md
Ask the proxy for an absolute URL, as a browser configured to use it would.
~~~ code
connection = HTTPConnection("127.0.0.1", FORWARD_PORT, timeout=10)
connection.request("GET", "http://127.0.0.1:%d/via/the/proxy" % ORIGIN_PORT)
response = connection.getresponse()
print(response.status, response.read().decode())
connection.close()
~~~ md
The same request typed by hand: the request line carries the full URL.
~~~ code
request = ("GET http://127.0.0.1:%d/raw HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           "Connection: close\r\n\r\n" % ORIGIN_PORT).encode()
print(raw(FORWARD_PORT, request).split(b"\r\n\r\n", 1)[1].decode())
~~~ md
A forward proxy needs an absolute URL: a plain path is a 400.
~~~ code
print(raw(FORWARD_PORT, b"GET /just/a/path HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").split(b"\r\n")[0])
~~~ md
An origin that is not there: the proxy answers 502 Bad Gateway.
~~~ code
closed = freePort()
nowhere = reactor.listenTCP(0, server.Site(proxy.ReverseProxyResource("127.0.0.1", closed, "")),
                            interface="127.0.0.1")
print(fetch("http://127.0.0.1:%d/" % nowhere.getHost().port)[0])
~~~ md
Stop the four ports.
~~~ code
for p in (origin, reversePort, forward, nowhere):
    p.stopListening()
~~~ md
## Questions

1. This forward proxy would fetch `http://127.0.0.1:...` for anyone who can connect to it.  Why is that dangerous, and where would you refuse such URLs?
2. Why does a proxy drop the headers named in `Connection`?
3. The origin's `Host` says `127.0.0.1:PORT`, not the name the client used.  Which notebook shows the fix for the URLs the origin builds?

## Where this lives in the code

* `refweb/proxy.py` -- `ReverseProxyResource.getChild` and `render`; `Proxy`, `ProxyRequest.process` and `parseTarget`; `upstreamHeaders` (hop-by-hop, `X-Forwarded-For`); `ProxyClient`.
* `refweb/httpclient.py` -- `HTTPClient`, the hand-written client side.
* `docs/guide/05-proxies.rst`.
''')

notebook("10-Threads-Reactor-And-WSGI", r'''
~~~ md
# 10 · Threads, the reactor, and WSGI

refweb's reactor is a handful of threads with one job each.  We look at
where timed calls and pooled work run, see two slow requests overlap, and
serve a WSGI application through a `ThreadPool`, as the guide's `.tac` does.
~~~ md
The imports.
~~~ code
import threading
import time

from nbhelpers import fetch
from refweb import server
from refweb.internet import reactor
from refweb.python.threadpool import ThreadPool
from refweb.resource import Resource
from refweb.wsgi import WSGIResource
~~~ md
`callLater` runs a function later, on the reactor's timer thread -- no `reactor.run()` needed.
~~~ code
ran = []
reactor.callLater(0.1, lambda: ran.append(threading.current_thread().name))
time.sleep(0.3)
print(ran)
~~~ md
A `DelayedCall` can be cancelled before it runs.
~~~ code
call = reactor.callLater(0.2, ran.append, "should not happen")
call.cancel()
time.sleep(0.3)
print(ran, call.active())
~~~ md
`callFromThread` queues a function on that same timer thread; `callInThread` runs it on the reactor's pool.
~~~ code
seen = []
reactor.callFromThread(lambda: seen.append(("callFromThread", threading.current_thread().name)))
reactor.callInThread(lambda: seen.append(("callInThread", threading.current_thread().name)))
time.sleep(0.2)
for item in sorted(seen):
    print(*item)
~~~ md
Each connection has its own thread, so two slow render methods run at the same time.
~~~ code
class Slow(Resource):
    isLeaf = True

    def render_GET(self, request):
        time.sleep(0.5)
        return threading.current_thread().name

port = reactor.listenTCP(0, server.Site(Slow()), interface="127.0.0.1")
URL = "http://127.0.0.1:%d/" % port.getHost().port
results = []
started = time.monotonic()
clients = [threading.Thread(target=lambda: results.append(fetch(URL)[2])) for _ in range(2)]
for client in clients:
    client.start()
for client in clients:
    client.join()
print(sorted(results), "in %.1f s, not 1.0 s" % (time.monotonic() - started))
port.stopListening()
~~~ md
The flip side: shared state needs a lock, because requests really do run at once.
~~~ code
class Counter(Resource):
    isLeaf = True

    def __init__(self):
        Resource.__init__(self)
        self.count = 0
        self.lock = threading.Lock()  # guards self.count

    def render_GET(self, request):
        with self.lock:
            self.count += 1
            return "request number %d" % self.count

counter = Counter()
port = reactor.listenTCP(0, server.Site(counter), interface="127.0.0.1")
URL = "http://127.0.0.1:%d/" % port.getHost().port
clients = [threading.Thread(target=fetch, args=(URL,)) for _ in range(10)]
for client in clients:
    client.start()
for client in clients:
    client.join()
print(counter.count)
port.stopListening()
~~~ md
A WSGI application: a function of `environ` and `start_response`, returning bytes.
~~~ code
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    lines = ["%s=%r" % (key, environ[key]) for key in
             ("REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING")]
    lines.append("thread=%s" % threading.current_thread().name)
    return [("\n".join(lines) + "\n").encode()]
~~~ md
The guide's recipe: start a `ThreadPool`, and wrap the application in a `WSGIResource` that uses it.
~~~ code
pool = ThreadPool(minthreads=1, maxthreads=4, name="wsgi")
pool.start()
root = Resource()
root.putChild("app", WSGIResource(reactor, pool, application))
port = reactor.listenTCP(0, server.Site(root), interface="127.0.0.1")
URL = "http://127.0.0.1:%d" % port.getHost().port
~~~ md
Mounted at `/app`, the application sees `SCRIPT_NAME='/app'` and the rest in `PATH_INFO`; it ran on a pool thread.
~~~ code
print(fetch(URL + "/app/a/b?x=1")[2].decode())
~~~ md
An application that returns `str` instead of bytes breaks PEP 3333: a 500, and the reason in the log.
~~~ code
from nbhelpers import watching

def sloppy(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return ["Hello World!"]

root.putChild("sloppy", WSGIResource(reactor, pool, sloppy))
with watching() as lines:
    print(fetch(URL + "/sloppy")[0])
print([line.splitlines()[-1] for line in lines if "Traceback" in line])
~~~ md
Stop the port and the pool (in a `.tac`, a shutdown trigger does this).
~~~ code
port.stopListening()
pool.stop()
~~~ md
## Questions

1. In Twisted, `time.sleep(0.5)` in a render method would stall every client.  Why not here?
2. Remove the lock from `Counter`.  Could the count come out below 10?  Why is it still rare to see?
3. What bounds the number of WSGI calls running at once?

## Where this lives in the code

* `refweb/internet/threadedreactor.py` -- `callLater`, `_runTimers` (the `refweb-reactor` thread), `callInThread`, `getThreadPool`.
* `refweb/python/threadpool.py` -- `ThreadPool`.
* `refweb/wsgi.py` -- `WSGIResource.render`, `makeEnviron`, `WSGIResponse.run`.
* `docs/internals/reactor.rst` and `docs/guide/13-wsgi.rst`.
''')

notebook("11-Applications-And-The-Command-Line", r'''
~~~ md
# 11 · Applications, .tac files and the command line

The guide describes servers in `.tac` files -- Python that builds an
`application` out of *services* -- and runs them with `twistd`; refweb's
command is `refweb` (`python -m refweb` from a checkout).  We build an
application by hand, then run a `.tac` file and `refweb web --path` as real
processes.
~~~ md
The imports.
~~~ code
import os

from nbhelpers import cleanup, fetch, folder, freePort, refweb, stop
from refweb import server, static
from refweb.application import app, internet, service, strports
~~~ md
A folder to serve.
~~~ code
site = folder({"index.html": "<h1>served by a service</h1>\n",
               "hello.rpy": "from refweb.resource import Resource\n"
                            "class R(Resource):\n"
                            "    def render_GET(self, request):\n"
                            "        return 'ran hello.rpy'\n"
                            "resource = R()\n"})
~~~ md
A service describes a server without starting it: making a `TCPServer` opens no port.
~~~ code
application = service.Application("web")
tcp = internet.TCPServer(0, server.Site(static.File(site)), interface="127.0.0.1")
tcp.setServiceParent(service.IServiceCollection(application))
print(tcp.running, getattr(tcp, "_port", None))
~~~ md
Starting the application starts its services; the `TCPServer` calls `reactor.listenTCP`.
~~~ code
app.startApplication(application)
PORT = tcp._port.getHost().port
print(tcp.running, fetch("http://127.0.0.1:%d/" % PORT)[2])
~~~ md
`strports.service` makes the same kind of service from an endpoint description; a running parent starts a new child at once.
~~~ code
other = strports.service("tcp:0:interface=127.0.0.1", server.Site(static.Data(b"from strports\n", "text/plain")))
other.setServiceParent(application)
print(fetch("http://127.0.0.1:%d/" % other._port.getHost().port)[2])
~~~ md
Stopping the application stops every service, newest first, and closes their ports.
~~~ code
app.stopApplication(application)
print(tcp.running, other.running)
~~~ md
Now a real `.tac` file, run by `refweb -ny` in its own process; it reads its port from `PORT`.
~~~ code
with open(os.path.join(site, "web.tac"), "w") as f:
    f.write("""
import os
from refweb import server, static
from refweb.application import internet, service

root = static.File(os.path.dirname(__file__))
application = service.Application("web")
site = server.Site(root)
internet.TCPServer(int(os.environ["PORT"]), site, interface="127.0.0.1").setServiceParent(application)
""")
port = freePort()
proc = refweb("-ny", "web.tac", "--pidfile", "", cwd=site, port=port, env={"PORT": str(port)})
print(fetch("http://127.0.0.1:%d/" % port)[2])
~~~ md
SIGTERM (what `kill` sends) stops it cleanly; its log went to stdout with `-n`.
~~~ code
print(stop(proc))
~~~ md
`refweb tree` loads a `.tac` without serving it and prints the resource tree of each site.
~~~ code
import subprocess, sys
from nbhelpers import CHECKOUT
tree = subprocess.run([sys.executable, "-m", "refweb", "tree", "web.tac"], cwd=site,
                      env=dict(os.environ, PYTHONPATH=CHECKOUT, PORT="8080"),
                      capture_output=True, text=True).stdout
print(tree.replace(site, "SITE"))
~~~ md
`refweb -n web --path` builds the site from options (and writes `refweb.pid` where it runs); note that `.rpy` files run, and `--trace` logs each walk.
~~~ code
port = freePort()
proc = refweb("-n", "web", "--path", ".", "--trace",
              "--listen", "tcp:%d:interface=127.0.0.1" % port, cwd=site, port=port)
print(fetch("http://127.0.0.1:%d/" % port)[2])
print(fetch("http://127.0.0.1:%d/hello.rpy" % port)[2])
output = stop(proc)
for line in output.splitlines():
    print(line.split(" ", 1)[1])
~~~ md
`refweb web --help` lists every option; here are the ones that choose the site's root.
~~~ code
helpText = subprocess.run([sys.executable, "-m", "refweb", "web", "--help"], cwd=CHECKOUT,
                          capture_output=True, text=True).stdout
for option in ("--path", "--wsgi", "--resource-script", "--class", "--user"):
    print(option, option in helpText)
~~~ md
Remove the folder.
~~~ code
cleanup()
~~~ md
## Questions

1. Why is it useful that making an `internet.TCPServer` does not open its port?
2. `refweb web` without `-n` becomes a daemon.  Which two files does it leave in the folder it was started from, and how do you stop it?
3. What would `refweb -n web --path DIR` do with a `.cgi` file in `DIR`?  Would you point it at your Downloads folder?

## Where this lives in the code

* `refweb/application/service.py` -- `Service`, `MultiService`, `Application`; `refweb/application/internet.py` -- `TCPServer`; `refweb/application/strports.py`.
* `refweb/application/app.py` -- `loadApplication`, `startApplication`, `stopApplication`.
* `refweb/runner.py` -- the `refweb` command (`-n`, `-y`, pid file, daemon); `refweb/tap.py` -- `refweb web` and its options.
* `docs/guide/06-advanced-configuration.rst` and `docs/guide/09-the-web-command.rst`.
''')

notebook("12-CGI-And-Spreadable-Servers", r'''
~~~ md
# 12 · CGI and spreadable servers

Two ways of letting *another process* answer a request.  **CGI** starts a
program per request, describes the request in environment variables and
reads the answer from its output.  The **spreadable** (distributed) server
relays requests from a central server to users' own long-running servers
over a UNIX socket.
~~~ md
The imports.
~~~ code
import os
import pwd
import stat
import sys

from nbhelpers import cleanup, fetch, folder
from refweb import distrib, server, static, twcgi
from refweb.internet import reactor
from refweb.resource import Resource
~~~ md
A CGI program is anything executable; this one is Python, printing a few of the variables it was given.
~~~ code
program = """#!%s
import os, sys
body = sys.stdin.read()
print("Content-Type: text/plain")
print()
for name in ("REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING",
             "CONTENT_LENGTH", "HTTP_X_NOTE", "HTTP_PROXY"):
    print(name, "=", os.environ.get(name))
print("stdin =", repr(body))
""" % sys.executable
cgiBin = folder({"env.cgi": program})
os.chmod(os.path.join(cgiBin, "env.cgi"), 0o755)
~~~ md
Hang the folder on a site as `/cgi-bin`: every executable file in it is a program.
~~~ code
root = Resource()
root.putChild("cgi-bin", twcgi.CGIDirectory(cgiBin))
port = reactor.listenTCP(0, server.Site(root), interface="127.0.0.1")
URL = "http://127.0.0.1:%d" % port.getHost().port
~~~ md
The rest of the path becomes `PATH_INFO`; the query, headers and body all reach the program.
~~~ code
status, headers, body = fetch(URL + "/cgi-bin/env.cgi/extra/path?q=1", method="POST",
                              body=b"a=1", headers={"X-Note": "hi", "Proxy": "http://evil/"})
print(status)
print(body.decode())
~~~ md
`HTTP_PROXY` is never set from a client's `Proxy:` header (the "httpoxy" hole); folders are not listed; unknown names are 404.
~~~ code
print(fetch(URL + "/cgi-bin/")[0], fetch(URL + "/cgi-bin/nothing.cgi")[0])
~~~ md
A program that breaks the protocol (no blank line after its headers) gives a 500 page.
~~~ code
with open(os.path.join(cgiBin, "bad.cgi"), "w") as f:
    f.write("#!/bin/sh\necho 'this is not a header'\n")
os.chmod(os.path.join(cgiBin, "bad.cgi"), 0o755)
from nbhelpers import watching
with watching():
    print(fetch(URL + "/cgi-bin/bad.cgi")[0])
~~~ md
`FilteredScript` runs files through an interpreter (`filter`), as the guide's Perl example does; here `.py` files run with this Python.
~~~ code
class PythonScript(twcgi.FilteredScript):
    filter = sys.executable

scripts = folder({"hello.py": 'print("Content-Type: text/plain")\nprint()\nprint("hello from a filtered script")\n'})
scriptRoot = static.File(scripts)
scriptRoot.processors = {".py": PythonScript}
root.putChild("py", scriptRoot)
print(fetch(URL + "/py/hello.py")[2])
~~~ md
Now the spreadable server: Alice's personal site, published with a `ResourcePublisher` on a UNIX socket (mode 0600).
~~~ code
home = folder({"public_html/index.html": "<p>alice's plain files</p>\n"})
alice = static.Data(b"alice's personal server\n", "text/plain")
socketPath = os.path.join(home, ".refweb-web-pb")
published = reactor.listenUNIX(socketPath, distrib.ResourcePublisher(server.Site(alice)), mode=0o600)
print(stat.filemode(os.stat(socketPath).st_mode))
~~~ md
The central server's `UserDirectory`; we give it a stand-in for the password database, so that "alice" lives in our folder.
~~~ code
me = pwd.getpwuid(os.getuid())
def getpwnam(name):
    if name != "alice":
        raise KeyError(name)
    return pwd.struct_passwd(("alice", "x", me.pw_uid, me.pw_gid, "Alice", home, "/bin/sh"))

users = distrib.UserDirectory(getpwnam=getpwnam, getpwall=lambda: [getpwnam("alice")])
central = reactor.listenTCP(0, server.Site(users), interface="127.0.0.1")
CENTRAL = "http://127.0.0.1:%d" % central.getHost().port
~~~ md
`/alice/` serves her `public_html` as plain files; `/alice.refweb/` is relayed to her own server.
~~~ code
print(fetch(CENTRAL + "/alice/")[2])
print(fetch(CENTRAL + "/alice.refweb/")[2])
~~~ md
`/` lists the users; an unknown user is a 404.
~~~ code
status, headers, body = fetch(CENTRAL + "/")
print(status, b"alice.refweb" in body, fetch(CENTRAL + "/bob/")[0])
~~~ md
When Alice's server is not running, her URL answers 503 at once.
~~~ code
published.stopListening()
print(fetch(CENTRAL + "/alice.refweb/")[0])
~~~ md
Stop the ports and remove the folders.
~~~ code
port.stopListening()
central.stopListening()
cleanup()
~~~ md
## Questions

1. A CGI program runs as the server's user.  What can a malicious `.cgi` file in a served folder do?
2. Why does refweb refuse to turn a client's `Proxy:` header into `HTTP_PROXY`?
3. Why is the personal server's socket mode 0600, and what would change if it listened on TCP instead?

## Where this lives in the code

* `refweb/twcgi.py` -- `CGIScript.render`, `cgiEnvironment`, `parseHeaderBlock`, `FilteredScript`, `CGIDirectory.getChild`.
* `refweb/distrib.py` -- `ResourcePublisher`, `PublisherProtocol`, `ResourceSubscription`, `UserDirectory`; `refweb/rpc.py` -- the frames between them.
* `docs/guide/12-cgi.rst` and `docs/guide/11-distributed-server.rst`.
''')

notebook("13-Knowing-When-We-Are-Not-Wanted", r'''
~~~ md
# 13 · Knowing when we are not wanted (and as-is files)

A slow response may outlive the client's patience.  `request.notifyFinish()`
returns a Deferred that fires when the response ends normally -- or errbacks
when the client closed the connection first, so the server can stop working
for nobody.  At the end: as-is files, responses sent exactly as stored.
~~~ md
The imports.
~~~ code
import socket
import time

from nbhelpers import cleanup, fetch, folder, raw, watching
from refweb import server, static
from refweb.internet import reactor
from refweb.resource import Resource
~~~ md
The guide's example, with the delay shortened to half a second and the printing replaced by a list we can look at.
~~~ code
events = []

class ExampleResource(Resource):
    isLeaf = True
    delay = 0.5

    def render_GET(self, request):
        request.write("hello world")
        call = reactor.callLater(self.delay, request.finish)
        d = request.notifyFinish()
        d.addCallback(lambda _: events.append("finished normally"))
        d.addErrback(self.clientLeft, call)
        return server.NOT_DONE_YET

    def clientLeft(self, failure, call):
        events.append("client left: %s" % failure.getErrorMessage())
        call.cancel()  # nobody to finish for: do not call finish() later

port = reactor.listenTCP(0, server.Site(ExampleResource()), interface="127.0.0.1")
PORT = port.getHost().port
~~~ md
A patient client reads to the end: the callback runs.
~~~ code
print(fetch("http://127.0.0.1:%d/" % PORT)[2])
time.sleep(0.1)
print(events)
~~~ md
An impatient client reads the first part and hangs up: the errback runs, in the connection's thread, right away.
~~~ code
del events[:]
with socket.create_connection(("127.0.0.1", PORT)) as sock:
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    print(sock.recv(65536).split(b"\r\n\r\n")[1])
time.sleep(0.2)
print(events)
~~~ md
Had we not cancelled the timer, `finish()` would run on a closed connection and raise -- the guide's version does exactly that.
~~~ code
class Careless(ExampleResource):
    def clientLeft(self, failure, call):
        events.append("client left (timer still pending)")

careless = reactor.listenTCP(0, server.Site(Careless()), interface="127.0.0.1")
del events[:]
with watching() as lines:
    with socket.create_connection(("127.0.0.1", careless.getHost().port)) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.recv(65536)
    time.sleep(0.8)
print(events)
print([line.splitlines()[-1] for line in lines if "Traceback" in line])
~~~ md
`notifyFinish` after the response ended fires at once -- there is nothing left to wait for.
~~~ code
class Quick(Resource):
    isLeaf = True

    def render_GET(self, request):
        request.write(b"done")
        request.finish()
        request.notifyFinish().addCallback(lambda _: events.append("already finished"))
        return server.NOT_DONE_YET

quick = reactor.listenTCP(0, server.Site(Quick()), interface="127.0.0.1")
del events[:]
fetch("http://127.0.0.1:%d/" % quick.getHost().port)
time.sleep(0.1)  # the client may have its answer before render() has returned
print(events)
~~~ md
Now as-is files: a file holding a whole response -- status line, headers, blank line, body.
~~~ code
asis = folder({"teapot.asis": b"HTTP/1.0 418 I'm a teapot\r\nContent-Type: text/plain\r\n"
                              b"X-Brewed-By: hand\r\n\r\nShort and stout.\n"})
root = static.File(asis)
root.processors = {".asis": static.ASISProcessor}
asisPort = reactor.listenTCP(0, server.Site(root), interface="127.0.0.1")
~~~ md
The client gets the file's bytes and nothing else: no `Date`, no `Server`, and the connection closes to end the body.
~~~ code
print(raw(asisPort.getHost().port, b"GET /teapot.asis HTTP/1.1\r\nHost: x\r\n\r\n").decode())
~~~ md
Stop the ports and remove the folder.
~~~ code
for p in (port, careless, quick, asisPort):
    p.stopListening()
cleanup()
~~~ md
## Questions

1. What else, besides a timer, might an errback stop when the client leaves?
2. How does the server notice that a client hung up while its response was still open?
3. Why must refweb close the connection after an as-is file, even for an HTTP/1.1 client?

## Where this lives in the code

* `refweb/http_request.py` -- `notifyFinish`, `connectionLost`, `finish`.
* `refweb/http.py` -- `HTTPChannel._waitUntilFinished` (watching the socket while a response is open).
* `refweb/internet/defer.py` -- `Deferred`; `refweb/static.py` -- `ASISProcessor`.
* `docs/guide/16-not-wanted.rst` and `docs/guide/17-as-is.rst`.
''')


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
