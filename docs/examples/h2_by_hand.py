# Run it from docs/examples/ (it prints what the page shows):
#   python h2_by_hand.py
"""One HTTP/2 request taken apart: the bytes, the frames, the HPACK tables."""
import socket

from refweb import server
from refweb.h2 import frames, hpack
from refweb.internet import reactor
from refweb.resource import Resource


class Hello(Resource):
    isLeaf = True

    def render_GET(self, request):
        return b"Hello, HTTP/2"


def flagNames(frame):
    bits = frames.BY_NAME[frame.kind].flags
    return "|".join(name for name, bit in bits.items() if frame.flags & bit) or "-"


# 1. The bytes a client sends: the preface, its SETTINGS, then a HEADERS frame
#    whose payload is the request's fields, HPACK-encoded.
encoder = hpack.Encoder()
fields = [(":method", "GET"), (":scheme", "http"), (":path", "/"),
          (":authority", "example.com"), ("user-agent", "by-hand")]
block = encoder.encode(fields)
sent = (frames.PREFACE
        + frames.settingsFrame({"ENABLE_PUSH": 0})
        + frames.frame("HEADERS", frames.END_STREAM | frames.END_HEADERS, 1, block))
print(sent[:24])
print(sent[24:39].hex(" "))
print(sent[39:48].hex(" "), "|", sent[48:].hex(" "))

# 2. The frames they are, read as the server reads them.
rest = sent[24:]
while rest:
    frame, rest = frames.readFrame(rest, 16384)
    print(frame.kind, "stream", frame.streamId, "flags", flagNames(frame),
          "length", frame.length)

# 3. The server's HPACK decoder: the block's fields, and its table after it.
decoder = hpack.Decoder()
print(decoder.decode(block))
print(list(decoder.table.entries), decoder.table.size)

# A second request with the same fields (stream 3 would carry it): each is
# now an index into the static or the dynamic table, one byte.
again = encoder.encode(fields)
print(len(block), "bytes, then", len(again), "bytes:", again.hex(" "))
print(decoder.decode(again) == fields)

# 4. A real server's answer, frame by frame.
port = reactor.listenTCP(0, server.Site(Hello()), interface="127.0.0.1")
responses = hpack.Decoder()
with socket.create_connection(("127.0.0.1", port.getHost().port)) as sock:
    sock.sendall(sent)
    received, ended = b"", False
    while not ended:
        frame, received = frames.readFrame(received, 16384)
        if frame is None:
            received += sock.recv(65536)
            continue
        line = [frame.kind, "stream", frame.streamId, "flags", flagNames(frame)]
        if frame.kind == "SETTINGS":
            line += [frame.settings]
            if not frame.has(frames.ACK):
                sock.sendall(frames.settingsAck())  # we must acknowledge them
        elif frame.kind == "HEADERS":
            line += [responses.decode(frame.data)]
        elif frame.kind == "DATA":
            line += [frame.data]
            ended = frame.has(frames.END_STREAM)
        print(*line)
port.stopListening()
print(list(responses.table.entries))
