# -*- test-case-name: tests.test_wire -*-
"""The chunked transfer coding (RFC 9112 §7.1): a body in pieces, each with its size.

Guide: underneath "Knowing When We're Not Wanted" and "Resource rendering":
a response written in several ``request.write`` calls goes out in chunks on
HTTP/1.1, and a client may upload its body the same way.

Where it sits in a request's path: ``http11.READERS["chunked"]`` decodes a
chunked request body (and ``HTTPClient``'s chunked responses) with
``ChunkedDecoder``; ``http11.WRITERS["chunked"]`` frames each piece of a
response with ``formatChunk`` and ends it with ``LAST_CHUNK``.  No sockets.

Start reading at ``ChunkedDecoder.feed``.
"""

import re

from refweb import grammar
from refweb.error import BadRequest, HeaderFieldsTooLarge, PayloadTooLarge
from refweb.wire import parseHeaderLines

CRLF = b"\r\n"
_CHUNK_EXT = grammar.pattern("chunk-ext", bytes)
_LEADING_HEX = re.compile(rb"[0-9A-Fa-f]*")


class ChunkedDecoder:
    """Decode a chunked body fed in pieces (RFC 9112 §7.1).

    ``feed(data)`` returns the body bytes decoded so far from ``data`` and
    keeps what it could not use yet; ``done`` turns True after the last
    chunk and its trailers (which are read and dropped).
    """

    maxLineLength = 4096  # a chunk-size line (with its extensions) or a trailer line
    maxTrailerBytes = 16384
    maxTrailerCount = 100  # trailer field lines -> 431 beyond

    def __init__(self, maxBodySize):
        self.maxBodySize = maxBodySize
        self.received = 0
        self.done = False
        self._buffer = b""
        self._remaining = 0  # bytes left in the current chunk's data
        self._state = "size"  # size -> data -> data-crlf -> size ... -> trailer
        self._trailerBytes = 0
        self._trailerCount = 0

    def feed(self, data):
        self._buffer += data
        out = []
        while not self.done:
            progressed = self._STEPS[self._state](self, out)
            if not progressed:
                break
        return b"".join(out)

    def unused(self):
        """Bytes after the end of the chunked body (a pipelined next request)."""
        return self._buffer

    def _line(self):
        """The next line without its CRLF, or None until it is complete.
        Bounded whether it arrives in pieces or all at once."""
        index = self._buffer.find(CRLF, 0, self.maxLineLength + 2)
        if index < 0:
            if len(self._buffer) > self.maxLineLength:
                raise BadRequest(detail="chunk-size or trailer line too long")
            return None
        line, self._buffer = self._buffer[:index], self._buffer[index + 2:]
        return line

    def _step_size(self, out):
        line = self._line()
        if line is None:
            return False
        # RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF, chunk-size =
        # 1*HEXDIG -- no whitespace around it, and extensions ";name[=value]"
        # with only BWS between their parts.  Extensions are then ignored.
        sizeText = _LEADING_HEX.match(line).group()
        if not _CHUNK_EXT.fullmatch(line, len(sizeText)):
            raise BadRequest(detail="malformed chunk size or chunk extension")
        size = grammar.parseHex(sizeText, maxDigits=16)
        if size is None:
            raise BadRequest(detail="malformed chunk size")
        self.received += size
        if self.received > self.maxBodySize:
            raise PayloadTooLarge(detail="the body may be at most %d bytes" % self.maxBodySize)
        self._remaining = size
        self._state = "data" if size else "trailer"
        return True

    def _step_data(self, out):
        if not self._buffer:
            return False
        piece = self._buffer[:self._remaining]
        self._buffer = self._buffer[len(piece):]
        self._remaining -= len(piece)
        out.append(piece)
        if self._remaining == 0:
            self._state = "data-crlf"
        return True

    def _step_data_crlf(self, out):
        if len(self._buffer) < 2:
            return False
        if self._buffer[:2] != CRLF:
            raise BadRequest(detail="chunk data not followed by CRLF")
        self._buffer = self._buffer[2:]
        self._state = "size"
        return True

    def _step_trailer(self, out):
        line = self._line()
        if line is None:
            return False
        self._trailerBytes += len(line) + 2
        if self._trailerBytes > self.maxTrailerBytes:
            raise HeaderFieldsTooLarge(detail="trailers too large")
        if line == b"":
            self.done = True
            return True
        # RFC 9112 §7.1.2: trailer-section = *( field-line CRLF ), the same
        # grammar as header lines (no obs-fold, no bare LF, no controls).
        self._trailerCount += 1
        parseHeaderLines([line], self.maxTrailerCount - self._trailerCount + 1)
        return True

    # Which method reads the next piece in each state.
    _STEPS = {"size": _step_size, "data": _step_data, "data-crlf": _step_data_crlf,
              "trailer": _step_trailer}


def formatChunk(data):
    """One chunk of a chunked response body."""
    return b"%x\r\n%s\r\n" % (len(data), data)


LAST_CHUNK = b"0\r\n\r\n"
