"""refweb.grammar: every rule of its table, with text it must take and text it must refuse.

One table of examples per rule (``EXAMPLES``): ASCII and non-ASCII, accepted
and refused.  The tests iterate it, plus three checks made on every rule
from the accepted examples themselves: a trailing newline is refused (a
``$``-style match would take it), ``bytes`` and ``str`` agree wherever the
text is Latin-1, and -- in the rules built from digits -- an ASCII digit
swapped for a Unicode digit (``'٣'``, ``'³'``, ...) is refused.  A rule
added to ``grammar.RULES`` without examples here fails ``test_every_rule_has_examples``.
The parsing helpers (``parseDigits`` and the rest) have tables of their own
at the end.
"""

import pytest

from refweb import error, grammar, rules, wire

# Digits that Python's str methods, int() or a str "\d" take, and RFC 5234's DIGIT does not:
# ARABIC-INDIC THREE, SUPERSCRIPT THREE, FULLWIDTH FIVE, DEVANAGARI ONE, MATHEMATICAL BOLD TWO.
UNICODE_DIGITS = ("\u0663", "\u00b3", "\uff15", "\u0967", "\U0001d7d0")

# rule -> (accepted, refused).  Text is str; a bytes example stands for itself.
EXAMPLES = {
    "DIGIT": (
        ["0", "5", "9"],
        ["", "a", "10", " 5", "-", "\u0663", "\u00b3", "\uff15"]),
    "HEXDIG": (
        ["0", "9", "a", "F"],
        ["", "g", "G", "0x", "\u00e9", "\uff21"]),
    "token": (
        ["GET", "x-custom", "!#$%&'*+-.^_`|~", "a1", "Content-Length"],
        ["", "a b", "a:b", "a/b", "(x)", "\"x\"", "caf\u00e9", "na\u00efve", b"caf\xc3\xa9",
         "a\tb"]),
    "field-name": (
        ["Host", "X-Forwarded-For", "a1"],
        ["", "Host ", " Host", "Ho:st", "H\u00f6st", "X\x00"]),
    "field-value": (
        ["", "text/html; charset=utf-8", "a\tb c", "  padded  ", "caf\u00e9", b"caf\xc3\xa9",
         "\u00b3"],  # obs-text: the bytes 0x80-0xff, whatever they mean
        ["a\r\nb", "a\nb", "a\x00b", "a\x7fb", "\u0663", "\u20ac"]),
    "quoted-string": (
        ['""', '"abc"', '"a \\" b"', '"tab\there"', '"caf\u00e9"', b'"caf\xc3\xa9"'],
        ['', 'abc', '"abc', '"a"b"', '"a\nb"', '"\\\n"', '"\u20ac"']),
    "request-target": (
        ["/", "/a/b?c=d", "*", "http://example.com:80/x", "example.com:443", "/%C3%A9"],
        ["", "/a b", "/\u00e9", b"/\xc3\xa9", "/a\tb", "/\x7f"]),
    "method": (
        ["GET", "POST", "M-SEARCH", "get", "X1"],
        ["", "GE T", "G\u00c9T", "GET/1", "GET\x00"]),
    "HTTP-version": (
        ["HTTP/1.1", "HTTP/1.0", "HTTP/2.0"],
        ["", "HTTP/1", "HTTP/1.10", "HTTP/11.1", "http/1.1", "HTTP/1.\u0661", "HTTP/\uff11.1",
         " HTTP/1.1"]),
    "status-code": (
        ["200", "404", "999", "000"],
        ["", "20", "2000", "20x", "+20", " 200", "2\u00b3\u00b3", "\u0662\u0660\u0660"]),
    "reason-phrase": (
        ["", "OK", "Not Found", "\tweird\t", "Gr\u00fc\u00dfe", b"Gr\xc3\xbc\xc3\x9fe"],
        ["OK\r", "OK\n", "a\x00", "\u20ac"]),
    "Content-Length": (
        ["0", "42", "0005", "18446744073709551616"],
        ["", "-1", "+5", "1_0", " 5", "5 ", "0x10", "1e3", "\u0663", "\uff15", "4\u00b2"]),
    "chunk-size": (
        ["0", "1A", "ff", "000010"],
        ["", "0x1A", "-1", "g", " 1", "1 ", "\u0661", "\uff21"]),
    "chunk-ext": (
        ["", ";a", ";a=b", " ; a = b", ';a="b c"', ";a;b=1", ';a="caf\u00e9"'],
        [";", "a", ";a=", ";a=b c", ";a=\"b", ";caf\u00e9", ";a=\u20ac"]),
    "scheme": (
        ["http", "https", "svn+ssh", "a-b.c", "H2"],
        ["", "1http", "+a", "ht tp", "h\u00e9", "http:"]),
    "reg-name": (
        ["", "example.com", "127.0.0.1", "a-b_c~d", "%C3%A9t%C3%A9", "a!$&'()*+,;="],
        ["a b", "a/b", "a:b", "a@b", "%zz", "%4", "\u00e9t\u00e9.fr", "\u0663.com"]),
    "IPvFuture": (
        ["v1.a", "VF.x:y", "v1A.a~b"],
        ["v.a", "v1.", "1.a", "v1a", "v1.a/b", "v\u0661.a"]),
    "IPv6address": (
        ["::1", "fe80::1", "::ffff:1.2.3.4", "2001:DB8::"],
        ["", "fe80::1%eth0", "g::1", "[::1]", ":: 1", "\uff11::1"]),
    "port": (
        ["", "0", "80", "65535", "99999"],  # the value's bound is parsePort's, below
        ["123456", "8O", "-1", "+80", " 80", "\u0668\u0660", "8\u00b3"]),
    "byte-range-spec": (
        ["0-", "0-499", "-500", "-", "10-20"],
        ["", "0", "a-b", "0-1-2", " 0-1", "0 - 1", "\u0660-\u0661", "0-\uff19"]),
    "cookie-name": (
        ["SID", "session_id", "a.b", "v2"],
        ["", "a b", "a=b", "a;b", "s\u00e9ssion"]),
    "request-line": (
        ["GET / HTTP/1.1", "OPTIONS * HTTP/1.0", "GET http://a.example:8080/x?y HTTP/1.1",
         "M-SEARCH /a%C3%A9 HTTP/2.0"],
        ["", "GET /", "GET  / HTTP/1.1", "GET / HTTP/1.1 ", "GET /a b HTTP/1.1", "G(T / HTTP/1.1",
         "GET /\u00e9 HTTP/1.1", b"GET /\xc3\xa9 HTTP/1.1", "GET / HTTP/1.10", "GET\t/ HTTP/1.1",
         "GET / http/1.1", "GET / HTTP/\u0661.1"]),
    "field-line": (
        ["Host: a", "Host:a", "X-A:", "X-A:  padded\t ", "X-A: caf\u00e9", b"X-A: caf\xc3\xa9"],
        ["", ": a", "Host : a", " Host: a", "Host a", "X-A: a\rb", "X-A: a\x00b", "X-A: \u20ac",
         "H\u00f6st: a"]),
    "status-line": (
        ["HTTP/1.1 200 OK", "HTTP/1.0 404 Not Found", "HTTP/1.1 204 ",
         "HTTP/1.1 500 Gr\u00fc\u00dfe",
         b"HTTP/1.1 200 Gr\xc3\xbc\xc3\x9fe", "HTTP/1.1 200 \tweird"],
        ["", "HTTP/1.1 200", "HTTP/1.1 OK", "ICY 200 OK", "HTTP/1.1 20 OK", "HTTP/1.1 2000 OK",
         "HTTP/1.1  200 OK", "http/1.1 200 OK", "HTTP/1.1 \u0662\u0660\u0660 OK",
         "HTTP/1.1 200 a\x00b", "HTTP/1.1 200 \u20ac"]),
    "Host": (
        ["", "example.com", "example.com:8080", "Example.COM.", "127.0.0.1:80", "a:", ":80",
         "[::1]", "[::1]:8080", "[v1.a]:80", "a!$&'()*+,;=~_-.b", "%C3%A9t%C3%A9.fr"],
        ["a b", "a:b", "a:80:80", "a:123456", "a@b:80", "a/b", "[::1", "[::1]x", "[::1]:x", "[]",
         "::1", "\u00e9t\u00e9.fr", "a:\u0668\u0660", "[\uff11::1]", "a:80\r"]),
}

