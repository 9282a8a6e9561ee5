"""Tests for refweb.forms: urlencoded and multipart/form-data bodies into args.

The parsers are checked on bytes directly, then through a real Site, where a
POSTed form must show up in ``request.args`` next to the query's arguments.
"""

import json

import pytest

from refweb import forms, resource
from support import get, served

BOUNDARY = "----refwebBoundary7MA4YWxk"


def multipart(parts, boundary=BOUNDARY, preamble=b"", epilogue=b""):
    """Build a multipart/form-data body from (headers text, value bytes) pairs."""
    body = preamble
    for head, value in parts:
        body += b"--" + boundary.encode() + b"\r\n" + head.encode() + b"\r\n\r\n" + value + b"\r\n"
    return body + b"--" + boundary.encode() + b"--\r\n" + epilogue


# -- urlencoded ----------------------------------------------------------------

def test_parseURLEncoded_plusAndPercentAreDecoded():
    """'+' becomes a space and %XX its byte, decoded as UTF-8."""
    assert forms.parseURLEncoded(b"a=1&b=two+words&c=%41%26%3D&n=caf%C3%A9") == [
        ("a", "1"), ("b", "two words"), ("c", "A&="), ("n", "caf\u00e9")]


def test_parseURLEncoded_blankValuesAreKept():
    """A field with no value, or no '=', is kept with an empty value."""
    assert forms.parseURLEncoded(b"empty=&flag&x=1") == [("empty", ""), ("flag", ""), ("x", "1")]


def test_parseURLEncoded_repeatedNamesKeepOrder():
    """A name given twice gives two pairs, in body order."""
    assert forms.parseURLEncoded(b"k=1&k=2") == [("k", "1"), ("k", "2")]


def test_parseURLEncoded_badUTF8IsReplaced():
    """Bytes that are not UTF-8 become U+FFFD rather than an error."""
    assert forms.parseURLEncoded(b"v=%FF") == [("v", "\ufffd")]


def test_parseURLEncoded_emptyBody():
    """An empty body has no fields."""
    assert forms.parseURLEncoded(b"") == []


# -- multipart -----------------------------------------------------------------

def test_parseMultipart_twoFieldsAndAFile():
    """Two text fields and a file part come out as three (name, value) pairs."""
    body = multipart([
        ('Content-Disposition: form-data; name="title"', b"Hello"),
        ('Content-Disposition: form-data; name="note"', "caf\u00e9".encode()),
        ('Content-Disposition: form-data; name="upload"; filename="a.txt"\r\n'
         'Content-Type: text/plain', b"line one\r\nline two\r\n"),
    ], preamble=b"ignored preamble\r\n", epilogue=b"ignored epilogue")
    contentType = "multipart/form-data; boundary=" + BOUNDARY
    assert forms.parseMultipart(body, contentType) == [
        ("title", "Hello"), ("note", "caf\u00e9"), ("upload", "line one\r\nline two\r\n")]


def test_parseMultipart_quotedBoundaryAndUnquotedName():
    """A quoted boundary parameter and an unquoted name both work."""
    body = multipart([("content-disposition: form-data; name=plain", b"v")], boundary="b q")
    assert forms.parseMultipart(body, 'multipart/form-data; boundary="b q"') == [("plain", "v")]


def test_parseMultipart_escapedQuoteInName():
    """A backslash-escaped quote in a quoted name is unescaped."""
    body = multipart([('Content-Disposition: form-data; name="say \\"hi\\""', b"v")])
    assert forms.parseMultipart(body, "multipart/form-data; boundary=" + BOUNDARY) == [
        ('say "hi"', "v")]


def test_parseMultipart_missingBoundaryGivesNothing():
    """Without a boundary parameter no field can be found: the result is empty."""
    body = multipart([('Content-Disposition: form-data; name="a"', b"1")])
    assert forms.parseMultipart(body, "multipart/form-data") == []
    assert forms.parseMultipart(body, "multipart/form-data; boundary=") == []


def test_parseMultipart_malformedPartsAreSkipped():
    """A part with no blank line after its head, or no field name, is skipped; others stay."""
    body = (b"--" + BOUNDARY.encode() + b"\r\nContent-Disposition: form-data; name=\"broken\""
            b"\r\nno blank line here\r\n"
            + multipart([('Content-Type: text/plain', b"nameless"),
                         ('Content-Disposition: form-data; name="good"', b"kept")]))
    assert forms.parseMultipart(body, "multipart/form-data; boundary=" + BOUNDARY) == [
        ("good", "kept")]


