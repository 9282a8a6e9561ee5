# Run it from docs/examples/ (it prints what the page shows):
#   python wire_by_hand.py
"""Parse an HTTP request by hand with refweb.wire: bytes in, values out."""
from refweb import chunked, error, wire

raw = (b"POST /search?q=refweb HTTP/1.1\r\n"
       b"Host: example.com\r\n"
       b"Transfer-Encoding: chunked\r\n"
       b"\r\n"
       b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")

head, _, rest = raw.partition(b"\r\n\r\n")  # the channel finds this blank line
requestLine, headerLines = wire.splitHead(head)
print(wire.parseRequestLine(requestLine))
fields = wire.parseHeaderLines(headerLines, maxCount=100)
print(fields)

transferEncodings = [v for n, v in fields if n.lower() == "transfer-encoding"]
print(wire.bodyFraming(transferEncodings, [], maxBodySize=1024))
decoder = chunked.ChunkedDecoder(maxBodySize=1024)
print(decoder.feed(rest), decoder.done)

# Malformed input raises an error that carries its HTTP status:
for bad in [b"GET /", b"GET / HTTP/2.0", b"GET /a b HTTP/1.1"]:
    try:
        wire.parseRequestLine(bad)
    except error.Error as exc:
        print(bad, "->", exc.code, exc.message)
try:
    wire.bodyFraming(["chunked"], ["5"], maxBodySize=1024)
except error.Error as exc:
    print("chunked and Content-Length ->", exc.code, exc.detail)
