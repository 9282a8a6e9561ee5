# -*- test-case-name: tests.test_endpoints -*-
"""Endpoint descriptions: the short strings that say where a server listens.

Guide: "Running a Twisted Web Server" (``--listen`` / ``--port``),
"Spreadable Web Servers" (``--port unix:/home/username/.twistd-web-pb:wantPID=1``)
and "Serving WSGI Applications" (``strports.service('tcp:8080', site)``).

Journey: ``refweb web --listen DESC`` or ``strports.service(DESC, site)``
-> ``parse`` (here: text only, no sockets) -> ``listen`` (here) ->
``reactor.listenTCP`` / ``listenUNIX`` / ``listenSSL``.

The module has two halves.  The first is *sans-I/O*: ``parse`` turns a
description into ``(kind, args, kwargs)`` and raises ``BadDescription`` with
a message that quotes the text and shows what was expected.  The second half
opens sockets and files: ``listen``, ``listenUNIX`` (which refuses to delete
a file that is not a stale socket) and ``sslContext`` (stdlib ``ssl``).

The grammar, as in Twisted's strports::

    description := [type ':'] field (':' field)*
    field       := value | key '=' value
    a backslash makes the next character plain, so '\\:' is a ':' inside a
    value (e.g. an IPv6 interface) and '\\=' an '=' inside one
    a description that is only digits is a TCP port: '8080' == 'tcp:8080'

Start reading at ``parse`` and the ``KINDS`` table it consults.
"""

import os
import ssl
from dataclasses import dataclass, field

from refweb import grammar
from refweb.internet.unixlock import (  # noqa: F401  (part of this module's API)
    SocketInUse, lockPath, processAlive, readLock, release as releaseLock)


class EndpointError(Exception):
    """Something about an endpoint stops a server from listening there."""


class BadDescription(EndpointError, ValueError):
    """An endpoint description that does not follow the grammar above."""


class TLSSetupError(EndpointError):
    """The certificate or private key of a TLS endpoint could not be loaded."""


# --------------------------------------------------------------------------
# Half one: text in, values out (no sockets, no files)
# --------------------------------------------------------------------------

def _port(text):
    try:
        return grammar.parsePort(text)  # ASCII digits only: int() would take "٣" or "+80"
    except ValueError:
        raise ValueError("the port must be a number from 0 to 65535, not %r" % (text,)) from None


def _positive(text):
    number = grammar.parseDigits(text, maxDigits=9)
    if number is None or number < 1:
        raise ValueError("the backlog must be a positive whole number, not %r" % (text,))
    return number


def _octal(text):
    # '0660', '660' and '0o660' all mean rw-rw---- (chmod's numbers are octal)
    digits = text[2:] if text.lower().startswith("0o") else text
    if not digits or any(c not in "01234567" for c in digits) or int(digits, 8) > 0o7777:
        raise ValueError("the mode must be octal permission bits like 0660, not %r" % (text,))
    return int(digits, 8)


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def _flag(text):
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise ValueError("expected 1 or 0 (yes or no), not %r" % (text,))


def _nonEmpty(text):
    if not text:
        raise ValueError("the value may not be empty")
    return text


@dataclass(frozen=True)
class Kind:
    """One endpoint type: which fields it takes, in which order, their types."""
    name: str            # what parse() returns: "TCP", "UNIX", "SSL"
    usage: str           # shown in every error about this type
    positional: tuple    # fields that may be given bare, in this order
    required: tuple      # fields with no default
    defaults: dict       # field -> value used when it is not given
    convert: dict = field(default_factory=dict)  # field -> text -> value
    aliases: dict = field(default_factory=dict)  # spelling -> field


KINDS = {
    "tcp": Kind("TCP", "tcp:PORT[:interface=ADDRESS][:backlog=N]",
                ("port", "interface", "backlog"), ("port",),
                {"interface": "", "backlog": 50},
                {"port": _port, "backlog": _positive}),
    "unix": Kind("UNIX", "unix:PATH[:mode=0666][:backlog=N][:wantPID=1]",
                 ("address", "mode", "backlog", "wantPID"), ("address",),
                 {"mode": 0o666, "backlog": 50, "wantPID": False},
                 {"address": _nonEmpty, "mode": _octal, "backlog": _positive,
                  "wantPID": _flag},
                 # the guide spells it wantPID; newer Twisted says lockfile
                 {"lockfile": "wantPID", "path": "address"}),
    "ssl": Kind("SSL", "ssl:PORT:privateKey=KEY.pem[:certKey=CERT.pem]"
                       "[:interface=ADDRESS][:backlog=N]",
                ("port", "privateKey", "certKey", "interface", "backlog"), ("port",),
                # as in Twisted: one server.pem holding both, unless told otherwise
                {"privateKey": "server.pem", "certKey": None, "interface": "",
                 "backlog": 50},
                {"port": _port, "backlog": _positive, "privateKey": _nonEmpty,
                 "certKey": _nonEmpty}),
}


