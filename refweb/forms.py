# -*- test-case-name: tests.test_forms -*-
"""Form bodies into ``request.args``: urlencoded and multipart/form-data.

Guide: "Resource rendering" -- ``render_POST = render_GET`` lets a resource
read ``request.args`` "regardless of whether they used GET (?foo=bar&baz=quux)
or POST".  A POSTed form arrives in the body, in one of two encodings:

* ``application/x-www-form-urlencoded``: ``a=1&b=two+words``, like a query;
* ``multipart/form-data`` (RFC 7578): parts separated by a boundary line,
  each with its own small header block naming the field.

Both are parsed by hand here (no ``email`` or ``cgi`` module).  Values come
out as ``str``: text decoded as UTF-8, undecodable bytes replaced.

Start reading at ``parseURLEncoded``.
"""

import urllib.parse

from refweb.error import PayloadTooLarge


def _checkFieldCount(count, maxFields):
    """Parsing a million tiny fields costs far more than their bytes suggest."""
    if maxFields is not None and count > maxFields:
        raise PayloadTooLarge(detail="a form may have at most %d fields" % maxFields)


def parseURLEncoded(body, maxFields=None):
    """b"a=1&b=x+y" -> [("a", "1"), ("b", "x y")].  More than maxFields: 413."""
    _checkFieldCount(body.count(b"&") + 1, maxFields)
    return urllib.parse.parse_qsl(body.decode("latin-1"), keep_blank_values=True,
                                  encoding="utf-8", errors="replace")


def _splitParameters(headerValue):
    """Split on ';' outside double quotes: 'a; name="x;y"' -> ['a', ' name="x;y"']."""
    items, current, quoted = [], [], False
    for char in headerValue:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return items


def _parameters(headerValue):
    """'form-data; name="a"; filename="b.txt"' -> {"name": "a", "filename": "b.txt"}."""
    params = {}
    for item in _splitParameters(headerValue)[1:]:
        key, sep, value = item.strip().partition("=")
        if sep:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1].replace('\\"', '"')
            params[key.strip().lower()] = value
    return params


def parseMultipart(body, contentType, maxFields=None):
    """A multipart/form-data body -> [(field name, value)].  Malformed parts are
    skipped; more than maxFields parts: 413."""
    boundary = _parameters(contentType).get("boundary")
    if not boundary:
        return []
    delimiter = b"--" + boundary.encode("latin-1")
    _checkFieldCount(body.count(delimiter) - 1, maxFields)
    fields = []
    # The body is: preamble, delimiter, part, delimiter, part, ..., delimiter "--", epilogue.
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        part = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        if part.endswith(b"\r\n"):
            part = part[:-2]
        head, sep, value = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        name = None
        for line in head.decode("latin-1").split("\r\n"):
            key, _, headerValue = line.partition(":")
            if key.strip().lower() == "content-disposition":
                name = _parameters(headerValue).get("name")
        if name is not None:
            fields.append((name, value.decode("utf-8", "replace")))
    return fields
