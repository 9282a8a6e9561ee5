"""Request smuggling, differentially: what reaches the upstream behind ReverseProxyResource.

A raw upstream (tests/strict.RecordingUpstream) records every byte refweb
sends it.  Each ambiguous client request below -- CL+TE, two lengths,
Transfer-Encoding obfuscations, chunk extensions, bare LF, whitespace before
a colon, obs-fold on framing headers, Expect tricks -- carries a second
request ("/smuggled") where a lenient parser would find one.  The rule
(RFC 9112 §6.3, §11.2): the upstream sees either nothing (refweb refused the
request with a 4xx) or exactly one well-framed request, never "/smuggled"
as a request line of its own.

Every case gets its own prefix (/cN) on one front Site and one upstream, so
the cases run concurrently and what the upstream got is told apart by path.
"""

import concurrent.futures
import socket
import time

import pytest

from refweb import proxy, resource
from strict import RecordingUpstream, StrictError, parseOne, requestsIn
from support import served, siteWith

SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"


def _chunked(body):
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)


def _cases():
    """(name, framing header lines, body).  Read as RFC 9112 says, each body
    holds SMUGGLED inside it (or the request is an error): a strict reader
    never finds a second request.  A lenient one, misreading the framing,
    would."""
    n = len(SMUGGLED)
    chunkedSmuggle = b"0\r\n\r\n" + SMUGGLED  # chunked: ends at once, rest is a request
    cases = [
        ("cl-and-te", [b"Content-Length: %d" % (n + 5), b"Transfer-Encoding: chunked"],
         chunkedSmuggle),
        ("te-and-cl", [b"Transfer-Encoding: chunked", b"Content-Length: 3"], chunkedSmuggle),
        ("two-lengths", [b"Content-Length: 0", b"Content-Length: %d" % n], SMUGGLED),
        ("length-list", [b"Content-Length: 0, %d" % n], SMUGGLED),
        ("equal-lengths", [b"Content-Length: %d" % n, b"Content-Length: %d" % n], SMUGGLED),
        ("length-zeros", [b"Content-Length: 000%d" % n], SMUGGLED),
        ("length-plus", [b"Content-Length: +%d" % n], SMUGGLED),
        ("length-space-inside", [b"Content-Length: 1 %d" % n], SMUGGLED),
        ("length-superscript", [b"Content-Length: \xb3"], SMUGGLED),
        ("length-underscore", [b"Content-Length: 1_0"], SMUGGLED),
        ("length-hex", [b"Content-Length: 0x10"], SMUGGLED),
        ("length-huge", [b"Content-Length: " + b"9" * 30], SMUGGLED),
        ("length-lf-in-name", [b"Content-Length\n: %d" % n], SMUGGLED),
        ("length-space-before-colon", [b"Content-Length : %d" % n], SMUGGLED),
        ("length-tab-before-colon", [b"Content-Length\t: %d" % n], SMUGGLED),
        ("length-obs-fold", [b"Content-Length: 0", b" %d" % n], SMUGGLED),
        ("length-folded-name", [b"X: 1", b" Content-Length: %d" % n], SMUGGLED),
        ("length-bare-lf", [b"X: 1\nContent-Length: %d" % n], SMUGGLED),
        ("length-cr", [b"X: 1\rContent-Length: %d" % n], SMUGGLED),
        ("length-nul", [b"Content-Length: %d\x00" % n], SMUGGLED),
        ("te-chunked-identity", [b"Transfer-Encoding: chunked, identity"], chunkedSmuggle),
        ("te-identity-chunked", [b"Transfer-Encoding: identity, chunked"], chunkedSmuggle),
        ("te-leading-space", [b"Transfer-Encoding:  chunked"], _chunked(SMUGGLED)),
        ("te-capital", [b"Transfer-Encoding: Chunked"], _chunked(SMUGGLED)),
        ("te-xchunked", [b"Transfer-Encoding: xchunked"], chunkedSmuggle),
        ("te-quoted", [b"Transfer-Encoding: \"chunked\""], chunkedSmuggle),
        ("te-tab", [b"Transfer-Encoding:\tchunked"], _chunked(SMUGGLED)),
        ("te-vtab", [b"Transfer-Encoding: chunked\x0b"], chunkedSmuggle),
        ("te-twice", [b"Transfer-Encoding: chunked", b"Transfer-Encoding: identity"],
         chunkedSmuggle),
        ("te-space-before-colon", [b"Transfer-Encoding : chunked"], chunkedSmuggle),
        ("te-obs-fold", [b"Transfer-Encoding:", b" chunked"], chunkedSmuggle),
        ("te-lf-in-name", [b"Transfer-Encoding\n: chunked"], chunkedSmuggle),
        ("te-underscore", [b"Transfer_Encoding: chunked"], chunkedSmuggle),
        ("te-on-http-1.0", [b"Transfer-Encoding: chunked"], chunkedSmuggle),
        ("te-comma-empty", [b"Transfer-Encoding: chunked,"], _chunked(SMUGGLED)),
        ("chunk-ext", [b"Transfer-Encoding: chunked"],
         b"%x;name=value\r\n%s\r\n0\r\n\r\n" % (n, SMUGGLED)),
        ("chunk-ext-quoted", [b"Transfer-Encoding: chunked"],
         b"%x ; a = \"b\\\";c\"\r\n%s\r\n0\r\n\r\n" % (n, SMUGGLED)),
        ("chunk-ext-quoted-crlf", [b"Transfer-Encoding: chunked"],
         b"%x;a=\"b\r\n0\r\n\r\n\"\r\n%s\r\n0\r\n\r\n" % (n, SMUGGLED)),
        ("chunk-ext-lf", [b"Transfer-Encoding: chunked"],
         b"%x;a\n0\r\n\r\n%s" % (n, SMUGGLED)),
        ("chunk-size-bare-lf", [b"Transfer-Encoding: chunked"], b"5\nhello\r\n0\r\n\r\n" + SMUGGLED),
        ("chunk-size-space", [b"Transfer-Encoding: chunked"], b"5 \r\nhello\r\n0\r\n\r\n" + SMUGGLED),
        ("chunk-size-leading-space", [b"Transfer-Encoding: chunked"],
         b" 0\r\n\r\n" + SMUGGLED),
        ("chunk-size-plus", [b"Transfer-Encoding: chunked"], b"+5\r\nhello\r\n0\r\n\r\n" + SMUGGLED),
        ("chunk-size-0x", [b"Transfer-Encoding: chunked"], b"0x5\r\nhello\r\n0\r\n\r\n" + SMUGGLED),
        ("chunk-size-huge", [b"Transfer-Encoding: chunked"],
         b"1" + b"0" * 17 + b"\r\nhello\r\n0\r\n\r\n" + SMUGGLED),
        ("chunk-size-overflow-to-zero", [b"Transfer-Encoding: chunked"],
         b"10000000000000000\r\n" + SMUGGLED + b"\r\n0\r\n\r\n"),
        ("chunk-no-crlf-after-data", [b"Transfer-Encoding: chunked"],
         b"3\r\nabcGET /smuggled HTTP/1.1\r\n0\r\n\r\n"),
        ("last-chunk-bare-lf", [b"Transfer-Encoding: chunked"], b"0\n\n" + SMUGGLED),
        ("trailer-bare-lf", [b"Transfer-Encoding: chunked"], b"0\r\nX: 1\n\r\n" + SMUGGLED),
        ("trailer-smuggle", [b"Transfer-Encoding: chunked"],
         _chunked(SMUGGLED)[:-2] + b"Content-Length: 0\r\nTransfer-Encoding: x\r\n\r\n"),
        ("expect-continue-length", [b"Expect: 100-continue", b"Content-Length: %d" % n],
         SMUGGLED),
        ("expect-continue-chunked", [b"Expect: 100-continue", b"Transfer-Encoding: chunked"],
         _chunked(SMUGGLED)),
        ("expect-unknown", [b"Expect: 100-continue, x", b"Content-Length: %d" % n], SMUGGLED),
        ("expect-folded", [b"Expect:", b" 100-continue", b"Content-Length: %d" % n], SMUGGLED),
        ("connection-strips-length", [b"Connection: Content-Length", b"Content-Length: %d" % n],
         SMUGGLED),
        ("connection-strips-host", [b"Connection: host, close", b"Content-Length: %d" % n],
         SMUGGLED),
        ("upgrade-h2c", [b"Upgrade: h2c", b"Connection: Upgrade, HTTP2-Settings",
                         b"HTTP2-Settings: AAMAAABkAAQAAP__", b"Content-Length: %d" % n], SMUGGLED),
        ("host-two", [b"Host: b", b"Content-Length: %d" % n], SMUGGLED),
    ]
    return cases


