"""A strict HTTP/1.1 response reader for the fuzz, smuggling and hardening tests.

Written from RFC 9112 alone (not from refweb's code), so it can disagree with
refweb: status line ``HTTP/1.x SP 3DIGIT SP reason CRLF``, field lines
``token ":" OWS value OWS CRLF`` with no control characters, and exact
framing -- no body on HEAD, 1xx, 204 and 304; otherwise chunked (strict
chunk lines), one Content-Length, or the close.  ``StrictError`` says what
is wrong; a caller prints it with the request's bytes.
"""

import re
import socket
import time

from support import receive

STATUS_LINE = re.compile(rb"HTTP/1\.[01] ([0-9]{3}) [\t\x20-\x7e\x80-\xff]*")
FIELD_LINE = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*([\t\x20-\x7e\x80-\xff]*?)[ \t]*")
CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]{1,16})(?:;[!-~]*)?")


class StrictError(Exception):
    """A response that a strict client could not read."""


class Response:
    def __init__(self, status, headers, body, closed):
        self.status = status
        self.headers = headers  # [(lower name, value)]
        self.body = body
        self.closed = closed  # the body was framed by the close

    def get(self, name):
        values = [v for n, v in self.headers if n == name]
        return values[-1] if values else None

    def __repr__(self):
        return "<Response %d %r %d bytes>" % (self.status, self.headers, len(self.body))


def parseOne(data, method="GET"):
    """(Response, the bytes after it) from ``data`` read to the close.
    Raises StrictError when the bytes are not one well-formed response."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        raise StrictError("no end of head in %r" % (data[:200],))
    lines = data[:end].split(b"\r\n")
    rest = data[end + 4:]
    match = STATUS_LINE.fullmatch(lines[0])
    if not match:
        raise StrictError("bad status line %r" % (lines[0],))
    status = int(match.group(1))
    headers = []
    for line in lines[1:]:
        field = FIELD_LINE.fullmatch(line)
        if not field:
            raise StrictError("bad field line %r" % (line,))
        headers.append((field.group(1).decode().lower(), field.group(2).decode("latin-1")))
    names = [n for n, _ in headers]
    lengths = [v for n, v in headers if n == "content-length"]
    codings = [v for n, v in headers if n == "transfer-encoding"]
    if lengths and codings:
        raise StrictError("both Content-Length and Transfer-Encoding")
    if len(set(lengths)) > 1:
        raise StrictError("differing Content-Length %r" % (lengths,))
    if lengths and not re.fullmatch(r"[0-9]+", lengths[0]):
        raise StrictError("bad Content-Length %r" % (lengths[0],))
    if names.count("date") > 1 or names.count("server") > 1:
        raise StrictError("repeated Date/Server")
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        if status in (204, 304) and codings:
            raise StrictError("Transfer-Encoding on %d" % status)
        return Response(status, headers, b"", False), rest
    if codings:
        if [c.strip().lower() for c in ",".join(codings).split(",")] != ["chunked"]:
            raise StrictError("unexpected coding %r" % (codings,))
        return _chunked(status, headers, rest)
    if lengths:
        n = int(lengths[0])
        if len(rest) < n:
            raise StrictError("body %d bytes short of Content-Length %d" % (n - len(rest), n))
        return Response(status, headers, rest[:n], False), rest[n:]
    return Response(status, headers, rest, True), b""


def _chunked(status, headers, data):
    parts, at = [], 0
    while True:
        end = data.find(b"\r\n", at)
        if end < 0:
            raise StrictError("chunked body cut before its last chunk")
        line = CHUNK_LINE.fullmatch(data[at:end])
        if not line:
            raise StrictError("bad chunk line %r" % (data[at:end][:80],))
        size = int(line.group(1), 16)
        at = end + 2
        if size == 0:
            if data[at:at + 2] != b"\r\n":
                raise StrictError("trailers or junk after the last chunk")
            return Response(status, headers, b"".join(parts), False), data[at + 2:]
        if len(data) < at + size + 2:
            raise StrictError("chunk cut short")
        parts.append(data[at:at + size])
        if data[at + size:at + size + 2] != b"\r\n":
            raise StrictError("chunk data not followed by CRLF")
        at += size + 2


def parseAll(data, methods):
    """Every response in ``data`` (read to the close), one per method in
    ``methods`` at most; StrictError on any malformed one, or on bytes
    left over after the last."""
    responses = []
    for method in methods:
        if not data:
            break
        response, data = parseOne(data, method)
        responses.append(response)
        if response.closed:
            break
    if data:
        raise StrictError("%d bytes after the last response: %r" % (len(data), data[:80]))
    return responses


def exchange(port, data, timeout=5.0, halfClose=False):
    """Send ``data`` on a fresh connection and read until the server closes
    or ``timeout`` passes: (bytes, closed by the server?).

    ``halfClose``: shut down our sending side after ``data``, so a server
    waiting for more of a cut request sees the end at once."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            if halfClose:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may have answered and closed before we finished
        return receive(sock, timeout)


class RecordingUpstream:
    """A raw upstream server: records every byte each connection sends,
    answers each with a small 200 once the client stops sending (or the
    head and a Content-Length body arrived), then closes.

        with RecordingUpstream() as upstream:   # upstream.port, upstream.received
    """

    def __init__(self, answer=b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"):
        import threading
        self.answer = answer
        self.received = []  # bytes per connection, in order of arrival
        self._lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._threads = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        for thread in self._threads:
            thread.join(5)
        self._sock.close()

    def _accept(self):
        import threading
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn):
        data = b""
        with conn:
            conn.settimeout(0.3)
            while True:
                try:
                    chunk = conn.recv(65536)
                except (socket.timeout, OSError):
                    break
                if not chunk:
                    break
                data += chunk
                if _complete(data):
                    break
            with self._lock:
                self.received.append(data)
            try:
                conn.sendall(self.answer)
            except OSError:
                pass

    def take(self):
        """What arrived since the last take(), waiting briefly for stragglers."""
        time.sleep(0.05)
        with self._lock:
            got, self.received = self.received, []
        return got


def _complete(data):
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return False
    match = re.search(rb"\r\ncontent-length:[ \t]*([0-9]+)", data[:end], re.I)
    length = int(match.group(1)) if match else 0
    return len(data) >= end + 4 + length


def requestsIn(data):
    """Split what an upstream received into requests, strictly (RFC 9112):
    [(request line, {lower name: [values]}, body)]; StrictError when the
    bytes are not a sequence of well-framed requests."""
    requests = []
    while data:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            raise StrictError("unframed bytes upstream: %r" % (data[:80],))
        lines = data[:end].split(b"\r\n")
        if not re.fullmatch(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+ [!-~]+ HTTP/1\.[01]", lines[0]):
            raise StrictError("bad request line upstream: %r" % (lines[0],))
        fields = {}
        for line in lines[1:]:
            field = FIELD_LINE.fullmatch(line)
            if not field:
                raise StrictError("bad field line upstream: %r" % (line,))
            fields.setdefault(field.group(1).decode().lower(), []).append(
                field.group(2).decode("latin-1"))
        data = data[end + 4:]
        if "transfer-encoding" in fields:
            raise StrictError("Transfer-Encoding went upstream: %r" % (fields,))
        lengths = fields.get("content-length", ["0"])
        if len(lengths) != 1 or not re.fullmatch("[0-9]+", lengths[0]):
            raise StrictError("bad Content-Length upstream: %r" % (lengths,))
        n = int(lengths[0])
        if len(data) < n:
            raise StrictError("body short upstream")
        requests.append((lines[0], fields, data[:n]))
        data = data[n:]
    return requests