# Rules made of digits and ASCII letters only: a Unicode digit in place of an
# ASCII one must be refused.  (field-value, quoted-string, reason-phrase and
# chunk-ext take obs-text, the bytes 0x80-0xff: as str, U+00B3 '³' is that
# byte read as Latin-1 and is rightly taken.)
OBS_TEXT_RULES = {"field-value", "quoted-string", "reason-phrase", "chunk-ext", "field-line",
                  "status-line"}
DIGIT_RULES = sorted(name for name, *_ in grammar.RULES if name not in OBS_TEXT_RULES)


def _cases(accepted):
    return [(rule, text) for rule, (good, bad) in EXAMPLES.items()
            for text in (good if accepted else bad)]


def test_every_rule_has_examples():
    names = [name for name, *_ in grammar.RULES]
    assert sorted(EXAMPLES) == sorted(names)
    for name in names:
        good, bad = EXAMPLES[name]
        assert good and bad, name
        assert any(not isinstance(t, bytes) and not t.isascii() for t in good + bad), \
            "%s needs a non-ASCII example" % name


def test_rules_say_where_they_come_from():
    for name, abnf, clause, patternText in grammar.RULES:
        assert abnf and clause.startswith("RFC ") and patternText.isascii(), name


@pytest.mark.parametrize("rule,text", _cases(True))
def test_accepted(rule, text):
    assert grammar.matches(rule, text)


