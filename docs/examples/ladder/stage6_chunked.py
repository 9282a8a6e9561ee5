"""Stage 6 of "Write your own server": stage 5 plus rung 6, chunked request bodies.

Run rung 6's behaviours against it, from the checkout's root:

    python -m refweb.reference --impl command --rung 6 \
        --command 'python3 docs/examples/ladder/stage6_chunked.py {port} {root} {site}'

What rung 6 added: ``readChunked`` reads a body sent with
``Transfer-Encoding: chunked``; a coding other than chunked is refused with
501, and a request with both ``Transfer-Encoding`` and ``Content-Length`` with
400.  This is the top of the ladder: the server passes every behaviour of the
three sites a command serves.  What next?  Run the whole suite against
refweb with ``-v`` and read how its answers differ from yours.
"""

import email.utils
import html
import json
import mimetypes
import os
import re
import socketserver
import sys
import time
import urllib.parse

# The guide's tree: putChild('fred', Hello()) and putChild('bob', Hello()) on the root.
TREE = {"fred": {}, "bob": {}}

REASONS = {200: "OK", 206: "Partial Content", 301: "Moved Permanently", 304: "Not Modified",
           400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
           414: "URI Too Long", 416: "Range Not Satisfiable",
           431: "Request Header Fields Too Large", 501: "Not Implemented"}

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
        headers = list(self.headers)
        if self.status != 304:  # a 304 has no body, and its length is not this one's
            headers.append(("Content-Length", str(len(self.body))))
        # An origin server with a clock MUST send Date (RFC 9110 section 6.6.1).
        headers.append(("Date", email.utils.formatdate(usegmt=True)))
        if close:  # tell the client this connection ends with this response
            headers.append(("Connection", "close"))
        head += "".join("%s: %s\r\n" % pair for pair in headers) + "\r\n"
        # A response to HEAD has the headers GET would have, but never a body.
        return head.encode("latin-1") + (b"" if method == "HEAD" else self.body)


def notFound():
    return Response(404, b"<html>No such page.</html>")


def notAllowed(allowed):
    response = Response(405, b"<html>Only %s.</html>" % " and ".join(allowed).encode())
    response.headers.append(("Allow", ", ".join(allowed)))
    return response


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


def serveFile(root, segments, headers):
    """What the segments name inside ``root``: a file, a folder's index or listing, or 404."""
    if any(segment in ("..", ".") or "/" in segment for segment in segments):
        return notFound()
    path = os.path.join(root, *segments)
    if os.path.isdir(path):
        if segments[-1] != "":  # /sub -> /sub/, so that relative links in it work
            return redirect("/" + "/".join(urllib.parse.quote(s) for s in segments) + "/")
        if os.path.isfile(os.path.join(path, "index.html")):
            path = os.path.join(path, "index.html")
        else:
            return listing(path)
    if not os.path.isfile(path):
        return notFound()
    status = os.stat(path)
    modified = email.utils.formatdate(status.st_mtime, usegmt=True)
    etag = '"%x-%x"' % (status.st_size, int(status.st_mtime))
    if notModified(headers, etag, int(status.st_mtime)):
        response = Response(304)
    else:
        with open(path, "rb") as f:
            response = Response(200, f.read(), mimetypes.guess_type(path)[0] or "text/html")
        # If-Range: send the ranges only if the client's copy is this one (RFC 9110 §13.1.5).
        if "range" in headers and headers.get("if-range", modified) in (modified, etag):
            response = ranged(response, headers["range"])
    response.headers += [("Last-Modified", modified), ("ETag", etag), ("Accept-Ranges", "bytes")]
    return response


def parseRanges(header, size):
    """[(first, last), ...] of a Range header, inside ``size`` bytes; None if unreadable."""
    unit, _, specs = header.partition("=")
    if unit.strip().lower() != "bytes":  # a unit we do not know: ignore the header
        return None
    ranges = []
    for spec in specs.split(","):
        match = re.fullmatch(r"\s*([0-9]*)-([0-9]*)\s*", spec)
        if not match or match.groups() == ("", ""):
            return None
        first, last = match.groups()
        if first == "":  # -N: the last N bytes (RFC 9110 section 14.1.2)
            if int(last) > 0:
                ranges.append((max(0, size - int(last)), size - 1))
            continue
        last = size - 1 if last == "" else int(last)
        if last < int(first):  # invalid: the whole header is ignored
            return None
        if int(first) < size:  # a range past the end is left out; its end is clipped
            ranges.append((int(first), min(last, size - 1)))
    return ranges


def ranged(response, header):
    """The 206 (or 416) answer to ``header`` for the whole-file ``response``."""
    body, contentType = response.body, response.headers[0][1]
    ranges = parseRanges(header, len(body))
    if ranges is None:
        return response
    if not ranges:
        refused = Response(416)
        refused.headers.append(("Content-Range", "bytes */%d" % len(body)))
        return refused
    if len(ranges) == 1:
        first, last = ranges[0]
        part = Response(206, body[first:last + 1], contentType)
        part.headers.append(("Content-Range", "bytes %d-%d/%d" % (first, last, len(body))))
        return part
    # Several ranges: one part each, between boundaries (RFC 9110 section 14.6).
    boundary = os.urandom(16).hex()
    parts = [b"--%s\r\nContent-Type: %s\r\nContent-Range: bytes %d-%d/%d\r\n\r\n%s\r\n"
             % (boundary.encode(), contentType.encode(), first, last, len(body),
                body[first:last + 1]) for first, last in ranges]
    return Response(206, b"".join(parts) + b"--%s--\r\n" % boundary.encode(),
                    "multipart/byteranges; boundary=" + boundary)


