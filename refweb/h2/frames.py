# -*- test-case-name: tests.test_h2_frames -*-
"""HTTP/2 frames (RFC 9113 §4 and §6): bytes in, ``Frame`` values out, and back.

Guide: not in the guide (Twisted Web speaks HTTP/2 through a third-party
library; this is the same protocol written out).

Where it sits: ``h2.connection.H2Connection`` hands every byte it receives
to ``readFrame`` and acts on the ``Frame`` that comes back; what it sends
it makes with the builders at the bottom (``settingsFrame``,
``headersFrame``, ``dataFrame``...).  There is no socket and no state
here: only the layout of each frame, kept as tables a reader can scan:

* ``FRAME_TYPES``: every frame type of §6 -- its code, its flags, whether
  it needs a stream id or must have none, its fixed payload length if any
  and the error a wrong one is;
* ``SETTINGS``: the parameters of §6.5.2 with their defaults and bounds;
* ``ERROR_CODES``: the codes of §7.

Every frame is a 9-byte header -- 24-bit length, 8-bit type, 8-bit flags,
1 reserved bit and a 31-bit stream id -- then ``length`` bytes (§4.1).
A fault a frame's own bytes show raises ``ConnectionError`` or
``StreamError``, carrying the error code to send.

Start reading at ``readFrame``.
"""

import collections
import struct

# -- error codes (§7) ----------------------------------------------------------------
NO_ERROR = 0x0             # a graceful shutdown
PROTOCOL_ERROR = 0x1       # an unspecific protocol error
INTERNAL_ERROR = 0x2       # the endpoint itself failed
FLOW_CONTROL_ERROR = 0x3   # the peer broke flow control
SETTINGS_TIMEOUT = 0x4     # a SETTINGS went unacknowledged
STREAM_CLOSED = 0x5        # a frame for a half-closed stream
FRAME_SIZE_ERROR = 0x6     # a frame of the wrong size
REFUSED_STREAM = 0x7       # the stream was refused before any processing
CANCEL = 0x8               # the stream is no longer needed
COMPRESSION_ERROR = 0x9    # the field-block compression state is lost
CONNECT_ERROR = 0xa        # a CONNECT tunnel failed
ENHANCE_YOUR_CALM = 0xb    # the peer behaves in a way that costs too much
INADEQUATE_SECURITY = 0xc  # the TLS parameters are too weak
HTTP_1_1_REQUIRED = 0xd    # use HTTP/1.1 for this request

ERROR_CODES = {name: value for name, value in globals().items()
               if name.isupper() and isinstance(value, int)}
ERROR_NAMES = {code: name for name, code in ERROR_CODES.items()}


class ConnectionError(Exception):
    """A fault that ends the whole connection: GOAWAY with ``code`` (§5.4.1)."""

    def __init__(self, code, detail=""):
        Exception.__init__(self, "%s: %s" % (ERROR_NAMES.get(code, code), detail))
        self.code = code
        self.detail = detail


class StreamError(Exception):
    """A fault that ends one stream: RST_STREAM with ``code`` (§5.4.2)."""

    def __init__(self, code, streamId, detail=""):
        Exception.__init__(self, "%s on stream %d: %s"
                           % (ERROR_NAMES.get(code, code), streamId, detail))
        self.code = code
        self.streamId = streamId
        self.detail = detail


# -- flags (§6) ----------------------------------------------------------------------
END_STREAM = 0x1
ACK = 0x1
END_HEADERS = 0x4
PADDED = 0x8
PRIORITY_FLAG = 0x20

# -- the frame types (§6) ---------------------------------------------------------------
#
# stream: "required" (a stream id of 0 is a PROTOCOL_ERROR), "none" (a
# stream id other than 0 is a PROTOCOL_ERROR), or "either".
# length: the payload length the frame must have (None: any), and the error
# another length is: a connection error, except PRIORITY's, a stream one (§6.3).
FrameType = collections.namedtuple("FrameType", "code name flags stream length lengthError")