CASES = _cases()


def _request(index, name, lines, body):
    version = b"HTTP/1.0" if name == "te-on-http-1.0" else b"HTTP/1.1"
    head = [b"POST /c%02d/x %s" % (index, version), b"Host: a"] + lines
    # /smuggled in this case's prefix, so what reaches the upstream is attributable;
    # "/cNN/smug" has the length of "/smuggled", so no length or chunk size changes
    body = body.replace(b"/smuggled", b"/c%02d/smug" % index)
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def _send(port, data):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        chunks, deadline = [], time.monotonic() + 6
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except (socket.timeout, OSError):
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture(scope="module")
def front():
    """(front port, upstream): ReverseProxyResource /cN -> upstream /upN, for each case."""
    with RecordingUpstream() as upstream:
        root = resource.Resource()
        for index in range(len(CASES)):
            root.putChild(b"c%02d" % index,
                          proxy.ReverseProxyResource("127.0.0.1", upstream.port, "/c%02d" % index))
        with served(siteWith(root, readTimeout=1.0, idleTimeout=0.3)) as port:
            yield port, upstream


@pytest.fixture(scope="module")
def outcomes(front):
    """Run every case at once; {case index: (client bytes, [upstream requests])}."""
    port, upstream = front

    def run(index):
        name, lines, body = CASES[index]
        return _send(port, _request(index, name, lines, body))

    with concurrent.futures.ThreadPoolExecutor(8) as workers:
        answers = list(workers.map(run, range(len(CASES))))
    time.sleep(0.3)
    byCase = {index: [] for index in range(len(CASES))}
    strays = []
    for data in upstream.take():
        if not data:
            continue  # a connection that sent nothing (the relay gave up first)
        try:
            requests = requestsIn(data)
        except StrictError as exc:
            strays.append(("unframed", str(exc), data))
            continue
        if len(requests) != 1:
            strays.append(("not one request per connection", len(requests), data))
        for request in requests:
            target = request[0].split(b" ")[1]
            index = int(target.split(b"/")[1][1:])
            byCase[index].append(request)
    assert not strays, strays
    return {index: (answers[index], byCase[index]) for index in byCase}


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c[0] for c in CASES])
def test_upstream_sees_nothing_or_one_request(outcomes, index):
    """The upstream receives nothing (refweb answered 4xx or 501) or exactly one well-framed
    request, and never the smuggled one as a request of its own."""
    answer, requests = outcomes[index]
    name = CASES[index][0]
    assert answer, "%s: no answer from refweb" % name
    response, rest = parseOne(answer, "POST")
    assert not [r for r in requests if b"/smug" in r[0]], (name, requests)
    if requests:
        assert len(requests) == 1, (name, requests)
        assert response.status == 200, (name, response)
    else:
        # refused: a 4xx, or 501 for a transfer coding refweb does not know (RFC 9112 §6.1)
        assert 400 <= response.status < 500 or response.status == 501, (name, response)


