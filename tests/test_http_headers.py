"""Tests for refweb.http_headers.Headers, and headers as they reach the wire.

Most rules are checked on Headers objects directly; the last tests serve a
resource and look at the raw response bytes, where names are written in
their canonical form and injection attempts never arrive.
"""

import pytest

from refweb import resource
from refweb.http_headers import Headers, canonicalName
from support import rawHTTP, served


def test_headers_namesAreCaseInsensitive():
    """A header set as Content-Type is found as content-type and CONTENT-TYPE."""
    h = Headers()
    h.setRawHeaders("Content-Type", ["text/plain"])
    assert h.getRawHeaders("content-type") == ["text/plain"]
    assert h.getRawHeaders("CONTENT-TYPE") == ["text/plain"]
    assert h.hasHeader("cOnTeNt-TyPe")
    assert "content-TYPE" in h


def test_headers_keepSeveralValues():
    """addRawHeader appends: two Set-Cookie values stay two, in order."""
    h = Headers()
    h.addRawHeader("Set-Cookie", "a=1")
    h.addRawHeader("set-cookie", "b=2")
    assert h.getRawHeaders("Set-Cookie") == ["a=1", "b=2"]
    assert list(h.items()) == [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]
    assert h.getFirst("set-cookie") == "a=1"
    assert h.getLast("SET-COOKIE") == "b=2"


def test_headers_setRawHeadersReplaces():
    """setRawHeaders replaces every earlier value of that name."""
    h = Headers()
    h.addRawHeader("X-A", "1")
    h.addRawHeader("X-A", "2")
    h.setRawHeaders("x-a", ["3"])
    assert h.getRawHeaders("X-A") == ["3"]


def test_headers_missingNameGivesDefault():
    """getRawHeaders, getFirst and getLast return the default for an absent name."""
    h = Headers()
    assert h.getRawHeaders("x-none") is None
    assert h.getRawHeaders("x-none", ["d"]) == ["d"]
    assert h.getFirst("x-none", "d") == "d"
    assert h.getLast("x-none") is None and h.getLast(b"x-none", "d") == "d"
    assert h.hasHeader("x-none") is False


def test_headers_getRawHeadersReturnsACopy():
    """Changing the list getRawHeaders returned does not change the headers."""
    h = Headers()
    h.setRawHeaders("X-A", ["1"])
    h.getRawHeaders("X-A").append("2")
    assert h.getRawHeaders("X-A") == ["1"]


@pytest.mark.parametrize("value", ["a\r\nX-Evil: 1", "a\nb", "a\rb",
                                   b"a\r\nSet-Cookie: x=1"])
def test_headers_setRawHeadersRefusesCRLF(value):
    """A value with CR or LF is refused by setRawHeaders with ValueError."""
    h = Headers()
    with pytest.raises(ValueError):
        h.setRawHeaders("X-A", ["ok", value])
    assert h.hasHeader("X-A") is False


@pytest.mark.parametrize("value", ["a\r\nX-Evil: 1", "a\nb", "a\rb", b"x\ny"])
def test_headers_addRawHeaderRefusesCRLF(value):
    """A value with CR or LF is refused by addRawHeader with ValueError."""
    h = Headers()
    h.addRawHeader("X-A", "first")
    with pytest.raises(ValueError):
        h.addRawHeader("X-A", value)
    assert h.getRawHeaders("X-A") == ["first"]


@pytest.mark.parametrize("name", ["X-A\r\nX-B", "X:A", "", "  ", "X\nA"])
def test_headers_badNamesAreRefused(name):
    """A name with CR, LF or ':' (or a blank name) is refused with ValueError."""
    with pytest.raises(ValueError):
        Headers().addRawHeader(name, "v")
    with pytest.raises(ValueError):
        Headers().setRawHeaders(name, ["v"])


def test_headers_bytesAreAcceptedAndStoredAsStr():
    """Bytes names and values are accepted and kept as str (decoded as Latin-1)."""
    h = Headers()
    h.addRawHeader(b"X-Bytes", b"caf\xe9")
    h.setRawHeaders(b"X-List", [b"one", "two"])
    assert h.getRawHeaders("x-bytes") == ["caf\u00e9"]
    assert h.getRawHeaders(b"X-BYTES") == ["caf\u00e9"]
    assert h.getRawHeaders("x-list") == ["one", "two"]
    assert h.hasHeader(b"x-list")
    assert all(isinstance(v, str) for _, v in h.items())


