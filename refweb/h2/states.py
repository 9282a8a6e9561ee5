# -*- test-case-name: tests.test_h2_connection -*-
"""What an HTTP/2 connection keeps to: stream states, limits; the events it reports.

Guide: not in the guide.

Where it sits: ``h2.connection.H2Connection`` looks up every frame a
client sends on a stream in ``STREAM_STATES`` (RFC 9113 §5.1), and
every resource a client can make it spend in ``LIMITS``; a ``Stream``
holds one stream's state and windows, a ``Budget`` counts what may only
happen so often a second.  The events ``receive`` returns are here
too: ``RequestReceived``, ``DataReceived``, ``StreamEnded``, ``StreamReset``,
``WindowOpened``, ``GoAwayReceived``, ``ConnectionClosed``.

Start reading at ``STREAM_STATES``.
"""

import collections

from refweb.h2 import frames
from refweb.h2.frames import ConnectionError

# -- events ---------------------------------------------------------------------------
RequestReceived = collections.namedtuple("RequestReceived", "streamId headers endStream")
RequestReceived.__doc__ = "A request's fields [(str, str)], pseudo-fields first; endStream: no body."
DataReceived = collections.namedtuple("DataReceived", "streamId data")
DataReceived.__doc__ = "Body bytes of a stream; acknowledge(streamId, len(data)) once used."
StreamEnded = collections.namedtuple("StreamEnded", "streamId")
StreamEnded.__doc__ = "The client's side of the stream is complete."
StreamReset = collections.namedtuple("StreamReset", "streamId code")
StreamReset.__doc__ = "The stream is gone (reset by the client, or by us for its fault)."
WindowOpened = collections.namedtuple("WindowOpened", "streamId")
WindowOpened.__doc__ = "More may be sent on the stream (0: on every stream)."
GoAwayReceived = collections.namedtuple("GoAwayReceived", "lastStreamId code")
GoAwayReceived.__doc__ = "The client opens no more streams; those open may finish."
ConnectionClosed = collections.namedtuple("ConnectionClosed", "code")
ConnectionClosed.__doc__ = "We end the connection: send dataToSend(), then close."

# -- stream states (§5.1, server side; this server never pushes) -------------------------
IDLE = "idle"
OPEN = "open"
HALF_CLOSED_REMOTE = "half-closed (remote)"  # the client has sent END_STREAM
HALF_CLOSED_LOCAL = "half-closed (local)"    # we have sent END_STREAM
CLOSED = "closed"

StreamState = collections.namedtuple("StreamState", "accepts otherwise")
_RECEIVING = {"HEADERS", "DATA", "PRIORITY", "RST_STREAM", "WINDOW_UPDATE"}
STREAM_STATES = {
    # A frame a state does not accept is ``otherwise``: (level, error code).
    # (CONTINUATION belongs to the header block it continues: see _receiveFrame.)
    IDLE: StreamState({"HEADERS", "PRIORITY"}, ("connection", frames.PROTOCOL_ERROR)),
    OPEN: StreamState(_RECEIVING, None),
    HALF_CLOSED_LOCAL: StreamState(_RECEIVING, None),
    HALF_CLOSED_REMOTE: StreamState({"PRIORITY", "RST_STREAM", "WINDOW_UPDATE"},
                                    ("stream", frames.STREAM_CLOSED)),
    # Closed after END_STREAM both ways, or (§5.1.1) a lower id than the last
    # one opened: more than PRIORITY, RST_STREAM, WINDOW_UPDATE ends it all.
    CLOSED: StreamState({"PRIORITY", "RST_STREAM", "WINDOW_UPDATE"},
                        ("connection", frames.STREAM_CLOSED)),
}
# END_STREAM received moves a stream on; so does sending it.
AFTER_REMOTE_END = {OPEN: HALF_CLOSED_REMOTE, HALF_CLOSED_LOCAL: CLOSED}
AFTER_LOCAL_END = {OPEN: HALF_CLOSED_LOCAL, HALF_CLOSED_REMOTE: CLOSED}

# -- limits: what a peer may make us spend, and what happens beyond ------------------------
Limit = collections.namedtuple("Limit", "name value beyond")
LIMITS = [
    Limit("maxConcurrentStreams", 100, "advertised; the stream beyond: RST_STREAM REFUSED_STREAM"),
    Limit("maxHeaderListSize", 65536, "advertised; the decoder refuses: GOAWAY COMPRESSION_ERROR"),
    Limit("headerTableSize", 4096, "advertised; a larger table update: GOAWAY COMPRESSION_ERROR"),
    Limit("maxHeaderBlockBytes", 65536, "a block's pieces beyond, before decoding "
          "(CONTINUATION flood): GOAWAY ENHANCE_YOUR_CALM"),
    Limit("resetsPerSecond", 100, "streams reset by the client or refused (rapid "
          "reset): GOAWAY ENHANCE_YOUR_CALM"),
    Limit("settingsPerSecond", 50, "SETTINGS frames, each owed an ACK: GOAWAY ENHANCE_YOUR_CALM"),
    Limit("pingsPerSecond", 50, "PINGs, each owed a reply: GOAWAY ENHANCE_YOUR_CALM"),
    Limit("emptyFramesPerSecond", 100, "DATA, HEADERS and CONTINUATION frames that carry "
          "nothing and end nothing: GOAWAY ENHANCE_YOUR_CALM"),
]
DEFAULT_LIMITS = {limit.name: limit.value for limit in LIMITS}
RECENTLY_RESET = 100  # streams we reset, whose late frames are ignored (§5.1 "closed")


class Budget:
    """How many times something may happen in one second."""

    def __init__(self, limit, clock):
        self.limit, self.clock = limit, clock
        self.start, self.count = clock(), 0

    def spend(self, what):
        now = self.clock()
        if now - self.start >= 1.0:
            self.start, self.count = now, 0
        self.count += 1
        if self.count > self.limit:
            raise ConnectionError(frames.ENHANCE_YOUR_CALM, "more than %d %s a second"
                                  % (self.limit, what))


def budgets(limits, clock):
    """A Budget for each per-second limit of LIMITS, by name."""
    return {name: Budget(value, clock) for name, value in limits.items()
            if name.endswith("PerSecond")}


class Stream:
    """One stream's state, its two flow-control windows and its body count."""

    def __init__(self, streamId, sendWindow, receiveWindow):
        self.id = streamId
        self.state = IDLE
        self.sendWindow = sendWindow        # what the client lets us send
        self.receiveWindow = receiveWindow  # what we let the client send
        self.contentLength = None           # the request's Content-Length, if any
        self.received = 0                   # body bytes received so far
        self.resetByUs = False              # a closed stand-in for a stream we reset
