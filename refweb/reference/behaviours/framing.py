"""HTTP/1.1 framing: keep-alive, pipelining, chunked bodies, limits (RFC 9112, RFC 9110).

Behaviours on site ``files`` need nothing but a folder of files, so a
learner's server is checked by them too; those on site ``echo`` need
resources that report what arrived.
"""

import json
import re
import time

from refweb.reference import client
from refweb.reference.suite import Failure, behaviour, check, equal

HELLO = b"Hello, static world!\n"


def get(path="/hello.txt", extra=""):
    return ("GET %s HTTP/1.1\r\nHost: example.com\r\n%s\r\n" % (path, extra)).encode()


def statusOf(server, data):
    """The status answered to raw ``data``, or 'closed' if the server just hung up."""
    with server.connect() as conn:
        try:
            conn.send(data)
        except OSError:  # it hung up while we were still sending: read what it said, if anything
            pass
        try:
            return conn.readFinal().status
        except (client.ConnectionClosed, ConnectionError):
            return "closed"


def probed(response):
    """The X-Probe value the echo site's /header reports in its JSON body."""
    try:
        return json.loads(response.body)["x-probe"]
    except (ValueError, KeyError, TypeError):
        raise Failure("status %d with body %r, not the JSON {\"x-probe\": ...} that /header "
                      "answers" % (response.status, response.body[:60]))


def refused(server, data, what, allowed=(400,)):
    status = statusOf(server, data)
    check(status in allowed, "%s: got %s, expected %s" % (what, status,
                                                          " or ".join(map(str, allowed))))


# -- versions, status line, Date ----------------------------------------------------

@behaviour("framing", "files", "RFC 9112 §4; RFC 9110 §2.5")
def status_line_http11(server):
    """An HTTP/1.1 request gets an HTTP/1.1 status line."""
    with server.connect() as conn:
        conn.send(get())
        equal(conn.readResponse().version, (1, 1), "response version")


