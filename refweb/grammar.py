# -*- test-case-name: tests.test_grammar -*-
"""The wire's small grammars: ASCII-only checks for text a peer sent.

Guide: underneath every section -- before a Site, a Range, a CGI script's
``Status:`` or an upstream's ``Content-Length`` means anything, its text is
checked here.  ``wire.py`` parses whole messages; this module is beside it,
not inside it, because ``static``, ``vhost``, ``twcgi``, ``httpclient``,
``proxy``, ``wsgi``, ``forms`` and ``internet.endpoints`` need the same few
rules and none of the rest of ``wire``.

Why a module of its own: Python's conveniences are Unicode-aware where the
RFCs are not.  ``str``'s digit test is true for ``'³'``; ``int()`` accepts
``'٣'``, ``'1_0'``, ``'+5'`` and ``' 5 '``; ``\\d`` in a ``str`` pattern
matches every Unicode digit; and ``$`` matches before a trailing ``"\\n"``.
RFC 5234's DIGIT is ``%x30-39`` and nothing else.  So every rule below is an
explicit ASCII character class, every match is ``re.fullmatch`` (the whole
text, never a prefix, never "up to a newline"), and numbers are turned into
``int`` only after their digits passed, with their length bounded first.

``RULES`` is the table: name, ABNF, RFC clause, pattern.  Each rule is
written once: the larger ones (request-line, field-line, status-line,
Host) are joined from the smaller ones' patterns, and so is ``wire``'s
whole-head pattern (``wellFormedHeadPattern``).  Each pattern is compiled
twice, for ``bytes`` and ``str``; ``matches(name, text)`` picks the right
one.  Parsers built on the rules: ``parseDigits``, ``parseHex``,
``parsePort``, ``parseStatusCode``, ``checkAuthority`` (a Host value or a
target's authority: ``vhost`` and ``wire``), ``parseStatusLine`` (a
client's first line: ``httpclient``).  ``docs/internals/wire.rst`` shows
the table, written there from ``ruleTable()`` by ``tools/make_tables.py``;
``tests/test_docs.py`` fails if the page differs.

Start reading at ``RULES``, the table of these grammars.
"""

import re

# The token pattern (RFC 9110 §5.6.2), the one copy every module uses.
TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"

# (name, ABNF, RFC clause, pattern).  Patterns are ASCII-only and used with
# fullmatch; "{n,m}" bounds are refweb's, stated in the ABNF column.
RULES = (
    ("DIGIT", "%x30-39", "RFC 5234 B.1",
     r"[0-9]"),
    ("HEXDIG", 'DIGIT / "A"-"F" (either case)', "RFC 5234 B.1",
     r"[0-9A-Fa-f]"),
    ("token", '1*tchar; tchar = "!" / "#" / "$" / "%" / "&" / "\'" / "*" / "+" / '
              '"-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA',
     "RFC 9110 §5.6.2",
     TOKEN),
    ("field-name", "token", "RFC 9110 §5.1",
     TOKEN),
    ("field-value", "*( field-vchar / SP / HTAB ); field-vchar = VCHAR / obs-text",
     "RFC 9110 §5.5",
     r"[\t\x20-\x7e\x80-\xff]*"),
    ("quoted-string", 'DQUOTE *( qdtext / quoted-pair ) DQUOTE', "RFC 9110 §5.6.4",
     r'"(?:[\t\x20\x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t\x20-\x7e\x80-\xff])*"'),
    ("request-target", "1*( VCHAR ): visible US-ASCII only", "RFC 9112 §3.2, RFC 3986 §2",
     r"[\x21-\x7e]+"),
    ("method", "token", "RFC 9110 §9.1",
     TOKEN),
    ("HTTP-version", '"HTTP/" DIGIT "." DIGIT', "RFC 9112 §2.3",
     r"HTTP/[0-9]\.[0-9]"),
    ("status-code", "3DIGIT", "RFC 9110 §15, RFC 9112 §4",
     r"[0-9]{3}"),
    ("reason-phrase", "*( HTAB / SP / VCHAR / obs-text )", "RFC 9112 §4",
     r"[\t\x20-\x7e\x80-\xff]*"),
    ("Content-Length", "1*DIGIT", "RFC 9110 §8.6",
     r"[0-9]+"),
    ("chunk-size", "1*HEXDIG", "RFC 9112 §7.1",
     r"[0-9A-Fa-f]+"),
    ("chunk-ext", '*( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ); '
                  "name = token; val = token / quoted-string",
     "RFC 9112 §7.1.1",
     r"(?:[ \t]*;[ \t]*" + TOKEN +
     r"(?:[ \t]*=[ \t]*(?:" + TOKEN + r"|"
     r'"(?:[\t\x20\x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t\x20-\x7e\x80-\xff])*"))?)*'),
    ("scheme", 'ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )', "RFC 3986 §3.1",
     r"[A-Za-z][A-Za-z0-9+\-.]*"),
    ("reg-name", "*( unreserved / pct-encoded / sub-delims )", "RFC 3986 §3.2.2",
     r"(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*"),
    ("IPvFuture", '"v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )', "RFC 3986 §3.2.2",
     r"[vV][0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+"),
    ("IPv6address", "hex groups and colons, an IPv4 tail allowed (checked by ipaddress)",
     "RFC 3986 §3.2.2",
     r"[0-9A-Fa-f:.]+"),
    ("port", "*DIGIT, at most 5 digits, value 0-65535 (refweb's bound)", "RFC 3986 §3.2.3",
     r"[0-9]{0,5}"),
    ("byte-range-spec", 'first-pos "-" [ last-pos ] / "-" suffix-length; each 1*DIGIT',
     "RFC 9110 §14.1.1",
     r"[0-9]*-[0-9]*"),
    ("cookie-name", "token", "RFC 6265 §4.1.1",
     TOKEN),
)

