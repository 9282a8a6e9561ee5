"""Request encoders: EncodingResourceWrapper with GzipEncoderFactory (guide: "Request encoders")."""

import gzip

from refweb.reference.suite import behaviour, check, equal

ENCODERS = 'guide, "Request encoders"'
BODY = b"<html>Hello, world!</html>" + b" (and some more text to compress)" * 20


def gunzip(response):
    try:
        return gzip.decompress(response.body)
    except (OSError, EOFError) as e:
        check(False, "body is not gzip data: %s" % e)


@behaviour("encoders", "encoders", ENCODERS)
def gzip_when_accepted(server):
    """With Accept-Encoding: gzip the body is gzip-compressed and says Content-Encoding: gzip."""
    response = server.get("/", headers=[("Accept-Encoding", "gzip")])
    equal(response.header("content-encoding"), "gzip", "Content-Encoding")
    equal(gunzip(response), BODY, "the decompressed body")


@behaviour("encoders", "encoders", ENCODERS)
def identity_without_accept_encoding(server):
    """With no Accept-Encoding the body is sent as is, with no Content-Encoding."""
    response = server.get("/")
    equal(response.header("content-encoding"), None, "Content-Encoding")
    equal(response.body, BODY, "body")


@behaviour("encoders", "encoders", ENCODERS)
def identity_for_other_codings(server):
    """Accept-Encoding: deflate, br (no gzip) gets the body unencoded."""
    response = server.get("/", headers=[("Accept-Encoding", "deflate, br")])
    equal(response.header("content-encoding"), None, "Content-Encoding")
    equal(response.body, BODY, "body")


@behaviour("encoders", "encoders", ENCODERS)
def gzip_among_several(server):
    """gzip listed among other codings (deflate, gzip, br) is used."""
    response = server.get("/", headers=[("Accept-Encoding", "deflate, gzip, br")])
    equal(response.header("content-encoding"), "gzip", "Content-Encoding")
    equal(gunzip(response), BODY, "the decompressed body")


@behaviour("encoders", "encoders", "RFC 9110 §12.5.3")
def gzip_q0_refused(server):
    """gzip;q=0 means "not acceptable": the body is not gzip-encoded."""
    response = server.get("/", headers=[("Accept-Encoding", "gzip;q=0")])
    equal(response.header("content-encoding"), None, "Content-Encoding for gzip;q=0")


@behaviour("encoders", "encoders", "RFC 9110 §12.5.3, §8.4.1")
def gzip_coding_case_insensitive(server):
    """Content-coding names are case-insensitive: Accept-Encoding: GZIP gets gzip."""
    response = server.get("/", headers=[("Accept-Encoding", "GZIP")])
    equal(response.header("content-encoding"), "gzip", "Content-Encoding for GZIP")


@behaviour("encoders", "encoders", "RFC 9110 §12.5.5")
def vary_accept_encoding(server):
    """A response that depends on Accept-Encoding says so with Vary: Accept-Encoding."""
    response = server.get("/", headers=[("Accept-Encoding", "gzip")])
    vary = (response.header("vary") or "").lower()
    check("accept-encoding" in vary, "Vary is %r" % response.header("vary"))


@behaviour("encoders", "encoders", "RFC 9112 §6.3")
def gzip_framed_on_keepalive(server):
    """A gzip body on a kept-alive connection is framed so that the next response follows it."""
    with server.connect() as conn:
        conn.send(b"GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n" * 2)
        equal(gunzip(conn.readResponse()), BODY, "first body")
        equal(gunzip(conn.readResponse()), BODY, "second body")


@behaviour("encoders", "encoders", "RFC 9112 §6.3")
def gzip_to_http10(server):
    """An HTTP/1.0 client asking for gzip gets a whole gzip body, not chunked."""
    response = server.get("/", headers=[("Accept-Encoding", "gzip")], version="HTTP/1.0")
    check(not response.chunked, "chunked sent to an HTTP/1.0 client")
    equal(gunzip(response), BODY, "the decompressed body")
