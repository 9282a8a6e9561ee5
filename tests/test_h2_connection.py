"""refweb.h2.connection (and h2.fields): the sans-I/O HTTP/2 server connection.

Every connection error it can raise, the stream states of RFC 9113 §5.1,
flow control on both levels, and each limit of ``LIMITS`` (the attacks).
"""

import struct

import pytest

import h2support
from h2support import block, headers, opening, readAll, request
from refweb.h2 import frames
from refweb.h2.connection import (
    ConnectionClosed, DataReceived, GoAwayReceived, H2Connection, RequestReceived,
    StreamEnded, StreamReset, WindowOpened, LIMITS, PREFACE)
from refweb.h2.frames import frame


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def server(settings=None, **limits):
    """A connection past the preface and both SETTINGS, nothing left to send."""
    conn = H2Connection(limits=limits, clock=Clock())
    conn.initiate()
    assert conn.receive(opening(settings)) == []
    conn.dataToSend()
    return conn


def sent(conn):
    return readAll(conn.dataToSend())


def assertClosed(conn, data, code):
    """``data`` ends the connection with a GOAWAY carrying ``code``."""
    events = conn.receive(data)
    assert events[-1] == ConnectionClosed(code), events
    goaway = [f for f in sent(conn) if f.kind == "GOAWAY"]
    assert [f.errorCode for f in goaway] == [code]
    assert conn.receive(frames.pingFrame(b"12345678")) == []  # nothing more is read
    assert conn.dataToSend() == b""


def assertReset(conn, data, streamId, code):
    """``data`` resets stream ``streamId`` with ``code``; the connection goes on."""
    conn.receive(data)
    resets = [(f.streamId, f.errorCode) for f in sent(conn) if f.kind == "RST_STREAM"]
    assert resets == [(streamId, code)]
    assert conn.state != "closed"


def openStream(conn, streamId=1, extra=(), endStream=False):
    events = conn.receive(headers(streamId, request(extra=extra), endStream=endStream))
    assert events[0].streamId == streamId and isinstance(events[0], RequestReceived)
    return events


# -- the preface and SETTINGS -----------------------------------------------------------------

def test_initiate_sends_our_settings():
    """initiate() queues a SETTINGS with our limits: push off, 100 streams."""
    conn = H2Connection()
    conn.initiate()
    (settings,) = sent(conn)
    values = dict(settings.settings)
    assert values[frames.SETTING_BY_NAME["ENABLE_PUSH"].id] == 0
    assert values[frames.SETTING_BY_NAME["MAX_CONCURRENT_STREAMS"].id] == 100


def test_preface_in_pieces():
    """The client's preface may arrive a byte at a time."""
    conn = H2Connection()
    data = opening()
    for i in range(len(data)):
        assert conn.receive(data[i:i + 1]) == []
    assert [f.kind for f in sent(conn)] == ["SETTINGS"]  # the ACK


def test_bad_preface_is_protocol_error():
    """Bytes other than the 24-byte preface: PROTOCOL_ERROR (§3.4)."""
    assertClosed(H2Connection(), b"GET / HTTP/1.1\r\n\r\n", frames.PROTOCOL_ERROR)


def test_first_frame_not_settings_is_protocol_error():
    """The client's first frame after the preface must be SETTINGS (§3.4)."""
    assertClosed(H2Connection(), PREFACE + frames.pingFrame(b"12345678"), frames.PROTOCOL_ERROR)


def test_first_frame_settings_ack_is_protocol_error():
    """A SETTINGS ACK is not the SETTINGS the preface needs."""
    assertClosed(H2Connection(), PREFACE + frames.settingsAck(), frames.PROTOCOL_ERROR)


def test_settings_acknowledged_and_applied():
    """A client's SETTINGS is acknowledged, and its MAX_FRAME_SIZE used."""
    conn = server()
    conn.receive(frames.settingsFrame({"MAX_FRAME_SIZE": 20000}))
    assert [f.has(frames.ACK) for f in sent(conn)] == [True]
    assert conn.peerMaxFrameSize == 20000