@behaviour("framing", "files", "RFC 9110 §6.6.1")
def date_header_sent(server):
    """An origin server with a clock MUST send Date, in IMF-fixdate form."""
    date = server.get("/hello.txt").header("date") or ""
    check(re.fullmatch(r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT", date),
          "Date is %r" % date)


@behaviour("framing", "files", "RFC 9110 §2.5")
def http10_answered_as_11(server):
    """An HTTP/1.0 request is answered, with a status line of major version 1."""
    response = server.get("/hello.txt", version="HTTP/1.0", host=None)
    equal((response.version[0], response.status, response.body), (1, 200, HELLO),
          "version major, status, body")


@behaviour("framing", "files", "RFC 9112 §3.2")
def missing_host_400(server):
    """An HTTP/1.1 request without Host MUST be answered 400."""
    refused(server, b"GET /hello.txt HTTP/1.1\r\n\r\n", "status with no Host")


@behaviour("framing", "files", "RFC 9112 §3.2")
def two_hosts_400(server):
    """An HTTP/1.1 request with two Host fields MUST be answered 400."""
    refused(server, b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "status with two Hosts")


@behaviour("framing", "files", "RFC 9112 §3")
def garbage_request_line_400(server):
    """A request line that is not method SP target SP version is 400."""
    refused(server, b"HELLO\r\n\r\n", "status for 'HELLO'")


@behaviour("framing", "files", "RFC 9112 §5.1")
def space_before_colon_400(server):
    """Whitespace between a field name and its colon MUST be answered 400."""
    refused(server, b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Bad : y\r\n\r\n", "status")


@behaviour("framing", "files", "RFC 9112 §2.2")
def leading_empty_line_ignored(server):
    """An empty line before the request line is ignored (SHOULD)."""
    equal(statusOf(server, b"\r\n" + get()), 200, "status after a leading CRLF")


@behaviour("framing", "files", "RFC 9112 §3")
def request_line_too_long(server):
    """A request-target longer than the server will parse MUST get 414 (or be refused with a 4xx)."""
    status = statusOf(server, get("/" + "a" * 70000))
    check(status in (400, 414, "closed"), "got %s for a 70 kB target" % status)


@behaviour("framing", "files", "RFC 6585 §5; RFC 9110 §15.5")
def header_block_too_large(server):
    """A header block far larger than any limit is refused with a 4xx, not served."""
    big = "".join("X-Filler-%d: %s\r\n" % (i, "v" * 1000) for i in range(200))
    status = statusOf(server, get(extra=big))
    check(status in (400, 413, 431, "closed"), "got %s for a 200 kB header block" % status)


# -- persistence and pipelining --------------------------------------------------------

@behaviour("framing", "files", "RFC 9112 §9.3")
def keepalive_default_http11(server):
    """HTTP/1.1 connections persist by default: two requests, one after the other, one connection."""
    with server.connect() as conn:
        for _ in range(2):
            conn.send(get())
            equal(conn.readResponse().body, HELLO, "body")


@behaviour("framing", "files", "RFC 9112 §9.3")
def http10_closes(server):
    """An HTTP/1.0 request without keep-alive is answered and the connection is closed."""
    with server.connect() as conn:
        conn.send(b"GET /hello.txt HTTP/1.0\r\n\r\n")
        equal(conn.readResponse().body, HELLO, "body")
        check(conn.isClosedByPeer(), "the connection stayed open after an HTTP/1.0 response")


@behaviour("framing", "files", "RFC 9112 §9.6")
def connection_close_honoured(server):
    """After a request with Connection: close, the server closes the connection."""
    with server.connect() as conn:
        conn.send(get(extra="Connection: close\r\n"))
        equal(conn.readResponse().body, HELLO, "body")
        check(conn.isClosedByPeer(), "the connection stayed open after Connection: close")


@behaviour("framing", "files", "RFC 9112 §9.6")
def connection_close_case_insensitive(server):
    """Connection options are case-insensitive: Connection: Close closes too."""
    with server.connect() as conn:
        conn.send(get(extra="Connection: Close\r\n"))
        conn.readResponse()
        check(conn.isClosedByPeer(), "the connection stayed open after Connection: Close")


@behaviour("framing", "files", "RFC 9112 §9.3.2")
def pipelined_in_order(server):
    """Three pipelined requests sent at once are answered in the order they were sent."""
    with server.connect() as conn:
        conn.send(get("/hello.txt") + get("/style.css") + get("/sub/a.txt"))
        bodies = [conn.readResponse().body for _ in range(3)]
    equal(bodies, [HELLO, b"body { color: black; }\n", b"file a\n"], "bodies in order")


@behaviour("framing", "files", "RFC 9112 §9.3.2")
def pipelined_split_across_sends(server):
    """A request split over several TCP sends, with the next one in the same send, is parsed."""
    with server.connect() as conn:
        data = get() + get("/style.css")
        for start in range(0, len(data), 7):
            conn.send(data[start:start + 7])
            time.sleep(0.002)
        equal((conn.readResponse().body, conn.readResponse().body),
              (HELLO, b"body { color: black; }\n"), "bodies")


@behaviour("framing", "files", "RFC 9112 §9.3.2")
def pipelined_many(server):
    """Twenty pipelined requests on one connection get twenty responses."""
    with server.connect() as conn:
        conn.send(get() * 20)
        equal([conn.readResponse().body for _ in range(20)], [HELLO] * 20, "bodies")


@behaviour("framing", "files", "RFC 9112 §9.3.2")
def pipelined_head_then_get(server):
    """A pipelined HEAD's response has no body, so the GET after it is read correctly."""
    with server.connect() as conn:
        conn.send(get().replace(b"GET", b"HEAD", 1) + get())
        conn.readResponse("HEAD")
        equal(conn.readResponse().body, HELLO, "body of the GET")


@behaviour("framing", "files", "RFC 9112 §9.6")
def close_after_last_pipelined(server):
    """Pipelined requests ending in Connection: close are all answered, then the connection closes."""
    with server.connect() as conn:
        conn.send(get() + get(extra="Connection: close\r\n"))
        equal((conn.readResponse().body, conn.readResponse().body), (HELLO, HELLO), "bodies")
        check(conn.isClosedByPeer(), "the connection stayed open")


@behaviour("framing", "echo", "RFC 9112 §9.3.2")
def pipelined_slow_then_fast(server):
    """A slow first response still comes before a fast second one on the same connection."""
    with server.connect() as conn:
        conn.send(get("/slow") + get("/fast"))
        equal((conn.readResponse().body, conn.readResponse().body), (b"slow", b"fast"), "order")


@behaviour("framing", "echo", "RFC 9112 §9.3")
def big_response_then_next(server):
    """A 200 kB response is framed exactly: the next response on the connection follows it."""
    with server.connect() as conn:
        conn.send(get("/big") + get("/fast"))
        equal(len(conn.readResponse().body), 200000, "length of the big body")
        equal(conn.readResponse().body, b"fast", "the next body")


# -- request bodies ---------------------------------------------------------------------

def post(path, body, extra=""):
    return ("POST %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (path, extra)).encode() + body


@behaviour("framing", "echo", "RFC 9112 §6.2")
def content_length_body(server):
    """A body framed by Content-Length reaches the resource whole."""
    with server.connect() as conn:
        conn.send(post("/body", b"hello", "Content-Length: 5\r\n"))
        equal(conn.readResponse().body, b"5 bytes: hello", "what the resource read")


@behaviour("framing", "echo", "RFC 9112 §7.1")
def chunked_body_decoded(server):
    """A recipient MUST parse chunked: 'hel' + 'lo' arrive as 'hello'."""
    with server.connect() as conn:
        conn.send(post("/body", b"3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n", "Transfer-Encoding: chunked\r\n"))
        equal(conn.readResponse().body, b"5 bytes: hello", "what the resource read")


@behaviour("framing", "echo", "RFC 9112 §7.1.1")
def chunk_extensions_ignored(server):
    """Unknown chunk extensions MUST be ignored."""
    with server.connect() as conn:
        conn.send(post("/body", b"3;name=value\r\nabc\r\n0\r\n\r\n", "Transfer-Encoding: chunked\r\n"))
        equal(conn.readResponse().body, b"3 bytes: abc", "what the resource read")


@behaviour("framing", "echo", "RFC 9112 §7.1.2")
def chunked_trailer_accepted(server):
    """A chunked body with a trailer field is read, and the trailer does not end up in the body."""
    with server.connect() as conn:
        conn.send(post("/body", b"2\r\nok\r\n0\r\nX-Trailer: t\r\n\r\n", "Transfer-Encoding: chunked\r\n"))
        equal(conn.readResponse().body, b"2 bytes: ok", "what the resource read")


@behaviour("framing", "echo", "RFC 9112 §7.1")
def chunked_hex_sizes(server):
    """Chunk sizes are hexadecimal, in either case: 'A' and 'a' are ten bytes."""
    with server.connect() as conn:
        conn.send(post("/body", b"A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n",
                       "Transfer-Encoding: chunked\r\n"))
        equal(conn.readResponse().body, b"20 bytes: 0123456789abcdefghij", "what the resource read")


@behaviour("framing", "echo", "RFC 9112 §7.1")
def chunked_then_pipelined(server):
    """After a chunked body, the next pipelined request is read from where the body ended."""
    with server.connect() as conn:
        conn.send(post("/body", b"1\r\nx\r\n0\r\n\r\n", "Transfer-Encoding: chunked\r\n") + get("/fast"))
        equal((conn.readResponse().body, conn.readResponse().body), (b"1 bytes: x", b"fast"), "bodies")


@behaviour("framing", "echo", "RFC 9112 §7.1")
def bad_chunk_size_400(server):
    """A chunk size that is not hexadecimal makes the message invalid: 400 (or a close)."""
    status = statusOf(server, post("/body", b"zz\r\nabc\r\n0\r\n\r\n", "Transfer-Encoding: chunked\r\n"))
    check(status in (400, "closed"), "got %s for chunk size 'zz'" % status)


@behaviour("framing", "echo", "RFC 9112 §6.3")
def unread_body_skipped(server):
    """A body the resource did not read is still consumed: the next request is parsed right."""
    with server.connect() as conn:
        conn.send(post("/ignore", b"GET /fast HTTP/1.1\r\n\r\n", "Content-Length: 22\r\n") + get("/fast"))
        equal((conn.readResponse().body, conn.readResponse().body), (b"ignored", b"fast"), "bodies")


@behaviour("framing", "echo", "RFC 9112 §6.2")
def large_body(server):
    """A 1 MB body is read whole."""
    body = b"z" * 1000000
    with server.connect() as conn:
        conn.send(post("/body", body, "Content-Length: %d\r\n" % len(body)))
        equal(conn.readResponse().body[:16], b"1000000 bytes: z", "what the resource read")


@behaviour("framing", "echo", "RFC 9112 §6.3 (item 5)")
def invalid_content_length_400(server):
    """A Content-Length that is not a number MUST be answered 400."""
    refused(server, post("/body", b"abc", "Content-Length: abc\r\n"), "status")


@behaviour("framing", "echo", "RFC 9112 §6.3 (item 5)")
def conflicting_content_lengths_400(server):
    """Two different Content-Length values MUST be answered 400."""
    refused(server, post("/body", b"abcdef", "Content-Length: 5\r\nContent-Length: 6\r\n"), "status")


@behaviour("framing", "echo", "RFC 9112 §6.1, §11.2")
def te_and_cl_not_both(server):
    """Transfer-Encoding with Content-Length: refused (400), or read as chunked and then closed."""
    with server.connect() as conn:
        conn.send(post("/body", b"1\r\nx\r\n0\r\n\r\n",
                       "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n"))
        try:
            response = conn.readFinal()
        except client.ConnectionClosed:
            return
        if response.status == 400:
            return
        equal(response.body, b"1 bytes: x", "body read as chunked")
        check(conn.isClosedByPeer(), "the connection stayed open (RFC 9112 §6.1: MUST close)")


@behaviour("framing", "echo", "RFC 9112 §6.1")
def unknown_transfer_coding_501(server):
    """A transfer coding the server does not know SHOULD be answered 501 (400 also refuses it)."""
    refused(server, post("/body", b"abc", "Transfer-Encoding: frobnicate\r\n"), "status",
            allowed=(501, 400))


@behaviour("framing", "echo", "RFC 9110 §10.1.1")
def expect_100_continue(server):
    """Expect: 100-continue gets a 100 (Continue) before the client sends the body."""
    with server.connect() as conn:
        conn.send(b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        interim = conn.readResponse()
        equal(interim.status, 100, "first response")
        conn.send(b"data")
        equal(conn.readResponse().body, b"4 bytes: data", "final body")


@behaviour("framing", "echo", "RFC 9112 §5.2")
def obs_fold_refused_or_unfolded(server):
    """A folded header line MUST be refused with 400 or unfolded into one value."""
    with server.connect() as conn:
        conn.send(b"GET /header HTTP/1.1\r\nHost: x\r\nX-Probe: one\r\n two\r\n\r\n")
        try:
            response = conn.readFinal()
        except client.ConnectionClosed:
            return
    if response.status != 400:
        value = probed(response)
        check(value is not None and re.fullmatch(r"one\s+two", value),
              "status %d and X-Probe %r" % (response.status, value))


@behaviour("framing", "echo", "RFC 9110 §5.5")
def header_value_ows_trimmed(server):
    """Whitespace around a field value is not part of it."""
    response = server.get("/header", headers=[("X-Probe", "  padded  ")])
    equal(probed(response), "padded", "X-Probe as the resource saw it")
