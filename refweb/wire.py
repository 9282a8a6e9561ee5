# -*- test-case-name: tests.test_wire -*-
"""HTTP/1.1 on the wire, as pure functions: bytes in, values out, no sockets.

Guide: underneath "Site Objects" -- everything a Site sees has been read off
a socket and parsed by hand, here -- and "Proxies and reverse proxies",
whose client (``httpclient.HTTPClient``) frames responses by the same rules.

Where it sits in a request's path: first and last.  The sans-I/O
connection (``http11.ServerConnection``) calls the parsing functions
(parseHead, checkHost, bodyFraming) as a request arrives, ``errorResponse``
when it must refuse one, and ``framingToSend`` as its response goes out;
its client half asks ``responseFraming``; a Site's factory sends
``connectionRefusal`` past the connection cap.  The chunked coding is in
``refweb.chunked``.  ``tests/test_wire.py`` calls them with no server.

What is checked, and the status a violation earns (RFC 9112 unless noted);
each small rule (token, field-value, HTTP-version...) is one entry of the
ASCII-only table in ``refweb.grammar``:

    empty lines     CRLFs before a request line skipped; a lone CR is not (§2.2)
    line ends       CRLF; a head ended by LF LF         400 (§2.2)
    request line    METHOD SP target SP HTTP/x.y       400; too long: 414
                    target: visible ASCII only         400 (§3.2, RFC 3986 §2)
                    absolute-form: http(s), host, port 400 (§3.2.2)
                    HTTP/1.2-1.9 read as HTTP/1.1; HTTP/2+  505 (RFC 9110 §2.5)
    header line     token ":" OWS value OWS            400 (obs-fold, space
                                                        before ":", bad name,
                                                        control chars)
    header block    count and bytes limits              431
    Host            exactly one on HTTP/1.1, well-formed  400 (§3.2)
    body framing    Transfer-Encoding: chunked, or one Content-Length;
                    both at once, or two different lengths  400 (§6.3)
                    Content-Length 1*DIGIT (leading zeros allowed); too big 413
    chunks          1*HEXDIG [chunk-ext] CRLF, bounded line; trailers are
                    field lines, bounded                400 / 431 (§7.1)

    response body   none / Content-Length / chunked / close, for both
                    sides: the framing section below, one rule per RFC
                    9112 §6.3 item (bodyFraming, responseFraming,
                    framingToSend)

Every function raises an ``refweb.error.Error`` with the right status; the
channel turns that into a response (``errorResponse``, whose page is
``error.pageResponse``'s) and closes the connection.

Start reading at ``parseHead``.
"""

import calendar
import functools
import time

from refweb import grammar
from refweb.error import (BadRequest, HeaderFieldsTooLarge, HTTPVersionNotSupported,
                          NotImplementedMethod, PayloadTooLarge, ServiceUnavailable,
                          pageResponse)

CRLF = b"\r\n"

# The rules themselves live in refweb.grammar (ASCII-only, whole-text
# matches); these are the compiled forms this module uses most.
_TOKEN = grammar.pattern("token", bytes)
_TARGET = grammar.pattern("request-target", bytes)
_VERSION = grammar.pattern("HTTP-version", bytes)
_FIELD_VALUE = grammar.pattern("field-value", bytes)

SUPPORTED_VERSIONS = ("HTTP/1.0", "HTTP/1.1")

# Absolute-form targets name one of these schemes (RFC 9110 §4.2).
ABSOLUTE_SCHEMES = ("http", "https")


def parseVersion(version):
    """b"HTTP/1.1" -> "HTTP/1.1".  RFC 9110 §2.5: a higher minor version of
    HTTP/1 (1.2-1.9) is processed as 1.1, the highest we speak; HTTP/0.x and
    HTTP/2+ in a request line -> 505; not HTTP-version at all -> 400."""
    if not _VERSION.fullmatch(version):
        raise BadRequest(detail="the version must look like HTTP/1.1")
    major, minor = version[5:6], version[7:8]
    if major == b"1":
        return "HTTP/1.0" if minor == b"0" else "HTTP/1.1"
    raise HTTPVersionNotSupported(detail="%s is not spoken here" % version.decode("ascii"))