# The rules made of the rules above: their patterns are the pieces' own,
# joined, so that a piece is written once.  field-value's characters include
# SP and HTAB, so "OWS field-value OWS" is field-value's pattern alone (and a
# single class: three classes in a row would backtrack on a bad line).
_TEXT = {name: text for name, _, _, text in RULES}
RULES += (
    ("request-line", "method SP request-target SP HTTP-version", "RFC 9112 §3",
     _TEXT["method"] + " " + _TEXT["request-target"] + " " + _TEXT["HTTP-version"]),
    ("field-line", 'field-name ":" OWS field-value OWS', "RFC 9112 §5",
     _TEXT["field-name"] + ":" + _TEXT["field-value"]),
    ("status-line", "HTTP-version SP status-code SP [ reason-phrase ]", "RFC 9112 §4",
     _TEXT["HTTP-version"] + " " + _TEXT["status-code"] + " " + _TEXT["reason-phrase"]),
    ("Host", 'uri-host [ ":" port ]; uri-host = "[" ( IPv6address / IPvFuture ) "]" '
             "/ reg-name (an IPv4 address is one)",
     "RFC 9110 §7.2, RFC 3986 §3.2.2",
     r"(?:\[(?:" + _TEXT["IPv6address"] + "|" + _TEXT["IPvFuture"] + r")\]|"
     + _TEXT["reg-name"] + r")(?::" + _TEXT["port"] + ")?"),
)

_BYTES = {}
_STR = {}
for _name, _abnf, _clause, _pattern in RULES:
    _TEXT[_name] = _pattern
    _STR[_name] = re.compile(_pattern, re.ASCII)
    _BYTES[_name] = re.compile(_pattern.encode("latin-1"))
del _name, _abnf, _clause, _pattern


def pattern(name, kind=str):
    """The compiled pattern of rule ``name``, for ``str`` or ``bytes`` text."""
    return (_BYTES if kind is bytes else _STR)[name]


def matches(name, text):
    """True when all of ``text`` (str or bytes) is one ``name``, per RULES."""
    table = _BYTES if isinstance(text, (bytes, bytearray)) else _STR
    return table[name].fullmatch(text) is not None


def isToken(text):
    return matches("token", text)


def parseDigits(text, maxDigits=18):
    """``'0005'`` -> 5: 1*DIGIT, ASCII only, at most ``maxDigits`` long after
    leading zeros; anything else -> None.  Never calls int() on a long or
    non-ASCII string, so ``'³'``, ``'٣'``, ``'+5'``, ``'1_0'``, ``' 5'`` and a
    10,000-digit string are all refused cheaply."""
    return _parseNumber(text, "Content-Length", maxDigits, 10)


def parseHex(text, maxDigits=16):
    """``'1A'`` -> 26: 1*HEXDIG, at most ``maxDigits`` significant; else None."""
    return _parseNumber(text, "chunk-size", maxDigits, 16)


