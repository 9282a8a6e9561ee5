"""refweb.h2.frames: every frame type parsed and built, every error its bytes can raise."""

import struct

import pytest

from refweb.h2 import frames
from refweb.h2.frames import ConnectionError, StreamError, readFrame

MAX = 16384


def parse(data, maxFrameSize=MAX):
    """The one frame ``data`` holds (nothing may be left over)."""
    frame, rest = readFrame(data, maxFrameSize)
    assert frame is not None and rest == b""
    return frame


def connectionError(data, code):
    with pytest.raises(ConnectionError) as info:
        readFrame(data, MAX)
    assert info.value.code == code, info.value


def test_tables_cover_every_frame_type_and_setting():
    """The frame table has the ten types of RFC 9113 §6 with codes 0..9, and
    the settings table the six parameters of §6.5.2."""
    assert [t.code for t in frames.FRAME_TYPES] == list(range(10))
    assert [s.id for s in frames.SETTINGS] == list(range(1, 7))
    assert frames.ERROR_CODES["ENHANCE_YOUR_CALM"] == 0xb
    assert len(frames.ERROR_CODES) == 14


def test_readFrame_incomplete_waits():
    """Fewer bytes than the header, or than the header's length says, is no frame yet."""
    data = frames.dataFrame(1, b"hello")
    for cut in (0, 5, 9, len(data) - 1):
        assert readFrame(data[:cut], MAX) == (None, data[:cut])


def test_readFrame_leaves_the_next_frame():
    """The bytes after the first frame come back as they are."""
    data = frames.pingFrame(b"12345678") + b"\x00\x00"
    frame, rest = readFrame(data, MAX)
    assert frame.kind == "PING" and rest == b"\x00\x00"


def test_readFrame_too_large_is_frame_size_error():
    """A frame longer than our SETTINGS_MAX_FRAME_SIZE is a FRAME_SIZE_ERROR (§4.2),
    known from its header alone."""
    header = frames.HEADER.pack((MAX + 1) << 8 | 0, 0, 1)
    connectionError(header, frames.FRAME_SIZE_ERROR)


def test_readFrame_reserved_bit_ignored():
    """The reserved bit of the stream id is ignored on receipt (§4.1)."""
    data = frames.HEADER.pack(0 << 8 | 0, 0, 0x80000003)
    assert parse(data).streamId == 3


def test_unknown_frame_type_is_ignored():
    """A frame of a type not in the table comes back as kind None, not an error (§4.1)."""
    frame = parse(frames.frame(0xfa, 0xff, 0, b"whatever"))
    assert frame.kind is None and frame.code == 0xfa


def test_data_parsed_and_built():
    """DATA carries its bytes and END_STREAM."""
    frame = parse(frames.dataFrame(5, b"body", endStream=True))
    assert (frame.kind, frame.streamId, frame.data, frame.has(frames.END_STREAM)) == \
        ("DATA", 5, b"body", True)


def test_data_padding_stripped_but_counted():
    """A PADDED frame's padding is dropped from the data, but its length
    (what flow control counts) is the whole payload (§6.1)."""
    frame = parse(frames.frame("DATA", frames.PADDED, 1, b"\x03abc\x00\x00\x00"))
    assert frame.data == b"abc" and frame.length == 7


def test_data_padding_too_long_is_protocol_error():
    """Padding as long as the payload or longer is a PROTOCOL_ERROR (§6.1)."""
    connectionError(frames.frame("DATA", frames.PADDED, 1, b"\x04abc"), frames.PROTOCOL_ERROR)


def test_data_padded_without_pad_length_is_error():
    """A PADDED frame with no byte for the Pad Length is malformed."""
    connectionError(frames.frame("DATA", frames.PADDED, 1, b""), frames.FRAME_SIZE_ERROR)


@pytest.mark.parametrize("kind", ["DATA", "HEADERS", "PRIORITY", "RST_STREAM",
                                  "PUSH_PROMISE", "CONTINUATION"])
def test_stream_frames_on_stream_zero_are_protocol_errors(kind):
    """Frames that belong to a stream must not come on stream 0 (§6)."""
    payload = {"PRIORITY": b"\x00" * 5, "RST_STREAM": b"\x00" * 4,
               "PUSH_PROMISE": b"\x00" * 4}.get(kind, b"")
    connectionError(frames.frame(kind, 0, 0, payload), frames.PROTOCOL_ERROR)


@pytest.mark.parametrize("kind,payload", [("SETTINGS", b""), ("PING", b"\x00" * 8),
                                          ("GOAWAY", b"\x00" * 8)])
def test_connection_frames_on_a_stream_are_protocol_errors(kind, payload):
    """SETTINGS, PING and GOAWAY belong to the connection: a stream id is a PROTOCOL_ERROR."""
    connectionError(frames.frame(kind, 0, 1, payload), frames.PROTOCOL_ERROR)


