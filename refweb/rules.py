"""The server's rules as tables: what it refuses, its limits, when it keeps a connection.

Guide: not in the guide (the guide leaves the wire to Twisted); the tables
are shown on docs/internals/wire.rst.

The keep-alive table is read on every response: the one method that
decides whether a connection stays open (``http11.ServerConnection.
_decideKeepAlive``) looks the case up in it.  The other tables describe
rules applied in ``refweb.wire`` (parsing) and ``refweb.http`` (the
channel's limits), row by row, with the RFC clause beside each.
Besides the server, two things read the tables:

* ``tools/make_tables.py`` writes them into the documentation between
  ``.. BEGIN GENERATED <name>`` and ``.. END GENERATED <name>`` lines, and
  ``tests/test_docs.py`` fails if a committed page differs from what it
  writes;
* ``tests/test_rules.py`` sends every row to a real server and checks that
  the server does what the row says.

So a row that is wrong fails a test, and a page cannot say something the
tables do not.  Defaults are never written here: ``default(limit)`` reads
them from the class that owns them, when asked.

Start reading at ``KEEP_ALIVE``, the table the server reads.
"""

import collections
import importlib

# -- what the parser refuses ------------------------------------------------

Refusal = collections.namedtuple("Refusal", "problem request status clause")
Refusal.__doc__ = """One kind of request the server answers with an error, then closes.

``request``: example bytes, sent as they are; ``status``: the answer;
``clause``: where the RFCs say so."""

