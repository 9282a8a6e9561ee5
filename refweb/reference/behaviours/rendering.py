"""Resource rendering: render_METHOD, HEAD, 405 with Allow, NOT_DONE_YET (guide: "Resource rendering")."""

import json

from refweb.reference.suite import behaviour, check, equal

RENDERING = 'guide, "Resource rendering"'


@behaviour("rendering", "render", RENDERING)
def render_GET_called(server):
    """GET is answered by render_GET."""
    response = server.get("/methods")
    equal((response.status, response.body), (200, b"got GET"), "status and body")


@behaviour("rendering", "render", RENDERING)
def render_POST_called_with_body(server):
    """POST is answered by render_POST, which reads the body from request.content."""
    response = server.request("POST", "/methods", body=b"payload")
    equal((response.status, response.body), (200, b"got POST: payload"), "status and body")


@behaviour("rendering", "render", "RFC 9110 §15.5.6")
def unknown_method_405(server):
    """A method with no render_METHOD (PUT here) is 405 Method Not Allowed."""
    equal(server.request("PUT", "/methods", body=b"x").status, 405, "status of PUT")


@behaviour("rendering", "render", "RFC 9110 §15.5.6")
def method_not_allowed_has_allow(server):
    """A 405 response MUST carry Allow, listing the methods the resource has (GET, HEAD, POST)."""
    response = server.request("DELETE", "/methods")
    equal(response.status, 405, "status of DELETE")
    allow = response.header("allow")
    check(allow is not None, "405 has no Allow header")
    methods = {m.strip() for m in allow.split(",")}
    check({"GET", "POST"} <= methods, "Allow %r lacks GET or POST" % allow)
    check("DELETE" not in methods and "PUT" not in methods, "Allow %r lists a refused method" % allow)


@behaviour("rendering", "render", "RFC 9110 §15.5.6")
def post_without_render_POST_405(server):
    """POST to a resource with only render_GET is 405, with Allow naming GET (and HEAD)."""
    response = server.request("POST", "/created", body=b"x")
    equal(response.status, 405, "status of POST /created")
    methods = {m.strip() for m in (response.header("allow") or "").split(",")}
    check("GET" in methods and "POST" not in methods, "Allow is %r" % response.header("allow"))


@behaviour("rendering", "render", RENDERING)
def no_render_methods_405(server):
    """A resource with no render_ methods at all refuses GET with 405."""
    equal(server.get("/empty").status, 405, "status of GET /empty")


@behaviour("rendering", "render", "RFC 9110 §9.3.2")
def head_uses_render_GET(server):
    """HEAD without render_HEAD is answered from render_GET: 200, headers, no body."""
    response = server.request("HEAD", "/methods")
    equal(response.status, 200, "status of HEAD")
    equal(response.header("content-type"), "text/plain", "Content-Type of HEAD")


@behaviour("rendering", "render", "RFC 9110 §9.3.2")
def head_has_no_body(server):
    """A response to HEAD has no body: the next bytes on the connection start the next response."""
    with server.connect() as conn:
        conn.send(b"HEAD /methods HTTP/1.1\r\nHost: x\r\n\r\nGET /created HTTP/1.1\r\nHost: x\r\n\r\n")
        equal(conn.readResponse("HEAD").status, 200, "status of HEAD")
        equal(conn.readResponse().status, 201, "status of the GET after it")


@behaviour("rendering", "render", "RFC 9110 §9.3.2")
def head_content_length_matches_get(server):
    """HEAD's Content-Length, when sent, is the length GET's body has (7 for 'got GET')."""
    length = server.request("HEAD", "/methods").header("content-length")
    check(length in (None, "7"), "Content-Length %r on HEAD, GET's body has 7 bytes" % length)


@behaviour("rendering", "render", RENDERING)
def not_done_yet_then_finish(server):
    """render returns NOT_DONE_YET; a later write() and finish() make the response."""
    response = server.get("/later")
    equal((response.status, response.body), (200, b"later and done"), "status and body")


@behaviour("rendering", "render", "RFC 9112 §7.1")
def stream_chunked_on_http11(server):
    """Writes with no length known are sent chunked to an HTTP/1.1 client, and arrive whole."""
    response = server.get("/stream")
    equal(response.body, b"one two three", "body")
    check(response.chunked, "not chunked (Content-Length %r)" % response.header("content-length"))


@behaviour("rendering", "render", "RFC 9112 §7")
def stream_not_chunked_on_http10(server):
    """An HTTP/1.0 client never gets chunked; the body ends where the connection closes."""
    response = server.get("/stream", version="HTTP/1.0")
    check(not response.chunked, "chunked sent to an HTTP/1.0 client")
    equal(response.body, b"one two three", "body")


@behaviour("rendering", "render", RENDERING)
def setResponseCode_and_setHeader(server):
    """setResponseCode(201) and setHeader('x-reference', 'yes') reach the client."""
    response = server.get("/created")
    equal(response.status, 201, "status")
    equal(response.header("x-reference"), "yes", "X-Reference")
    equal(response.body, b"made", "body")


@behaviour("rendering", "render", RENDERING)
def redirect_sets_location(server):
    """request.redirect(url) answers 302 Found with Location: url."""
    response = server.get("/redirect")
    equal(response.status, 302, "status")
    equal(response.header("location"), "http://example.com/elsewhere", "Location")


@behaviour("rendering", "render", RENDERING)
def post_form_in_args(server):
    """A urlencoded POST body is parsed into request.args."""
    response = server.request("POST", "/form", body=b"a=1&b=two&a=3",
                              headers=[("Content-Type", "application/x-www-form-urlencoded")])
    equal(response.status, 200, "status")
    equal(json.loads(response.body), {"a": ["1", "3"], "b": ["two"]}, "request.args")


@behaviour("rendering", "render", "RFC 9110 §5.1")
def getHeader_case_insensitive(server):
    """request.getHeader('x-probe') finds a header sent as X-PROBE (field names are case-insensitive)."""
    response = server.get("/header", headers=[("X-PROBE", "found")])
    equal(response.body, b"found", "what getHeader returned")


@behaviour("rendering", "render", RENDERING)
def exception_is_500(server):
    """An exception raised in render is a 500 response, and the server keeps serving."""
    equal(server.get("/broken").status, 500, "status of GET /broken")
    equal(server.get("/methods").status, 200, "status of the next request")


@behaviour("rendering", "render", 'guide, "Site Objects" (the Simple example, as printed)')
def guide_simple_returns_str(server):
    """The guide's Simple returns the str "<html>Hello, world!</html>"; it is served as that text."""
    response = server.get("/simple")
    equal(response.status, 200, "status")
    equal(response.body, b"<html>Hello, world!</html>", "body")