def splitAbsoluteTarget(target):
    """"http://a.example:8080/p?q" -> ("http", "a.example:8080", "a.example", 8080, "/p?q").

    The authority is also given as written: it replaces Host (§3.2.2), so a
    port the client did not write is not added to it.

    RFC 9112 §3.2.2 absolute-form: only http and https (RFC 9110 §4.2),
    a non-empty host, a port of 0-65535, no userinfo (RFC 9110 §4.2.4).
    Raises BadRequest for anything else -- never another exception.
    """
    scheme, sep, rest = target.partition("://")
    if not sep or not grammar.matches("scheme", scheme) \
            or scheme.lower() not in ABSOLUTE_SCHEMES:
        raise BadRequest(detail="an absolute-form target must be an http or https URI")
    scheme = scheme.lower()
    cut = min([i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0],
              default=len(rest))
    authority, pathQuery = rest[:cut], rest[cut:]
    if "#" in pathQuery:
        raise BadRequest(detail="a request target has no fragment (RFC 9112 §3.2)")
    if "@" in authority:
        raise BadRequest(detail="userinfo is not allowed in an http URI (RFC 9110 §4.2.4)")
    try:
        host, port = grammar.checkAuthority(authority, allowEmptyHost=False)
    except ValueError:
        raise BadRequest(detail="the target's host or port is malformed") from None
    if port is None:
        port = 443 if scheme == "https" else 80
    if not pathQuery.startswith("/"):
        pathQuery = "/" + pathQuery
    return scheme, authority, host, port, pathQuery


def checkTarget(method, target):
    """The request-target's forms (RFC 9112 §3.2): origin-form "/...",
    asterisk-form "*" (OPTIONS), authority-form (CONNECT), absolute-form.
    None of them has a fragment: a "#" is refused, never routed."""
    if "#" in target:
        raise BadRequest(detail="a request target has no fragment (RFC 9112 §3.2)")
    if target.startswith("/") or target == "*" or method == "CONNECT":
        return
    if "://" in target:
        splitAbsoluteTarget(target)
        return
    raise BadRequest(detail="the request target must be a path or an absolute URI")


def parseRequestLine(line):
    """b"GET /a%20b HTTP/1.1" -> ("GET", "/a%20b", "HTTP/1.1").  Raises BadRequest.

    Every part is matched whole (re.fullmatch), so b"GET\\n" is not a method.
    """
    parts = line.split(b" ")
    if len(parts) != 3:
        raise BadRequest(detail="the request line must be METHOD SP TARGET SP VERSION")
    method, target, version = parts
    if not _TOKEN.fullmatch(method):
        raise BadRequest(detail="the method is not a token")
    if not _TARGET.fullmatch(target):
        # RFC 9112 §3.2 / RFC 3986 §2: visible US-ASCII only; no raw 0x80-0xFF
        raise BadRequest(detail="the request target is empty or has bytes a URI may not hold")
    versionText = parseVersion(version)
    methodText, targetText = method.decode("ascii"), target.decode("ascii")
    checkTarget(methodText, targetText)
    return methodText, targetText, versionText


def parseHeaderLines(lines, maxCount):
    """[b"Host: a", ...] -> [("Host", "a"), ...].  Raises BadRequest or 431."""
    if len(lines) > maxCount:
        raise HeaderFieldsTooLarge(detail="more than %d header lines" % maxCount)
    fields = []
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            # RFC 9112 §5.2: a server MUST reject obs-fold (or replace it); we reject.
            raise BadRequest(detail="folded header lines (obs-fold) are not accepted")
        name, colon, value = line.partition(b":")
        if not colon:
            raise BadRequest(detail="a header line has no colon")
        if not _TOKEN.fullmatch(name):
            # This also catches "Name :" -- RFC 9112 §5.1 says a space before the
            # colon MUST be rejected with 400, because proxies disagree about it --
            # and "Content-Length\n:", which a "$" pattern would have let through.
            raise BadRequest(detail="bad header name %r" % name.decode("latin-1"))
        value = value.strip(b" \t")
        if not _FIELD_VALUE.fullmatch(value):
            raise BadRequest(detail="control characters in the %s header"
                             % name.decode("latin-1"))
        fields.append((name.decode("ascii"), value.decode("latin-1")))
    return fields


def splitHead(head):
    """The bytes before CRLF CRLF -> (request line, [header lines])."""
    lines = head.split(CRLF)
    return lines[0], lines[1:]


# A well-formed head as one pattern, built from grammar.RULES: the request
# line of a version we speak, then field lines whose names are tokens and
# whose values hold no control characters but tab.  Most requests match, and
# need no line-by-line checks (parseHead's fast path).
_WELL_FORMED_HEAD = grammar.wellFormedHeadPattern(SUPPORTED_VERSIONS)