def test_headers_otherValuesBecomeStr():
    """A number given as a value is stored as its str."""
    h = Headers()
    h.addRawHeader("Content-Length", 12)
    assert h.getRawHeaders("content-length") == ["12"]


def test_headers_setRawHeadersWantsAList():
    """setRawHeaders with one str (not a list) raises TypeError instead of splitting it."""
    with pytest.raises(TypeError):
        Headers().setRawHeaders("X-A", "value")
    with pytest.raises(TypeError):
        Headers().setRawHeaders("X-A", b"value")


@pytest.mark.parametrize("given, canonical", [
    ("content-type", "Content-Type"), ("CONTENT-LENGTH", "Content-Length"),
    ("x-forwarded-for", "X-Forwarded-For"), ("host", "Host"), ("x--y", "X--Y"),
])
def test_canonicalName_capitalizesEachWord(given, canonical):
    """canonicalName writes each dash-separated word with one capital letter."""
    assert canonicalName(given) == canonical


def test_headers_getAllRawHeadersUsesCanonicalNamesInOrder():
    """getAllRawHeaders yields (canonical name, values) in first-seen order."""
    h = Headers()
    h.addRawHeader("x-second", "2")
    h.addRawHeader("CONTENT-TYPE", "text/plain")
    h.addRawHeader("X-Second", "3")
    assert list(h.getAllRawHeaders()) == [("X-Second", ["2", "3"]),
                                          ("Content-Type", ["text/plain"])]


def test_headers_copyIsIndependent():
    """A copy has the same headers, and changing one leaves the other alone."""
    h = Headers()
    h.addRawHeader("X-A", "1")
    c = h.copy()
    assert c == h
    c.addRawHeader("X-A", "2")
    c.addRawHeader("X-B", "b")
    h.removeHeader("x-a")
    assert h.getRawHeaders("X-A") is None
    assert c.getRawHeaders("X-A") == ["1", "2"]
    assert c != h
    assert list(c.getAllRawHeaders()) == [("X-A", ["1", "2"]), ("X-B", ["b"])]


def test_headers_removeHeaderRemovesEveryValue():
    """removeHeader drops all values of a name (any case); an absent name is fine."""
    h = Headers()
    h.addRawHeader("X-A", "1")
    h.addRawHeader("X-A", "2")
    h.addRawHeader("X-B", "3")
    h.removeHeader("X-A")
    h.removeHeader(b"x-b")
    h.removeHeader("never-there")
    assert list(h.items()) == []
    assert h.hasHeader("x-a") is False


def test_headers_constructorTakesAMapping():
    """Headers({name: [values]}) starts with those headers."""
    h = Headers({"X-A": ["1", "2"], b"X-B": [b"3"]})
    assert h.getRawHeaders("x-a") == ["1", "2"]
    assert h.getRawHeaders("x-b") == ["3"]
    assert repr(h) == "Headers({'X-A': ['1', '2'], 'X-B': ['3']})"
    assert (h == {"X-A": ["1", "2"]}) is False


# -- on the wire ---------------------------------------------------------------

class HeaderSetter(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        request.responseHeaders.addRawHeader("x-multi", "one")
        request.responseHeaders.addRawHeader(b"X-MULTI", b"two")
        try:
            request.setHeader("x-evil", "a\r\nSet-Cookie: stolen=1")
        except ValueError:
            request.setHeader("x-refused", "yes")
        return b"ok"


def test_headers_areWrittenCanonicallyAndInjectionNeverReachesTheWire():
    """Response headers go out as canonical lines, one per value; CR/LF never gets through."""
    with served(HeaderSetter()) as port:
        data = rawHTTP(port, b"GET / HTTP/1.0\r\n\r\n")
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.0 200 OK"
    assert b"X-Multi: one" in lines and b"X-Multi: two" in lines
    assert b"X-Refused: yes" in lines
    assert b"stolen" not in data
    assert body == b"ok"


def test_headers_requestHeadersAreCaseInsensitiveToo():
    """A request header sent in any case is found by getHeader in any other case."""
    class Echo(resource.Resource):
        isLeaf = True

        def render_GET(self, request):
            return "%s|%s" % (request.getHeader("x-custom"),
                              request.requestHeaders.getRawHeaders("X-CUSTOM"))

    with served(Echo()) as port:
        data = rawHTTP(port, b"GET / HTTP/1.0\r\nx-CuStOm: a\r\nX-custom: b\r\n\r\n")
    assert data.endswith(b"\r\n\r\nb|['a', 'b']")
