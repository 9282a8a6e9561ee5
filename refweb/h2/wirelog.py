# -*- test-case-name: tests.test_h2_channel -*-
"""``--wire`` for HTTP/2: one log line for every frame in and out.

Guide: not in the guide (``Site(wire=True)``, ``refweb web --wire``, logs
HTTP/1.1 heads line by line; this is the same for HTTP/2's frames).

Where it sits: ``h2.channel.H2Channel`` hands it, in order, every byte it
gives its ``H2Connection`` (``received``) and every byte it writes
(``sent``).  It reads them as a second pair of eyes would: its own
``frames.readFrame`` and its own HPACK ``Decoder`` for each direction, so
the connection itself carries no logging at all and a Site without
``wire`` pays one attribute test per read and per write.  A line reads::

    wire conn-3 >> HEADERS stream=1 len=31 flags=END_STREAM|END_HEADERS (:method: GET, ...)
    wire conn-3 << DATA stream=1 len=13 flags=END_STREAM

Start reading at ``FrameLog``.
"""

from refweb.h2 import frames
from refweb.h2.hpack import Decoder
from refweb.python import log

BIG = 2 ** 32  # the log reads whatever the connection let through; it bounds nothing


def describeSettings(frame):
    names = {s.id: s.name for s in frames.SETTINGS}
    return ", ".join("%s=%d" % (names.get(ident, "0x%x" % ident), value)
                     for ident, value in frame.settings)


def describeGoaway(frame):
    text = "last stream=%d, %s" % (frame.lastStreamId, errorName(frame.errorCode))
    return text + (", %r" % frame.debug.decode("latin-1") if frame.debug else "")


def errorName(code):
    return frames.ERROR_NAMES.get(code, "0x%x" % code)


# What each frame type's line adds in parentheses (HEADERS: its decoded fields).
DETAILS = {
    "SETTINGS": describeSettings,
    "WINDOW_UPDATE": lambda frame: "increment=%d" % frame.increment,
    "PING": lambda frame: "opaque=%s" % frame.opaque.hex(),
    "GOAWAY": describeGoaway,
    "RST_STREAM": lambda frame: errorName(frame.errorCode),
    "PRIORITY": lambda frame: "depends on %d, weight %d" % frame.priority[1:],
}


def flagNames(frame):
    """The flags set on ``frame``, by the names its type gives them."""
    if frame.kind is None:
        return "%#x" % frame.flags if frame.flags else ""
    known = frames.BY_NAME[frame.kind].flags
    return "|".join(name for name, bit in sorted(known.items(), key=lambda item: item[1])
                    if frame.flags & bit)


class Direction:
    """One direction of a connection, read frame by frame."""

    def __init__(self, arrow, preface):
        self.arrow = arrow
        self.buffer = b""
        self.preface = preface  # the client's 24 bytes still to come first
        self.decoder = Decoder(maxTableSize=frames.SETTING_BY_NAME["HEADER_TABLE_SIZE"].default,
                               maxHeaderListSize=BIG)
        self.decoder.maxTableSize = BIG  # any size update the peer sends is followed
        self.block = []  # the pieces of a header block that CONTINUATION continues
        self.broken = False

    def read(self, data):
        """The log lines (without their prefix) for the frames ``data`` completes."""
        if self.broken:
            return []
        self.buffer += data
        lines = []
        if self.preface:
            if len(self.buffer) < len(frames.PREFACE):
                return lines
            self.buffer, self.preface = self.buffer[len(frames.PREFACE):], False
            lines.append("PRI * HTTP/2.0 (the client's preface)")
        try:
            while True:
                frame, self.buffer = frames.readFrame(self.buffer, BIG)
                if frame is None:
                    return lines
                lines.append(self.describe(frame))
        except Exception as exc:  # the connection answers it; the log stops reading
            self.broken = True
            return lines + ["(no longer read: %s)" % (exc,)]

    def describe(self, frame):
        kind = frame.kind or "type=0x%x" % frame.code
        line = "%s stream=%d len=%d" % (kind, frame.streamId, frame.length)
        flags = flagNames(frame)
        if flags:
            line += " flags=" + flags
        detail = self.fields(frame) if frame.kind in ("HEADERS", "CONTINUATION") \
            else DETAILS.get(frame.kind, lambda frame: "")(frame)
        return line + (" (%s)" % detail if detail else "")

    def fields(self, frame):
        """A header block's fields, once its last piece is here (the
        decoder's table changes as the connection's does)."""
        self.block.append(frame.data)
        if not frame.has(frames.END_HEADERS):
            return "the block goes on"
        block, self.block = b"".join(self.block), []
        return ", ".join("%s: %s" % field for field in self.decoder.decode(block))


class FrameLog:
    """Logs a connection's frames as ``wire conn-N >> ...`` and ``<< ...``."""

    def __init__(self, name):
        self.name = name
        self.incoming = Direction(">>", preface=True)
        self.outgoing = Direction("<<", preface=False)

    def received(self, data):
        self._log(self.incoming, data)

    def sent(self, data):
        self._log(self.outgoing, data)

    def closed(self):
        log.msg("wire %s -- closed" % self.name)

    def _log(self, direction, data):
        for line in direction.read(data):
            log.msg("wire %s %s %s" % (self.name, direction.arrow, line))