@pytest.mark.parametrize("name,value,code", [
    ("ENABLE_PUSH", 2, frames.PROTOCOL_ERROR),
    ("INITIAL_WINDOW_SIZE", 2 ** 31, frames.FLOW_CONTROL_ERROR),
    ("MAX_FRAME_SIZE", 100, frames.PROTOCOL_ERROR),
])
def test_bad_setting_is_connection_error(name, value, code):
    """A setting out of its bounds ends the connection with its row's error (§6.5.2)."""
    assertClosed(server(), frames.settingsFrame({name: value}), code)


def test_settings_ack_with_payload_is_frame_size_error():
    """SETTINGS with ACK and a payload: FRAME_SIZE_ERROR (§6.5)."""
    assertClosed(server(), frame("SETTINGS", frames.ACK, 0, b"\x00" * 6),
                 frames.FRAME_SIZE_ERROR)


def test_frame_beyond_max_frame_size_is_frame_size_error():
    """A frame longer than the 16384 bytes we allow: FRAME_SIZE_ERROR (§4.2)."""
    assertClosed(server(), frame("DATA", 0, 1, b"x" * 16385), frames.FRAME_SIZE_ERROR)


def test_ping_answered():
    """A PING is answered with the same 8 bytes and ACK (§6.7); a PING ACK needs nothing."""
    conn = server()
    conn.receive(frames.pingFrame(b"abcdefgh") + frames.pingFrame(b"zzzzzzzz", ack=True))
    (reply,) = sent(conn)
    assert reply.opaque == b"abcdefgh" and reply.has(frames.ACK)


def test_goaway_from_client_reported():
    """A client's GOAWAY becomes GoAwayReceived; open streams may finish."""
    conn = server()
    openStream(conn)
    assert conn.receive(frames.goawayFrame(1, frames.NO_ERROR)) == [GoAwayReceived(1, 0)]
    assert 1 in conn.streams


def test_goaway_from_us():
    """goAway() queues a GOAWAY naming the last stream the client opened."""
    conn = server()
    openStream(conn, 3)
    conn.goAway()
    (goaway,) = sent(conn)
    assert (goaway.kind, goaway.lastStreamId, goaway.errorCode) == ("GOAWAY", 3, 0)


def test_unknown_frame_and_priority_ignored():
    """An unknown frame type and PRIORITY change nothing (§4.1, §5.3.2)."""
    conn = server()
    data = frame(0x42, 0, 0, b"???") + frame("PRIORITY", 0, 9, struct.pack(">IB", 0, 1))
    assert conn.receive(data) == []
    assert conn.dataToSend() == b""


def test_push_promise_from_client_is_protocol_error():
    """A client cannot push: PUSH_PROMISE is a PROTOCOL_ERROR (§8.4)."""
    conn = server()
    openStream(conn)
    assertClosed(conn, frame("PUSH_PROMISE", frames.END_HEADERS, 1, b"\x00\x00\x00\x02"),
                 frames.PROTOCOL_ERROR)


# -- header blocks and CONTINUATION -----------------------------------------------------------

def test_request_received_with_its_fields():
    """A HEADERS frame with END_STREAM is a whole request: RequestReceived, StreamEnded."""
    conn = server()
    events = conn.receive(headers(1, request("/a")))
    assert events == [RequestReceived(1, request("/a"), True), StreamEnded(1)]


def test_header_block_in_continuations():
    """A block in HEADERS + CONTINUATION pieces is decoded once whole (§6.10)."""
    conn = server()
    data = block(request("/x"))
    pieces = frame("HEADERS", frames.END_STREAM, 1, data[:5]) \
        + frame("CONTINUATION", 0, 1, data[5:9]) \
        + frame("CONTINUATION", frames.END_HEADERS, 1, data[9:])
    assert conn.receive(pieces)[0] == RequestReceived(1, request("/x"), True)


def test_header_block_interrupted_is_protocol_error():
    """Any frame between a block's pieces is a PROTOCOL_ERROR (§6.10)."""
    conn = server()
    data = frame("HEADERS", 0, 1, block(request())) + frames.pingFrame(b"12345678")
    assertClosed(conn, data, frames.PROTOCOL_ERROR)


def test_continuation_on_another_stream_is_protocol_error():
    """A CONTINUATION for another stream interrupts the block: PROTOCOL_ERROR."""
    conn = server()
    data = frame("HEADERS", 0, 1, block(request())) + frame("CONTINUATION", 4, 3, b"")
    assertClosed(conn, data, frames.PROTOCOL_ERROR)