FRAME_TYPES = [
    FrameType(0x0, "DATA", {"END_STREAM": 0x1, "PADDED": 0x8}, "required", None, None),
    FrameType(0x1, "HEADERS", {"END_STREAM": 0x1, "END_HEADERS": 0x4, "PADDED": 0x8,
                               "PRIORITY": 0x20}, "required", None, None),
    FrameType(0x2, "PRIORITY", {}, "required", 5, "stream FRAME_SIZE_ERROR"),
    FrameType(0x3, "RST_STREAM", {}, "required", 4, "connection FRAME_SIZE_ERROR"),
    FrameType(0x4, "SETTINGS", {"ACK": 0x1}, "none", "6n", "connection FRAME_SIZE_ERROR"),
    FrameType(0x5, "PUSH_PROMISE", {"END_HEADERS": 0x4, "PADDED": 0x8}, "required",
              None, None),
    FrameType(0x6, "PING", {"ACK": 0x1}, "none", 8, "connection FRAME_SIZE_ERROR"),
    FrameType(0x7, "GOAWAY", {}, "none", "8+", "connection FRAME_SIZE_ERROR"),
    FrameType(0x8, "WINDOW_UPDATE", {}, "either", 4, "connection FRAME_SIZE_ERROR"),
    FrameType(0x9, "CONTINUATION", {"END_HEADERS": 0x4}, "required", None, None),
]
BY_CODE = {t.code: t for t in FRAME_TYPES}
BY_NAME = {t.name: t for t in FRAME_TYPES}

# -- SETTINGS parameters (§6.5.2) ----------------------------------------------------------
#
# low/high: the values allowed (None: no bound); error: what another value is
# (a connection error).  Unknown identifiers are ignored (§6.5.2).
Setting = collections.namedtuple("Setting", "id name default low high error")

SETTINGS = [
    Setting(0x1, "HEADER_TABLE_SIZE", 4096, 0, None, None),
    Setting(0x2, "ENABLE_PUSH", 1, 0, 1, PROTOCOL_ERROR),
    Setting(0x3, "MAX_CONCURRENT_STREAMS", None, 0, None, None),
    Setting(0x4, "INITIAL_WINDOW_SIZE", 65535, 0, 2 ** 31 - 1, FLOW_CONTROL_ERROR),
    Setting(0x5, "MAX_FRAME_SIZE", 16384, 16384, 16777215, PROTOCOL_ERROR),
    Setting(0x6, "MAX_HEADER_LIST_SIZE", None, 0, None, None),
]
SETTING_BY_ID = {s.id: s for s in SETTINGS}
SETTING_BY_NAME = {s.name: s for s in SETTINGS}

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"  # §3.4: a client's first 24 bytes
MAX_WINDOW = 2 ** 31 - 1  # §6.9.1: no window may grow beyond this
HEADER = struct.Struct(">I B I")  # the length and type share the first four bytes


class Frame:
    """One frame as received: ``kind`` (a FRAME_TYPES name, or None for a
    type this endpoint does not know), ``flags``, ``streamId``, ``length``
    (the whole payload, padding included: what flow control counts), and
    the fields its type carries (``data``, ``priority``, ``settings``,
    ``errorCode``, ``lastStreamId``, ``increment``, ``opaque``...)."""

    def __init__(self, kind, flags, streamId, length, **fields):
        self.kind = kind
        self.flags = flags
        self.streamId = streamId
        self.length = length
        self.data = b""
        self.priority = None
        self.__dict__.update(fields)

    def has(self, flag):
        return bool(self.flags & flag)

    def __repr__(self):
        return "<Frame %s flags=%#x stream=%d length=%d>" % (
            self.kind, self.flags, self.streamId, self.length)


