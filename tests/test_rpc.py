"""Tests for refweb.rpc: the framing and message rules of the distrib protocol."""

import ast
import json
import os
import pickle
import socket
import threading
import time

import pytest

from refweb import rpc


def frame(kind, payload):
    return rpc.HEADER.pack(len(payload), ord(kind)) + payload


def decodeAll(data, chunk=None):
    decoder = rpc.FrameDecoder()
    if chunk is None:
        return decoder.feed(data)
    messages = []
    for i in range(0, len(data), chunk):
        messages.extend(decoder.feed(data[i:i + chunk]))
    return messages


REQUEST = {"type": "request", "method": "POST", "uri": "/a%20b?x=1", "clientproto": "HTTP/1.1",
           "prepath": ["me.refweb"], "postpath": ["a b", ""],
           "headers": [["Host", "example.com"], ["X-Two", "1"], ["X-Two", "2"]],
           "client": ["TCP", "127.0.0.1", 4242], "host": ["TCP", "example.com", 80], "secure": False}

EVERY_MESSAGE = [
    REQUEST,
    {"type": "end"},
    {"type": "head", "code": 404, "message": "Not Found", "headers": [["Set-Cookie", "a=1"]]},
    {"type": "finish"},
    {"type": "error", "code": 413, "message": "too big: é"},
]


@pytest.mark.parametrize("chunk", [None, 1, 7])
def test_every_message_type_round_trips(chunk):
    """Each message of MESSAGES decodes to what was encoded, however the bytes are split."""
    data = b"".join(rpc.encode(m) for m in EVERY_MESSAGE)
    assert decodeAll(data, chunk) == EVERY_MESSAGE


def test_frame_header_is_length_then_kind():
    """A frame is a 4-byte big-endian payload length, one kind byte, then the payload."""
    assert rpc.encode({"type": "data", "data": b"abc"}) == b"\x00\x00\x00\x03Dabc"
    assert rpc.encode({"type": "end"}) == b"\x00\x00\x00\x0eJ" + b'{"type":"end"}'


def test_body_bytes_travel_raw_and_split_into_chunks():
    """A large body becomes several raw "D" frames of at most DATA_CHUNK bytes, rejoined exactly."""
    body = os.urandom(3 * rpc.DATA_CHUNK + 5)
    frames = rpc.encodeData(body)
    assert len(frames) == 4
    assert all(len(f) <= rpc.HEADER.size + rpc.DATA_CHUNK for f in frames)
    messages = decodeAll(b"".join(frames), chunk=65536)
    assert [m["type"] for m in messages] == ["data"] * 4
    assert b"".join(m["data"] for m in messages) == body
    assert rpc.encodeData(b"") == []


def test_oversize_frame_refused_from_its_header():
    """A header announcing more than MAX_PAYLOAD is refused before any payload is buffered."""
    decoder = rpc.FrameDecoder()
    with pytest.raises(rpc.ProtocolError, match="exceeds"):
        decoder.feed(rpc.HEADER.pack(rpc.MAX_PAYLOAD + 1, ord("D")))


def test_oversize_message_refused_when_encoding():
    """encode refuses to build a frame larger than MAX_PAYLOAD."""
    with pytest.raises(rpc.ProtocolError, match="exceeds"):
        rpc.encode({"type": "data", "data": b"x" * (rpc.MAX_PAYLOAD + 1)})
    huge = dict(REQUEST, headers=[["X", "y" * rpc.MAX_PAYLOAD]])
    with pytest.raises(rpc.ProtocolError, match="exceeds"):
        rpc.encode(huge)


def test_decoder_limit_is_configurable():
    """A decoder built with a smaller maxPayload enforces it."""
    with pytest.raises(rpc.ProtocolError):
        rpc.FrameDecoder(maxPayload=2).feed(frame("D", b"abc"))


@pytest.mark.parametrize("payload, why", [
    (b"[1, 2]", "JSON object"),
    (b'"end"', "JSON object"),
    (b"\xff\xfe", "bad JSON"),
    (b"{not json", "bad JSON"),
    (b"[" * 100000 + b"]" * 100000, "bad JSON|JSON object"),
    (b'{"type": "launch"}', "unknown message type"),
    (b'{"type": "data", "data": "eA=="}', "unknown message type"),
    (b'{"kind": "end"}', "unknown message type"),
    (b'{"type": "end", "extra": 1}', "fields must be"),
    (b'{"type": "head", "code": 200, "message": "OK"}', "fields must be"),
    (b'{"type": "head", "code": true, "message": "OK", "headers": []}', "head.code must be int"),
    (b'{"type": "head", "code": "200", "message": "OK", "headers": []}', "head.code must be int"),
    (b'{"type": "head", "code": 200, "message": "OK", "headers": [["a"]]}', "headers must be pairs"),
    (b'{"type": "head", "code": 200, "message": "OK", "headers": [["a", 1]]}', "headers must be pairs"),
    (b'{"type": "head", "code": 200, "message": "OK", "headers": {"a": "b"}}', "headers must be pairs"),
])
def test_malformed_control_message_refused(payload, why):
    """A control frame that is not a JSON object matching the MESSAGES table exactly is a ProtocolError."""
    with pytest.raises(rpc.ProtocolError, match=why):
        rpc.FrameDecoder().feed(frame("J", payload))