def test_continuation_without_headers_is_protocol_error():
    """A CONTINUATION that continues nothing: PROTOCOL_ERROR (§6.10)."""
    conn = server()
    openStream(conn)
    assertClosed(conn, frame("CONTINUATION", frames.END_HEADERS, 1, b""), frames.PROTOCOL_ERROR)


def test_undecodable_block_is_compression_error():
    """A block the HPACK decoder cannot read: COMPRESSION_ERROR (§4.3)."""
    assertClosed(server(), frame("HEADERS", 5, 1, b"\x00\x7f"), frames.COMPRESSION_ERROR)


# -- stream ids and states (§5.1) -------------------------------------------------------------

def test_even_stream_id_is_protocol_error():
    """A client's streams are odd (§5.1.1)."""
    assertClosed(server(), headers(2, request()), frames.PROTOCOL_ERROR)


def test_data_on_idle_stream_is_protocol_error():
    """DATA on a stream never opened: PROTOCOL_ERROR (§5.1 idle)."""
    assertClosed(server(), frames.dataFrame(1, b"x"), frames.PROTOCOL_ERROR)


def test_window_update_on_idle_stream_is_protocol_error():
    """WINDOW_UPDATE on an idle stream: PROTOCOL_ERROR (§5.1 idle)."""
    assertClosed(server(), frames.windowUpdateFrame(1, 5), frames.PROTOCOL_ERROR)


def test_rst_stream_on_idle_stream_is_protocol_error():
    """RST_STREAM on an idle stream: PROTOCOL_ERROR (§6.4)."""
    assertClosed(server(), frames.rstStreamFrame(1, frames.CANCEL), frames.PROTOCOL_ERROR)


def test_headers_on_a_closed_stream_is_stream_closed():
    """A new HEADERS on a finished stream, or on a lower id than the last
    (implicitly closed, §5.1.1): STREAM_CLOSED."""
    conn = server()
    openStream(conn, 5, endStream=True)
    conn.sendHeaders(5, [(":status", "200")], endStream=True)
    assertClosed(conn, headers(3, request()), frames.STREAM_CLOSED)


def test_data_after_end_stream_is_stream_closed():
    """DATA on a half-closed (remote) stream: stream error STREAM_CLOSED (§5.1)."""
    conn = server()
    openStream(conn, 1, endStream=True)
    events = conn.receive(frames.dataFrame(1, b"late"))
    assert events == [StreamReset(1, frames.STREAM_CLOSED)]
    kinds = {f.kind: f for f in sent(conn)}
    assert kinds["RST_STREAM"].errorCode == frames.STREAM_CLOSED
    assert kinds["WINDOW_UPDATE"].increment == 4  # the connection window is given back


def test_stream_goes_through_its_states():
    """open -> half-closed (remote) on the client's END_STREAM -> closed on ours."""
    conn = server()
    openStream(conn)
    assert conn.streams[1].state == "open"
    assert conn.receive(frames.dataFrame(1, b"body", endStream=True)) == \
        [DataReceived(1, b"body"), StreamEnded(1)]
    assert conn.streams[1].state == "half-closed (remote)"
    conn.sendHeaders(1, [(":status", "200")])
    conn.endStream(1)
    assert 1 not in conn.streams
    assert [(f.kind, f.has(frames.END_STREAM)) for f in sent(conn)] == \
        [("HEADERS", False), ("DATA", True)]


def test_half_closed_local_still_receives():
    """After our END_STREAM the client may still send its body (half-closed local)."""
    conn = server()
    openStream(conn)
    conn.sendHeaders(1, [(":status", "200")], endStream=True)
    assert conn.streams[1].state == "half-closed (local)"
    assert conn.receive(frames.dataFrame(1, b"b", endStream=True))[-1] == StreamEnded(1)
    assert 1 not in conn.streams


def test_client_reset_reported():
    """RST_STREAM from the client: StreamReset, the stream gone, nothing more sent on it."""
    conn = server()
    openStream(conn)
    assert conn.receive(frames.rstStreamFrame(1, frames.CANCEL)) == [StreamReset(1, 8)]
    assert conn.sendData(1, b"x") == 0
    assert conn.dataToSend() == b""