def readFrame(buffer, maxFrameSize):
    """The first whole frame in ``buffer`` and the bytes after it:
    ``(Frame, rest)``, or ``(None, buffer)`` until it has all arrived.

    A frame longer than ``maxFrameSize`` (the SETTINGS_MAX_FRAME_SIZE we
    advertised) is refused from its header alone, before its payload is
    waited for (§4.2).
    """
    if len(buffer) < 9:
        return None, buffer
    lengthAndType, flags, streamId = HEADER.unpack_from(buffer)
    length, code = lengthAndType >> 8, lengthAndType & 0xff
    streamId &= 0x7fffffff  # §4.1: the reserved bit is ignored
    if length > maxFrameSize:
        raise ConnectionError(FRAME_SIZE_ERROR, "a frame of %d bytes (at most %d)"
                              % (length, maxFrameSize))
    if len(buffer) < 9 + length:
        return None, buffer
    payload, rest = bytes(buffer[9:9 + length]), buffer[9 + length:]
    frameType = BY_CODE.get(code)
    if frameType is None:
        return Frame(None, flags, streamId, length, code=code), rest  # §4.1: ignored
    _checkStream(frameType, streamId)
    try:
        _checkLength(frameType, streamId, flags, length)
        fields = PARSERS[frameType.name](flags, streamId, payload)
    except StreamError as exc:
        exc.rest = rest  # the frame is used up: the connection goes on after it
        raise
    return Frame(frameType.name, flags, streamId, length, **fields), rest


def _checkStream(frameType, streamId):
    if frameType.stream == "required" and streamId == 0:
        raise ConnectionError(PROTOCOL_ERROR, "%s on stream 0" % frameType.name)
    if frameType.stream == "none" and streamId != 0:
        raise ConnectionError(PROTOCOL_ERROR, "%s on stream %d" % (frameType.name, streamId))


def _checkLength(frameType, streamId, flags, length):
    rule = frameType.length
    if frameType.name == "SETTINGS" and flags & ACK:
        rule = 0  # §6.5: an acknowledgement carries nothing
    if rule is None or rule == length or (rule == "6n" and length % 6 == 0) \
            or (rule == "8+" and length >= 8):
        return
    detail = "%s with %d bytes of payload" % (frameType.name, length)
    if frameType.lengthError.startswith("stream"):
        raise StreamError(FRAME_SIZE_ERROR, streamId, detail)
    raise ConnectionError(FRAME_SIZE_ERROR, detail)


# -- the payload of each type ---------------------------------------------------------

def _unpad(flags, payload, fixed=0):
    """Strip the Pad Length byte and the padding (§6.1): the ``fixed`` bytes
    of fields after the Pad Length, and what is left of the payload."""
    if not flags & PADDED:
        return payload[:fixed], payload[fixed:]
    if not payload:
        raise ConnectionError(FRAME_SIZE_ERROR, "PADDED with no Pad Length")
    padLength, body = payload[0], payload[1:]
    if padLength > len(body) - fixed:
        raise ConnectionError(PROTOCOL_ERROR, "padding of %d bytes in a payload of %d"
                              % (padLength, len(payload)))
    return body[:fixed], body[fixed:len(body) - padLength]


def _priority(streamId, fields):
    """Exclusive flag, stream dependency, weight (§5.3.1, §6.3).  A stream
    that depends on itself is the connection's to refuse, once a HEADERS
    frame's block has been decoded (the HPACK tables must stay in step)."""
    dependency, weight = struct.unpack(">IB", fields)
    return bool(dependency >> 31), dependency & 0x7fffffff, weight + 1


def _parseData(flags, streamId, payload):
    return {"data": _unpad(flags, payload)[1]}


def _parseHeaders(flags, streamId, payload):
    fixed = 5 if flags & PRIORITY_FLAG else 0
    if len(payload) < fixed:
        raise ConnectionError(FRAME_SIZE_ERROR, "HEADERS too short for its priority")
    fields, block = _unpad(flags, payload, fixed)
    priority = _priority(streamId, fields) if fixed else None
    return {"data": block, "priority": priority}


def _parsePriority(flags, streamId, payload):
    priority = _priority(streamId, payload)
    if priority[1] == streamId:
        raise StreamError(PROTOCOL_ERROR, streamId, "a stream cannot depend on itself")
    return {"priority": priority}


def _parseRstStream(flags, streamId, payload):
    return {"errorCode": struct.unpack(">I", payload)[0]}


