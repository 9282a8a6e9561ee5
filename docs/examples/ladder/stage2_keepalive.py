"""Stage 2 of "Write your own server": stage 1 plus rung 2, keep-alive and pipelining.

Run rung 2's behaviours against it, from the checkout's root:

    python -m refweb.reference --impl command --rung 2 \
        --command 'python3 docs/examples/ladder/stage2_keepalive.py {port} {root} {site}'

What rung 2 added: one line, ``keepAlive = True``.  Stage 0's handler was
written for it: ``handle`` loops while the connection stays open, a response
says ``Connection: close`` only when it is the last, and ``rfile`` is
buffered, so the bytes of a pipelined request wait there, in order, for the
next ``handleOne``.  Rung 3, folders and conditional requests, is next
(ladder/stage3_static.py).
"""

import email.utils
import mimetypes
import os
import socketserver
import sys
import urllib.parse

# The guide's tree: putChild('fred', Hello()) and putChild('bob', Hello()) on the root.
TREE = {"fred": {}, "bob": {}}

REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
           414: "URI Too Long", 431: "Request Header Fields Too Large"}

LINE_LIMIT = 65536       # bytes in the request line or one header line
HEADERS_LIMIT = 65536    # bytes in the whole header block


class BadRequest(Exception):
    """The request breaks HTTP/1.1's syntax: answer ``status`` and close."""

    def __init__(self, status=400):
        Exception.__init__(self, status)
        self.status = status


class Response:
    """A status, headers and a body; ``toBytes`` frames them for HTTP/1.1."""

    def __init__(self, status, body=b"", contentType="text/html"):
        self.status = status
        self.body = body
        self.headers = [("Content-Type", contentType)]

    def toBytes(self, method, close):
        head = "HTTP/1.1 %d %s\r\n" % (self.status, REASONS[self.status])
        headers = self.headers + [("Content-Length", str(len(self.body)))]
        # An origin server with a clock MUST send Date (RFC 9110 section 6.6.1).
        headers.append(("Date", email.utils.formatdate(usegmt=True)))
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


def checkRequest(version, headers):
    """Raise BadRequest if the head is not one an HTTP/1.1 server may answer."""
    # A client MUST send exactly one Host in an HTTP/1.1 request (RFC 9112 section 3.2);
    # readHeaders joined repeated fields with ", ", and a host holds no comma.
    if version == "HTTP/1.1" and ("host" not in headers or "," in headers["host"]):
        raise BadRequest()


class Handler(socketserver.StreamRequestHandler):
    """One connection: answer requests on it until one says (or needs) the end."""

    keepAlive = True  # HTTP/1.1 connections persist by default (RFC 9112 section 9.3)

    def handle(self):
        while self.handleOne() and self.keepAlive:
            pass

    def handleOne(self):
        """Read one request and answer it; False when the connection is to close."""
        try:
            request = self.readHead()
        except BadRequest as e:
            page = b"<html>%d %s</html>" % (e.status, REASONS[e.status].encode())
            self.wfile.write(Response(e.status, page).toBytes("GET", True))
            return False
        if request is None:  # the client closed the connection
            return False
        method, target, version, headers = request
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

    def readHead(self):
        """(method, target, version, headers) of the next request; None at the end."""
        line = self.rfile.readline(LINE_LIMIT + 1).decode("latin-1")
        while line in ("\r\n", "\n"):  # empty lines before a request line: skip them (§2.2)
            line = self.rfile.readline(LINE_LIMIT + 1).decode("latin-1")
        if not line:
            return None
        if not line.endswith("\n"):  # longer than we read: refuse (RFC 9112 section 3)
            raise BadRequest(414)
        parts = line.split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            raise BadRequest()
        headers = self.readHeaders()
        checkRequest(parts[2], headers)
        return parts[0], parts[1], parts[2], headers

    def readHeaders(self):
        """Read header lines up to the empty line: {lower-case name: value}."""
        headers, size = {}, 0
        while True:
            line = self.rfile.readline(LINE_LIMIT + 1).decode("latin-1")
            size += len(line)
            if size > HEADERS_LIMIT:
                raise BadRequest(431)
            if line in ("\r\n", "\n", ""):
                return headers
            name, colon, value = line.partition(":")
            # No whitespace before the colon, and no folded line (RFC 9112 sections 5.1, 5.2).
            if not colon or not name or name != name.strip():
                raise BadRequest()
            name, value = name.lower(), value.strip()
            # A repeated field is one field with its values joined by ", " (RFC 9110 §5.3).
            headers[name] = headers[name] + ", " + value if name in headers else value


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
