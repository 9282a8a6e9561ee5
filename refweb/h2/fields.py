# -*- test-case-name: tests.test_h2_connection -*-
"""The rules an HTTP/2 request's fields must keep (RFC 9113 §8.1–§8.3).

Guide: not in the guide (HTTP/2's replacement for the request line).

Where it sits: ``h2.connection.H2Connection`` decodes a header block and
asks ``checkRequest`` whether it is a well-formed request before it
passes it on; ``checkLength`` compares the body that came with the
Content-Length it announced.  Every broken rule is a *malformed request*:
a stream error of type PROTOCOL_ERROR (§8.1.1), which ends that stream
only.  The rules are tables: ``FIELD_RULES`` (each field alone),
``PSEUDO_FIELDS`` and ``CONNECTION_SPECIFIC``.

Start reading at ``checkRequest``.
"""

import re

from refweb.h2 import frames
from refweb.h2.frames import StreamError

# §8.3.1: the pseudo-fields a request may carry (a response's :status is ours).
PSEUDO_FIELDS = {":method", ":scheme", ":path", ":authority"}
REQUIRED = {":method", ":scheme", ":path"}   # every request but CONNECT
REQUIRED_CONNECT = {":method", ":authority"}  # CONNECT has exactly these (§8.5)

# §8.2.2: fields that belong to one HTTP/1.1 connection mean nothing here.
CONNECTION_SPECIFIC = {"connection", "keep-alive", "proxy-connection",
                       "transfer-encoding", "upgrade"}

_BAD_NAME = re.compile(r"[\x00-\x20A-Z\x7f-\U0010ffff]")
_BAD_VALUE = re.compile(r"[\x00\r\n]")

# §8.2.1: what each field, alone, must be; a rule is broken when its test is true.
FIELD_RULES = [
    ("a name is not empty", lambda name, value: not name),
    ("a name has no uppercase, space, control or non-ASCII character",
     lambda name, value: _BAD_NAME.search(name)),
    ("only a pseudo-field's name has a colon, as its first character",
     lambda name, value: ":" in name[1:]),
    ("a value has no NUL, CR or LF", lambda name, value: _BAD_VALUE.search(value)),
    ("a value neither starts nor ends with a space or tab",
     lambda name, value: value[:1] in (" ", "\t") or value[-1:] in (" ", "\t")),
    ("no connection-specific field", lambda name, value: name in CONNECTION_SPECIFIC),
    ('TE says only "trailers"', lambda name, value: name == "te" and value != "trailers"),
]


def malformed(streamId, detail):
    """The error a malformed request is (§8.1.1)."""
    return StreamError(frames.PROTOCOL_ERROR, streamId, "malformed request: " + detail)


def checkFields(streamId, headers):
    """Each field against FIELD_RULES."""
    for name, value in headers:
        for rule, broken in FIELD_RULES:
            if broken(name, value):
                raise malformed(streamId, "%s (%r)" % (rule, name))


def checkRequest(streamId, headers):
    """Check a request's fields; return its Content-Length (None if it has none).

    Pseudo-fields come first, each known and once (§8.3); then the rest.
    """
    checkFields(streamId, headers)
    pseudo, regularSeen = {}, False
    for name, value in headers:
        if not name.startswith(":"):
            regularSeen = True
        elif regularSeen:
            raise malformed(streamId, "%s after a regular field" % name)
        elif name not in PSEUDO_FIELDS:
            raise malformed(streamId, "unknown pseudo-field %s" % name)
        elif name in pseudo:
            raise malformed(streamId, "%s twice" % name)
        else:
            pseudo[name] = value
    required = REQUIRED_CONNECT if pseudo.get(":method") == "CONNECT" else REQUIRED
    if pseudo.get(":method") == "CONNECT" and set(pseudo) != REQUIRED_CONNECT:
        raise malformed(streamId, "CONNECT has :method and :authority only")
    missing = required - set(pseudo)
    if missing:
        raise malformed(streamId, "no %s" % ", ".join(sorted(missing)))
    if ":path" in pseudo and not pseudo[":path"]:
        raise malformed(streamId, "an empty :path")
    return _contentLength(streamId, headers)


def _contentLength(streamId, headers):
    values = {value.strip() for name, value in headers if name == "content-length"}
    if not values:
        return None
    if len(values) > 1 or not all(v.isdigit() and v.isascii() for v in values):
        raise malformed(streamId, "Content-Length %r" % sorted(values))
    return int(values.pop())


def checkTrailers(streamId, headers):
    """Trailers are regular fields only (§8.1)."""
    checkFields(streamId, headers)
    for name, value in headers:
        if name.startswith(":"):
            raise malformed(streamId, "a pseudo-field %s in trailers" % name)


def checkLength(streamId, contentLength, received, ended):
    """The DATA a request sends must add up to its Content-Length (§8.1.1):
    never more, and exactly that by END_STREAM."""
    if contentLength is None:
        return
    if received > contentLength or (ended and received != contentLength):
        raise malformed(streamId, "%d body bytes for a Content-Length of %d"
                        % (received, contentLength))
