# -*- test-case-name: tests.test_reference -*-
"""A small, strict HTTP/2 client for the reference suite: one request at a time.

Guide: not in the guide (Twisted Web serves HTTP/2 through a third-party
library; the reference suite asks the same questions over it).

The reference suite's behaviours ask a server for a status, headers and a
body; ``client.py`` asks over HTTP/1.1, this module over HTTP/2 (RFC 9113),
with the same ``client.Response`` coming back, so a behaviour that sends
one request and checks what came back runs unchanged over either.  It
reuses refweb's own codecs -- ``refweb.h2.frames`` (frame layouts,
``readFrame``, the builders) and ``refweb.h2.hpack`` (Encoder, Decoder) --
and otherwise only the standard library.  Reusing them is a choice made
knowingly: a codec fault refweb shares with this client could hide, but
Twisted (speaking through the ``h2`` library) is the other column of the
same report, and the frame and HPACK tests check the codecs against the
RFCs' own examples.

Two ways in (RFC 9113 §3): prior knowledge on a cleartext port (``h2c``:
the preface first), or TLS with ALPN choosing ``h2`` (``tls=True``).

Strict where RFC 9113 is strict, so a server's mistake is a readable
``ProtocolError``: ``:status`` first and alone of the pseudo-fields, names
in lower case, no connection-specific field (§8.2.2), ``content-length``
equal to the DATA received (§8.1.1), no body after HEAD, 204 or 304.

Part of refweb.reference: behaviours -> SiteServer -> h2client -> (socket) -> the server.
Start reading at ``H2ClientConnection``.
"""

import socket
import ssl

from refweb.h2 import frames, hpack
from refweb.reference.client import TIMEOUT, ConnectionClosed, ProtocolError, Response

#: Fields that belong to one HTTP/1.1 connection and must not travel in HTTP/2 (§8.2.2).
CONNECTION_SPECIFIC = frozenset(["connection", "keep-alive", "proxy-connection",
                                 "transfer-encoding", "upgrade"])

#: What this client advertises (§6.5.2): no push, and the default window and frame size.
CLIENT_SETTINGS = {"ENABLE_PUSH": 0}

#: Statuses whose response has no content, whatever it says (RFC 9110 §6.4.1).
NO_CONTENT = (204, 304)


