"""Issue 12's defects, one test each, through a real server (and a real
reverse proxy in front of a recording upstream where the proxy is the point).

Each test sends the exact bytes that once went wrong and reads the answer
with the strict reader of tests/strict.py.
"""

import json

import pytest

from refweb import proxy, resource, static, wsgi
from refweb.python.threadpool import ThreadPool
from refweb.internet import reactor
from strict import RecordingUpstream, exchange, parseAll, parseOne, requestsIn
from support import served


class Echo(resource.Resource):
    """Answers what it saw: method, path, body, host name and URLs."""

    isLeaf = True

    def render(self, request):
        return json.dumps({
            "method": request.method, "path": request.path, "proto": request.clientproto,
            "body": request.content.read().decode("latin-1"),
            "hostname": request.getRequestHostname(), "hostport": request.getHost().port,
            "url": request.prePathURL(),
        }).encode()


@pytest.fixture
def echo():
    with served(Echo()) as port:
        yield port


def ask(port, data, method="GET"):
    raw, closed = exchange(port, data)
    assert raw, "no answer to %r" % (data,)
    return parseAll(raw, [method] * 4)


def test_content_length_superscript_digit_is_400(echo, logged):
    """Content-Length: 0xB3 (latin-1 '³', which str.isdigit accepts) is a 400, not a dropped connection."""
    [response] = ask(echo, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \xb3\r\n\r\nabc")
    assert response.status == 400
    assert not [line for line in logged if "Unhandled" in line]


@pytest.mark.parametrize("value", [b"+5", b"5_0", b"0x5", b"5.0", b"-5", b"\xb2"])
def test_content_length_not_ascii_digits_is_400(echo, value):
    """Content-Length is 1*DIGIT (RFC 9110 §8.6): signs, underscores, hex and non-ASCII digits are 400."""
    [response] = ask(echo, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + value
                     + b"\r\n\r\nhello")
    assert response.status == 400


def test_content_length_leading_zeros_are_its_value(echo):
    """Content-Length: 0000000000000000005 (19 characters) means 5 (RFC 9110 §8.6)."""
    [response, second] = ask(echo, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: "
                             b"0000000000000000005\r\n\r\nhello"
                             b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    assert response.status == 200 and json.loads(response.body)["body"] == "hello"
    assert second.status == 200


def test_content_length_of_ten_thousand_digits_is_413(echo):
    """A 10,000-digit Content-Length is over any maxBodySize: 413, decided without int()."""
    [response] = ask(echo, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + b"9" * 10000
                     + b"\r\n\r\n")
    assert response.status == 413


def test_range_superscript_digit_is_ignored(docroot):
    """Range: bytes=0-0xB3 is not a range (ASCII digits only): the whole file, 200, not a 500."""
    with served(static.File(str(docroot))) as port:
        [response] = ask(port, b"GET /a.txt HTTP/1.1\r\nHost: a\r\nRange: bytes=0-\xb3\r\n"
                         b"Connection: close\r\n\r\n")
    assert response.status == 200 and response.body == b"alpha\n"


def test_range_with_huge_positions_is_416(docroot):
    """Range positions of 40 digits are beyond the file: 416, without a traceback."""
    with served(static.File(str(docroot))) as port:
        [response] = ask(port, b"GET /a.txt HTTP/1.1\r\nHost: a\r\nRange: bytes="
                         + b"9" * 40 + b"-\r\nConnection: close\r\n\r\n")
    assert response.status == 416


@pytest.mark.parametrize("target", [b"/\x80", b"/caf\xe9", b"/a\xffb", b"/a\x7fb"])
def test_target_with_raw_high_bytes_is_400(echo, target):
    """A request-target holds visible ASCII only (RFC 9112 §3.2, RFC 3986 §2): raw 0x7F-0xFF is 400."""
    [response] = ask(echo, b"GET " + target + b" HTTP/1.1\r\nHost: a\r\n\r\n")
    assert response.status == 400


def test_target_with_raw_high_bytes_through_reverse_proxy_is_400():
    """Through ReverseProxyResource the same target is the client's error, 400, and nothing goes upstream."""
    with RecordingUpstream() as upstream:
        with served(proxy.ReverseProxyResource("127.0.0.1", upstream.port, "/up")) as port:
            [response] = ask(port, b"GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n")
        assert response.status == 400
        assert upstream.take() == []


def test_header_name_ending_in_lf_is_400(echo):
    """'Content-Length\\n: 5' is not a field name ("$" matched before the LF): 400, body not a next request."""
    [response] = ask(echo, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length\n: 5\r\n\r\n"
                     b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n")
    assert response.status == 400


def test_method_ending_in_lf_is_400(echo):
    """A method b'GET\\n' is not a token (RFC 9110 §9.1): 400."""
    [response] = ask(echo, b"GET\n / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert response.status == 400


@pytest.mark.parametrize("line", [b"5\n", b" 5", b"5 ", b"\t5", b"5\x0b", b"5\r", b"+5",
                                  b"5;a\x00", b"5;a\x7f", b"5;a\nb",
                                  pytest.param(b"5;" + b"a" * 70000, id="ext-of-70kB"),
                                  b"5;", b"5;=x", b"5;a=\"x", b"0x5", b""])
def test_malformed_chunk_size_lines_are_400(echo, line):
    """chunk = 1*HEXDIG [chunk-ext] CRLF (RFC 9112 §7.1), bounded: anything else is 400."""
    [response] = ask(echo, b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                     + line + b"\r\nhello\r\n0\r\n\r\n")
    assert response.status == 400


@pytest.mark.parametrize("line", [b"5;a=b", b"5 ; a = b", b"5;a=\"x;y\\\"\"", b"5;a;b=c",
                                  b"00005"])
def test_chunk_extensions_are_accepted_and_ignored(echo, line):
    """Well-formed chunk extensions (with BWS) are read and ignored (RFC 9112 §7.1.1)."""
    [response] = ask(echo, b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                     b"Connection: close\r\n\r\n" + line + b"\r\nhello\r\n0\r\n\r\n")
    assert response.status == 200 and json.loads(response.body)["body"] == "hello"


@pytest.mark.parametrize("trailer", [b"X-A: 1\nX-B: 2", b"X-A: \x00", b"X-A: \x7f",
                                     b"no colon here", b" folded", b"X A: 1"])
def test_malformed_trailers_are_400(echo, trailer):
    """Trailers are field lines (RFC 9112 §7.1.2), checked like header lines: 400."""
    [response] = ask(echo, b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"5\r\nhello\r\n0\r\n" + trailer + b"\r\n\r\n")
    assert response.status == 400


def test_too_many_trailers_are_431(echo):
    """More than ChunkedDecoder.maxTrailerCount trailer lines: 431."""
    [response] = ask(echo, b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"5\r\nhello\r\n0\r\n" + b"X: 1\r\n" * 101 + b"\r\n")
    assert response.status == 431


def test_good_trailers_are_accepted(echo):
    """A chunked body with well-formed trailers is read, and the trailers dropped."""
    [response] = ask(echo, b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                     b"Connection: close\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n")
    assert response.status == 200 and json.loads(response.body)["body"] == "hello"


@pytest.mark.parametrize("request_,status", [
    (b"HEAD / HTTP/1.1\r\n\r\n", 400),                              # no Host
    (b"HEAD /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414),
    (b"HEAD / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\nContent-Length: 1\r\n\r\nx", 417),
    (b"HEAD / HTTP/1.1\r\nHost: a\r\n" + b"X: 1\r\n" * 101 + b"\r\n", 431),
    (b"HEAD / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
])
def test_connection_errors_to_head_have_no_body(echo, request_, status):
    """An error the connection answers to HEAD states Content-Length but sends no body (RFC 9110 §9.3.2)."""
    raw, closed = exchange(echo, request_)
    response, rest = parseOne(raw, "HEAD")
    assert response.status == status and closed
    assert rest == b"", "a body followed the HEAD error: %r" % (rest[:80],)
    assert int(response.get("content-length")) > 0


def test_connection_error_to_get_has_its_page(echo):
    """The same error to a GET carries its page, exactly Content-Length bytes."""
    [response] = ask(echo, b"GET / HTTP/1.1\r\n\r\n")
    assert response.status == 400
    assert len(response.body) == int(response.get("content-length")) > 0


@pytest.mark.parametrize("target", [b"http://[/", b"http:///x", b"ftp://a.example/x",
                                    b"http://a.example:abc/", b"http://a.example:99999/",
                                    b"http://u@a.example/", b"javascript://a/x",
                                    b"http://a.example/#f", b"http://a.ex\xb3mple/"])
def test_bad_absolute_targets_are_400(echo, target):
    """Absolute-form targets: http(s) only, a host, a port of 0-65535; anything else 400, never 500."""
    [response] = ask(echo, b"GET " + target + b" HTTP/1.1\r\nHost: a\r\n\r\n")
    assert response.status == 400


def test_absolute_target_authority_wins_over_host(echo):
    """RFC 9112 §3.2.2: the target's authority, not Host, names the host for the request."""
    [response] = ask(echo, b"GET http://other.example/x HTTP/1.1\r\nHost: a.example\r\n"
                     b"Connection: close\r\n\r\n")
    seen = json.loads(response.body)
    assert response.status == 200
    assert (seen["hostname"], seen["hostport"], seen["path"]) == ("other.example", 80, "/x")
    assert seen["url"] == "http://other.example/"


def test_absolute_target_with_port(echo):
    """An absolute-form port is the request's port too."""
    [response] = ask(echo, b"GET HTTP://Other.example:8080/x?q=1 HTTP/1.1\r\nHost: a\r\n"
                     b"Connection: close\r\n\r\n")
    seen = json.loads(response.body)
    assert (seen["hostname"], seen["hostport"], seen["path"]) == ("Other.example", 8080, "/x")


def test_lone_cr_before_request_line_is_400(echo):
    """Only CRLF empty lines are skipped before a request line (RFC 9112 §2.2): a lone CR is 400."""
    [response] = ask(echo, b"\rGET / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert response.status == 400


def test_crlf_before_request_line_is_skipped(echo):
    """CRLF empty lines before a request line are ignored."""
    [response] = ask(echo, b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    assert response.status == 200


@pytest.mark.parametrize("version", [b"HTTP/1.2", b"HTTP/1.9"])
def test_higher_minor_version_is_served_as_1_1(echo, version):
    """RFC 9110 §2.5: HTTP/1.2-1.9 is processed as HTTP/1.1, answered as HTTP/1.1."""
    raw, _ = exchange(echo, b"GET / " + version + b"\r\nHost: a\r\nConnection: close\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 200 ")
    assert json.loads(parseOne(raw)[0].body)["proto"] == "HTTP/1.1"


@pytest.mark.parametrize("version", [b"HTTP/2.0", b"HTTP/3.0", b"HTTP/0.9"])
def test_other_versions_are_505(echo, version):
    """HTTP/0.x, HTTP/2 and later in an HTTP/1 request line: 505."""
    [response] = ask(echo, b"GET / " + version + b"\r\nHost: a\r\n\r\n")
    assert response.status == 505


@pytest.mark.parametrize("version", [b"HTTP/1.\xb3", b"HTTP/\xb9.1", b"HTTP/1.1\n", b"HTTP/11.1"])
def test_malformed_versions_are_400(echo, version):
    """HTTP-version is "HTTP/" DIGIT "." DIGIT, ASCII, matched whole: anything else is 400."""
    [response] = ask(echo, b"GET / " + version + b"\r\nHost: a\r\n\r\n")
    assert response.status == 400


@pytest.mark.parametrize("host", [b"[v1.fe80::a+en1]", b"[v1.fe80::a+en1]:8080", b"[::1]",
                                  b"a.example:", b"127.0.0.1:80"])
def test_host_forms_accepted(echo, host):
    """Host is uri-host [":" port] (RFC 3986 §3.2.2), IPvFuture literals included."""
    [response] = ask(echo, b"GET / HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n")
    assert response.status == 200


@pytest.mark.parametrize("host", [b"a:\xb3", b"a:99999", b"a:8o", b"[::1", b"[zz::1]",
                                  b"a b", b"[::1]x"])
def test_malformed_hosts_are_400(echo, host):
    """A Host port is ASCII digits 0-65535, a literal is IPv6 or IPvFuture: else 400."""
    [response] = ask(echo, b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
    assert response.status == 400


def test_reverse_proxy_resolves_encoded_dot_segments():
    """/a/%2e%2e/b reaches the upstream as /up/b: dot segments are resolved, never sent as '..'."""
    with RecordingUpstream() as upstream:
        with served(proxy.ReverseProxyResource("127.0.0.1", upstream.port, "/up")) as port:
            [response] = ask(port, b"GET /a/%2e%2e/b/%2E/c HTTP/1.1\r\nHost: a\r\n"
                             b"Connection: close\r\n\r\n")
        [sent] = upstream.take()
    assert response.status == 200
    assert requestsIn(sent)[0][0] == b"GET /up/b/c HTTP/1.1"


def test_reverse_proxy_refuses_climbing_above_its_prefix():
    """/a/%2e%2e/%2e%2e/secret would leave /up: 400, and nothing goes upstream."""
    with RecordingUpstream() as upstream:
        with served(proxy.ReverseProxyResource("127.0.0.1", upstream.port, "/up")) as port:
            [response] = ask(port, b"GET /a/%2e%2e/%2e%2e/secret HTTP/1.1\r\nHost: a\r\n\r\n")
            [literal] = ask(port, b"GET /../secret HTTP/1.1\r\nHost: a\r\n\r\n")
        assert upstream.take() == []
    assert response.status == 400 and literal.status == 400


def test_reverse_proxy_trailing_dot_dot_keeps_a_slash():
    """RFC 3986 §5.2.4: '/up/a/b/..' is '/up/a/'."""
    with RecordingUpstream() as upstream:
        with served(proxy.ReverseProxyResource("127.0.0.1", upstream.port, "/up")) as port:
            ask(port, b"GET /a/b/.. HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        [sent] = upstream.take()
    assert requestsIn(sent)[0][0] == b"GET /up/a/ HTTP/1.1"


def test_wsgi_status_with_non_ascii_digits_is_refused():
    """A WSGI status '2٣٣ OK' (Arabic-Indic digits) is not a status: 500, not 233."""
    def app(environ, start_response):
        start_response("2\u0663\u0663 OK", [("Content-Type", "text/plain")])
        return [b"x"]
    pool = ThreadPool(1, 2)
    pool.start()
    try:
        with served(wsgi.WSGIResource(reactor, pool, app)) as port:
            [response] = ask(port, b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    finally:
        pool.stop()
    assert response.status == 500


def test_cookie_pairs_without_a_token_name_are_ignored():
    """A Cookie pair whose name is not a token (RFC 6265 §4.1.1) is skipped, the rest kept."""
    class Cookies(resource.Resource):
        isLeaf = True

        def render(self, request):
            return json.dumps(request.received_cookies, sort_keys=True).encode()
    with served(Cookies()) as port:
        [response] = ask(port, b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
                         b"Cookie: a=1; b c=2; \xb3=3; d=4\r\n\r\n")
    assert json.loads(response.body) == {"a": "1", "d": "4"}


def test_server_still_answers_after_every_refusal(echo):
    """After the refusals above, a plain request is answered (the server is alive)."""
    for bad in (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: \xb3\r\n\r\n",
                b"GET http://[/ HTTP/1.1\r\nHost: a\r\n\r\n"):
        exchange(echo, bad)
    [response] = ask(echo, b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    assert response.status == 200




class Redirector(resource.Resource):
    """Redirects to a Location that smuggles a second header line in."""

    isLeaf = True

    def render_GET(self, request):
        request.redirect(b"/next\r\nSet-Cookie: stolen=1")
        return b""


def test_redirect_with_crlf_never_reaches_the_wire(logged):
    """request.redirect() to a URL holding CR LF is a 500: no Location, no
    injected Set-Cookie line, and the reason is logged."""
    with served(Redirector()) as port:
        [response] = ask(port, b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    assert response.status == 500
    names = [name for name, _ in response.headers]
    assert "location" not in names and "set-cookie" not in names
    assert b"stolen" not in response.body
    assert any("may not contain CR or LF" in line for line in logged)


def test_connection_error_page_escapes_what_the_peer_sent(echo):
    """A 400 for a bad header name quotes the name HTML-escaped, never as markup."""
    [response] = ask(echo, b"GET / HTTP/1.1\r\nHost: a\r\n<script>alert(1)</script>: v\r\n\r\n")
    assert response.status == 400
    assert b"<script>" not in response.body
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in response.body