def parseHead(head, maxHeaderCount):
    """A whole head (without its final CRLF CRLF) -> (method, target, version, fields).

    The fast path: a head matching _WELL_FORMED_HEAD is split with no more
    checks (but an absolute-form target's).  Any other head goes through
    parseRequestLine and parseHeaderLines, which find the first problem
    and raise its error.
    """
    text = head.decode("latin-1")
    lines = text.split("\r\n")
    if len(lines) > maxHeaderCount + 1 or not _WELL_FORMED_HEAD.fullmatch(text):
        requestLine, headerLines = splitHead(head)
        method, target, version = parseRequestLine(requestLine)
        return method, target, version, parseHeaderLines(headerLines, maxHeaderCount)
    method, target, version = lines[0].split(" ")
    if target[0] != "/" or "#" in target:
        checkTarget(method, target)
    fields = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields.append((name, value.strip(" \t")))
    return method, target, version, fields


def skipEmptyLines(buffer):
    """Drop the CRLFs a client may send before a request line (RFC 9112 §2.2).

    Only whole CRLF pairs go: a lone CR or LF stays, and the request line
    that starts with it is refused as malformed.  A final CR is kept, since
    its LF may be in the next read.
    """
    start = 0
    while buffer.startswith(CRLF, start):
        start += 2
    return buffer[start:] if start else buffer


def guessMethod(head):
    """The method a head starts with, if it can be told (b"HEAD / HT..." -> "HEAD").

    An error found while reading a request is answered before the request
    line was parsed (or when it could not be); a HEAD still gets no body.
    """
    method = head.split(b" ", 1)[0]
    if _TOKEN.fullmatch(method):
        return method.decode("ascii")
    return None


def errorResponse(version, exc, method=None, server="refweb"):
    """(head, body): the error response a connection sends before closing.

    For errors found before there is a request object: a malformed or
    oversized request (HTTPChannel), a connection over the cap (503).  The
    page and its headers are ``error.pageResponse``'s, as for every other
    error.  RFC 9110 §9.3.2: a response to HEAD has no content.
    Content-Length is still stated, with the value a GET would have got
    (§8.6 allows it), so the head is the same either way and only the body
    is left out.
    """
    headers, body = pageResponse(exc)
    head = formatResponseHead(version, exc.code, exc.message, headers + [
        ("Date", formatHTTPDate(time.time())),
        ("Server", server),
        ("Connection", "close"),
    ])
    return head, (b"" if method == "HEAD" else body)


def connectionRefusal(server="refweb"):
    """The bytes a port at its connection cap sends a connection it will
    not serve: a 503 with the error page every refusal gets, then close."""
    head, body = errorResponse("HTTP/1.1", ServiceUnavailable(
        detail="The server has too many connections open; try again shortly."), None, server)
    return head + body


def checkLineEnds(partialHead):
    """A head still waiting for its CRLF CRLF: refuse it now if it ended with LF LF.

    RFC 9112 §2.2 lets a server accept LF alone as a line end; refweb, strict
    as elsewhere, answers 400 at once rather than wait for a CRLF CRLF that
    such a client (``printf 'GET / HTTP/1.0\\n\\n'``) will never send.  In
    CRLF-ended lines every LF follows a CR, so LF LF only ends a bare-LF head.
    """
    if b"\n\n" in partialHead:
        raise BadRequest(detail="lines must end with CRLF, not a bare LF")


def checkHost(version, hostValues):
    """RFC 9112 §3.2: HTTP/1.1 needs exactly one well-formed Host header.

    Host = uri-host [ ":" port ] (RFC 9110 §7.2): a reg-name, an IPv4
    address, or a bracketed IPv6 or IPvFuture literal; the port ASCII
    digits, 0-65535 (grammar.checkAuthority).
    """
    if version == "HTTP/1.1" and not hostValues:
        raise BadRequest(detail="an HTTP/1.1 request needs a Host header")
    if len(hostValues) > 1:
        raise BadRequest(detail="more than one Host header")
    if hostValues and not isWellFormedHost(hostValues[0]):
        raise BadRequest(detail="malformed Host header")


def isWellFormedHostPlain(value):
    """Whether ``value`` is a well-formed Host (grammar.checkAuthority)."""
    try:
        grammar.checkAuthority(value)
    except ValueError:
        return False
    return True


# The same answer, remembered: a client sends the same Host on every request
# of a connection, and checking it again each time showed in a hello
# request's profile (bench/README.rst, "The Host check, remembered").
# Bounded, so a client that sends a new Host each time only pushes old
# answers out.
isWellFormedHost = functools.lru_cache(maxsize=256)(isWellFormedHostPlain)


