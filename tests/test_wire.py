"""refweb.wire: the HTTP/1.1 parser, with no sockets (bytes in, values or errors out)."""

import pytest

from refweb import chunked, error, http11, rules, wire


@pytest.mark.parametrize("line, expected", [
    (b"GET / HTTP/1.1", ("GET", "/", "HTTP/1.1")),
    (b"POST /a%20b?x=1 HTTP/1.0", ("POST", "/a%20b?x=1", "HTTP/1.0")),
    (b"OPTIONS * HTTP/1.1", ("OPTIONS", "*", "HTTP/1.1")),
    (b"GET http://example.com/x HTTP/1.1", ("GET", "http://example.com/x", "HTTP/1.1")),
    (b"M-SEARCH / HTTP/1.1", ("M-SEARCH", "/", "HTTP/1.1")),
])
def test_parseRequestLine_good(line, expected):
    """A well-formed request line splits into method, target and version."""
    assert wire.parseRequestLine(line) == expected


@pytest.mark.parametrize("line, kind", [
    (b"GET /", error.BadRequest),
    (b"GET  / HTTP/1.1", error.BadRequest),
    (b"GET / HTTP/1.1 extra", error.BadRequest),
    (b"G(T / HTTP/1.1", error.BadRequest),
    (b"GET / HTTP/x", error.BadRequest),
    (b"GET /\x00 HTTP/1.1", error.BadRequest),
    (b"GET /\x7f HTTP/1.1", error.BadRequest),
    (b"GET / HTTP/2.0", error.HTTPVersionNotSupported),
    (b"GET / http/1.1", error.BadRequest),
    (b"", error.BadRequest),
])
def test_parseRequestLine_bad(line, kind):
    """A malformed request line raises the error carrying its status."""
    with pytest.raises(kind):
        wire.parseRequestLine(line)


def test_parseHeaderLines_keeps_order_and_repeats():
    """Header lines come out in order, repeated names kept, values stripped of OWS."""
    fields = wire.parseHeaderLines([b"Host: a", b"X-A:  1 ", b"x-a: 2", b"Empty:"], 10)
    assert fields == [("Host", "a"), ("X-A", "1"), ("x-a", "2"), ("Empty", "")]


def test_parseHeaderLines_obs_text_is_latin1():
    """Bytes 0x80-0xFF in a value are obs-text, decoded as Latin-1 (RFC 9110 §5.5)."""
    assert wire.parseHeaderLines([b"X: caf\xe9"], 10) == [("X", "caf\xe9")]


@pytest.mark.parametrize("line", [
    b" folded",              # obs-fold
    b"\tfolded",
    b"Host : a",             # space before the colon (RFC 9112 §5.1)
    b"Bad Name: a",
    b"Bad(name): a",
    b"NoColon",
    b": empty-name",
    b"X: a\x00b",            # control characters in a value
    b"X: a\x1bb",
    b"X: a\rb",
])
def test_parseHeaderLines_rejects(line):
    """Each of these header lines is a 400."""
    with pytest.raises(error.BadRequest):
        wire.parseHeaderLines([b"Host: a", line], 10)


def test_parseHeaderLines_too_many():
    """More header lines than allowed is a 431."""
    with pytest.raises(error.HeaderFieldsTooLarge):
        wire.parseHeaderLines([b"X: 1"] * 11, 10)


@pytest.mark.parametrize("version, hosts, ok", [
    ("HTTP/1.1", ["example.com"], True),
    ("HTTP/1.1", ["example.com:8080"], True),
    ("HTTP/1.1", ["[::1]:8080"], True),
    ("HTTP/1.1", ["127.0.0.1"], True),
    ("HTTP/1.0", [], True),
    ("HTTP/1.1", [], False),
    ("HTTP/1.1", ["a", "b"], False),
    ("HTTP/1.0", ["a", "a"], False),
    ("HTTP/1.1", ["exa mple.com"], False),
    ("HTTP/1.1", ["a/b"], False),
    ("HTTP/1.1", ["a:80x"], False),
    ("HTTP/1.1", ["a@b"], False),
])
def test_checkHost(version, hosts, ok):
    """HTTP/1.1 needs exactly one well-formed Host; HTTP/1.0 may omit it."""
    if ok:
        wire.checkHost(version, hosts)
    else:
        with pytest.raises(error.BadRequest):
            wire.checkHost(version, hosts)