def test_headers_parsed_and_built():
    """HEADERS carries its field block and flags."""
    frame = parse(frames.headersFrame(1, b"block", endStream=True))
    assert frame.kind == "HEADERS" and frame.data == b"block"
    assert frame.has(frames.END_STREAM) and frame.has(frames.END_HEADERS)
    assert frame.priority is None


def test_headers_with_priority_and_padding():
    """HEADERS with PRIORITY and PADDED: the priority fields, then the block, then padding."""
    payload = b"\x02" + struct.pack(">IB", 0x80000003, 15) + b"blk" + b"\x00\x00"
    frame = parse(frames.frame("HEADERS", frames.PADDED | frames.PRIORITY_FLAG
                               | frames.END_HEADERS, 1, payload))
    assert frame.data == b"blk" and frame.priority == (True, 3, 16)


def test_headers_too_short_for_priority_is_frame_size_error():
    """A PRIORITY-flagged HEADERS shorter than its 5 priority bytes is a FRAME_SIZE_ERROR."""
    connectionError(frames.frame("HEADERS", frames.PRIORITY_FLAG, 1, b"\x00"),
                    frames.FRAME_SIZE_ERROR)


def test_headers_split_into_continuations():
    """A field block longer than the peer's maximum frame size goes in
    HEADERS then CONTINUATION frames; only the last has END_HEADERS (§6.10)."""
    data = frames.headersFrame(3, b"x" * 40000, endStream=False, maxFrameSize=MAX)
    kinds = []
    while data:
        frame, data = readFrame(data, MAX)
        kinds.append((frame.kind, frame.has(frames.END_HEADERS), len(frame.data)))
    assert kinds == [("HEADERS", False, MAX), ("CONTINUATION", False, MAX),
                     ("CONTINUATION", True, 40000 - 2 * MAX)]


def test_priority_parsed():
    """PRIORITY carries exclusive flag, dependency and weight (§6.3)."""
    frame = parse(frames.frame("PRIORITY", 0, 5, struct.pack(">IB", 1, 255)))
    assert frame.priority == (False, 1, 256)


def test_priority_wrong_length_is_stream_error():
    """A PRIORITY frame of other than 5 bytes is a stream FRAME_SIZE_ERROR (§6.3)."""
    with pytest.raises(StreamError) as info:
        readFrame(frames.frame("PRIORITY", 0, 5, b"\x00" * 4), MAX)
    assert (info.value.code, info.value.streamId) == (frames.FRAME_SIZE_ERROR, 5)


def test_priority_on_itself_is_stream_error():
    """A stream cannot depend on itself: stream PROTOCOL_ERROR (§5.3.1)."""
    with pytest.raises(StreamError) as info:
        readFrame(frames.frame("PRIORITY", 0, 5, struct.pack(">IB", 5, 0)), MAX)
    assert info.value.code == frames.PROTOCOL_ERROR


def test_stream_error_gives_the_bytes_after_the_frame():
    """A stream error uses up its frame: the exception carries the bytes after it."""
    with pytest.raises(StreamError) as info:
        readFrame(frames.windowUpdateFrame(3, 0) + b"next", MAX)
    assert info.value.rest == b"next"


def test_rst_stream_parsed_and_built():
    """RST_STREAM carries its error code."""
    frame = parse(frames.rstStreamFrame(7, frames.CANCEL))
    assert (frame.kind, frame.streamId, frame.errorCode) == ("RST_STREAM", 7, frames.CANCEL)


def test_rst_stream_wrong_length_is_frame_size_error():
    """RST_STREAM of other than 4 bytes is a connection FRAME_SIZE_ERROR (§6.4)."""
    connectionError(frames.frame("RST_STREAM", 0, 1, b"\x00" * 5), frames.FRAME_SIZE_ERROR)


def test_settings_parsed_and_built():
    """SETTINGS carries (identifier, value) pairs in order; unknown ones pass through."""
    data = frames.settingsFrame({"MAX_CONCURRENT_STREAMS": 100, 0x99: 7})
    frame = parse(data)
    assert frame.settings == [(3, 100), (0x99, 7)]
    assert parse(frames.settingsAck()).has(frames.ACK)


def test_settings_not_multiple_of_six_is_frame_size_error():
    """A SETTINGS payload that is not a multiple of 6 bytes is a FRAME_SIZE_ERROR (§6.5)."""
    connectionError(frames.frame("SETTINGS", 0, 0, b"\x00" * 7), frames.FRAME_SIZE_ERROR)


def test_settings_ack_with_payload_is_frame_size_error():
    """A SETTINGS ACK with a payload is a FRAME_SIZE_ERROR (§6.5)."""
    connectionError(frames.frame("SETTINGS", frames.ACK, 0, b"\x00" * 6),
                    frames.FRAME_SIZE_ERROR)


