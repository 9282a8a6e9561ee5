# -*- test-case-name: tests.test_h2_connection -*-
"""One HTTP/2 connection, server side, sans-I/O: bytes in, events out.

Guide: not in the guide (what ``h2.channel.H2Channel`` reads and writes,
as ``http11`` is for ``http.HTTPChannel``).

There is no socket here.  The channel hands every byte it reads to
``H2Connection.receive`` and acts on the events that come back:
``RequestReceived`` (a stream's request head), ``DataReceived``,
``StreamEnded``, ``StreamReset``, ``WindowOpened``, ``GoAwayReceived``,
``ConnectionClosed``.  It answers with ``sendHeaders``, ``sendData``
(as much as flow control allows), ``endStream``, ``resetStream`` and
``acknowledge``; all the bytes to write wait in ``dataToSend()``.

A peer's fault never raises out of ``receive``: a stream error becomes a
RST_STREAM to send and a ``StreamReset`` event; a connection error a
GOAWAY to send and a ``ConnectionClosed`` event, after which nothing more
is read.  The rules are tables:

* ``states.STREAM_STATES``: the states of §5.1, the frames each accepts,
  and the error any other frame is;
* ``fields.FIELD_RULES``: what a request's fields must be (§8.2, §8.3);
* ``states.LIMITS``: every resource a peer can make us spend, its bound,
  and what happens beyond it (the lessons of "rapid reset",
  CVE-2023-44487, and the CONTINUATION floods).

Start reading at ``H2Connection.receive``.
"""

import collections
import time

from refweb.h2 import fields, frames, states
from refweb.h2.frames import ConnectionError, StreamError
from refweb.h2.hpack import Decoder, Encoder, HPACKError
from refweb.h2.states import (  # noqa: F401 (the events and LIMITS are this module's too)
    AFTER_LOCAL_END, AFTER_REMOTE_END, CLOSED, DEFAULT_LIMITS, HALF_CLOSED_LOCAL,
    HALF_CLOSED_REMOTE, IDLE, LIMITS, OPEN, STREAM_STATES, ConnectionClosed, DataReceived,
    GoAwayReceived, RequestReceived, StreamEnded, StreamReset, WindowOpened)

PREFACE = frames.PREFACE


