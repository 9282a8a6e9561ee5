# -*- test-case-name: tests.test_rpc -*-
"""A small message protocol for the spreadable web server (refweb.distrib).

Guide: "Spreadable Web Servers" -- Twisted relays a request from the user
server to a personal server "over a PB connection".  Perspective Broker is a
general remote-object system; distrib needs far less: one request goes one
way, one response comes back.  This module is that much and no more.
Journey: distrib.ResourceSubscription.render -> rpc.connect -> frames on a
socket -> distrib.PublisherProtocol (on the personal server) -> frames back.

Framing
-------
Every frame is a 5-byte header followed by a payload::

    +--------------------------+------+------------------------+
    | length: 4 bytes, big-end.| kind | payload (length bytes) |
    +--------------------------+------+------------------------+

    kind  payload
    ----  -------------------------------------------------------------
    b"J"  one JSON object (UTF-8) with a "type" key: a control message
    b"D"  raw bytes: one piece of a body (no base64, no copy into JSON)

A payload larger than MAX_PAYLOAD, an unknown kind, JSON that is not an
object, or a message whose fields do not match MESSAGES below is a
ProtocolError, and the receiver closes the connection.

Messages (one connection carries exactly one request and its response)
----------------------------------------------------------------------
========  ===========  =====================================================
type      direction    fields
========  ===========  =====================================================
request   user->pers.  method, uri, clientproto, prepath, postpath, headers,
                       client, host, secure (see MESSAGES for their types)
data      both ways    a "D" frame: part of the request or response body
end       user->pers.  the request body is complete; the personal server
                       may render now
head      pers.->user  code, message, headers: the response status and head
finish    pers.->user  the response body is complete
error     pers.->user  code, message: the personal server could not take the
                       request (bad frame, body too large, too slow)
========  ===========  =====================================================

``headers`` is a list of [name, value] pairs (repeats allowed, order kept);
``client`` and ``host`` are [type, host, port] triples ("TCP", "UNIX").

Safety
------
Only JSON and raw bytes cross the wire: no pickle, no marshal, no eval, no
class names.  A peer can make the other side do nothing but what a well-formed
HTTP request could make it do.  Every wait has a timeout and every frame a
size limit (MAX_PAYLOAD), so a silent or hostile peer costs one thread for a
bounded time.  Start reading at ``FrameDecoder.feed``, then ``Connection``.
"""

import json
import select
import socket
import struct
import threading
from collections import deque

HEADER = struct.Struct(">IB")        # payload length, kind
MAX_PAYLOAD = 1 << 20                # 1 MiB: bigger bodies travel as many frames
DATA_CHUNK = 256 * 1024              # how writes are split into "D" frames
JSON_KIND, DATA_KIND = ord("J"), ord("D")

# Field types: "str", "int", "bool", "strs" (list of str),
# "pairs" (list of [str, str]), "address" ([str, str, int]).
MESSAGES = {
    "request": {"method": "str", "uri": "str", "clientproto": "str",
                "prepath": "strs", "postpath": "strs", "headers": "pairs",
                "client": "address", "host": "address", "secure": "bool"},
    "end": {},
    "head": {"code": "int", "message": "str", "headers": "pairs"},
    "finish": {},
    "error": {"code": "int", "message": "str"},
}


class ProtocolError(Exception):
    """The peer sent something this protocol does not allow."""


class ConnectionClosed(Exception):
    """The peer closed the connection (cleanly or not)."""


def _isStrList(value, length=None):
    return (isinstance(value, list) and all(isinstance(v, str) for v in value)
            and (length is None or len(value) == length))


# One checker per field type: value -> bool.  bool is a subclass of int in
# Python, so "int" refuses it explicitly.
CHECKS = {
    "str": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "strs": _isStrList,
    "pairs": lambda v: isinstance(v, list) and all(_isStrList(p, 2) for p in v),
    "address": lambda v: (isinstance(v, list) and len(v) == 3
                          and _isStrList(v[:2]) and CHECKS["int"](v[2])),
}


def validate(message):
    """Return ``message`` if it matches MESSAGES exactly, else raise ProtocolError."""
    if not isinstance(message, dict):
        raise ProtocolError("a control message must be a JSON object")
    fields = MESSAGES.get(message.get("type"))
    if fields is None:
        raise ProtocolError(f"unknown message type {message.get('type')!r}")
    if set(message) != set(fields) | {"type"}:
        raise ProtocolError(f"{message['type']}: fields must be {sorted(fields)}")
    for name, kind in fields.items():
        if not CHECKS[kind](message[name]):
            raise ProtocolError(f"{message['type']}.{name} must be {kind}")
    return message