@pytest.mark.parametrize("name,value,code", [
    ("ENABLE_PUSH", 2, frames.PROTOCOL_ERROR),
    ("INITIAL_WINDOW_SIZE", 2 ** 31, frames.FLOW_CONTROL_ERROR),
    ("MAX_FRAME_SIZE", 16383, frames.PROTOCOL_ERROR),
    ("MAX_FRAME_SIZE", 16777216, frames.PROTOCOL_ERROR),
])
def test_settings_out_of_bounds(name, value, code):
    """A setting outside its bounds is the connection error its row names (§6.5.2)."""
    connectionError(frames.settingsFrame({name: value}), code)


def test_settings_at_bounds_accepted():
    """The bounds themselves are allowed."""
    frame = parse(frames.settingsFrame({"ENABLE_PUSH": 0, "INITIAL_WINDOW_SIZE": 2 ** 31 - 1,
                                        "MAX_FRAME_SIZE": 16777215}))
    assert len(frame.settings) == 3


def test_push_promise_parsed():
    """PUSH_PROMISE carries the promised stream id and a field block."""
    frame = parse(frames.frame("PUSH_PROMISE", frames.END_HEADERS, 1,
                               struct.pack(">I", 2) + b"blk"))
    assert (frame.promisedStreamId, frame.data) == (2, b"blk")


def test_push_promise_too_short_is_frame_size_error():
    """PUSH_PROMISE without room for its promised stream id is malformed."""
    connectionError(frames.frame("PUSH_PROMISE", 0, 1, b"\x00"), frames.FRAME_SIZE_ERROR)


def test_ping_parsed_and_built():
    """PING carries 8 opaque bytes; the ACK flag marks a reply."""
    frame = parse(frames.pingFrame(b"abcdefgh", ack=True))
    assert frame.opaque == b"abcdefgh" and frame.has(frames.ACK)


def test_ping_wrong_length_is_frame_size_error():
    """PING of other than 8 bytes is a FRAME_SIZE_ERROR (§6.7)."""
    connectionError(frames.frame("PING", 0, 0, b"1234567"), frames.FRAME_SIZE_ERROR)


def test_goaway_parsed_and_built():
    """GOAWAY carries the last stream id, an error code and debug data."""
    frame = parse(frames.goawayFrame(9, frames.ENHANCE_YOUR_CALM, b"calm down"))
    assert (frame.lastStreamId, frame.errorCode, frame.debug) == \
        (9, frames.ENHANCE_YOUR_CALM, b"calm down")


def test_goaway_too_short_is_frame_size_error():
    """GOAWAY shorter than 8 bytes is a FRAME_SIZE_ERROR (§6.8)."""
    connectionError(frames.frame("GOAWAY", 0, 0, b"\x00" * 7), frames.FRAME_SIZE_ERROR)


def test_window_update_parsed_and_built():
    """WINDOW_UPDATE carries its increment, on the connection or a stream."""
    assert parse(frames.windowUpdateFrame(0, 1000)).increment == 1000
    assert parse(frames.windowUpdateFrame(3, 2 ** 31 - 1)).increment == 2 ** 31 - 1


def test_window_update_zero_on_stream_is_stream_error():
    """An increment of 0 on a stream is a stream PROTOCOL_ERROR (§6.9)."""
    with pytest.raises(StreamError) as info:
        readFrame(frames.windowUpdateFrame(3, 0), MAX)
    assert (info.value.code, info.value.streamId) == (frames.PROTOCOL_ERROR, 3)


def test_window_update_zero_on_connection_is_connection_error():
    """An increment of 0 on stream 0 is a connection PROTOCOL_ERROR (§6.9)."""
    connectionError(frames.windowUpdateFrame(0, 0), frames.PROTOCOL_ERROR)


def test_window_update_wrong_length_is_frame_size_error():
    """WINDOW_UPDATE of other than 4 bytes is a FRAME_SIZE_ERROR (§6.9)."""
    connectionError(frames.frame("WINDOW_UPDATE", 0, 1, b"\x00" * 3), frames.FRAME_SIZE_ERROR)


def test_continuation_parsed():
    """CONTINUATION carries a piece of a field block."""
    frame = parse(frames.frame("CONTINUATION", frames.END_HEADERS, 1, b"more"))
    assert frame.data == b"more" and frame.has(frames.END_HEADERS)


def test_errors_carry_their_code_and_stream():
    """ConnectionError and StreamError say the code (and stream) to send."""
    exc = StreamError(frames.CANCEL, 3, "gone")
    assert (exc.code, exc.streamId) == (8, 3) and "CANCEL" in str(exc)
    assert ConnectionError(frames.NO_ERROR).code == 0
