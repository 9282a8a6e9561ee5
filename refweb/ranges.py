# -*- test-case-name: tests.test_static -*-
"""Parts of a file: validators, conditional requests' ranges, and the body plan.

Guide: not in the guide (Twisted's ``static.File`` does all of this without
the guide saying so: a browser resuming a download, a video player seeking,
a cache asking "has it changed?").  RFC 9110 §8.8 (validators), §13.1.5
(If-Range), §14 (Range, 206 Partial Content, multipart/byteranges).

Where it sits in a request's journey: ``static.File._sendFile`` has opened
a regular file and knows its size and modification time.  It asks
``makeETag`` for the file's validator, then ``requestedRanges`` which bytes
the client wants (None: all of them; []: none can be given, a 416), then
``planBody`` to set the status and headers and list the body's pieces, which
``writeParts`` sends.  Nothing here opens a socket; ``parseRange`` is pure.

Start reading at ``requestedRanges``, then ``planBody``.
"""

import os

from refweb import grammar, http

MAX_RANGES = 16  # more than this in one Range header is ignored (RFC 9110 §14.2 allows it)


def makeETag(st):
    """A strong validator from size and modification time (RFC 9110 §8.8.3)."""
    return '"%x-%x"' % (st.st_size, st.st_mtime_ns)


def parseRange(header, size):
    """``bytes=0-9,20-`` -> [(first, last), ...] satisfiable ranges; [] when
    none is satisfiable; None when the header is to be ignored (bad syntax,
    another unit, or too many ranges)."""
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or not spec.strip():
        return None
    pieces = spec.split(",")
    if len(pieces) > MAX_RANGES:
        return None
    ranges = []
    for piece in pieces:
        piece = piece.strip(" \t")
        if not grammar.matches("byte-range-spec", piece) or piece == "-":
            return None  # ASCII digits only: "0-³" is not a range (RFC 9110 §14.1.1)
        first, _, last = piece.partition("-")
        # Positions past any file are capped rather than converted whole:
        # 10,000 digits mean "beyond the end" as well as 20 do.
        first, last = _position(first), _position(last)
        if first is None:
            length = last  # a suffix: the final N bytes (RFC 9110 §14.1.1)
            if length > 0 and size > 0:
                ranges.append((max(0, size - length), size - 1))
            continue
        start = first
        if last is not None and last < start:
            return None  # RFC 9110 §14.1.1: last-pos < first-pos is invalid
        end = last if last is not None else size - 1
        if start < size:
            ranges.append((start, min(end, size - 1)))
    return ranges


_BEYOND_ANY_FILE = 10 ** 18


def _position(digits):
    """A byte position's digits -> int (None for ""), capped at 10**18."""
    if digits == "":
        return None
    value = grammar.parseDigits(digits)
    return _BEYOND_ANY_FILE if value is None else min(value, _BEYOND_ANY_FILE)


def requestedRanges(request, size, etag, mtime):
    """The ranges to send for a GET, or None to send the whole file."""
    header = request.getHeader("Range")
    if header is None or request.method not in ("GET", "HEAD"):
        return None
    ifRange = (request.getHeader("If-Range") or "").strip()
    if ifRange and ifRange not in (etag, http.datetimeToString(mtime)):
        return None  # RFC 9110 §13.1.5: the file changed since, so send all of it
    return parseRange(header, size)


def planBody(request, ctype, size, ranges):
    """Set the status and headers for the body, and return it as a list of
    bytes (to write) and (offset, count) pairs (to send from the file)."""
    if ranges is None:
        request.setHeader("Content-Type", ctype)
        request.setHeader("Content-Length", str(size))
        return [(0, size)] if size else []
    request.setResponseCode(http.PARTIAL_CONTENT)
    if len(ranges) == 1:
        start, end = ranges[0]
        request.setHeader("Content-Type", ctype)
        request.setHeader("Content-Range", "bytes %d-%d/%d" % (start, end, size))
        request.setHeader("Content-Length", str(end - start + 1))
        return [(start, end - start + 1)]
    boundary = os.urandom(12).hex()  # RFC 9110 §14.6: multipart/byteranges
    parts, length = [], 0
    for start, end in ranges:
        head = ("\r\n--%s\r\nContent-Type: %s\r\nContent-Range: bytes %d-%d/%d\r\n\r\n"
                % (boundary, ctype, start, end, size)).encode("latin-1")
        parts += [head, (start, end - start + 1)]
        length += len(head) + end - start + 1
    tail = ("\r\n--%s--\r\n" % boundary).encode("ascii")
    parts.append(tail)
    request.setHeader("Content-Type", "multipart/byteranges; boundary=" + boundary)
    request.setHeader("Content-Length", str(length + len(tail)))
    return parts


def writeParts(request, fileobj, parts):
    """Send the planned body, stopping early once the client has gone."""
    for item in parts:
        if isinstance(item, bytes):
            request.write(item)
        elif not request.writeFile(fileobj, item[0], item[1]):
            return