class H2Connection:
    """The server's side of one HTTP/2 connection; see the module docstring."""

    def __init__(self, limits=None, clock=time.monotonic):
        self.limits = dict(DEFAULT_LIMITS, **(limits or {}))
        self.buffer = b""
        self.state = "preface"  # then "settings" (the first frame), "open", "closed"
        self.streams = {}  # id -> states.Stream, while not closed
        self.highestStreamId = 0  # the last stream the client opened
        self._recentlyReset = collections.deque(maxlen=states.RECENTLY_RESET)
        self._outbound = []
        self._block = None  # a header block in pieces: [stream, first frame, pieces, size]
        self.sendWindow = 65535  # the connection's windows (§6.9.1)
        self.receiveWindow = 65535
        self.peerSettings = {s.id: s.default for s in frames.SETTINGS}
        self.decoder = Decoder(maxTableSize=self.limits["headerTableSize"],
                               maxHeaderListSize=self.limits["maxHeaderListSize"])
        self.encoder = Encoder()
        self._budgets = states.budgets(self.limits, clock)

    # -- our side ------------------------------------------------------------------------
    def initiate(self):
        """Queue our SETTINGS: the server's preface (§3.4)."""
        self._outbound.append(frames.settingsFrame({
            "HEADER_TABLE_SIZE": self.limits["headerTableSize"],
            "ENABLE_PUSH": 0,
            "MAX_CONCURRENT_STREAMS": self.limits["maxConcurrentStreams"],
            "MAX_HEADER_LIST_SIZE": self.limits["maxHeaderListSize"]}))

    def dataToSend(self):
        """Every byte queued so far (ACKs, replies, responses, GOAWAY), once."""
        data, self._outbound = b"".join(self._outbound), []
        return data

    def goAway(self, code=frames.NO_ERROR):
        """Queue GOAWAY: we end the connection (§6.8); nothing more is read."""
        if self.state != "closed":
            self._connectionError(ConnectionError(code))

    @property
    def peerMaxFrameSize(self):
        return self.peerSettings[5]

    def sendHeaders(self, streamId, headers, endStream=False):
        """Queue a response head (``headers``: [(name, value)], ":status" first)."""
        stream = self.streams.get(streamId)
        if stream is None or stream.state not in (OPEN, HALF_CLOSED_REMOTE):
            return
        block = self.encoder.encode(headers)
        self._outbound.append(frames.headersFrame(streamId, block, endStream,
                                                  self.peerMaxFrameSize))
        if endStream:
            self._endedLocally(stream)

    def sendData(self, streamId, data, endStream=False):
        """Queue as much of ``data`` as both windows allow; how much that was
        (0: wait for a WindowOpened).  END_STREAM goes with the last byte."""
        stream = self.streams.get(streamId)
        if stream is None or stream.state not in (OPEN, HALF_CLOSED_REMOTE):
            return 0
        count = max(0, min(len(data), self.sendWindow, stream.sendWindow))
        self.sendWindow -= count
        stream.sendWindow -= count
        size = self.peerMaxFrameSize
        for start in range(0, count, size):
            piece = data[start:min(start + size, count)]
            last = endStream and start + len(piece) == len(data)
            self._outbound.append(frames.dataFrame(streamId, piece, last))
        if endStream and count == len(data):
            if not data:
                self._outbound.append(frames.dataFrame(streamId, b"", True))
            self._endedLocally(stream)
        return count

    def endStream(self, streamId):
        """Queue an empty DATA frame with END_STREAM."""
        self.sendData(streamId, b"", endStream=True)

    def resetStream(self, streamId, code=frames.CANCEL):
        """Queue RST_STREAM for a stream of ours to end (§6.4)."""
        stream = self.streams.pop(streamId, None)
        if stream is not None:
            self._outbound.append(frames.rstStreamFrame(streamId, code))
            self._recentlyReset.append(streamId)

    def acknowledge(self, streamId, count):
        """The application used ``count`` body bytes: give them back to the
        client as WINDOW_UPDATEs, on the connection and the stream (§6.9)."""
        if count <= 0 or self.state == "closed":
            return
        self.receiveWindow += count
        self._outbound.append(frames.windowUpdateFrame(0, count))
        stream = self.streams.get(streamId)
        if stream is not None and stream.state in (OPEN, HALF_CLOSED_LOCAL):
            stream.receiveWindow += count
            self._outbound.append(frames.windowUpdateFrame(streamId, count))

    def _endedLocally(self, stream):
        stream.state = AFTER_LOCAL_END[stream.state]
        if stream.state is CLOSED:
            del self.streams[stream.id]

    # -- the client's side -------------------------------------------------------------------
    def receive(self, data):
        """Take ``data`` read from the client; return the events it completes."""
        if self.state == "closed":
            return []
        self.buffer += data
        events = []
        try:
            if self.state == "preface" and not self._readPreface():
                return events
            while True:
                try:
                    frame, self.buffer = frames.readFrame(self.buffer, 16384)
                    if frame is None:
                        return events
                    events += self._receiveFrame(frame)
                except StreamError as exc:
                    self.buffer = getattr(exc, "rest", self.buffer)
                    events += self._streamError(exc)
        except ConnectionError as exc:
            return events + self._connectionError(exc)

    def _readPreface(self):
        if self.buffer[:len(PREFACE)] != PREFACE[:len(self.buffer)]:
            raise ConnectionError(frames.PROTOCOL_ERROR, "not the HTTP/2 preface")
        if len(self.buffer) < len(PREFACE):
            return False
        self.buffer = self.buffer[len(PREFACE):]
        self.state = "settings"
        return True

    def _streamError(self, exc):
        stream = self.streams.pop(exc.streamId, None)
        self._outbound.append(frames.rstStreamFrame(exc.streamId, exc.code))
        self._recentlyReset.append(exc.streamId)
        return [StreamReset(exc.streamId, exc.code)] if stream is not None else []

    def _connectionError(self, exc):
        self._outbound.append(frames.goawayFrame(self.highestStreamId, exc.code,
                                                 exc.detail.encode("utf-8", "replace")))
        self.state = "closed"
        self.buffer = b""
        return [ConnectionClosed(exc.code)]

    def _receiveFrame(self, frame):
        if self.state == "settings" and (frame.kind != "SETTINGS" or frame.has(frames.ACK)):
            raise ConnectionError(frames.PROTOCOL_ERROR, "the first frame must be SETTINGS")
        if self._block is not None:  # §6.10: nothing may come between a block's pieces
            if frame.kind != "CONTINUATION" or frame.streamId != self._block[0].id:
                raise ConnectionError(frames.PROTOCOL_ERROR, "a header block was interrupted")
            return self._continuation(frame)
        if frame.kind == "CONTINUATION":
            raise ConnectionError(frames.PROTOCOL_ERROR, "CONTINUATION without HEADERS")
        if frame.kind is None:
            return []  # §4.1: a frame type we do not know is ignored
        if frame.streamId == 0:
            return CONNECTION_FRAMES[frame.kind](self, frame)
        return self._streamFrame(frame)

    # -- frames on the connection -------------------------------------------------------------
    def _settings(self, frame):
        if frame.has(frames.ACK):
            return []
        self.state = "open"
        self._budgets["settingsPerSecond"].spend("SETTINGS")
        events = []
        for ident, value in frame.settings:
            if ident == 4:  # INITIAL_WINDOW_SIZE: open streams change by the difference (§6.9.2)
                events += self._changeInitialWindow(value - self.peerSettings[4])
            elif ident == 1:  # HEADER_TABLE_SIZE: our encoder may use up to that
                self.encoder.setMaxTableSize(min(value, self.limits["headerTableSize"]))
            self.peerSettings[ident] = value
        self._outbound.append(frames.settingsAck())
        return events

    def _changeInitialWindow(self, delta):
        for stream in self.streams.values():
            stream.sendWindow += delta
            if stream.sendWindow > frames.MAX_WINDOW:
                raise ConnectionError(frames.FLOW_CONTROL_ERROR, "a stream window beyond 2^31-1")
        return [WindowOpened(0)] if delta > 0 and self.streams else []

    def _ping(self, frame):
        if not frame.has(frames.ACK):
            self._budgets["pingsPerSecond"].spend("PINGs")
            self._outbound.append(frames.pingFrame(frame.opaque, ack=True))
        return []

    def _goaway(self, frame):
        return [GoAwayReceived(frame.lastStreamId, frame.errorCode)]

    def _connectionWindowUpdate(self, frame):
        self.sendWindow += frame.increment
        if self.sendWindow > frames.MAX_WINDOW:
            raise ConnectionError(frames.FLOW_CONTROL_ERROR, "connection window beyond 2^31-1")
        return [WindowOpened(0)]

    # -- frames on a stream ------------------------------------------------------------------
    def _streamFrame(self, frame):
        if frame.kind == "PUSH_PROMISE":  # §8.4: a client cannot push
            raise ConnectionError(frames.PROTOCOL_ERROR, "PUSH_PROMISE from a client")
        stream = self._streamFor(frame)
        if frame.kind == "HEADERS":
            return self._headers(stream, frame)  # its state is checked once it is decoded
        if not self._accepted(stream, frame):
            return []
        return STREAM_FRAMES[frame.kind](self, stream, frame)

    def _streamFor(self, frame):
        """The stream a frame names: a known one, a new idle one, or a
        stand-in for one that is closed."""
        streamId = frame.streamId
        if streamId in self.streams:
            return self.streams[streamId]
        stream = states.Stream(streamId, self.peerSettings[4], 65535)
        if streamId <= self.highestStreamId:
            stream.state = CLOSED
            stream.resetByUs = streamId in self._recentlyReset
        elif streamId % 2 == 0 and frame.kind == "HEADERS":
            raise ConnectionError(frames.PROTOCOL_ERROR, "a client's stream ids are odd (§5.1.1)")
        return stream

    def _accepted(self, stream, frame):
        """Whether to act on a frame, by STREAM_STATES; its error if the
        stream's state refuses it."""
        if stream.resetByUs:  # §5.1: late frames on a stream we reset are ignored
            self._creditClosed(frame)
            return False
        rule = STREAM_STATES[stream.state]
        if frame.kind not in rule.accepts:
            level, code = rule.otherwise
            detail = "%s on a stream %s" % (frame.kind, stream.state)
            if level == "connection":
                raise ConnectionError(code, detail)
            self._creditClosed(frame)
            raise StreamError(code, stream.id, detail)
        return stream.state is not CLOSED

    def _creditClosed(self, frame):
        """DATA that no stream takes still counted against the connection's
        window: give it back at once (§6.9)."""
        if frame.kind == "DATA" and frame.length:
            self._outbound.append(frames.windowUpdateFrame(0, frame.length))

    def _headers(self, stream, frame):
        if not frame.data and not frame.has(frames.END_HEADERS | frames.END_STREAM):
            self._budgets["emptyFramesPerSecond"].spend("empty frames")
        self._block = [stream, frame, [frame.data], len(frame.data)]
        return self._blockPiece()

    def _continuation(self, frame):
        if not frame.data and not frame.has(frames.END_HEADERS):
            self._budgets["emptyFramesPerSecond"].spend("empty frames")
        self._block[2].append(frame.data)
        self._block[3] += len(frame.data)
        self._block[1].flags |= frame.flags & frames.END_HEADERS
        return self._blockPiece()

    def _blockPiece(self):
        stream, first, pieces, size = self._block
        if size > self.limits["maxHeaderBlockBytes"]:
            raise ConnectionError(frames.ENHANCE_YOUR_CALM, "a header block beyond %d bytes"
                                  % self.limits["maxHeaderBlockBytes"])
        if not first.has(frames.END_HEADERS):
            return []
        self._block = None
        try:  # decoded even for a stream about to be refused: the table must stay in step
            headers = self.decoder.decode(b"".join(pieces))
        except HPACKError as exc:
            raise ConnectionError(frames.COMPRESSION_ERROR, str(exc)) from None
        if not self._accepted(stream, first):
            return []
        if stream.state is IDLE:
            return self._openStream(stream, first, headers)
        return self._trailers(stream, first, headers)

    def _openStream(self, stream, frame, headers):
        self.highestStreamId = stream.id
        if frame.priority is not None and frame.priority[1] == stream.id:
            raise StreamError(frames.PROTOCOL_ERROR, stream.id, "a stream cannot depend on itself")
        if len(self.streams) >= self.limits["maxConcurrentStreams"]:
            self._budgets["resetsPerSecond"].spend("refused or reset streams")
            raise StreamError(frames.REFUSED_STREAM, stream.id, "too many streams at once")
        stream.contentLength = fields.checkRequest(stream.id, headers)
        end = frame.has(frames.END_STREAM)
        fields.checkLength(stream.id, stream.contentLength, 0, end)
        stream.state = OPEN
        self.streams[stream.id] = stream
        events = [RequestReceived(stream.id, headers, end)]
        return events + (self._endedRemotely(stream) if end else [])

    def _trailers(self, stream, frame, headers):
        if not frame.has(frames.END_STREAM):
            raise StreamError(frames.PROTOCOL_ERROR, stream.id, "trailers without END_STREAM")
        fields.checkTrailers(stream.id, headers)
        return self._endedRemotely(stream)  # trailers are not passed on

    def _data(self, stream, frame):
        if frame.length > self.receiveWindow:
            raise ConnectionError(frames.FLOW_CONTROL_ERROR, "DATA beyond the connection window")
        if frame.length > stream.receiveWindow:
            self._creditClosed(frame)
            raise StreamError(frames.FLOW_CONTROL_ERROR, stream.id, "DATA beyond the stream window")
        end = frame.has(frames.END_STREAM)
        if not frame.length and not end:
            self._budgets["emptyFramesPerSecond"].spend("empty frames")
        try:
            fields.checkLength(stream.id, stream.contentLength,
                               stream.received + len(frame.data), end)
        except StreamError:
            self._creditClosed(frame)  # the application never sees these bytes
            raise
        self.receiveWindow -= frame.length
        stream.receiveWindow -= frame.length
        stream.received += len(frame.data)
        padding = frame.length - len(frame.data)
        if padding:  # padding is ours to discard, so it is given back at once
            self.acknowledge(stream.id, padding)
        events = [DataReceived(stream.id, frame.data)] if frame.data else []
        return events + (self._endedRemotely(stream) if end else [])

    def _endedRemotely(self, stream):
        fields.checkLength(stream.id, stream.contentLength, stream.received, True)
        stream.state = AFTER_REMOTE_END[stream.state]
        if stream.state is CLOSED:
            del self.streams[stream.id]
        return [StreamEnded(stream.id)]

    def _rstStream(self, stream, frame):
        self._budgets["resetsPerSecond"].spend("refused or reset streams")
        self.streams.pop(stream.id, None)
        return [StreamReset(stream.id, frame.errorCode)]

    def _streamWindowUpdate(self, stream, frame):
        stream.sendWindow += frame.increment
        if stream.sendWindow > frames.MAX_WINDOW:
            raise StreamError(frames.FLOW_CONTROL_ERROR, stream.id, "stream window beyond 2^31-1")
        return [WindowOpened(stream.id)]


CONNECTION_FRAMES = {
    # frames on stream 0 (frames.readFrame refused the others there)
    "SETTINGS": H2Connection._settings,
    "PING": H2Connection._ping,
    "GOAWAY": H2Connection._goaway,
    "WINDOW_UPDATE": H2Connection._connectionWindowUpdate,
}
STREAM_FRAMES = {
    # frames on a stream whose state accepts them (HEADERS goes through _headers)
    "DATA": H2Connection._data,
    "RST_STREAM": H2Connection._rstStream,
    "WINDOW_UPDATE": H2Connection._streamWindowUpdate,
    "PRIORITY": lambda self, stream, frame: [],  # §5.3.2: advice this server does not take
}