@pytest.mark.parametrize("rule,text", _cases(False))
def test_refused(rule, text):
    assert not grammar.matches(rule, text)


@pytest.mark.parametrize("rule,text", _cases(True))
def test_trailing_newline_refused(rule, text):
    assert not grammar.matches(rule, text + (b"\n" if isinstance(text, bytes) else "\n"))


@pytest.mark.parametrize("rule,text", [(r, t) for r, t in _cases(True) + _cases(False)
                                       if not isinstance(t, bytes)])
def test_bytes_and_str_agree(rule, text):
    try:
        asBytes = text.encode("latin-1")
    except UnicodeEncodeError:
        # Not one byte a character: the str form is refused by every rule
        # that is not obs-text, and as UTF-8 bytes it is refused there too.
        if rule not in OBS_TEXT_RULES:
            assert not grammar.matches(rule, text.encode("utf-8"))
        return
    assert grammar.matches(rule, asBytes) == grammar.matches(rule, text)


@pytest.mark.parametrize("rule", DIGIT_RULES)
@pytest.mark.parametrize("digit", UNICODE_DIGITS)
def test_unicode_digit_refused(rule, digit):
    withDigits = [t for t in EXAMPLES[rule][0]
                  if not isinstance(t, bytes) and any(c in "0123456789" for c in t)]
    if not withDigits:
        pytest.skip("no accepted %s example holds a digit" % rule)
    for text in withDigits:
        position = next(i for i, c in enumerate(text) if c in "0123456789")
        swapped = text[:position] + digit + text[position + 1:]
        assert not grammar.matches(rule, swapped), swapped


def test_pattern_is_the_compiled_rule():
    assert grammar.pattern("token").pattern == grammar.TOKEN
    assert grammar.pattern("token", bytes).pattern == grammar.TOKEN.encode("ascii")
    assert grammar.isToken("GET") and not grammar.isToken("G T")


# -- the helpers built on the rules -------------------------------------------

@pytest.mark.parametrize("text,maxDigits,expected", [
    ("0", 18, 0), ("42", 18, 42), ("0005", 18, 5), (b"17", 18, 17),
    ("0" * 100 + "7", 18, 7),               # leading zeros do not count
    ("9" * 18, 18, 10 ** 18 - 1), ("1" + "0" * 18, 18, None),
    ("65536", 5, 65536), ("100000", 5, None),
    ("", 18, None), ("+5", 18, None), ("-5", 18, None), ("1_0", 18, None), (" 5", 18, None),
    ("5\n", 18, None), ("\u0663", 18, None), ("\u00b3", 18, None), ("\uff15", 18, None),
    ("1" * 10000, 18, None),
])
def test_parseDigits(text, maxDigits, expected):
    assert grammar.parseDigits(text, maxDigits) == expected


@pytest.mark.parametrize("text,expected", [
    ("0", 0), ("1A", 26), ("ff", 255), (b"10", 16), ("0" * 50 + "1", 1),
    ("f" * 16, 2 ** 64 - 1), ("1" + "0" * 16, None),
    ("", None), ("0x1A", None), ("-1", None), (" 1", None), ("\u0661", None), ("\uff21", None),
])
def test_parseHex(text, expected):
    assert grammar.parseHex(text) == expected


@pytest.mark.parametrize("text,expected", [("0", 0), ("80", 80), ("65535", 65535), ("00080", 80)])
def test_parsePort(text, expected):
    assert grammar.parsePort(text) == expected


@pytest.mark.parametrize("text", ["", "65536", "99999", "123456", "-1", "+80", " 80",
                                  "\u0668\u0660", "8\u00b3", "http"])
def test_parsePort_refuses(text):
    with pytest.raises(ValueError):
        grammar.parsePort(text)


def test_parsePort_empty_allowed():
    assert grammar.parsePort("", allowEmpty=True) is None