def split(description):
    """'unix:/a\\:b:mode=0600' -> [['unix'], ['/a:b'], ['mode', '0600']].

    Each field becomes [value] or [key, value]; only the first unescaped '='
    of a field separates its key, and backslashes are removed.
    """
    fields, current, chars = [], [""], iter(description)
    for c in chars:
        if c == "\\":
            current[-1] += next(chars, "\\")  # a trailing backslash stays itself
        elif c == ":":
            fields.append(current)
            current = [""]
        elif c == "=" and len(current) == 1:
            current.append("")
        else:
            current[-1] += c
    fields.append(current)
    return fields


def quote(value):
    """Escape a value (a path, say) so ``split`` gives it back unchanged."""
    return "".join("\\" + c if c in "\\:=" else c for c in str(value))


def _fail(description, problem, kind=None):
    expected = kind.usage if kind else ", ".join(k.usage for k in KINDS.values())
    raise BadDescription("bad endpoint description %r: %s (expected %s)"
                         % (description, problem, expected))


def parse(description):
    """Turn 'tcp:8080:interface=127.0.0.1' into ('TCP', (8080,), {...}).

    The args tuple holds the port number or socket path; kwargs holds every
    other field, defaults filled in, ready for the reactor's listenX.
    """
    if not isinstance(description, str) or not description.strip():
        _fail(description, "it is empty")
    if grammar.parseDigits(description) is not None:  # the old spelling: a bare port means TCP
        description = "tcp:" + description
    fields = split(description)
    typeField = fields.pop(0)
    kind = KINDS.get(typeField[0].lower()) if len(typeField) == 1 else None
    if kind is None:
        _fail(description, "unknown type %r; known types are %s"
              % ("=".join(typeField), ", ".join(sorted(KINDS))))
    values = _assign(description, kind, fields)
    main = kind.positional[0]
    args = (values.pop(main),)
    return kind.name, args, values


def _assign(description, kind, fields):
    """Match bare and key=value fields to the kind's names and convert them."""
    given = {}
    for position, item in enumerate(fields):
        if len(item) == 2:
            name = kind.aliases.get(item[0], item[0])
            if name not in kind.positional:
                _fail(description, "unknown option %r" % (item[0],), kind)
        elif position < len(kind.positional):
            name = kind.positional[position]
        else:
            _fail(description, "too many fields", kind)
        if name in given:
            _fail(description, "%s given twice" % (name,), kind)
        given[name] = item[-1]
    values = dict(kind.defaults)
    for name in kind.required:
        if name not in given:
            _fail(description, "no %s given" % (name,), kind)
    for name, text in given.items():
        try:
            values[name] = kind.convert.get(name, str)(text)
        except ValueError as exc:
            _fail(description, str(exc), kind)
    return values


# --------------------------------------------------------------------------
# Half two: sockets and files
# --------------------------------------------------------------------------

def listenUNIX(reactor, path, factory, backlog=50, mode=0o666, wantPID=False):
    """``reactor.listenUNIX`` with ``~`` expanded (the lock-file rules are in unixlock.py)."""
    path = os.path.abspath(os.path.expanduser(path))
    return reactor.listenUNIX(path, factory, backlog=backlog, mode=mode, wantPID=wantPID)


def sslContext(privateKey, certKey=None):
    """A server-side TLS context from PEM files (certKey defaults to privateKey)."""
    certKey = certKey or privateKey
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["h2", "http/1.1"])  # RFC 9113 §3.2: HTTP/2 if the client can
    try:
        context.load_cert_chain(certfile=certKey, keyfile=privateKey)
    except (OSError, ssl.SSLError) as exc:
        raise TLSSetupError("cannot load TLS certificate %r with private key %r: %s"
                            % (certKey, privateKey, exc)) from None
    return context


def _defaultReactor():
    from refweb.internet import reactor
    return reactor


def listen(description, factory, reactor=None):
    """Listen on the endpoint a description names; return the reactor's port."""
    kind, args, kw = parse(description)
    reactor = reactor or _defaultReactor()
    if kind == "TCP":
        return reactor.listenTCP(args[0], factory, backlog=kw["backlog"],
                                 interface=kw["interface"])
    if kind == "UNIX":
        return listenUNIX(reactor, args[0], factory, **kw)
    context = sslContext(kw["privateKey"], kw["certKey"])
    return reactor.listenSSL(args[0], factory, context, backlog=kw["backlog"],
                             interface=kw["interface"])
