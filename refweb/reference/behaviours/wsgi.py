"""WSGI: WSGIResource and the environ of PEP 3333 (guide: "Serving WSGI Applications").

Site ``wsgi``: one application mounted at /app.
"""

import json
import time

from refweb.reference import client
from refweb.reference.suite import behaviour, check, equal

WSGI = 'guide, "Serving WSGI Applications"'


def environ(server, path="/app/env", method="GET", **kw):
    response = server.request(method, path, **kw)
    equal(response.status, 200, "status of %s %s" % (method, path))
    return json.loads(response.body)


@behaviour("wsgi", "wsgi", WSGI)
def hello_application(server):
    """The guide's application answers 200 text/plain 'Hello World!'."""
    response = server.get("/app")
    equal((response.status, response.body), (200, b"Hello World!"), "status and body")
    equal(response.header("content-type"), "text/plain", "Content-type")


@behaviour("wsgi", "wsgi", "PEP 3333, environ variables")
def request_method(server):
    """REQUEST_METHOD is the request's method."""
    equal(environ(server, method="POST", body=b"x")["REQUEST_METHOD"], "POST", "REQUEST_METHOD")


@behaviour("wsgi", "wsgi", "PEP 3333, environ variables")
def script_name_is_mount(server):
    """SCRIPT_NAME is where the resource is mounted: /app."""
    equal(environ(server)["SCRIPT_NAME"], "/app", "SCRIPT_NAME")


@behaviour("wsgi", "wsgi", "PEP 3333, environ variables")
def path_info_rest(server):
    """PATH_INFO is the rest of the path below the mount: /env/more."""
    equal(environ(server, "/app/env/more")["PATH_INFO"], "/env/more", "PATH_INFO")


@behaviour("wsgi", "wsgi", "PEP 3333, environ variables")
def path_info_decoded(server):
    """PATH_INFO is percent-decoded (as Latin-1 text, PEP 3333): /env/a%20b gives /env/a b."""
    equal(environ(server, "/app/env/a%20b")["PATH_INFO"], "/env/a b", "PATH_INFO")


@behaviour("wsgi", "wsgi", "PEP 3333, environ variables")
def query_string(server):
    """QUERY_STRING is the part after '?', undecoded."""
    equal(environ(server, "/app/env?a=1&b=%20")["QUERY_STRING"], "a=1&b=%20", "QUERY_STRING")


@behaviour("wsgi", "wsgi", "PEP 3333, environ variables")
def query_string_empty(server):
    """With no query, QUERY_STRING is empty (or absent)."""
    check(environ(server)["QUERY_STRING"] in ("", None), "QUERY_STRING is not empty")


@behaviour("wsgi", "wsgi", "PEP 3333, environ variables")
def server_protocol(server):
    """SERVER_PROTOCOL is the request's version, HTTP/1.1 (HTTP/2 over HTTP/2)."""
    equal(environ(server)["SERVER_PROTOCOL"], server.protocol, "SERVER_PROTOCOL")


@behaviour("wsgi", "wsgi", "PEP 3333, environ variables")
def server_port(server):
    """SERVER_PORT is the port as a string."""
    equal(environ(server)["SERVER_PORT"], str(server.port), "SERVER_PORT")


@behaviour("wsgi", "wsgi", "PEP 3333, environ variables")
def http_header_variables(server):
    """A request header X-Probe is HTTP_X_PROBE; Host is HTTP_HOST."""
    fields = environ(server, headers=[("X-Probe", "seen")])
    equal((fields["HTTP_X_PROBE"], fields["HTTP_HOST"]), ("seen", "example.com"),
          "HTTP_X_PROBE and HTTP_HOST")


@behaviour("wsgi", "wsgi", "PEP 3333, environ variables")
def content_type_and_length(server):
    """CONTENT_TYPE and CONTENT_LENGTH come from the request's headers."""
    fields = environ(server, method="POST", body=b"12345", headers=[("Content-Type", "text/plain")])
    equal((fields["CONTENT_TYPE"], fields["CONTENT_LENGTH"]), ("text/plain", "5"),
          "CONTENT_TYPE and CONTENT_LENGTH")