@pytest.mark.parametrize("value", [
    "a", "example.com", "127.0.0.1:8080", "[::1]", "[::1]:80", "[v1.x]", ":80", "",
    "exa mple.com", "a/b", "a:80x", "a@b", "a:65536", "a:000080", "[::1", "[1::2::3]",
    "\u0663", "a:\u0668\u0660",
])
def test_isWellFormedHost_remembered_agrees_with_plain(value):
    """The remembered Host check gives the plain check's answer, asked once or twice."""
    plain = wire.isWellFormedHostPlain(value)
    assert wire.isWellFormedHost(value) == plain
    assert wire.isWellFormedHost(value) == plain


@pytest.mark.parametrize("version, values, keep", [
    ("HTTP/1.1", [], True),
    ("HTTP/1.1", ["close"], False),
    ("HTTP/1.1", ["keep-alive, close"], False),
    ("HTTP/1.1", ["keep-alive", "Close"], False),
    ("HTTP/1.0", [], False),
    ("HTTP/1.0", ["Keep-Alive"], True),
    ("HTTP/1.0", ["keep-alive,close"], False),
])
def test_keep_alive_table(version, values, keep):
    """RFC 9112 §9.3: close wins; 1.1 defaults to open, 1.0 to closed (rules.KEEP_ALIVE,
    for a response with a length)."""
    word = http11.connectionWord(wire.connectionTokens(values))
    assert rules.keepAliveRow(version, word, "length").keep is keep


@pytest.mark.parametrize("te, cl, expected", [
    ([], [], ("length", 0)),
    ([], ["10"], ("length", 10)),
    ([], ["10", "10"], ("length", 10)),
    ([], ["10, 10"], ("length", 10)),
    (["chunked"], [], ("chunked", None)),
    (["Chunked"], [], ("chunked", None)),
])
def test_bodyFraming_good(te, cl, expected):
    """One length (possibly repeated identically) or chunked."""
    assert wire.bodyFraming(te, cl, 100) == expected


@pytest.mark.parametrize("te, cl, kind", [
    (["chunked"], ["5"], error.BadRequest),          # smuggling shape
    ([], ["5", "6"], error.BadRequest),
    ([], ["5, 6"], error.BadRequest),
    ([], ["-1"], error.BadRequest),
    ([], ["1e3"], error.BadRequest),
    ([], ["+5"], error.BadRequest),
    ([], [""], error.BadRequest),
    ([], ["101"], error.PayloadTooLarge),
    (["gzip, chunked"], [], error.NotImplementedMethod),
    (["identity"], [], error.NotImplementedMethod),
])
def test_bodyFraming_bad(te, cl, kind):
    """Ambiguous or malformed framing is refused with the right status."""
    with pytest.raises(kind):
        wire.bodyFraming(te, cl, 100)


def test_chunked_decoder_in_pieces():
    """A chunked body fed one byte at a time decodes; trailers are dropped."""
    data = b"4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nTrailer: x\r\n\r\nNEXT"
    decoder = chunked.ChunkedDecoder(100)
    out = b"".join(decoder.feed(data[i:i + 1]) for i in range(len(data)))
    assert out == b"Wikipedia"
    assert decoder.done
    assert decoder.unused() == b"NEXT"


@pytest.mark.parametrize("data, kind", [
    (b"zz\r\n", error.BadRequest),
    (b"\r\n", error.BadRequest),
    (b"3\r\nabcX\r\n", error.BadRequest),
    (b"65\r\n", error.PayloadTooLarge),
    (b"1" * 5000, error.BadRequest),
    (b"0\r\n" + b"X: y\r\n" * 3000, error.HeaderFieldsTooLarge),
])
def test_chunked_decoder_rejects(data, kind):
    """Malformed sizes, missing CRLF, oversize bodies and trailers are refused."""
    with pytest.raises(kind):
        chunked.ChunkedDecoder(100).feed(data)


def test_formatResponseHead_and_chunks():
    """The response head and chunk framing are byte-exact."""
    assert wire.formatResponseHead("HTTP/1.1", 404, "Not Found", [("A", "b")]) == \
        b"HTTP/1.1 404 Not Found\r\nA: b\r\n\r\n"
    assert chunked.formatChunk(b"hello world!") == b"c\r\nhello world!\r\n"
    assert chunked.LAST_CHUNK == b"0\r\n\r\n"


