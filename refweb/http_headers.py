# -*- test-case-name: tests.test_http_headers -*-
"""Headers: a case-insensitive, multi-valued mapping of header names to values.

Guide: "Main Concepts" -- ``request.requestHeaders`` and
``request.responseHeaders`` are Headers.

Names compare without regard to case (RFC 9110 §5.1), every name may carry
several values (two ``Set-Cookie`` lines stay two), and both ``str`` and
``bytes`` are accepted; values are kept as ``str`` (bytes decoded as
Latin-1, the encoding HTTP/1.1 heads are read with).

A value holding CR or LF is refused with ValueError: written out, it would
end the header line early and start another one the application never meant
to send ("header injection").

Start reading at ``Headers``.
"""

import functools


def toText(value):
    """A header name or value, or any text given as str or bytes, as str
    (bytes are read as latin-1, HTTP's byte-for-byte text)."""
    if type(value) is str:  # the common case first: this runs for every header lookup
        return value
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


@functools.lru_cache(maxsize=1024)  # the same few names are set on every response
def _checkedKey(name):
    """A header name as the dict key (lower case), once it is known safe to write out."""
    if "\r" in name or "\n" in name or ":" in name or not name.strip():
        raise ValueError("invalid header name %r" % (name,))
    return name.lower()


def _checkedValue(name, value):
    if type(value) is not str:
        value = toText(value)
    if "\r" in value or "\n" in value:
        raise ValueError("header %s: a value may not contain CR or LF: %r" % (name, value))
    return value


@functools.lru_cache(maxsize=1024)  # a server writes the same few names all day long
def canonicalName(name):
    """"content-type" -> "Content-Type" (how names are written out)."""
    return "-".join(part.capitalize() for part in name.split("-"))


class Headers:
    """Header fields by name; see the module docstring."""

    def __init__(self, rawHeaders=None):
        self._values = {}  # lower-case name -> [values], in arrival order
        self._names = {}  # lower-case name -> name as first given
        if rawHeaders:
            for name, values in dict(rawHeaders).items():
                self.setRawHeaders(name, values)

    def addRawHeader(self, name, value):
        name = toText(name)
        key = _checkedKey(name)
        value = _checkedValue(name, value)
        if key in self._values:
            self._values[key].append(value)
        else:
            self._values[key] = [value]
            self._names[key] = name

    def _addTrustedFields(self, fields):
        """addRawHeader for each (name, value) the wire parser already validated."""
        valuesByKey, names = self._values, self._names
        for name, value in fields:
            key = name.lower()
            values = valuesByKey.get(key)
            if values is None:
                valuesByKey[key] = [value]
                names[key] = name
            else:
                values.append(value)

    def setRawHeaders(self, name, values):
        if type(name) is not str:
            name = toText(name)
        if isinstance(values, (str, bytes)):
            raise TypeError("setRawHeaders takes a list of values, not %r" % (values,))
        key = _checkedKey(name)
        self._values[key] = [_checkedValue(name, value) for value in values]
        self._names[key] = name

    # The lookups below run several times for every request, so each one
    # tests for a str name itself rather than calling _text.
    def getRawHeaders(self, name, default=None):
        values = self._values.get((name if type(name) is str else toText(name)).lower())
        return list(values) if values else default

    def getFirst(self, name, default=None):
        values = self._values.get((name if type(name) is str else toText(name)).lower())
        return values[0] if values else default

    def getLast(self, name, default=None):
        """The last value of ``name`` (what ``Request.getHeader`` answers), or default."""
        values = self._values.get((name if type(name) is str else toText(name)).lower())
        return values[-1] if values else default

    def hasHeader(self, name):
        return (name if type(name) is str else toText(name)).lower() in self._values

    def removeHeader(self, name):
        key = (name if type(name) is str else toText(name)).lower()
        self._values.pop(key, None)
        self._names.pop(key, None)

    def getAllRawHeaders(self):
        """(canonical name, [values]) for every header, in first-seen order."""
        for key, values in self._values.items():
            yield canonicalName(self._names[key]), list(values)

    def items(self):
        """A list of (name, value) pairs, one per line a response would carry."""
        names = self._names
        return [(canonicalName(names[key]), value)
                for key, values in self._values.items() for value in values]

    def copy(self):
        other = Headers()
        for key, values in self._values.items():
            other._values[key] = list(values)
            other._names[key] = self._names[key]
        return other

    def __contains__(self, name):
        return self.hasHeader(name)

    def __eq__(self, other):
        return isinstance(other, Headers) and self._values == other._values

    def __repr__(self):
        return "Headers(%r)" % ({self._names[k]: v for k, v in self._values.items()},)