def encode(message):
    """One message -> bytes of one frame.  {"type": "data", "data": b"..."} is a
    "D" frame; anything else is validated and sent as JSON."""
    if message.get("type") == "data":
        kind, payload = DATA_KIND, bytes(message["data"])
    else:
        kind = JSON_KIND
        payload = json.dumps(validate(message), separators=(",", ":")).encode("utf-8")
    if len(payload) > MAX_PAYLOAD:
        raise ProtocolError(f"a frame of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    return HEADER.pack(len(payload), kind) + payload


def encodeData(data):
    """Body bytes of any size -> a list of "D" frames of at most DATA_CHUNK bytes."""
    view = memoryview(bytes(data))
    return [encode({"type": "data", "data": view[i:i + DATA_CHUNK]})
            for i in range(0, len(view), DATA_CHUNK)]


def decodePayload(kind, payload):
    """One frame's kind and payload -> a message dict (see encode)."""
    if kind == DATA_KIND:
        return {"type": "data", "data": payload}
    if kind != JSON_KIND:
        raise ProtocolError(f"unknown frame kind {kind!r}")
    try:
        message = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ProtocolError(f"bad JSON in a control frame: {e}") from None
    return validate(message)


class FrameDecoder:
    """Sans-I/O: feed it bytes as they arrive; it returns whole messages.

    The size limit is checked on the header, before the payload is buffered,
    so a peer cannot make us hold more than MAX_PAYLOAD + one read."""

    def __init__(self, maxPayload=MAX_PAYLOAD):
        self.maxPayload = maxPayload
        self._buffer = bytearray()

    def feed(self, data):
        self._buffer += data
        messages = []
        while len(self._buffer) >= HEADER.size:
            length, kind = HEADER.unpack_from(self._buffer)
            if length > self.maxPayload:
                raise ProtocolError(f"a frame of {length} bytes exceeds {self.maxPayload}")
            if len(self._buffer) < HEADER.size + length:
                break
            payload = bytes(self._buffer[HEADER.size:HEADER.size + length])
            del self._buffer[:HEADER.size + length]
            messages.append(decodePayload(kind, payload))
        return messages

    def pending(self):
        """Bytes received that do not yet make a whole frame."""
        return len(self._buffer)


class Connection:
    """Blocking message I/O over a connected socket, safe for one reader
    thread and any number of writer threads.

    ``write`` (default: the socket's sendall) lets a server hand in its own
    transport's thread-safe write.  Reads wait with ``select.poll`` instead of
    socket timeouts, so a read timeout never cuts a slow write short."""

    readSize = 65536

    def __init__(self, sock, write=None):
        self.socket = sock
        self._write = write or sock.sendall
        self._writeLock = threading.Lock()   # guards writes: each frame's bytes together
        self._decoder = FrameDecoder()
        self._received = deque()             # decoded messages not yet returned

    def send(self, message):
        self.sendFrames([encode(message)])

    def sendData(self, data):
        """Send body bytes (any size; split into frames)."""
        if data:
            self.sendFrames(encodeData(data))

    def sendFrames(self, frames):
        with self._writeLock:
            for frame in frames:
                self._write(frame)

    def receive(self, timeout=None):
        """The next message; TimeoutError if none arrives within ``timeout``
        seconds, ConnectionClosed at EOF, ProtocolError on a bad frame."""
        while not self._received:
            if not self._waitReadable(timeout):
                raise TimeoutError(f"no message from the peer in {timeout} s")
            try:
                data = self.socket.recv(self.readSize)
            except OSError as e:
                raise ConnectionClosed(str(e)) from None
            if not data:
                raise ConnectionClosed("the peer closed the connection"
                                       + (" in the middle of a frame" if self._decoder.pending() else ""))
            self._received.extend(self._decoder.feed(data))
        return self._received.popleft()

    def _waitReadable(self, timeout):
        # poll, not epoll: close() from another thread must wake this wait, and
        # closing a descriptor silently drops it from an epoll set.
        if self.socket.fileno() < 0:
            raise ConnectionClosed("the connection was closed")
        poller = select.poll()
        poller.register(self.socket, select.POLLIN)
        return bool(poller.poll(None if timeout is None else timeout * 1000))

    def close(self):
        """Close now, waking a reader blocked in another thread (shutdown first:
        close alone does not interrupt a blocked recv on every platform)."""
        for step in (lambda: self.socket.shutdown(socket.SHUT_RDWR), self.socket.close):
            try:
                step()
            except OSError:
                pass


def connect(address, timeout=10.0):
    """A Connection to ``address``: a str is a UNIX socket path, a (host, port)
    pair a TCP address.  ``timeout`` bounds the connect and every later send.
    Raises OSError (FileNotFoundError, ConnectionRefusedError, TimeoutError...)."""
    if isinstance(address, str):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except OSError:
            sock.close()
            raise
    else:
        sock = socket.create_connection(address, timeout=timeout)
    return Connection(sock)