def _parseNumber(text, rule, maxDigits, base):
    """int() of ``text`` only once all of it matched ``rule`` and it has at
    most ``maxDigits`` digits after its leading zeros; else None."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("latin-1")
    if not _STR[rule].fullmatch(text):
        return None
    significant = text.lstrip("0") or "0"
    if len(significant) > maxDigits:
        return None
    return int(significant, base)


def parsePort(text, allowEmpty=False):
    """``'8080'`` -> 8080; ``''`` -> None when ``allowEmpty``; a bad port -> ValueError.
    Ports are ASCII digits, at most 5, value 0-65535 (RFC 3986 §3.2.3)."""
    if text == "" and allowEmpty:
        return None
    value = parseDigits(text, maxDigits=5) if text else None
    if value is None or value > 65535:
        raise ValueError("bad port: %r" % (text,))
    return value


def parseStatusCode(text):
    """``'404'`` -> 404: exactly 3 ASCII digits (RFC 9110 §15); else None."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("latin-1")
    if not _STR["status-code"].fullmatch(text):
        return None
    return int(text)


def isValidHost(host):
    """uri-host (RFC 3986 §3.2.2): a reg-name (an IPv4 address is one), or an
    IP-literal in brackets holding an IPv6 address or an IPvFuture."""
    if host.startswith("["):
        if not host.endswith("]"):
            return False
        inner = host[1:-1]
        if matches("IPvFuture", inner):
            return True
        if not matches("IPv6address", inner):
            return False
        import ipaddress
        try:
            ipaddress.IPv6Address(inner)
        except ValueError:
            return False
        return True
    return matches("reg-name", host)


def splitHostPort(text):
    """``'[::1]:8080'`` -> ``('[::1]', '8080')``; ``'a'`` -> ``('a', None)``.
    Only splits: the caller checks both halves."""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return text, None
        rest = text[end + 1:]
        if rest.startswith(":"):
            return text[:end + 1], rest[1:]
        return text[:end + 1], (None if not rest else rest)
    host, colon, port = text.partition(":")
    return host, (port if colon else None)


def checkAuthority(text, allowEmptyHost=True):
    """uri-host [ ":" port ] -> (host, port or None).  ValueError when malformed.

    The rule "Host" says what the text may look like; past it, an IPv6
    literal must be an address (``isValidHost``) and a port at most 65535."""
    if not matches("Host", text):
        raise ValueError("bad authority: %r" % (text,))
    host, port = splitHostPort(text)
    if not isValidHost(host) or (not host and not allowEmptyHost):
        raise ValueError("bad host: %r" % (text,))
    portValue = parsePort(port, allowEmpty=True) if port is not None else None
    return host, portValue


def parseStatusLine(line):
    """b"HTTP/1.1 404 Not Found" -> ("HTTP/1.1", 404, "Not Found"); ValueError
    when the line is not a status-line (RFC 9112 §4).

    ``line`` is bytes or str, without its CRLF.  The version is returned as
    sent (the caller decides what it speaks) and the reason as Latin-1 text.
    "HTTP/1.1 200", with no SP before an empty reason, is taken as if the SP
    were there: servers send it, and a client loses nothing by reading it."""
    if isinstance(line, (bytes, bytearray)):
        line = bytes(line).decode("latin-1")
    if len(line.partition(" ")[2]) == 3:
        line += " "
    if not _STR["status-line"].fullmatch(line):
        raise ValueError("bad status line: %r" % (line[:80],))
    version, code, reason = line.split(" ", 2)
    return version, int(code), reason


def wellFormedHeadPattern(versions):
    """One compiled pattern for a whole well-formed request head, built from RULES.

    A head (the bytes before its CRLF CRLF, decoded as Latin-1, so each
    byte is one character) matches when it is a request-line whose version
    is one of ``versions`` (``("HTTP/1.0", "HTTP/1.1")``: those a server
    speaks), then any number of CRLF field-line.  ``wire`` tries it first:
    one pass of C code over the head, and a head that fails it goes through
    the line-by-line checks that say what is wrong.  Use with fullmatch.
    """
    for version in versions:
        if not matches("HTTP-version", version):
            raise ValueError("not an HTTP-version: %r" % (version,))
    version = "(?:" + "|".join(re.escape(v) for v in versions) + ")"
    requestLine = _TEXT["method"] + " " + _TEXT["request-target"] + " " + version
    return re.compile(requestLine + r"(?:\r\n" + _TEXT["field-line"] + ")*", re.ASCII)


def ruleTable():
    """RULES as a reStructuredText list-table (docs/internals/wire.rst holds it)."""
    lines = [".. list-table:: The grammar table (refweb.grammar.RULES)",
             "   :header-rows: 1", "",
             "   * - rule", "     - ABNF", "     - clause", "     - pattern"]
    for name, abnf, clause, text in RULES:
        lines += ["   * - %s" % name, "     - ``%s``" % abnf,
                  "     - %s" % clause, "     - ``%s``" % text]
    return "\n".join(lines) + "\n"
