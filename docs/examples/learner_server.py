"""A first web server of your own, on socketserver: stage 0 of "Write your own server".

Run it as the reference suite's ``command`` implementation, from the checkout's root:

    python -m refweb.reference --impl command \
        --command 'python3 docs/examples/learner_server.py {port} {root} {site}'

It serves the sites a learner's server is asked for, as far as stage 0 can:

* ``hello`` -- the guide's Hello tree: ``/``, ``/fred``, ``/bob`` (and
  their trailing-slash forms) answer "Hello, world! I am located at [...]."
  with the path segments walked so far (the guide's ``request.prepath``);
* ``files`` -- the fixture folder ``root``, one file per URL;
* ``echo`` -- not yet: stage 0 serves it as files (rung 5 of the ladder
  makes it echo request bodies).

Stage 0 does the least that works: it reads one request, answers it with a
Content-Length, and closes the connection (``keepAlive`` is False).  It climbs
rung 0 of the ladder (refweb/reference/ladder.py: the tree and the files) and
fails the later rungs -- framing, keep-alive, folders, ranges, bodies -- each
with a reason, the rule and what to try next.  docs/examples/ladder/ holds the
server after each rung: diff this file against ladder/stage1_framing.py when
you are stuck.
"""

import mimetypes
import os
import socketserver
import sys
import urllib.parse

# The guide's tree: putChild('fred', Hello()) and putChild('bob', Hello()) on the root.
TREE = {"fred": {}, "bob": {}}

REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}


class Response:
    """A status, headers and a body; ``toBytes`` frames them for HTTP/1.1."""

    def __init__(self, status, body=b"", contentType="text/html"):
        self.status = status
        self.body = body
        self.headers = [("Content-Type", contentType)]

    def toBytes(self, method, close):
        head = "HTTP/1.1 %d %s\r\n" % (self.status, REASONS[self.status])
        headers = self.headers + [("Content-Length", str(len(self.body)))]
        if close:  # tell the client this connection ends with this response
            headers.append(("Connection", "close"))
        head += "".join("%s: %s\r\n" % pair for pair in headers) + "\r\n"
        # A response to HEAD has the headers GET would have, but never a body.
        return head.encode("latin-1") + (b"" if method == "HEAD" else self.body)


def notFound():
    return Response(404, b"<html>No such page.</html>")


def splitTarget(target):
    """The percent-decoded path segments of a request-target: '/fred/' -> ['fred', '']."""
    if "://" in target:  # absolute form, http://host/path (RFC 9112 section 3.2.2)
        target = urllib.parse.urlsplit(target).path or "/"
    path = target.split("?", 1)[0]
    # Split first, then decode: %2F inside a segment is a character, not a separator.
    return [urllib.parse.unquote(segment) for segment in path[1:].split("/")]


def hello(segments):
    """Walk the Hello tree like Resource.getChild does; answer with the prepath."""
    node, prepath = TREE, []
    for segment in segments:
        prepath.append(segment)
        if segment == "":       # Hello.getChild('') returns the resource itself
            continue
        if segment not in node:  # Resource.getChild: no such child
            return notFound()
        node = node[segment]
    text = "Hello, world! I am located at %r." % (prepath,)
    return Response(200, text.encode("utf-8"))


def serveFile(root, segments):
    """The file the segments name inside ``root``, or 404 (never a file outside it)."""
    if any(segment in ("..", ".") or "/" in segment for segment in segments):
        return notFound()
    path = os.path.join(root, *segments)
    if not os.path.isfile(path):
        return notFound()
    with open(path, "rb") as f:
        body = f.read()
    contentType = mimetypes.guess_type(path)[0] or "text/html"
    return Response(200, body, contentType)


class Handler(socketserver.StreamRequestHandler):
    """One connection: answer requests on it until one says (or needs) the end."""

    keepAlive = False  # stage 0: one request per connection; rung 2 turns it on

    def handle(self):
        while self.handleOne() and self.keepAlive:
            pass

    def handleOne(self):
        """Read one request and answer it; False when the connection is to close."""
        line = self.rfile.readline(65537).decode("latin-1")
        if not line:  # the client closed the connection
            return False
        parts = line.split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            self.wfile.write(Response(400, b"<html>Bad request line.</html>").toBytes("GET", True))
            return False
        method, target, version = parts
        headers = self.readHeaders()
        close = (not self.keepAlive or version == "HTTP/1.0"
                 or headers.get("connection", "").lower() == "close")
        if method not in ("GET", "HEAD"):
            response = Response(405, b"<html>Only GET and HEAD.</html>")
            response.headers.append(("Allow", "GET, HEAD"))
        elif self.server.site == "hello":
            response = hello(splitTarget(target))
        else:
            response = serveFile(self.server.root, splitTarget(target))
        self.wfile.write(response.toBytes(method, close))
        return not close

    def readHeaders(self):
        """Read header lines up to the empty line: {lower-case name: value}."""
        headers = {}
        while True:
            line = self.rfile.readline(65537).decode("latin-1")
            if line in ("\r\n", "\n", ""):
                return headers
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    port, root = int(sys.argv[1]), sys.argv[2]
    site = sys.argv[3] if len(sys.argv) > 3 else os.environ.get("REFWEB_REFERENCE_SITE", "files")
    server = Server(("127.0.0.1", port), Handler)
    server.root, server.site = root, site
    server.serve_forever()


if __name__ == "__main__":
    main()