@pytest.mark.parametrize("text,expected", [
    ("200", 200), ("404", 404), (b"503", 503), ("000", 0),
    ("20", None), ("2000", None), ("+20", None), (" 200", None), ("2\u00b3\u00b3", None),
    ("\u0662\u0660\u0660", None),
])
def test_parseStatusCode(text, expected):
    assert grammar.parseStatusCode(text) == expected


@pytest.mark.parametrize("host,expected", [
    ("example.com", True), ("127.0.0.1", True), ("", True), ("[::1]", True),
    ("[v1.a]", True), ("[::ffff:1.2.3.4]", True),
    ("[::1", False), ("[g::1]", False), ("[1:2:3:4:5:6:7:8:9]", False), ("a b", False),
    ("\u00e9t\u00e9.fr", False), ("\u0661.com", False), ("[\uff11::1]", False),
])
def test_isValidHost(host, expected):
    assert grammar.isValidHost(host) is expected


@pytest.mark.parametrize("text,expected", [
    ("a", ("a", None)), ("a:80", ("a", "80")), ("a:", ("a", "")),
    ("[::1]", ("[::1]", None)), ("[::1]:8080", ("[::1]", "8080")), ("[::1]x", ("[::1]", "x")),
    ("[::1", ("[::1", None)),
])
def test_splitHostPort(text, expected):
    assert grammar.splitHostPort(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("example.com", ("example.com", None)), ("example.com:8080", ("example.com", 8080)),
    ("[::1]:80", ("[::1]", 80)), ("[::1]", ("[::1]", None)), ("", ("", None)),
])
def test_checkAuthority(text, expected):
    assert grammar.checkAuthority(text) == expected


@pytest.mark.parametrize("text", ["a:65536", "a:+80", "a:\u0668\u0660", "[::1]x", "[::1]:x",
                                  "a b:80", "\u00e9.fr", "[::1"])
def test_checkAuthority_refuses(text):
    with pytest.raises(ValueError):
        grammar.checkAuthority(text)


def test_checkAuthority_empty_host_refused_when_asked():
    with pytest.raises(ValueError):
        grammar.checkAuthority(":80", allowEmptyHost=False)


def test_checkAuthority_port_of_six_digits_refused():
    """A port is at most 5 digits, leading zeros included (rule "port"): "a:000080" is refused."""
    with pytest.raises(ValueError):
        grammar.checkAuthority("a:000080")
    assert grammar.checkAuthority("a:00080") == ("a", 80)


# -- the status line a client reads -------------------------------------------

@pytest.mark.parametrize("line,expected", [
    (b"HTTP/1.1 200 OK", ("HTTP/1.1", 200, "OK")),
    (b"HTTP/1.0 404 Not Found", ("HTTP/1.0", 404, "Not Found")),
    (b"HTTP/1.1 204 ", ("HTTP/1.1", 204, "")),
    (b"HTTP/1.1 200", ("HTTP/1.1", 200, "")),
    (b"HTTP/2.0 200 OK", ("HTTP/2.0", 200, "OK")),
    (b"HTTP/1.1 500 Gr\xfc\xdfe \t x", ("HTTP/1.1", 500, "Gr\u00fc\u00dfe \t x")),
    ("HTTP/1.1 301 Moved Permanently", ("HTTP/1.1", 301, "Moved Permanently")),
])
def test_parseStatusLine(line, expected):
    """A status-line (RFC 9112 §4) gives (version, code, reason); an empty reason may lack its SP."""
    assert grammar.parseStatusLine(line) == expected


@pytest.mark.parametrize("line", [
    b"", b"HTTP/1.1 OK", b"ICY 200 OK", b"HTTP/1.1 20 OK", b"HTTP/1.1 2000 OK", b"HTTP/1.1  200 OK",
    b"HTTP/1.1 200 OK\r", b"HTTP/1.1 200 a\x00b", b"http/1.1 200 OK", b"HTTP/1.1 2\xb3\xb3 OK",
    "HTTP/1.1 \u0662\u0660\u0660 OK", b"HTTP/1.1 20", b"HTTP/1.1 ", b"HTTP/1.1",
])
def test_parseStatusLine_refuses(line):
    """Anything but HTTP-version SP 3DIGIT [SP reason-phrase] is a ValueError."""
    with pytest.raises(ValueError):
        grammar.parseStatusLine(line)