def test_frames_after_our_reset_ignored():
    """After we reset a stream, the client's frames in flight are ignored (§5.1),
    DATA still given back to the connection window."""
    conn = server()
    openStream(conn)
    conn.resetStream(1, frames.CANCEL)
    assert [f.kind for f in sent(conn)] == ["RST_STREAM"]
    assert conn.receive(frames.dataFrame(1, b"abc")) == []
    assert [(f.kind, f.streamId, f.increment) for f in sent(conn)] == [("WINDOW_UPDATE", 0, 3)]


def test_trailers_end_the_stream():
    """A second HEADERS with END_STREAM (trailers) ends the request."""
    conn = server()
    openStream(conn)
    assert conn.receive(headers(1, [("x-checksum", "1")])) == [StreamEnded(1)]


def test_headers_depending_on_itself_is_stream_error():
    """A HEADERS whose priority names its own stream: stream PROTOCOL_ERROR (§5.3.1)."""
    data = struct.pack(">IB", 1, 0) + block(request())
    conn = server()
    assertReset(conn, frame("HEADERS", 5 | frames.PRIORITY_FLAG, 1, data), 1,
                frames.PROTOCOL_ERROR)
    openStream(conn, 3)  # the HPACK state stayed in step


# -- malformed requests (§8.2, §8.3): stream errors ------------------------------------------

