"""Helpers for the HTTP/2 tests: a client that speaks frames, and, until
refweb.h2.hpack exists, a stand-in for it.

The stand-in knows one HPACK form only, the literal field without indexing
and without Huffman (RFC 7541 §6.2.2, new name), plus a dynamic table size
update (§6.3): enough to carry any field, and what the real decoder reads
too, so these tests run unchanged once it is there.
"""

import sys
import types

from refweb.h2 import frames


def encodeInteger(value, prefixBits, first=0):
    """RFC 7541 §5.1."""
    limit = (1 << prefixBits) - 1
    if value < limit:
        return bytes([first | value])
    out, value = [first | limit], value - limit
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    return bytes(out + [value])


def decodeInteger(data, position, prefixBits):
    limit = (1 << prefixBits) - 1
    value = data[position] & limit
    position += 1
    if value < limit:
        return value, position
    shift = 0
    while True:
        byte = data[position]
        position += 1
        value += (byte & 127) << shift
        shift += 7
        if not byte & 128:
            return value, position


def literal(name, value):
    """One field as a literal without indexing, new name, no Huffman."""
    name, value = name.encode("latin-1"), value.encode("latin-1")
    return (b"\x00" + encodeInteger(len(name), 7) + name
            + encodeInteger(len(value), 7) + value)


def tableSizeUpdate(size):
    return encodeInteger(size, 5, 0x20)


class HPACKError(Exception):
    pass


class Encoder:
    def __init__(self):
        self.maxTableSize = 4096

    def encode(self, headers):
        return b"".join(literal(name, value) for name, value in headers)

    def setMaxTableSize(self, size):
        self.maxTableSize = size


class Decoder:
    def __init__(self, maxTableSize=4096, maxHeaderListSize=65536):
        self.maxTableSize = maxTableSize
        self.maxHeaderListSize = maxHeaderListSize

    def decode(self, block):
        headers, position, size = [], 0, 0
        try:
            while position < len(block):
                if block[position] & 0xe0 == 0x20:
                    update, position = decodeInteger(block, position, 5)
                    if update > self.maxTableSize:
                        raise HPACKError("table size %d beyond %d" % (update, self.maxTableSize))
                    continue
                if block[position] != 0:
                    raise HPACKError("the stand-in reads only literals without indexing")
                position += 1
                field = []
                for _ in range(2):
                    length, position = decodeInteger(block, position, 7)
                    field.append(block[position:position + length].decode("latin-1"))
                    position += length
                size += len(field[0]) + len(field[1]) + 32
                if size > self.maxHeaderListSize:
                    raise HPACKError("header list beyond %d" % self.maxHeaderListSize)
                headers.append(tuple(field))
        except IndexError:
            raise HPACKError("truncated block") from None
        return headers


try:
    import refweb.h2.hpack  # noqa: F401
    REAL_HPACK = True
except ImportError:
    REAL_HPACK = False
    standIn = types.ModuleType("refweb.h2.hpack")
    standIn.Encoder, standIn.Decoder, standIn.HPACKError = Encoder, Decoder, HPACKError
    sys.modules["refweb.h2.hpack"] = standIn
    import refweb.h2
    refweb.h2.hpack = standIn


def block(headers):
    """A header block any HPACK decoder reads: literals without indexing."""
    return b"".join(literal(name, value) for name, value in headers)


def request(path="/", method="GET", extra=()):
    return [(":method", method), (":scheme", "http"), (":path", path),
            (":authority", "example.com")] + list(extra)


def headers(streamId, fields, endStream=True, endHeaders=True, flags=0):
    """A client's HEADERS frame."""
    flags |= (frames.END_STREAM if endStream else 0) | (frames.END_HEADERS if endHeaders else 0)
    return frames.frame("HEADERS", flags, streamId, block(fields))


def opening(settings=None):
    """The client's preface and its first SETTINGS."""
    from refweb.h2.connection import PREFACE
    return PREFACE + frames.settingsFrame(settings or {})


def readAll(data, maxFrameSize=16777215):
    """Every frame in ``data`` (what the server sent)."""
    out = []
    while data:
        frame, data = frames.readFrame(data, maxFrameSize)
        assert frame is not None, "a partial frame"
        out.append(frame)
    return out


class Client:
    """A small HTTP/2 client over a socket, for the channel tests: it sends
    frames as a test says and collects each stream's answer."""

    def __init__(self, port, settings=None, timeout=10, tls=False):
        import socket
        import ssl
        from refweb.h2.hpack import Decoder, Encoder
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls:  # any certificate; HTTP/2 chosen by ALPN (RFC 9113 §3.2)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            context.set_alpn_protocols(["h2"])
            self.sock = context.wrap_socket(self.sock)
        self.decoder, self.encoder = Decoder(), Encoder()
        self.buffer = b""
        self.heads, self.bodies, self.ended, self.resets = {}, {}, set(), {}
        self.goaway = None
        self.autoWindow = True  # give back every DATA byte at once
        self.sock.sendall(opening(settings))

    def send(self, data, quietly=False):
        try:
            self.sock.sendall(data)
        except OSError:
            if not quietly:
                raise

    def request(self, streamId, path="/", method="GET", body=None, extra=()):
        fields = request(path, method, extra)
        block = self.encoder.encode(fields)
        self.send(frames.frame("HEADERS", frames.END_HEADERS | (0 if body else frames.END_STREAM),
                               streamId, block))
        for start in range(0, len(body or b""), 16384):  # the body must fit the window
            piece = body[start:start + 16384]
            self.send(frames.dataFrame(streamId, piece, start + 16384 >= len(body)))

    def readFrame(self):
        while True:
            frame, self.buffer = frames.readFrame(self.buffer, 16777215)
            if frame is not None:
                return frame
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buffer += data

    def handle(self, frame):
        kind, streamId = frame.kind, frame.streamId
        if kind == "SETTINGS" and not frame.has(frames.ACK):
            self.send(frames.settingsAck(), quietly=True)
        elif kind == "HEADERS":
            fields = self.decoder.decode(frame.data)
            if streamId in self.heads:
                self.heads[streamId] += fields  # trailers
            else:
                self.heads[streamId] = fields
        elif kind == "DATA":
            self.bodies[streamId] = self.bodies.get(streamId, b"") + frame.data
            if self.autoWindow and frame.length:
                self.send(frames.windowUpdateFrame(0, frame.length)
                          + frames.windowUpdateFrame(streamId, frame.length), quietly=True)
        elif kind == "RST_STREAM":
            self.resets[streamId] = frame.errorCode
        elif kind == "GOAWAY":
            self.goaway = frame.errorCode
        if kind in ("HEADERS", "DATA") and frame.has(frames.END_STREAM):
            self.ended.add(streamId)

    def until(self, predicate):
        """Read frames until ``predicate()`` holds (or the server closes)."""
        while not predicate():
            frame = self.readFrame()
            if frame is None:
                return False
            self.handle(frame)
        return True

    def answer(self, streamId):
        """(status, {name: value}, body) of a stream, once it has ended."""
        assert self.until(lambda: streamId in self.ended or streamId in self.resets)
        fields = dict(self.heads.get(streamId, []))
        return int(fields.pop(":status", 0)), fields, self.bodies.get(streamId, b"")

    def close(self):
        self.sock.close()