def statusLineCorpus():
    """Status lines good and bad: the examples above, and one byte changed or
    added at every position of a good one."""
    lines = [b"HTTP/1.1 200 OK", b"HTTP/1.1 200", b"HTTP/1.1 200 ", b"HTTP/1.0 404 Not Found"]
    template = b"HTTP/1.1 200 OK"
    for position in range(len(template) + 1):
        for byte in range(256):
            lines.append(template[:position] + bytes([byte]) + template[position + 1:])
            lines.append(template[:position] + bytes([byte]) + template[position:])
    return lines


# -- the whole request head, in one pattern -----------------------------------

SPOKEN = ("HTTP/1.0", "HTTP/1.1")

HEADS = [
    b"GET / HTTP/1.1\r\nHost: example.com",
    b"GET / HTTP/1.0",
    b"GET /a/b?c=d&e=%20 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\nX-Empty:\r\nX-Tab:\ta\tb\t",
    b"OPTIONS * HTTP/1.1\r\nHost: a",
    b"GET http://example.com:8080/x HTTP/1.1\r\nHost: example.com",
    b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443",
    b"M-SEARCH / HTTP/1.1\r\nHost: a",
    b"GET / HTTP/1.1\r\nX-A: caf\xc3\xa9",   # obs-text: UTF-8 bytes in a value
    b"GET / HTTP/1.1\r\nX-A: \xff\x80",
    b"GET / HTTP/1.1\r\nX-A: a\x7fb",        # DEL in a value
    b"GET / HTTP/1.1\r\nX-A: a\x01b",        # a control
    b"GET / HTTP/1.1\r\nX-A: a\x00b",
    b"GET / HTTP/1.1\r\nX-A: 1\r\n 2",        # obs-fold
    b"GET / HTTP/1.1\r\nX-A: 1\r\n\t2",
    b"GET / HTTP/1.1\nHost: a",              # bare LF
    b"GET / HTTP/1.1\r\nHost: a\nX-A: b",
    b"GET / HTTP/1.1\rHost: a",              # bare CR
    b"GET / HTTP/1.1\r\nHost: a\r",
    b"GET / HTTP/1.1\r\n",                   # an empty field line
    b"GET / HTTP/1.1\r\n\r\nHost: a",
    b"GET / HTTP/1.1\r\nHost : a",
    b"GET / HTTP/1.1\r\n: a",
    b"GET / HTTP/1.1\r\nHost a",
    b"GET / HTTP/1.1\r\nH\xf6st: a",
    b"GET / HTTP/1.2\r\nHost: a",
    b"GET / HTTP/2.0\r\nHost: a",
    b"GET / HTTP/1.10",
    b"GET / http/1.1",
    b"GET /\xc3\xa9 HTTP/1.1",
    b"GET /a b HTTP/1.1",
    b"GET  / HTTP/1.1",
    b"GET / HTTP/1.1 ",
    b" GET / HTTP/1.1",
    b"GET\t/ HTTP/1.1",
    b"GET /",
    b"",
] + [refusal.request.partition(b"\r\n\r\n")[0] for refusal in rules.REFUSALS]


def headCorpus():
    """HEADS, and one byte changed or added at every position of a good head."""
    heads = list(HEADS)
    template = b"GET /a?b HTTP/1.1\r\nHost: x\r\nX-A: v"
    for position in range(len(template) + 1):
        for byte in range(256):
            heads.append(template[:position] + bytes([byte]) + template[position + 1:])
            heads.append(template[:position] + bytes([byte]) + template[position:])
    return heads


def test_wellFormedHeadPattern_heads_pass_the_line_checks():
    """A head the pattern takes is one the line-by-line checks take too, with the same parts."""
    built = grammar.wellFormedHeadPattern(SPOKEN)
    accepted = [head for head in headCorpus() if built.fullmatch(head.decode("latin-1"))]
    assert len(accepted) > 1000
    for head in accepted:
        requestLine, headerLines = wire.splitHead(head)
        try:
            slow = wire.parseRequestLine(requestLine) + (wire.parseHeaderLines(headerLines, 100),)
        except error.Error as exc:
            slow = exc.code
        try:
            fast = wire.parseHead(head, 100)
        except error.Error as exc:
            fast = exc.code
        assert fast == slow, head


def test_wellFormedHeadPattern_refuses_what_is_not_a_version():
    """The versions a head may name must themselves be HTTP-versions."""
    with pytest.raises(ValueError):
        grammar.wellFormedHeadPattern(("HTTP/1.1", "HTTP/1"))
    assert grammar.wellFormedHeadPattern(("HTTP/1.1",)).fullmatch("GET / HTTP/1.1")
    assert not grammar.wellFormedHeadPattern(("HTTP/1.1",)).fullmatch("GET / HTTP/1.0")