MALFORMED = {
    "uppercase name": request(extra=[("X-Big", "1")]),
    "connection field": request(extra=[("connection", "keep-alive")]),
    "transfer-encoding": request(extra=[("transfer-encoding", "chunked")]),
    "upgrade": request(extra=[("upgrade", "h2c")]),
    "te other than trailers": request(extra=[("te", "gzip")]),
    "pseudo after regular": [("accept", "*/*")] + request(),
    "unknown pseudo": request()[:1] + [(":status", "200")] + request()[1:],
    "pseudo twice": request()[:3] + [(":path", "/again")],
    "no path": [f for f in request() if f[0] != ":path"],
    "empty path": [(":method", "GET"), (":scheme", "http"), (":path", "")],
    "CONNECT with a path": [(":method", "CONNECT"), (":authority", "a:1"), (":path", "/")],
    "value with newline": request(extra=[("x", "a\nb")]),
    "value with leading space": request(extra=[("x", " a")]),
    "colon inside a name": request(extra=[("x:y", "1")]),
    "two content-lengths": request(extra=[("content-length", "1"), ("content-length", "2")]),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_request_is_stream_protocol_error(case):
    """Each broken rule of §8.2–§8.3 resets that stream only (PROTOCOL_ERROR)."""
    conn = server()
    assertReset(conn, headers(1, MALFORMED[case]), 1, frames.PROTOCOL_ERROR)
    openStream(conn, 3)  # others are served


def test_te_trailers_and_connect_allowed():
    """TE: trailers is allowed, and CONNECT with :method and :authority only."""
    conn = server()
    openStream(conn, 1, extra=[("te", "trailers")])
    events = conn.receive(headers(3, [(":method", "CONNECT"), (":authority", "a:443")], False))
    assert events[0].streamId == 3


def test_content_length_longer_than_body_is_stream_error():
    """DATA adding up to less than Content-Length by END_STREAM: stream PROTOCOL_ERROR."""
    conn = server()
    openStream(conn, extra=[("content-length", "10")])
    assertReset(conn, frames.dataFrame(1, b"short", endStream=True), 1, frames.PROTOCOL_ERROR)


def test_content_length_shorter_than_body_is_stream_error():
    """DATA beyond Content-Length: stream PROTOCOL_ERROR, at once."""
    conn = server()
    openStream(conn, extra=[("content-length", "2")])
    assertReset(conn, frames.dataFrame(1, b"toolong"), 1, frames.PROTOCOL_ERROR)


def test_content_length_with_no_body_is_stream_error():
    """HEADERS with END_STREAM and a Content-Length above 0: stream PROTOCOL_ERROR."""
    conn = server()
    assertReset(conn, headers(1, request(extra=[("content-length", "3")])), 1,
                frames.PROTOCOL_ERROR)


def test_trailers_without_end_stream_is_stream_error():
    """A second HEADERS must end the stream (§8.1)."""
    conn = server()
    openStream(conn)
    assertReset(conn, headers(1, [("x", "1")], endStream=False), 1, frames.PROTOCOL_ERROR)


def test_pseudo_field_in_trailers_is_stream_error():
    """Trailers carry no pseudo-fields (§8.1)."""
    conn = server()
    openStream(conn)
    assertReset(conn, headers(1, [(":path", "/")]), 1, frames.PROTOCOL_ERROR)


# -- flow control (§5.2, §6.9) ----------------------------------------------------------------

def test_send_limited_by_stream_window():
    """sendData queues no more than the stream's window; a WINDOW_UPDATE opens it again."""
    conn = server({"INITIAL_WINDOW_SIZE": 10})
    openStream(conn)
    assert conn.sendData(1, b"x" * 25) == 10
    assert conn.sendData(1, b"x" * 15) == 0
    assert conn.receive(frames.windowUpdateFrame(1, 20)) == [WindowOpened(1)]
    assert conn.sendData(1, b"x" * 15, endStream=True) == 15
    assert [len(f.data) for f in sent(conn) if f.kind == "DATA"] == [10, 15]


def test_send_limited_by_connection_window():
    """Two streams share the connection's 65535 bytes (§6.9.1)."""
    conn = server({"INITIAL_WINDOW_SIZE": 100000})
    openStream(conn, 1)
    openStream(conn, 3)
    assert conn.sendData(1, b"x" * 60000) == 60000
    assert conn.sendData(3, b"x" * 60000) == 5535
    assert conn.receive(frames.windowUpdateFrame(0, 100)) == [WindowOpened(0)]
    assert conn.sendData(3, b"x" * 60000) == 100


def test_data_split_at_peer_max_frame_size():
    """DATA frames are no longer than the client's MAX_FRAME_SIZE; END_STREAM on the last."""
    conn = server()
    openStream(conn)
    assert conn.sendData(1, b"x" * 40000, endStream=True) == 40000
    assert [(len(f.data), f.has(frames.END_STREAM)) for f in sent(conn)] == \
        [(16384, False), (16384, False), (7232, True)]


def test_end_stream_waits_for_the_last_byte():
    """When only part of the data fits, END_STREAM is not sent with it."""
    conn = server({"INITIAL_WINDOW_SIZE": 20000})
    openStream(conn)
    assert conn.sendData(1, b"x" * 30000, endStream=True) == 20000
    assert not any(f.has(frames.END_STREAM) for f in sent(conn))
    assert conn.streams[1].state == "open"


def test_initial_window_change_adjusts_open_streams():
    """A new INITIAL_WINDOW_SIZE changes open streams' windows by the difference,
    even below zero (§6.9.2)."""
    conn = server()
    openStream(conn)
    conn.sendData(1, b"x" * 1000)
    conn.receive(frames.settingsFrame({"INITIAL_WINDOW_SIZE": 500}))
    assert conn.streams[1].sendWindow == -500
    assert conn.sendData(1, b"x") == 0
    assert conn.receive(frames.settingsFrame({"INITIAL_WINDOW_SIZE": 2000})) == [WindowOpened(0)]
    assert conn.sendData(1, b"x" * 5000) == 1000


def test_initial_window_overflow_is_flow_control_error():
    """An INITIAL_WINDOW_SIZE that pushes a stream's window past 2^31-1: FLOW_CONTROL_ERROR."""
    conn = server()
    openStream(conn)
    conn.receive(frames.windowUpdateFrame(1, 2 ** 31 - 1 - 65535))
    assertClosed(conn, frames.settingsFrame({"INITIAL_WINDOW_SIZE": 65536}),
                 frames.FLOW_CONTROL_ERROR)


def test_connection_window_overflow_is_flow_control_error():
    """A WINDOW_UPDATE past 2^31-1 on the connection: FLOW_CONTROL_ERROR (§6.9.1)."""
    assertClosed(server(), frames.windowUpdateFrame(0, 2 ** 31 - 1), frames.FLOW_CONTROL_ERROR)


def test_stream_window_overflow_is_stream_error():
    """A WINDOW_UPDATE past 2^31-1 on a stream: stream FLOW_CONTROL_ERROR (§6.9.1)."""
    conn = server()
    openStream(conn)
    assertReset(conn, frames.windowUpdateFrame(1, 2 ** 31 - 1), 1, frames.FLOW_CONTROL_ERROR)


def test_window_update_of_zero():
    """An increment of 0: stream error on a stream, connection error on stream 0 (§6.9)."""
    conn = server()
    openStream(conn)
    assertReset(conn, frames.windowUpdateFrame(1, 0), 1, frames.PROTOCOL_ERROR)
    assertClosed(conn, frames.windowUpdateFrame(0, 0), frames.PROTOCOL_ERROR)


def test_data_beyond_connection_window_is_flow_control_error():
    """A client sending more than our connection window: FLOW_CONTROL_ERROR."""
    conn = server()
    for streamId in (1, 3, 5, 7, 9):
        openStream(conn, streamId)
    data = b"".join(frames.dataFrame(s, b"x" * 16000) for s in (1, 3, 5, 7))
    assert conn.receive(data)  # 64000 bytes fit
    assertClosed(conn, frames.dataFrame(9, b"x" * 2000), frames.FLOW_CONTROL_ERROR)


def test_data_beyond_stream_window_is_stream_error():
    """A stream sent more than its window: stream FLOW_CONTROL_ERROR, the
    connection window given back."""
    conn = server()
    openStream(conn)
    conn.receiveWindow = 10 ** 6  # as if the connection window had been opened wide
    data = b"".join(frames.dataFrame(1, b"x" * 16000) for _ in range(4))
    conn.receive(data)
    conn.dataToSend()
    conn.receive(frames.dataFrame(1, b"x" * 2000))
    assert [(f.kind, f.streamId) for f in sent(conn)] == [("WINDOW_UPDATE", 0), ("RST_STREAM", 1)]


def test_acknowledge_opens_both_windows():
    """acknowledge(n) sends WINDOW_UPDATE n for the connection and the stream."""
    conn = server()
    openStream(conn)
    conn.receive(frames.dataFrame(1, b"x" * 100))
    conn.acknowledge(1, 100)
    assert [(f.streamId, f.increment) for f in sent(conn)] == [(0, 100), (1, 100)]
    assert conn.receiveWindow == 65535 and conn.streams[1].receiveWindow == 65535


def test_padding_given_back_at_once():
    """The padding of a DATA frame counts against the windows but is ours to
    discard: it is given back at once."""
    conn = server()
    openStream(conn)
    events = conn.receive(frame("DATA", frames.PADDED, 1, b"\x04ab\x00\x00\x00\x00"))
    assert events == [DataReceived(1, b"ab")]
    assert [(f.streamId, f.increment) for f in sent(conn)] == [(0, 5), (1, 5)]


def test_response_headers_split_into_continuations():
    """A response block longer than the client's frame size goes out in
    HEADERS + CONTINUATION."""
    conn = server()
    openStream(conn)
    conn.sendHeaders(1, [(":status", "200"), ("x-big", "v" * 20000)])
    assert [f.kind for f in sent(conn)] == ["HEADERS", "CONTINUATION"]


# -- limits and attacks ----------------------------------------------------------------------

def test_limits_table_names_what_happens_beyond():
    """Every limit has a bound and says what happens beyond it."""
    assert {limit.name for limit in LIMITS} >= {
        "maxConcurrentStreams", "maxHeaderListSize", "headerTableSize", "maxHeaderBlockBytes",
        "resetsPerSecond", "settingsPerSecond", "pingsPerSecond", "emptyFramesPerSecond"}
    assert all(limit.value > 0 and limit.beyond for limit in LIMITS)


def test_concurrent_streams_beyond_limit_refused():
    """The stream beyond MAX_CONCURRENT_STREAMS is refused (REFUSED_STREAM);
    once one ends, a new one is taken."""
    conn = server(maxConcurrentStreams=2)
    openStream(conn, 1)
    openStream(conn, 3)
    assertReset(conn, headers(5, request()), 5, frames.REFUSED_STREAM)
    conn.receive(frames.rstStreamFrame(1, frames.CANCEL))
    openStream(conn, 7)


def test_header_list_beyond_limit_is_compression_error():
    """A header list beyond MAX_HEADER_LIST_SIZE: the decoder refuses it mid-block,
    so the connection ends (COMPRESSION_ERROR)."""
    conn = server(maxHeaderListSize=200)
    assertClosed(conn, headers(1, request(extra=[("x", "v" * 300)])), frames.COMPRESSION_ERROR)


def test_table_size_update_beyond_limit_is_compression_error():
    """A dynamic table size update above our HEADER_TABLE_SIZE: COMPRESSION_ERROR."""
    data = h2support.tableSizeUpdate(8192) + block(request())
    assertClosed(server(), frame("HEADERS", 5, 1, data), frames.COMPRESSION_ERROR)


def test_continuation_flood_is_enhance_your_calm():
    """A block whose pieces grow beyond maxHeaderBlockBytes ends the
    connection before it is decoded (the 2024 CONTINUATION floods)."""
    conn = server(maxHeaderBlockBytes=1000)
    data = frame("HEADERS", 0, 1, block(request())) + \
        b"".join(frame("CONTINUATION", 0, 1, b"\x00" * 100) for _ in range(10))
    assertClosed(conn, data, frames.ENHANCE_YOUR_CALM)


def test_empty_continuation_flood_is_enhance_your_calm():
    """Empty CONTINUATION frames, which cost work and carry nothing, are counted."""
    conn = server(emptyFramesPerSecond=10)
    data = frame("HEADERS", 0, 1, block(request())) + frame("CONTINUATION", 0, 1, b"") * 11
    assertClosed(conn, data, frames.ENHANCE_YOUR_CALM)


def test_rapid_reset_is_enhance_your_calm():
    """More streams reset by the client in a second than resetsPerSecond:
    GOAWAY ENHANCE_YOUR_CALM (CVE-2023-44487)."""
    conn = server(resetsPerSecond=5)
    data = b""
    for streamId in range(1, 13, 2):
        data += headers(streamId, request(), endStream=False)
        data += frames.rstStreamFrame(streamId, frames.CANCEL)
    assertClosed(conn, data, frames.ENHANCE_YOUR_CALM)


def test_resets_spread_over_time_allowed():
    """The reset budget is per second: the same resets a second apart are fine."""
    conn = server(resetsPerSecond=5)
    clock = conn._budgets["resetsPerSecond"].clock
    for streamId in range(1, 41, 2):
        conn.receive(headers(streamId, request(), endStream=False))
        conn.receive(frames.rstStreamFrame(streamId, frames.CANCEL))
        clock.now += 0.25
    assert conn.state == "open"


def test_refused_streams_count_as_resets():
    """Streams opened beyond the limit again and again count against the same budget."""
    conn = server(maxConcurrentStreams=1, resetsPerSecond=3)
    openStream(conn, 1)
    data = b"".join(headers(s, request()) for s in (3, 5, 7, 9))
    assertClosed(conn, data, frames.ENHANCE_YOUR_CALM)


def test_settings_flood_is_enhance_your_calm():
    """More SETTINGS a second than settingsPerSecond (each owed an ACK): ENHANCE_YOUR_CALM."""
    conn = server(settingsPerSecond=10)
    assertClosed(conn, frames.settingsFrame({}) * 11, frames.ENHANCE_YOUR_CALM)


def test_ping_flood_is_enhance_your_calm():
    """More PINGs a second than pingsPerSecond: ENHANCE_YOUR_CALM."""
    conn = server(pingsPerSecond=10)
    assertClosed(conn, frames.pingFrame(b"12345678") * 11, frames.ENHANCE_YOUR_CALM)


def test_empty_data_flood_is_enhance_your_calm():
    """Empty DATA frames without END_STREAM, beyond emptyFramesPerSecond: ENHANCE_YOUR_CALM."""
    conn = server(emptyFramesPerSecond=10)
    openStream(conn)
    assertClosed(conn, frames.dataFrame(1, b"") * 11, frames.ENHANCE_YOUR_CALM)


def test_body_refused_for_its_length_gives_the_window_back():
    """DATA refused for breaking Content-Length is given back to the
    connection window, which the application will never acknowledge."""
    conn = server()
    openStream(conn, extra=[("content-length", "2")])
    conn.receive(frames.dataFrame(1, b"toolong"))
    assert [(f.kind, f.streamId) for f in sent(conn)] == [("WINDOW_UPDATE", 0), ("RST_STREAM", 1)]
    assert conn.receiveWindow == 65535


def test_sending_on_a_stream_that_is_gone_sends_nothing():
    """sendHeaders and sendData on an unknown or closed stream queue nothing."""
    conn = server()
    conn.sendHeaders(7, [(":status", "200")])
    assert conn.sendData(7, b"x", endStream=True) == 0
    assert conn.dataToSend() == b""