def test_parseMultipart_stopsAtTheClosingDelimiter():
    """Nothing after the closing delimiter is read as a part."""
    body = multipart([('Content-Disposition: form-data; name="a"', b"1")],
                     epilogue=b"--" + BOUNDARY.encode() +
                     b'\r\nContent-Disposition: form-data; name="late"\r\n\r\nx\r\n')
    assert forms.parseMultipart(body, "multipart/form-data; boundary=" + BOUNDARY) == [
        ("a", "1")]


def test_parseMultipart_emptyValue():
    """A field with an empty value is kept with ''."""
    body = multipart([('Content-Disposition: form-data; name="e"', b"")])
    assert forms.parseMultipart(body, "multipart/form-data; boundary=" + BOUNDARY) == [
        ("e", "")]


def test_parseMultipart_semicolonInsideAQuotedName():
    """A ';' inside a quoted field name belongs to the name (browsers send it as is)."""
    body = multipart([('Content-Disposition: form-data; name="a;b"', b"v"),
                      ('Content-Disposition: form-data; filename="x;name=evil"; name="real"',
                       b"f")])
    assert forms.parseMultipart(body, "multipart/form-data; boundary=" + BOUNDARY) == [
        ("a;b", "v"), ("real", "f")]


# -- through a real Site -------------------------------------------------------

class Args(resource.Resource):
    """Answers with request.args as JSON, for GET and POST alike (render_POST = render_GET)."""

    isLeaf = True

    def render_GET(self, request):
        request.setHeader("content-type", "application/json")
        return json.dumps(request.args, sort_keys=True)

    render_POST = render_GET


def test_form_urlencodedPostJoinsTheQueryArgs():
    """A urlencoded POST body is added to request.args after the query's arguments."""
    with served(Args()) as port:
        status, _, body = get(port, "/?a=q&z=1", method="POST", body=b"a=b+c&d=%2F",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200
    assert json.loads(body) == {"a": ["q", "b c"], "d": ["/"], "z": ["1"]}


def test_form_multipartPostFillsArgs():
    """A multipart/form-data POST puts each field, and the file's content, into args."""
    body = multipart([
        ('Content-Disposition: form-data; name="title"', b"Hi"),
        ('Content-Disposition: form-data; name="tag"', b"x"),
        ('Content-Disposition: form-data; name="f"; filename="f.txt"\r\n'
         'Content-Type: text/plain', b"file body"),
    ])
    with served(Args()) as port:
        status, _, answer = get(port, "/", method="POST", body=body, headers={
            "Content-Type": "multipart/form-data; boundary=" + BOUNDARY})
    assert status == 200
    assert json.loads(answer) == {"f": ["file body"], "tag": ["x"], "title": ["Hi"]}


def test_form_otherContentTypesAreLeftInContent():
    """A JSON body is not parsed into args; it stays readable in request.content."""
    class Raw(resource.Resource):
        isLeaf = True

        def render_POST(self, request):
            return json.dumps([request.args, request.content.read().decode()])

    with served(Raw()) as port:
        status, _, answer = get(port, "/", method="POST", body=b'{"a": 1}',
                                headers={"Content-Type": "application/json"})
    assert status == 200
    assert json.loads(answer) == [{}, '{"a": 1}']


# -- the field-count limit -----------------------------------------------------

def test_parsers_refuse_more_fields_than_allowed():
    """Exactly maxFields is parsed; one more is a 413, in either encoding."""
    from refweb import error
    assert len(forms.parseURLEncoded(b"&".join([b"a=1"] * 3), maxFields=3)) == 3
    with pytest.raises(error.PayloadTooLarge):
        forms.parseURLEncoded(b"&".join([b"a=1"] * 4), maxFields=3)
    field = ('Content-Disposition: form-data; name="a"', b"1")
    contentType = "multipart/form-data; boundary=" + BOUNDARY
    assert len(forms.parseMultipart(multipart([field] * 3), contentType, maxFields=3)) == 3
    with pytest.raises(error.PayloadTooLarge):
        forms.parseMultipart(multipart([field] * 4), contentType, maxFields=3)


def test_form_with_too_many_fields_is_413_through_a_Site():
    """A form flood is answered 413 before any render method runs."""
    rendered = []

    class Counting(Args):
        def render_POST(self, request):
            rendered.append(request)
            return Args.render_GET(self, request)

    with served(Counting()) as port:
        body = b"&".join(b"f%d=x" % i for i in range(10001))
        status, _, answer = get(port, "/", method="POST", body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded"})
        assert status == 413 and b"at most 10000 fields" in answer
        assert rendered == []
        status, _, answer = get(port, "/", method="POST", body=body[:body.rindex(b"&")],
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 200 and len(json.loads(answer)) == 10000