def tlsContext():
    """A client context offering only ``h2``, taking any certificate (they are throwaway)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    return context


class _Stream:
    """What has arrived on one stream so far."""

    def __init__(self, streamId, window):
        self.id = streamId
        self.window = window      # how much request body the server still takes (§6.9)
        self.block = None         # a header block waiting for its CONTINUATION frames
        self.heads = []           # each decoded header list, 1xx ones included
        self.body = []
        self.ended = False
        self.endsWithBlock = False  # END_STREAM came on a HEADERS still waiting for CONTINUATION


class H2ClientConnection:
    """One HTTP/2 connection to the server under test; ``request`` sends one
    request and returns its final ``Response``.

    ``transcript`` keeps each frame sent (``">>"``) and received (``"<<"``)
    as a readable line (type, flags, stream, fields), and ``"--"`` for the
    server's close, so a failure shows the frames (``-v``).
    """

    def __init__(self, host, port, tls=False, timeout=TIMEOUT):
        self.transcript = []
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.alpn = None  # what TLS's ALPN chose (always "h2" once connected over TLS)
        if tls:
            try:
                sock = tlsContext().wrap_socket(sock, server_hostname=host)
            except ssl.SSLError as e:  # say why it matters: a server without h2 refuses so
                sock.close()
                raise ProtocolError("the TLS handshake offering only h2 in ALPN failed (%s)"
                                    % (e.reason or e))
            if sock.selected_alpn_protocol() != "h2":
                sock.close()
                raise ProtocolError("ALPN chose %r, not h2" % sock.selected_alpn_protocol())
            self.alpn = "h2"
        self.sock = sock
        self.scheme = "https" if tls else "http"
        self.buffer = b""
        self.closed = False
        self.nextStreamId = 1
        self.encoder, self.decoder = hpack.Encoder(), hpack.Decoder()
        self.connectionWindow = 65535            # §6.9.2: both windows start at 65,535
        self.initialWindow = 65535
        self.peerMaxFrame = 16384
        self.streams = {}
        self.finished = set()  # streams that have ended: late WINDOW_UPDATE or RST_STREAM ok
        self._send(frames.PREFACE + frames.settingsFrame(CLIENT_SETTINGS),
                   "PREFACE, SETTINGS ENABLE_PUSH=0")

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _send(self, data, what):
        self.transcript.append((">>", what.rstrip("\n").encode("latin-1", "replace") + b"\n"))
        self.sock.sendall(data)

    # -- one request -------------------------------------------------------------------

    def request(self, method, path, headers=(), body=b"", authority="example.com"):
        """Send one request (its ``body`` in DATA frames the server's windows allow);
        return the final response once its stream has ended."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        stream = _Stream(self.nextStreamId, self.initialWindow)
        self.nextStreamId += 2
        self.streams[stream.id] = stream
        fields = [(":method", method), (":scheme", self.scheme), (":path", path)]
        if authority is not None:
            fields.append((":authority", authority))
        fields += [(name.lower(), value) for name, value in headers
                   if name.lower() not in CONNECTION_SPECIFIC and name.lower() != "host"]
        if body and not any(name == "content-length" for name, _ in fields):
            fields.append(("content-length", str(len(body))))
        block = self.encoder.encode(fields)
        self._send(frames.headersFrame(stream.id, block, not body, self.peerMaxFrame),
                   "HEADERS stream %d END_HEADERS%s\n%s" % (
                       stream.id, "" if body else " END_STREAM",
                       "".join("    %s: %s\n" % field for field in fields)))
        self._sendBody(stream, body)
        while not stream.ended:
            self._readFrame()
        del self.streams[stream.id]
        self.finished.add(stream.id)
        return self._response(stream, method)

    def _sendBody(self, stream, body):
        """DATA frames no bigger than either window or the peer's frame size (§6.9.1)."""
        while body and not stream.ended:
            size = min(len(body), self.connectionWindow, stream.window, self.peerMaxFrame)
            if size <= 0:
                self._readFrame()  # wait for a WINDOW_UPDATE (or the answer)
                continue
            piece, body = body[:size], body[size:]
            self.connectionWindow -= size
            stream.window -= size
            self._send(frames.dataFrame(stream.id, piece, not body),
                       "DATA stream %d, %d bytes%s" % (stream.id, size,
                                                      "" if body else " END_STREAM"))

    def _response(self, stream, method):
        finals = [head for head in stream.heads if not head[0][1].startswith("1")]
        if len(finals) != 1:
            raise ProtocolError("stream %d ended with %d final header blocks"
                                % (stream.id, len(finals)))
        status, headers = int(finals[0][0][1]), finals[0][1:]
        body = b"".join(stream.body)
        response = Response((2, 0), status, "", headers, body)
        if body and (method == "HEAD" or status in NO_CONTENT):
            raise ProtocolError("%d bytes of DATA in a response that has no content" % len(body))
        length = response.header("content-length")
        if length is not None and method != "HEAD" and status not in NO_CONTENT \
                and length != str(len(body)):
            raise ProtocolError("content-length %s but %d bytes of DATA (RFC 9113 §8.1.1)"
                                % (length, len(body)))
        return response

    # -- frames in -------------------------------------------------------------------

    def _readFrame(self):
        """Read and act on one frame from the server."""
        while True:
            try:
                frame, self.buffer = frames.readFrame(self.buffer, 16384)
            except (frames.ConnectionError, frames.StreamError) as e:
                raise ProtocolError("bad frame: %s" % e)
            if frame is not None:
                break
            data = b"" if self.closed else self._recv()
            if not data:
                self.closed = True
                self.transcript.append(("--", b""))
                raise ConnectionClosed("connection closed before the stream ended")
            self.buffer += data
        self.transcript.append(("<<", describe(frame).encode("latin-1") + b"\n"))
        handler = getattr(self, "_on" + (frame.kind or "Unknown").title().replace("_", ""))
        handler(frame)

    def _recv(self):
        try:
            return self.sock.recv(65536)
        except ConnectionResetError:
            return b""

    def _stream(self, frame):
        stream = self.streams.get(frame.streamId)
        if stream is None:
            raise ProtocolError("%s on stream %d, which this client did not open"
                                % (frame.kind, frame.streamId))
        return stream

    def _onHeaders(self, frame):
        stream = self._stream(frame)
        stream.block = frame.data
        if frame.has(frames.END_HEADERS):
            self._headBlockDone(stream, frame.has(frames.END_STREAM))
        else:
            stream.endsWithBlock = frame.has(frames.END_STREAM)

    def _onContinuation(self, frame):
        stream = self._stream(frame)
        if stream.block is None:
            raise ProtocolError("CONTINUATION without a HEADERS before it (§6.10)")
        stream.block += frame.data
        if frame.has(frames.END_HEADERS):
            self._headBlockDone(stream, stream.endsWithBlock)

    def _headBlockDone(self, stream, endStream):
        try:
            fields = self.decoder.decode(stream.block)
        except hpack.HPACKError as e:
            raise ProtocolError("header block does not decode: %s" % e)
        stream.block = None
        stream.heads.append(checkedHead(fields))
        self.transcript[-1] = ("<<", self.transcript[-1][1] + "".join(
            "    %s: %s\n" % pair for pair in fields).encode("latin-1", "replace"))
        stream.ended = endStream

    def _onData(self, frame):
        stream = self._stream(frame)
        if not stream.heads:
            raise ProtocolError("DATA before the response's HEADERS (§8.1)")
        stream.body.append(frame.data)
        stream.ended = frame.has(frames.END_STREAM)
        if frame.length:  # give the window back at once: the suite reads everything
            update = frames.windowUpdateFrame(0, frame.length)
            if not stream.ended:
                update += frames.windowUpdateFrame(stream.id, frame.length)
            self._send(update, "WINDOW_UPDATE +%d" % frame.length)

    def _onSettings(self, frame):
        if frame.has(frames.ACK):
            return
        for ident, value in frame.settings:
            name = frames.SETTING_BY_ID[ident].name if ident in frames.SETTING_BY_ID else None
            if name == "INITIAL_WINDOW_SIZE":  # §6.9.2: open streams move by the difference
                for stream in self.streams.values():
                    stream.window += value - self.initialWindow
                self.initialWindow = value
            elif name == "MAX_FRAME_SIZE":
                self.peerMaxFrame = value
            elif name == "HEADER_TABLE_SIZE":
                self.encoder.setMaxTableSize(value)
        self._send(frames.settingsAck(), "SETTINGS ACK")

    def _onWindowUpdate(self, frame):
        if frame.streamId == 0:
            self.connectionWindow += frame.increment
        elif frame.streamId in self.streams:
            self.streams[frame.streamId].window += frame.increment

    def _onPing(self, frame):
        if not frame.has(frames.ACK):
            self._send(frames.pingFrame(frame.opaque, ack=True), "PING ACK")

    def _onRstStream(self, frame):
        if frame.streamId in self.finished:
            return  # §5.1: a reset may cross the stream's end; the response is whole
        raise ProtocolError("the server reset stream %d with %s" % (
            frame.streamId, frames.ERROR_NAMES.get(frame.errorCode, frame.errorCode)))

    def _onGoaway(self, frame):
        if frame.errorCode != frames.NO_ERROR or any(
                streamId > frame.lastStreamId for streamId in self.streams):
            raise ProtocolError("GOAWAY %s (%s)" % (
                frames.ERROR_NAMES.get(frame.errorCode, frame.errorCode),
                frame.debug.decode("latin-1", "replace")))

    def _onPushPromise(self, frame):
        raise ProtocolError("PUSH_PROMISE although SETTINGS_ENABLE_PUSH is 0 (§8.4)")

    def _onPriority(self, frame):
        pass  # §5.3.2: a priority signal; nothing to do for one request at a time

    def _onUnknown(self, frame):
        pass  # §4.1: frames of unknown types are ignored


def checkedHead(fields):
    """``fields`` as ``[(":status", code), (name, value)...]``, or ProtocolError (§8.3.2)."""
    if not fields or fields[0][0] != ":status" or not (
            len(fields[0][1]) == 3 and fields[0][1].isdigit()):
        raise ProtocolError("a response header block must open with :status (§8.3.2): %r"
                            % (fields[:1],))
    for name, value in fields[1:]:
        if name.startswith(":"):
            raise ProtocolError("pseudo-field %r in a response (§8.3)" % name)
        if name != name.lower():
            raise ProtocolError("field name %r is not lower case (§8.2.1)" % name)
        if name in CONNECTION_SPECIFIC:
            raise ProtocolError("connection-specific field %r (§8.2.2)" % name)
    return fields


def describe(frame):
    """A frame as one readable line: type, flags, stream and what it carries."""
    flags = [name for name, bit in (("END_STREAM", frames.END_STREAM),
                                    ("END_HEADERS", frames.END_HEADERS))
             if frame.kind in ("HEADERS", "DATA", "CONTINUATION") and frame.has(bit)]
    if frame.kind == "SETTINGS" and frame.has(frames.ACK):
        flags = ["ACK"]
    text = "%s stream %d%s" % (frame.kind or "UNKNOWN", frame.streamId,
                               "".join(" " + flag for flag in flags))
    if frame.kind == "DATA":
        text += ", %d bytes" % len(frame.data)
    elif frame.kind in ("RST_STREAM", "GOAWAY"):
        text += " " + frames.ERROR_NAMES.get(frame.errorCode, str(frame.errorCode))
    elif frame.kind == "WINDOW_UPDATE":
        text += " +%d" % frame.increment
    return text