def _parseSettings(flags, streamId, payload):
    """[(identifier, value)] in order; each value checked against SETTINGS."""
    settings = []
    for offset in range(0, len(payload), 6):
        ident, value = struct.unpack_from(">HI", payload, offset)
        setting = SETTING_BY_ID.get(ident)
        if setting is not None and setting.error is not None and \
                not setting.low <= value <= setting.high:
            raise ConnectionError(setting.error, "%s = %d" % (setting.name, value))
        settings.append((ident, value))
    return {"settings": settings}


def _parsePushPromise(flags, streamId, payload):
    if len(payload) < 4:
        raise ConnectionError(FRAME_SIZE_ERROR, "PUSH_PROMISE too short")
    promised, block = _unpad(flags, payload, 4)
    return {"promisedStreamId": struct.unpack(">I", promised)[0] & 0x7fffffff,
            "data": block}


def _parsePing(flags, streamId, payload):
    return {"opaque": payload}


def _parseGoaway(flags, streamId, payload):
    lastStreamId, code = struct.unpack_from(">II", payload)
    return {"lastStreamId": lastStreamId & 0x7fffffff, "errorCode": code,
            "debug": payload[8:]}


def _parseWindowUpdate(flags, streamId, payload):
    increment = struct.unpack(">I", payload)[0] & 0x7fffffff
    if increment == 0:  # §6.9: an increment of 0 is an error, on the level it names
        if streamId:
            raise StreamError(PROTOCOL_ERROR, streamId, "WINDOW_UPDATE of 0")
        raise ConnectionError(PROTOCOL_ERROR, "WINDOW_UPDATE of 0")
    return {"increment": increment}


def _parseContinuation(flags, streamId, payload):
    return {"data": payload}


PARSERS = {
    "DATA": _parseData, "HEADERS": _parseHeaders, "PRIORITY": _parsePriority,
    "RST_STREAM": _parseRstStream, "SETTINGS": _parseSettings,
    "PUSH_PROMISE": _parsePushPromise, "PING": _parsePing, "GOAWAY": _parseGoaway,
    "WINDOW_UPDATE": _parseWindowUpdate, "CONTINUATION": _parseContinuation,
}


# -- builders: the frames a server sends ------------------------------------------------

def frame(kind, flags, streamId, payload=b""):
    """The bytes of one frame of type ``kind`` (a FRAME_TYPES name or a code)."""
    code = BY_NAME[kind].code if isinstance(kind, str) else kind
    return HEADER.pack(len(payload) << 8 | code, flags, streamId) + payload


def settingsFrame(settings):
    """SETTINGS with ``settings``: {name or id: value}, in the table's order."""
    payload = b""
    for key, value in settings.items():
        ident = SETTING_BY_NAME[key].id if isinstance(key, str) else key
        payload += struct.pack(">HI", ident, value)
    return frame("SETTINGS", 0, 0, payload)


def settingsAck():
    return frame("SETTINGS", ACK, 0)


def headersFrame(streamId, block, endStream, maxFrameSize=16384):
    """HEADERS carrying a field block, split into CONTINUATION frames where
    it is longer than the peer's maximum frame size (§6.10)."""
    pieces = [block[i:i + maxFrameSize] for i in range(0, len(block), maxFrameSize)] or [b""]
    flags = END_STREAM if endStream else 0
    out = []
    for index, piece in enumerate(pieces):
        last = END_HEADERS if index == len(pieces) - 1 else 0
        if index == 0:
            out.append(frame("HEADERS", flags | last, streamId, piece))
        else:
            out.append(frame("CONTINUATION", last, streamId, piece))
    return b"".join(out)


def dataFrame(streamId, data, endStream=False):
    return frame("DATA", END_STREAM if endStream else 0, streamId, data)


def windowUpdateFrame(streamId, increment):
    return frame("WINDOW_UPDATE", 0, streamId, struct.pack(">I", increment))


def pingFrame(opaque, ack=False):
    return frame("PING", ACK if ack else 0, 0, opaque)


def rstStreamFrame(streamId, code):
    return frame("RST_STREAM", 0, streamId, struct.pack(">I", code))


def goawayFrame(lastStreamId, code, debug=b""):
    return frame("GOAWAY", 0, 0, struct.pack(">II", lastStreamId, code) + debug)