@pytest.mark.parametrize("field, value", [
    ("client", ["TCP", "h"]), ("client", ["TCP", "h", "80"]), ("host", ["TCP", 1, 80]),
    ("prepath", "a/b"), ("postpath", [1]), ("secure", 0), ("method", None),
])
def test_request_field_types_checked(field, value):
    """Every field of a request message is checked against its declared type."""
    bad = dict(REQUEST, **{field: value})
    with pytest.raises(rpc.ProtocolError, match=f"request.{field} must be"):
        rpc.FrameDecoder().feed(frame("J", json.dumps(bad).encode()))
    with pytest.raises(rpc.ProtocolError):
        rpc.encode(bad)


def test_unknown_frame_kind_refused():
    """A frame kind other than J or D is a ProtocolError."""
    with pytest.raises(rpc.ProtocolError, match="unknown frame kind"):
        rpc.FrameDecoder().feed(frame("P", b"whatever"))


def test_pickle_payload_is_never_unpickled(tmp_path):
    """A pickle sent as a frame is refused as data, never run: the protocol has no code path to unpickle."""
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    payload = pickle.dumps(Exploit())
    with pytest.raises(rpc.ProtocolError):
        rpc.FrameDecoder().feed(frame("J", payload))
    # As a "D" frame it is only ever bytes of a body.
    assert rpc.FrameDecoder().feed(frame("D", payload)) == [{"type": "data", "data": payload}]
    assert not marker.exists()


@pytest.mark.parametrize("module", ["rpc.py", "distrib.py"])
def test_no_pickle_marshal_or_eval_in_the_protocol_code(module):
    """The relay code imports no pickle/marshal/shelve and calls no eval/exec/compile/__import__."""
    path = os.path.join(os.path.dirname(rpc.__file__), module)
    if not os.path.exists(path):
        pytest.skip(f"{module} not written")
    tree = ast.parse(open(path, encoding="utf-8").read())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree)
                 if isinstance(n, ast.ImportFrom) and n.module}
    assert not imported & {"pickle", "marshal", "shelve", "cPickle", "dill"}
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert not called & {"eval", "exec", "compile", "__import__"}


# --------------------------------------------------------------------------
# Connection: blocking I/O over a socket
# --------------------------------------------------------------------------

@pytest.fixture
def pair():
    a, b = socket.socketpair()
    left, right = rpc.Connection(a), rpc.Connection(b)
    yield left, right
    left.close()
    right.close()


def test_connection_sends_and_receives_messages_and_data(pair):
    """Messages and body bytes sent on one end arrive in order on the other."""
    left, right = pair
    body = os.urandom(rpc.DATA_CHUNK + 10)
    sender = threading.Thread(target=lambda: (left.send(REQUEST), left.sendData(body),
                                              left.sendData(b""), left.send({"type": "end"})))
    sender.start()
    got = [right.receive(timeout=5) for _ in range(4)]
    sender.join(5)
    assert got[0] == REQUEST
    assert got[1]["type"] == got[2]["type"] == "data"
    assert got[1]["data"] + got[2]["data"] == body
    assert got[3] == {"type": "end"}


def test_connection_receive_times_out(pair):
    """receive gives up with TimeoutError when nothing arrives in time."""
    left, right = pair
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        right.receive(timeout=0.2)
    assert time.monotonic() - started < 2


def test_connection_eof_is_connection_closed(pair):
    """EOF between frames, and EOF inside a frame, are both ConnectionClosed (the latter says so)."""
    left, right = pair
    left.socket.sendall(frame("D", b"abc")[:5])
    left.socket.shutdown(socket.SHUT_WR)
    with pytest.raises(rpc.ConnectionClosed, match="middle of a frame"):
        right.receive(timeout=5)
    a, b = socket.socketpair()
    a.close()
    with pytest.raises(rpc.ConnectionClosed, match="closed the connection$"):
        rpc.Connection(b).receive(timeout=5)
    b.close()


def test_connection_close_wakes_a_blocked_reader(pair):
    """close() from another thread ends a receive() blocked without a timeout."""
    left, right = pair
    errors = []

    def reader():
        try:
            right.receive()
        except (rpc.ConnectionClosed, OSError) as e:
            errors.append(e)

    thread = threading.Thread(target=reader)
    thread.start()
    time.sleep(0.1)
    right.close()
    thread.join(5)
    assert not thread.is_alive() and errors
    with pytest.raises(rpc.ConnectionClosed):
        right.receive(timeout=1)


def test_connection_garbage_is_protocol_error(pair):
    """Bytes that are not frames (an HTTP request, say) make receive raise ProtocolError."""
    left, right = pair
    left.socket.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    with pytest.raises(rpc.ProtocolError):
        right.receive(timeout=5)


def test_connect_unix_and_tcp(tmp_path):
    """connect takes a UNIX socket path or a (host, port) pair."""
    path = str(tmp_path / "s.sock")
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(path)
    unix.listen()
    tcp = socket.create_server(("127.0.0.1", 0))
    try:
        for address, server in ((path, unix), (tcp.getsockname(), tcp)):
            conn = rpc.connect(address, timeout=5)
            accepted, _ = server.accept()
            conn.send({"type": "finish"})
            assert rpc.Connection(accepted).receive(timeout=5) == {"type": "finish"}
            accepted.close()
            conn.close()
    finally:
        unix.close()
        tcp.close()


def test_connect_failures_are_os_errors(tmp_path):
    """A missing socket file or a closed port raises the OSError that names it."""
    with pytest.raises(FileNotFoundError):
        rpc.connect(str(tmp_path / "missing.sock"), timeout=2)
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(ConnectionRefusedError):
        rpc.connect(("127.0.0.1", port), timeout=2)