def notModified(headers, etag, mtime):
    """True if the client's copy is current (RFC 9110 section 13.1.1, 13.1.3)."""
    if "if-none-match" in headers:  # when present, If-Modified-Since is ignored
        tags = [tag.strip() for tag in headers["if-none-match"].split(",")]
        return etag in tags or "*" in tags
    if "if-modified-since" in headers:
        try:
            since = email.utils.parsedate_to_datetime(headers["if-modified-since"])
        except (TypeError, ValueError):  # not a date: ignore the header
            return False
        return mtime <= since.timestamp()
    return False


def redirect(location):
    response = Response(301, b'<html><a href="%s">moved</a></html>' % location.encode())
    response.headers.append(("Location", location))
    return response


def listing(folder):
    """A page that links every name in ``folder``, each escaped as HTML."""
    links = []
    for name in sorted(os.listdir(folder)):
        if os.path.isdir(os.path.join(folder, name)):
            name += "/"
        links.append('<li><a href="%s">%s</a></li>'
                     % (html.escape(urllib.parse.quote(name)), html.escape(name)))
    page = "<html><body><ul>\n%s\n</ul></body></html>" % "\n".join(links)
    return Response(200, page.encode("utf-8"), "text/html; charset=utf-8")


def echo(method, segments, headers, body):
    """The echo site: resources that answer with what arrived (the guide page lists them)."""
    name = "/".join(segments)
    if name in ("body", "ignore"):
        if method not in ("POST", "PUT"):
            return notAllowed(["POST", "PUT"])
        # /ignore answers without looking at the body; the server read it all the same.
        text = b"ignored" if name == "ignore" else b"%d bytes: %s" % (len(body), body[:200])
        return Response(200, text)
    if method not in ("GET", "HEAD"):
        return notAllowed(["GET", "HEAD"])
    if name == "header":
        return Response(200, json.dumps({"x-probe": headers.get("x-probe")}).encode())
    if name == "slow":  # a response that takes its time: the next one must wait its turn
        time.sleep(0.3)
        return Response(200, b"slow", "text/plain")
    if name in ("fast", "big"):
        return Response(200, b"fast" if name == "fast" else b"x" * 200000, "text/plain")
    return notFound()


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
            request = self.readRequest()
        except BadRequest as e:
            page = b"<html>%d %s</html>" % (e.status, REASONS[e.status].encode())
            self.wfile.write(Response(e.status, page).toBytes("GET", True))
            return False
        if request is None:  # the client closed the connection
            return False
        method, target, version, headers, body = request
        close = (not self.keepAlive or version == "HTTP/1.0"
                 or headers.get("connection", "").lower() == "close")
        if self.server.site == "echo":
            response = echo(method, splitTarget(target), headers, body)
        elif method not in ("GET", "HEAD"):
            response = notAllowed(["GET", "HEAD"])
        elif self.server.site == "hello":
            response = hello(splitTarget(target))
        else:
            response = serveFile(self.server.root, splitTarget(target), headers)
        self.wfile.write(response.toBytes(method, close))
        return not close

    def readRequest(self):
        """(method, target, version, headers, body) of the next request; None at the end."""
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
        return parts[0], parts[1], parts[2], headers, self.readBody(headers)

    def readBody(self, headers):
        """The request's body: chunked, exactly Content-Length bytes (RFC 9112 §6.2), or none."""
        if "transfer-encoding" in headers:
            if "content-length" in headers:  # which one frames it?  Refuse (RFC 9112 §6.1).
                raise BadRequest()
            if headers["transfer-encoding"].strip().lower() != "chunked":
                raise BadRequest(501)  # a transfer coding we do not know
            return self.readChunked()
        if "content-length" not in headers:
            return b""
        # Repeated fields were joined with ", ": all must be one number (RFC 9112 §6.3).
        values = {value.strip() for value in headers["content-length"].split(",")}
        if len(values) != 1 or not re.fullmatch("[0-9]+", next(iter(values))):
            raise BadRequest()
        length = int(values.pop())
        if length and headers.get("expect", "").lower() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # "go on, send it"
        return self.rfile.read(length)

    def readChunked(self):
        """A chunked body (RFC 9112 section 7.1): size lines in hex, data, then trailers."""
        body = b""
        while True:
            line = self.rfile.readline(LINE_LIMIT + 1).decode("latin-1")
            size = line.split(";", 1)[0].strip()  # a chunk extension is ignored
            if not re.fullmatch("[0-9A-Fa-f]+", size):
                raise BadRequest()
            if int(size, 16) == 0:
                break
            body += self.rfile.read(int(size, 16))
            if self.rfile.read(2) != b"\r\n":
                raise BadRequest()
        # Trailer fields up to an empty line; this server has no use for them.
        while self.rfile.readline(LINE_LIMIT + 1) not in (b"\r\n", b"\n", b""):
            pass
        return body

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