def test_ambiguous_framing_is_refused(outcomes):
    """The framings RFC 9112 calls errors (CL with TE, differing lengths, codings other
    than chunked alone, malformed names/values/chunks) reach the upstream not at all."""
    mustRefuse = ["cl-and-te", "te-and-cl", "two-lengths", "length-list", "length-plus",
                  "length-superscript", "length-lf-in-name", "length-space-before-colon",
                  "length-obs-fold", "te-chunked-identity", "te-xchunked", "te-obs-fold",
                  "te-lf-in-name", "te-on-http-1.0", "chunk-size-bare-lf", "chunk-size-space",
                  "chunk-ext-lf", "chunk-ext-quoted-crlf", "trailer-bare-lf", "expect-unknown",
                  "host-two"]
    names = [c[0] for c in CASES]
    leaked = [name for name in mustRefuse if outcomes[names.index(name)][1]]
    assert leaked == []


def test_unambiguous_requests_go_through_once(outcomes):
    """Well-framed requests (equal lengths, leading zeros, chunk extensions, Expect) reach
    the upstream once, with the body refweb read -- the smuggled text stays in that body."""
    names = [c[0] for c in CASES]
    for name in ["equal-lengths", "length-zeros", "chunk-ext", "chunk-ext-quoted",
                 "expect-continue-length", "expect-continue-chunked", "te-capital",
                 "te-leading-space", "te-tab", "te-comma-empty", "connection-strips-length",
                 "trailer-smuggle", "upgrade-h2c"]:
        answer, requests = outcomes[names.index(name)]
        assert len(requests) == 1, (name, answer[:200])
        line, fields, body = requests[0]
        assert b"/smug HTTP/1.1" in body, (name, body)
        assert fields["content-length"] == [str(len(body))]