@behaviour("wsgi", "wsgi", "PEP 3333, wsgi.input")
def input_body(server):
    """wsgi.input reads the request body."""
    equal(environ(server, method="POST", body=b"the body")["body"], "the body", "body read")


@behaviour("wsgi", "wsgi", "PEP 3333, environ variables")
def wsgi_version_and_scheme(server):
    """wsgi.version is (1, 0) and wsgi.url_scheme is http (https over TLS)."""
    fields = environ(server)
    equal((fields["wsgi.version"], fields["wsgi.url_scheme"]), ([1, 0], server.scheme),
          "wsgi.version and wsgi.url_scheme")


@behaviour("wsgi", "wsgi", 'guide, "Serving WSGI Applications" (a thread pool)')
def multithread_true(server):
    """Applications run on a thread pool: wsgi.multithread is true, wsgi.run_once false."""
    fields = environ(server)
    equal((fields["wsgi.multithread"], fields["wsgi.run_once"]), (True, False),
          "multithread and run_once")


@behaviour("wsgi", "wsgi", "PEP 3333, start_response")
def status_and_headers_from_app(server):
    """The status line and headers given to start_response are sent as given."""
    response = server.get("/app/status")
    if server.http2:  # HTTP/2 has no reason phrase (RFC 9113 §8.3.2)
        equal(response.status, 404, "status")
    else:
        equal((response.status, response.reason), (404, "Not Here"), "status and reason")
    equal(response.header("x-app"), "yes", "X-App")


@behaviour("wsgi", "wsgi", "PEP 3333, start_response")
def repeated_headers_kept(server):
    """Two Set-Cookie headers from the app are sent as two fields."""
    equal(server.get("/app/headers").headerList("set-cookie"), ["a=1", "b=2"], "Set-Cookie fields")


@behaviour("wsgi", "wsgi", "PEP 3333, the write() callable")
def write_callable(server):
    """Bytes given to write() come before the returned iterable's."""
    equal(server.get("/app/write").body, b"written, then returned", "body")


@behaviour("wsgi", "wsgi", "PEP 3333, the iterable")
def generator_body(server):
    """A generator's pieces are sent in order."""
    equal(server.get("/app/generator").body, b"abc", "body")


@behaviour("wsgi", "wsgi", "PEP 3333, Content-Length")
def app_content_length(server):
    """A Content-Length given by the app frames the body (not chunked)."""
    response = server.get("/app/length")
    equal((response.body, response.chunked), (b"12345", False), "body and chunked")
    equal(response.header("content-length"), "5", "Content-Length")


@behaviour("wsgi", "wsgi", "PEP 3333, close()")
def iterable_close_called(server):
    """The server calls close() on the iterable once the response is sent."""
    equal(server.get("/app/closing").body, b"part one, part two", "body")
    deadline = time.monotonic() + 5  # close() may run just after the last byte was sent
    while True:
        seen = server.get("/app/closed").body
        if seen == b"closed 1 times" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    equal(seen, b"closed 1 times", "close() calls seen")


@behaviour("wsgi", "wsgi", "PEP 3333, error handling")
def exception_is_500(server):
    """An application that raises before start_response gives a 500, and the server goes on."""
    equal(server.get("/app/raise").status, 500, "status")
    equal(server.get("/app").status, 200, "status of the next request")


@behaviour("wsgi", "wsgi", "PEP 3333, start_response exc_info")
def exc_info_before_output(server):
    """start_response with exc_info before any output sends the app's own error page."""
    response = server.get("/app/excinfo")
    equal((response.status, response.body), (500, b"error page from the app"), "status and body")


@behaviour("wsgi", "wsgi", "RFC 9112 §9.3")
def keepalive_two_requests(server):
    """Two requests on one connection to a WSGI resource are both answered."""
    with server.connect() as conn:
        conn.send(client.request("GET", "/app") + client.request("GET", "/app/generator"))
        equal((conn.readResponse().body, conn.readResponse().body), (b"Hello World!", b"abc"),
              "the two bodies")
