"""CGI: twcgi.CGIDirectory and the CGI/1.1 meta-variables (guide: "Serving PHP/Perl/CGI"; RFC 3875)."""

import json

from refweb.reference.suite import behaviour, check, equal

CGI = 'guide, "Serving PHP/Perl/CGI"'


def env(server, path="/cgi-bin/env.cgi", method="GET", **kw):
    response = server.request(method, path, **kw)
    equal(response.status, 200, "status of %s %s" % (method, path))
    try:
        return json.loads(response.body)
    except ValueError:
        check(False, "env.cgi did not answer JSON: %r" % response.body[:60])


@behaviour("cgi", "cgi", CGI)
def script_output_served(server):
    """A script in the cgi-bin folder is run and its output (after its headers) is the body."""
    response = server.get("/cgi-bin/hello.cgi")
    equal((response.status, response.body), (200, b"Hello from CGI\n"), "status and body")


@behaviour("cgi", "cgi", "RFC 3875 §6.3.1")
def script_content_type(server):
    """The script's Content-Type header becomes the response's."""
    equal(server.get("/cgi-bin/hello.cgi").header("content-type"), "text/plain", "Content-Type")


@behaviour("cgi", "cgi", "RFC 3875 §6.3.3")
def status_header_sets_status(server):
    """A Status: 404 line from the script sets the response status."""
    response = server.get("/cgi-bin/status.cgi")
    equal(response.status, 404, "status")
    equal(response.header("x-script"), "yes", "the script's own header")


@behaviour("cgi", "cgi", "RFC 3875 §6.2.4")
def location_is_redirect(server):
    """A script that sends only an absolute Location is a client redirect (302)."""
    response = server.get("/cgi-bin/redirect.cgi")
    equal(response.status, 302, "status")
    equal(response.header("location"), "http://example.com/moved", "Location")


@behaviour("cgi", "cgi", "RFC 3875 §4.1.12")
def request_method(server):
    """REQUEST_METHOD is the request's method."""
    equal(env(server, method="POST", body=b"x")["REQUEST_METHOD"], "POST", "REQUEST_METHOD")


@behaviour("cgi", "cgi", "RFC 3875 §4.1.7")
def query_string(server):
    """QUERY_STRING is the part after '?', still URL-encoded."""
    equal(env(server, "/cgi-bin/env.cgi?a=1&b=x%20y")["QUERY_STRING"], "a=1&b=x%20y",
          "QUERY_STRING")


@behaviour("cgi", "cgi", "RFC 3875 §4.1.7")
def query_string_empty(server):
    """With no query QUERY_STRING is set, to the empty string (MUST be set)."""
    equal(env(server).get("QUERY_STRING"), "", "QUERY_STRING")


@behaviour("cgi", "cgi", "RFC 3875 §4.1.13")
def script_name(server):
    """SCRIPT_NAME is the URL path of the script: /cgi-bin/env.cgi."""
    equal(env(server)["SCRIPT_NAME"], "/cgi-bin/env.cgi", "SCRIPT_NAME")


@behaviour("cgi", "cgi", "RFC 3875 §4.1.5")
def path_info(server):
    """Segments after the script are PATH_INFO: /cgi-bin/env.cgi/extra/path gives /extra/path."""
    equal(env(server, "/cgi-bin/env.cgi/extra/path").get("PATH_INFO"), "/extra/path", "PATH_INFO")


@behaviour("cgi", "cgi", "RFC 3875 §4.1.4")
def gateway_interface(server):
    """GATEWAY_INTERFACE is CGI/1.1."""
    equal(env(server)["GATEWAY_INTERFACE"], "CGI/1.1", "GATEWAY_INTERFACE")


@behaviour("cgi", "cgi", "RFC 3875 §4.1.16")
def server_protocol(server):
    """SERVER_PROTOCOL is the request's protocol version."""
    equal(env(server)["SERVER_PROTOCOL"], server.protocol, "SERVER_PROTOCOL")


@behaviour("cgi", "cgi", "RFC 3875 §4.1.8")
def remote_addr(server):
    """REMOTE_ADDR is the client's address."""
    equal(env(server)["REMOTE_ADDR"], "127.0.0.1", "REMOTE_ADDR")


@behaviour("cgi", "cgi", "RFC 3875 §4.1.15")
def server_port(server):
    """SERVER_PORT is the port the request came in on."""
    equal(env(server)["SERVER_PORT"], str(server.port), "SERVER_PORT")


@behaviour("cgi", "cgi", "RFC 3875 §4.1.18")
def http_headers_as_variables(server):
    """A request header X-Probe reaches the script as HTTP_X_PROBE."""
    equal(env(server, headers=[("X-Probe", "seen")]).get("HTTP_X_PROBE"), "seen", "HTTP_X_PROBE")


@behaviour("cgi", "cgi", "RFC 3875 §4.1.2, §4.2")
def post_body_on_stdin(server):
    """A POST body reaches the script on stdin, with CONTENT_LENGTH set."""
    fields = env(server, method="POST", body=b"name=value",
                 headers=[("Content-Type", "application/x-www-form-urlencoded")])
    equal((fields["_body"], fields.get("CONTENT_LENGTH")), ("name=value", "10"),
          "body and CONTENT_LENGTH")


@behaviour("cgi", "cgi", "RFC 3875 §4.1.3")
def content_type_variable(server):
    """CONTENT_TYPE is the request's Content-Type."""
    fields = env(server, method="POST", body=b"x", headers=[("Content-Type", "text/plain")])
    equal(fields.get("CONTENT_TYPE"), "text/plain", "CONTENT_TYPE")


@behaviour("cgi", "cgi", CGI)
def missing_script_404(server):
    """A name with no script in the cgi-bin folder is 404."""
    equal(server.get("/cgi-bin/nothing.cgi").status, 404, "status")