def test_http_dates_round_trip():
    """IMF-fixdate both ways; the obsolete forms parse; garbage gives None."""
    assert wire.formatHTTPDate(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert wire.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777
    assert wire.parseHTTPDate("Sunday, 06-Nov-94 08:49:37 GMT") == 784111777
    assert wire.parseHTTPDate("Sun Nov  6 08:49:37 1994") == 784111777
    assert wire.parseHTTPDate("yesterday") is None


def _parseLineByLine(head, maxCount):
    """The slow path alone: what parseHead must agree with."""
    requestLine, headerLines = wire.splitHead(head)
    method, target, version = wire.parseRequestLine(requestLine)
    return method, target, version, wire.parseHeaderLines(headerLines, maxCount)


_HEADS = [
    # well formed: these take parseHead's one-pattern fast path
    b"GET / HTTP/1.1",
    b"GET /a%20b?x=1&y HTTP/1.1\r\nHost: example.com:8080",
    b"POST /form HTTP/1.0\r\nContent-Length: 3\r\nX-A:  1 \r\nx-a:\t2\t\r\nEmpty:",
    b"M-SEARCH * HTTP/1.1\r\nHost: a\r\nX: caf\xe9 \x80\xff",
    b"GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\nCookie: a=1; b=2",
    b"GET /caf\xe9 HTTP/1.1\r\nHost: a",
    # malformed: each must raise the same error as the line-by-line path
    b"GET  / HTTP/1.1\r\nHost: a",
    b"GET / HTTP/1.1 extra\r\nHost: a",
    b"G(T / HTTP/1.1\r\nHost: a",
    b"GET / HTTP/2.0\r\nHost: a",
    b"GET / HTTP/1.2\r\nHost: a",
    b"GET / http/1.1\r\nHost: a",
    b"GET /\x00 HTTP/1.1\r\nHost: a",
    b"GET / HTTP/1.1\r\n folded",
    b"GET / HTTP/1.1\r\nHost : a",
    b"GET / HTTP/1.1\r\nBad Name: a",
    b"GET / HTTP/1.1\r\nNoColon",
    b"GET / HTTP/1.1\r\n: empty-name",
    b"GET / HTTP/1.1\r\nX: a\x00b",
    b"GET / HTTP/1.1\r\nX: a\x7fb",
    b"GET / HTTP/1.1\r\nX: a\rb",
    b"GET / HTTP/1.1\r\nX: a\nY: b",
    b"GET / HTTP/1.1\r\n" + b"\r\n".join([b"X: 1"] * 11),
]


@pytest.mark.parametrize("head", _HEADS)
def test_parseHead_agrees_with_the_line_by_line_functions(head):
    """parseHead's fast path is an optimisation, never a different answer."""
    try:
        expected = _parseLineByLine(head, 10)
    except error.Error as exc:
        with pytest.raises(type(exc)) as raised:
            wire.parseHead(head, 10)
        assert raised.value.detail == exc.detail
    else:
        assert wire.parseHead(head, 10) == expected


def test_parseHead_fast_path_is_taken_for_a_plain_request(monkeypatch):
    """A well-formed head is split by the pattern alone: the line checks never run."""
    def refuse(*args):
        raise AssertionError("the line-by-line path ran")
    monkeypatch.setattr(wire, "parseRequestLine", refuse)
    monkeypatch.setattr(wire, "parseHeaderLines", refuse)
    head = b"GET /x?y=1 HTTP/1.1\r\nHost: a\r\nAccept:  */* "
    assert wire.parseHead(head, 10) == ("GET", "/x?y=1", "HTTP/1.1",
                                        [("Host", "a"), ("Accept", "*/*")])


def test_bodyFraming_refuses_transfer_encoding_in_http10():
    """RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message is faulty framing."""
    assert wire.bodyFraming(["chunked"], [], 100, "HTTP/1.1") == ("chunked", None)
    with pytest.raises(error.BadRequest):
        wire.bodyFraming(["chunked"], [], 100, "HTTP/1.0")


@pytest.mark.parametrize("partial, refused", [
    (b"GET / HTTP/1.1\r\nHost: a\r\n", False),      # CRLF lines, head not over yet
    (b"GET / HTTP/1.1\r\nHost: a\r", False),
    (b"GET / HTTP/1.0\n\n", True),                  # bare LF throughout
    (b"GET / HTTP/1.1\r\nHost: a\n\n", True),       # bare LF at the end
    (b"GET / HTTP/1.1\r\nHost: a\r\n\n", True),     # CRLF then a bare LF blank line
])
def test_checkLineEnds(partial, refused):
    """A head that ended with LF LF will never send CRLF CRLF: 400 now, not a wait."""
    if refused:
        with pytest.raises(error.BadRequest):
            wire.checkLineEnds(partial)
    else:
        wire.checkLineEnds(partial)