def fieldValues(fields, name):
    """The values of header ``name`` (lower case) among parsed (name, value)
    fields, in order: fieldValues([("Connection", "close")], "connection")
    -> ["close"].  For code that holds a header list, not a Headers."""
    return [value for fieldName, value in fields if fieldName.lower() == name]


def connectionTokens(values):
    """["keep-alive, Upgrade", "close"] -> {"keep-alive", "upgrade", "close"}."""
    tokens = set()
    for value in values:
        for token in value.split(","):
            token = token.strip().lower()
            if token:
                tokens.add(token)
    return tokens


# Headers that describe one connection, not the message, so a relay (proxy,
# gateway, CGI/WSGI bridge) never passes them on: RFC 9110 §7.6.1 (Connection,
# Proxy-Connection, Keep-Alive, TE, Transfer-Encoding, Upgrade), plus Trailer,
# Proxy-Authenticate and Proxy-Authorization, hop-by-hop in RFC 2616 §13.5.1.
HOP_BY_HOP = frozenset([
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
    "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
])


def hopByHopNames(connectionValues):
    """The fixed hop-by-hop names plus those the Connection headers list
    (RFC 9110 §7.6.1): ["close, X-Trace"] -> HOP_BY_HOP | {"close", "x-trace"}."""
    return HOP_BY_HOP | connectionTokens(connectionValues)


# -- framing: does a message have a body, how long is it, when must the
# connection close?  One sans-I/O place for both sides (h11's lesson): the
# server's HTTPChannel asks bodyFraming about a request, HTTPClient (and so
# the proxy) asks responseFraming about a response, and http_request.Request
# asks framingToSend about the response it is about to write.  Each answer
# is one of
#
#     ("none", 0)        no body at all
#     ("length", n)      exactly n bytes follow the head
#     ("chunked", None)  chunks, up to the last (zero-size) chunk
#     ("close", None)    the body runs until the connection closes
#
# Each rule carries its clause of RFC 9112 §6 (§6.3 items numbered as there).

BODYLESS_STATUSES = frozenset([204, 304])  # §6.3 item 1, with every 1xx


def _framing(isResponse, version, transferEncodings, contentLengths, maxBodySize):
    """The rules of RFC 9112 §6.3 items 3-8, shared by requests and responses."""
    if transferEncodings:
        if not isResponse and version == "HTTP/1.0":
            # §6.1: Transfer-Encoding came after 1.0; a 1.0 message that has
            # it was altered on the way -- faulty framing, 400.
            raise BadRequest(detail="Transfer-Encoding in an HTTP/1.0 request")
        if contentLengths and not isResponse:
            # §6.3 item 3: both at once "ought to be handled as an error": it is
            # how requests get smuggled past proxies; 400 rather than a guess.
            # A response with both: Transfer-Encoding overrides (same item).
            raise BadRequest(detail="both Transfer-Encoding and Content-Length")
        # Coding names are case-insensitive tokens, OWS around list items,
        # empty items ignored (RFC 9110 §5.6.1, §10.1.4).
        codings = [c.strip(" \t").lower() for v in transferEncodings for c in v.split(",")]
        codings = [c for c in codings if c]
        if codings != ["chunked"]:
            # §6.3 item 4 / §6.1: chunked must be the last coding; refweb decodes
            # no other, so it must be the only one (a server answers 501).
            raise NotImplementedMethod(detail="unsupported transfer coding %r: only chunked "
                                              "is understood" % (codings,))
        return "chunked", None                              # §6.3 item 4
    if contentLengths:
        # §6.3 items 5 and 6: a valid Content-Length is the length; an invalid
        # one is an error (contentLength raises it).
        return "length", contentLength(contentLengths, maxBodySize)
    if isResponse:
        return "close", None                                # §6.3 item 8
    return "length", 0                                      # §6.3 item 7


def bodyFraming(transferEncodings, contentLengths, maxBodySize, version="HTTP/1.1"):
    """How a *request* body is delimited: ("chunked", None) or ("length", n).

    Raises BadRequest (both headers, a bad length, Transfer-Encoding in
    HTTP/1.0), NotImplementedMethod (a coding other than chunked) or
    PayloadTooLarge (over maxBodySize).  See _framing for each rule.
    """
    return _framing(False, version, transferEncodings, contentLengths, maxBodySize)