REFUSALS = (
    Refusal("request line not ``METHOD SP target SP HTTP/x.y``",
            b"GET /\r\nHost: x\r\n\r\n", 400, "RFC 9112 §3"),
    Refusal("a method that is not a token",
            b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400, "RFC 9112 §3.1"),
    Refusal("a control character in the target",
            b"GET /a\x7fb HTTP/1.1\r\nHost: x\r\n\r\n", 400, "RFC 9112 §3.2"),
    Refusal("a fragment (``#...``) in the target",
            b"GET /a?x=1#frag HTTP/1.1\r\nHost: x\r\n\r\n", 400, "RFC 9112 §3.2"),
    Refusal("a version other than HTTP/1.x",
            b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, "RFC 9110 §15.6.6"),
    Refusal("a version that is not ``HTTP/digit.digit``",
            b"GET / HTTP/1.10\r\nHost: x\r\n\r\n", 400, "RFC 9112 §2.3"),
    Refusal("a head ended by LF LF, not CRLF CRLF",
            b"GET / HTTP/1.1\nHost: x\n\n", 400, "RFC 9112 §2.2"),
    Refusal("a folded header line (obs-fold)",
            b"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n", 400, "RFC 9112 §5.2"),
    Refusal("space between a header's name and its colon",
            b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, "RFC 9112 §5.1"),
    Refusal("a control character in a header value",
            b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n", 400, "RFC 9110 §5.5"),
    Refusal("HTTP/1.1 without a ``Host``",
            b"GET / HTTP/1.1\r\n\r\n", 400, "RFC 9112 §3.2"),
    Refusal("HTTP/1.1 with two ``Host`` lines",
            b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400, "RFC 9112 §3.2"),
    Refusal("``Transfer-Encoding`` *and* ``Content-Length``",
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Length: 5\r\n\r\n0\r\n\r\n", 400, "RFC 9112 §6.3"),
    Refusal("``Transfer-Encoding`` in an HTTP/1.0 request",
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400, "RFC 9112 §6.1"),
    Refusal("two different ``Content-Length`` values",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            400, "RFC 9112 §6.3"),
    Refusal("a ``Content-Length`` that is not digits",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, "RFC 9110 §8.6"),
    Refusal("a transfer coding other than ``chunked``",
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
            501, "RFC 9112 §6.1"),
    Refusal("a chunk size that is not hex digits",
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            400, "RFC 9112 §7.1"),
    Refusal("an ``Expect`` other than ``100-continue``",
            b"POST / HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Length: 1\r\n\r\na",
            417, "RFC 9110 §10.1.1"),
)


# -- limits -------------------------------------------------------------------

Limit = collections.namedtuple("Limit", "owner name bounds beyond setIt clause")
Limit.__doc__ = """One bound on what a client (or a program) may make the server hold or wait for.

``owner``: the dotted name of the class whose attribute holds the default;
``bounds``: exactly what is counted; ``beyond``: what happens past it;
``setIt``: where to change it (the ``refweb web`` option, if there is one,
is looked up in ``refweb.tap.LIMIT_OPTIONS``); ``clause``: the RFC
clause for the answer, or "" where no RFC names one."""

CHANNEL = "refweb.http.HTTPChannel"
ON_SITE = "an attribute of the Site (``site.%s = ...``)"
DECODER = "the class attribute, for every server in the process (``ChunkedDecoder.%s = ...``)"

LIMITS = (
    Limit(CHANNEL, "maxRequestLineLength",
          "bytes in the request line, without its CRLF",
          "414", ON_SITE, "RFC 9112 §3"),
    Limit(CHANNEL, "maxHeaderCount",
          "header lines in the head",
          "431", ON_SITE, "RFC 6585 §5"),
    Limit(CHANNEL, "maxHeaderBytes",
          "not the header lines alone: the whole head, request line included, "
          "up to (not counting) its final CRLF CRLF, may be "
          "``maxRequestLineLength + maxHeaderBytes`` bytes",
          "431", ON_SITE, "RFC 6585 §5"),
    Limit(CHANNEL, "maxBodySize",
          "bytes of a request body (its ``Content-Length``, or its chunks' data)",
          "413", ON_SITE, "RFC 9110 §15.5.14"),
    Limit(CHANNEL, "readTimeout",
          "seconds one read may wait, for a connection's first request or "
          "in the middle of a request",
          "408 mid-request; before the first byte, closed quietly",
          ON_SITE, "RFC 9110 §15.5.9"),
    Limit(CHANNEL, "writeTimeout",
          "seconds queued output may wait without the client reading any of it "
          "(over TLS: seconds one write may wait)",
          "closed", ON_SITE, ""),
    Limit(CHANNEL, "headTimeout",
          "seconds from a head's second read to its end, however it trickles in",
          "408", ON_SITE, "RFC 9110 §15.5.9"),
    Limit(CHANNEL, "idleTimeout",
          "seconds a kept-alive connection may wait for its next request",
          "closed quietly", ON_SITE, "RFC 9112 §9.5"),
    Limit(CHANNEL, "bodyTimeout",
          "seconds for a whole request body",
          "408", ON_SITE, "RFC 9110 §15.5.9"),
    Limit(CHANNEL, "memoryBodyLimit",
          "bytes of a request body held in memory",
          "the body is spooled to a temporary file", ON_SITE, ""),
    Limit(CHANNEL, "maxPipelineBytes",
          "bytes read ahead (the next requests) while a response is still "
          "being written",
          "the channel stops reading until the response finished", ON_SITE, "RFC 9112 §9.3.2"),
    Limit("refweb.chunked.ChunkedDecoder", "maxLineLength",
          "bytes in one chunk-size line (with its extensions) or trailer line",
          "400", DECODER, "RFC 9112 §7.1"),
    Limit("refweb.chunked.ChunkedDecoder", "maxTrailerBytes",
          "bytes of all trailer lines of a chunked body",
          "431", DECODER, "RFC 9112 §7.1.2"),
    Limit("refweb.chunked.ChunkedDecoder", "maxTrailerCount",
          "trailer lines of a chunked body",
          "431", DECODER, "RFC 9112 §7.1.2"),
    Limit("refweb.http_request.Request", "maxFormBytes",
          "bytes of a form body parsed into ``request.args``",
          "not parsed: ``args`` keeps only the query's fields; the body stays in "
          "``request.content``", "a subclass of Request (``site.requestFactory``)", ""),
    Limit("refweb.http_request.Request", "maxFormFields",
          "fields in a form body",
          "413", "a subclass of Request (``site.requestFactory``)", "RFC 9110 §15.5.14"),
    Limit("refweb.internet.threadedreactor.Port", "maxConnections",
          "open connections per listening port, waiting ones included (fewer if "
          "the process's file-descriptor limit leaves less)",
          "503, then closed", "an attribute of the Port ``listenTCP`` returns",
          "RFC 9110 §15.6.4"),
    Limit("refweb.internet.threadedreactor.ThreadedReactor", "maxWorkers",
          "worker threads busy at once while requests flow (rendering, reading a "
          "body, writing)",
          "the request waits for a free worker -- unless every worker has been "
          "blocked for ``WorkerPool.stallSeconds``: then the pool grows",
          "an attribute of the reactor, before the first ``listenTCP``", ""),
    Limit("refweb.internet.threadedreactor.ThreadedReactor", "workerCeiling",
          "worker threads at all, when every worker is blocked (render methods "
          "that sleep)",
          "the request waits for a free worker; nothing is refused",
          "an attribute of the reactor, before the first ``listenTCP``", ""),
    Limit("refweb.internet.threadedreactor.ThreadedReactor", "shutdownGrace",
          "seconds the requests in flight may take to finish after SIGTERM or "
          "``reactor.stop()``",
          "the process goes on shutting down; those connections are cut",
          "an attribute of the reactor", ""),
    Limit("refweb.twcgi.CGIScript", "timeout",
          "seconds a CGI program may stay silent",
          "killed; 504 if it had sent no headers", "an attribute of the CGIScript",
          "RFC 9110 §15.6.5"),
    Limit("refweb.session.Session", "sessionTimeout",
          "seconds a session may go without a request",
          "the session expires", "a Session subclass as ``site.sessionFactory``", ""),
    Limit("refweb.session.SessionStore", "maxSessions",
          "live sessions per Site",
          "the least recently used session expires", "``site.sessions.maxSessions``", ""),
)


def owner(limit):
    """The class named by ``limit.owner``, imported."""
    moduleName, _, className = limit.owner.rpartition(".")
    return getattr(importlib.import_module(moduleName), className)


def default(limit):
    """The limit's default, read from its class now (never copied here)."""
    return getattr(owner(limit), limit.name)


def webOption(limit):
    """The ``refweb web`` option that sets this limit, or None."""
    from refweb import tap
    for option, (attribute, _) in tap.LIMIT_OPTIONS.items():
        if attribute == limit.name:
            return "--" + option
    return None


# -- keep-alive -----------------------------------------------------------------

KeepAlive = collections.namedtuple("KeepAlive", "version connection framing keep header clause")
KeepAlive.__doc__ = """After one response, whether the connection stays open.

``version``: the request's; ``connection``: what its Connection header
says ("" for nothing that matters here; "close" wins over "keep-alive");
``framing``: how the response body was delimited (see FRAMINGS);
``keep``: True if the server reads another request; ``header``: the
Connection line the response carries ("" for none); ``clause``: the RFC's
say.  "*" matches anything.

This is the table the server reads: ``http11.ServerConnection._decideKeepAlive``
looks every response up here (``keepAliveRow``)."""

FRAMINGS = {
    "length": "``Content-Length``, as many bytes as it says (or no body at all: "
              "HEAD, 204, 304)",
    "chunked": "length unknown (``NOT_DONE_YET``, several writes): chunks",
    "close": "length unknown on HTTP/1.0, or a ``Content-Length`` the server cannot "
             "read: the body ends at the close",
    "past": "the resource wrote more bytes than its ``Content-Length``",
    "short": "the resource finished before writing its ``Content-Length``",
    "refused": "no response of the resource's: the request was refused while it "
               "was read (a 4xx from the parser)",
}

KEEP_ALIVE = (
    KeepAlive("HTTP/1.1", "", "length", True, "", "RFC 9112 §9.3"),
    KeepAlive("HTTP/1.1", "keep-alive", "length", True, "", "RFC 9112 §9.3"),
    KeepAlive("HTTP/1.1", "close", "length", False, "close", "RFC 9112 §9.6"),
    KeepAlive("HTTP/1.1", "", "chunked", True, "", "RFC 9112 §7.1"),
    KeepAlive("HTTP/1.1", "keep-alive", "chunked", True, "", "RFC 9112 §7.1"),
    KeepAlive("HTTP/1.1", "close", "chunked", False, "close", "RFC 9112 §9.6"),
    KeepAlive("HTTP/1.1", "*", "close", False, "close", "RFC 9112 §6.3 item 8"),
    KeepAlive("HTTP/1.0", "", "length", False, "close", "RFC 9112 §9.3"),
    KeepAlive("HTTP/1.0", "keep-alive", "length", True, "keep-alive", "RFC 9112 Appendix C.2.2"),
    KeepAlive("HTTP/1.0", "close", "length", False, "close", "RFC 9112 §9.6"),
    KeepAlive("HTTP/1.0", "*", "close", False, "close", "RFC 9112 §6.3 item 8"),
    # The two below decide to close after the head went out, so the head
    # cannot say so: the close itself is all the client sees.
    KeepAlive("*", "*", "past", False, "", "RFC 9112 §6.3"),
    KeepAlive("*", "*", "short", False, "", "RFC 9112 §8"),
    KeepAlive("*", "*", "refused", False, "close", "RFC 9112 §9.6"),
)

_KEEP_ALIVE_INDEX = {(row.version, row.connection, row.framing): row for row in KEEP_ALIVE}


def keepAliveRow(version, connection, framing):
    """The KEEP_ALIVE row for this case: the most specific one, "*" matching anything."""
    index = _KEEP_ALIVE_INDEX
    return (index.get((version, connection, framing))
            or index.get((version, "*", framing))
            or index[("*", "*", framing)])


TABLES = ("refusals", "limits", "keep-alive")