def responseFraming(requestMethod, status, transferEncodings, contentLengths):
    """How a *received response's* body is delimited (HTTPClient, the proxy).

    §6.3 item 1: a response to HEAD, and every 1xx, 204 and 304, has no
    body, whatever its headers say; 101 switches protocols, so the HTTP
    message ends with its head as well.  Otherwise the shared rules, with
    Transfer-Encoding overriding Content-Length (item 3) and no length
    meaning "until the close" (item 8).  Raises an Error for framing that
    cannot be read (HTTPClient calls that a malformed response).
    """
    if requestMethod == "HEAD" or status < 200 or status in BODYLESS_STATUSES:
        return "none", 0
    return _framing(True, "HTTP/1.1", transferEncodings, contentLengths, None)


def framingToSend(version, method, status, contentLengthValue):
    """How the server frames the response it is about to write.

    ``contentLengthValue``: the Content-Length the application set (str),
    or None.  The answer also says whether the connection must close after
    the response: only "close" does.

        HEAD, 1xx, 204, 304              ("none", 0)  (§6.3 item 1)
        a Content-Length was set         ("length", n)  (§6.3 item 6)
        an unreadable Content-Length     ("close", None): no length to trust
        none set, HTTP/1.1               ("chunked", None)  (§7.1)
        none set, HTTP/1.0               ("close", None)  (§6.3 item 8: a
                                         1.0 client knows no chunks)
    """
    if status < 200 or status in BODYLESS_STATUSES or method == "HEAD":
        return "none", 0
    if contentLengthValue is not None:
        length = grammar.parseDigits(contentLengthValue)
        return ("close", None) if length is None else ("length", length)
    if version == "HTTP/1.1":
        return "chunked", None
    return "close", None


# More significant digits than this in a Content-Length cannot be under any
# maxBodySize refweb allows: 413 without turning the text into a number.
_MAX_LENGTH_DIGITS = 18


def contentLength(values, maxBodySize=None):
    """["5"] or ["5, 5"] -> 5 (RFC 9110 §8.6: 1*DIGIT; a list of equal values
    is one length, §6.3 of RFC 9112).  Leading zeros are allowed: the value
    is what counts.  Raises BadRequest, or PayloadTooLarge over maxBodySize."""
    lengths = set()
    for value in values:
        for item in value.split(","):
            item = item.strip(" \t")
            if not grammar.matches("Content-Length", item):
                raise BadRequest(detail="bad Content-Length %r" % (item,))
            significant = item.lstrip("0") or "0"
            if len(significant) > _MAX_LENGTH_DIGITS:
                raise PayloadTooLarge(detail="a Content-Length of %d digits" % len(significant))
            lengths.add(int(significant))
    if len(lengths) != 1:
        raise BadRequest(detail="conflicting Content-Length values %r" % sorted(lengths))
    length = lengths.pop()
    if maxBodySize is not None and length > maxBodySize:
        raise PayloadTooLarge(detail="the body may be at most %d bytes" % maxBodySize)
    return length


def formatResponseHead(version, code, phrase, headers):
    """("HTTP/1.1", 200, "OK", [("Content-Length", "5")]) -> the head's bytes."""
    lines = ["%s %d %s" % (version, code, phrase)]
    lines.extend("%s: %s" % pair for pair in headers)
    lines.append("\r\n")
    return "\r\n".join(lines).encode("latin-1")


# Dates in HTTP are IMF-fixdate, always GMT (RFC 9110 §5.6.7).
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def formatHTTPDate(seconds):
    """1700000000 -> "Tue, 14 Nov 2023 22:13:20 GMT"."""
    t = time.gmtime(seconds)
    return "%s, %02d %s %04d %02d:%02d:%02d GMT" % (
        _DAYS[t.tm_wday], t.tm_mday, _MONTHS[t.tm_mon - 1], t.tm_year,
        t.tm_hour, t.tm_min, t.tm_sec)


def parseHTTPDate(text):
    """"Tue, 14 Nov 2023 22:13:20 GMT" -> 1700000000; None if it is not a date."""
    parsed = None
    for layout in ("%a, %d %b %Y %H:%M:%S GMT",   # IMF-fixdate
                   "%A, %d-%b-%y %H:%M:%S GMT",   # obsolete RFC 850
                   "%a %b %d %H:%M:%S %Y"):       # obsolete asctime
        try:
            parsed = time.strptime(text.strip(), layout)
            break
        except ValueError:
            continue
    if parsed is None:
        return None
    return calendar.timegm(parsed)
