"""Proxies and reverse proxies (guide: "Proxies and reverse proxies"; RFC 9110 §7.6, §15.6.3)."""

import json

from refweb.reference import client
from refweb.reference.suite import behaviour, check, equal

PROXY = 'guide, "Proxies and reverse proxies"'


def backend(server, path, method="GET", **kw):
    response = server.request(method, path, **kw)
    equal(response.status, 200, "status of %s %s" % (method, path))
    try:
        return json.loads(response.body)
    except ValueError:
        check(False, "not the backend's JSON: %r" % response.body[:60])


@behaviour("proxies", "proxy", PROXY)
def reverse_path_joined(server):
    """ReverseProxyResource('host', port, '/back') sends /proxy/x as /back/x."""
    equal(backend(server, "/proxy/x")["uri"], "/back/x", "what the backend was asked for")


@behaviour("proxies", "proxy", PROXY)
def reverse_query_kept(server):
    """The query string is passed on: /proxy/x?a=1 is /back/x?a=1."""
    equal(backend(server, "/proxy/x?a=1")["uri"], "/back/x?a=1", "what the backend was asked for")


@behaviour("proxies", "proxy", PROXY)
def reverse_method_kept(server):
    """The method is passed on (DELETE stays DELETE)."""
    equal(backend(server, "/proxy/x", method="DELETE")["method"], "DELETE", "backend's method")


@behaviour("proxies", "proxy", PROXY)
def reverse_body_forwarded(server):
    """A POST body reaches the backend whole."""
    equal(backend(server, "/proxy/x", method="POST", body=b"hello backend")["body"],
          "hello backend", "backend's body")


@behaviour("proxies", "proxy", PROXY)
def reverse_header_forwarded(server):
    """An end-to-end request header (X-Probe) reaches the backend."""
    headers = backend(server, "/proxy/x", headers=[("X-Probe", "on")])["headers"]
    equal(headers.get("x-probe"), ["on"], "X-Probe at the backend")


@behaviour("proxies", "proxy", "RFC 9110 §7.2; guide, \"Proxies and reverse proxies\"")
def reverse_host_is_backend(server):
    """The backend is asked with Host naming itself, 127.0.0.1:PORT."""
    headers = backend(server, "/proxy/x")["headers"]
    equal(headers.get("host"), ["127.0.0.1:%d" % server.info["backend"]], "Host at the backend")


@behaviour("proxies", "proxy", "RFC 9110 §7.6.1")
def reverse_connection_options_removed(server):
    """Headers named in Connection are hop-by-hop; a proxy MUST NOT forward them."""
    headers = backend(server, "/proxy/x", headers=[("Connection", "close, X-Hop"),
                                                   ("X-Hop", "secret")])["headers"]
    check("x-hop" not in headers, "X-Hop reached the backend: %r" % headers.get("x-hop"))


@behaviour("proxies", "proxy", PROXY)
def reverse_status_relayed(server):
    """The backend's status and headers come back to the client: 404 and X-Backend."""
    response = server.get("/proxy/missing")
    equal(response.status, 404, "status")
    equal(response.header("x-backend"), "said 404", "X-Backend")
    equal(response.body, b"backend has no such page", "body")


@behaviour("proxies", "proxy", "RFC 9110 §15.6.3")
def reverse_backend_down_502(server):
    """A backend that refuses connections is answered 502 Bad Gateway."""
    equal(server.get("/down/").status, 502, "status")


@behaviour("proxies", "proxy", PROXY)
def reverse_keepalive_twice(server):
    """Two requests on one client connection both go through the reverse proxy."""
    with server.connect() as conn:
        conn.send(client.request("GET", "/proxy/one") + client.request("GET", "/proxy/two"))
        first, second = conn.readResponse(), conn.readResponse()
    equal((json.loads(first.body)["uri"], json.loads(second.body)["uri"]),
          ("/back/one", "/back/two"), "the two backend URIs")


@behaviour("proxies", "forwardproxy", PROXY)
def forward_proxy_fetches(server):
    """The guide's forward proxy fetches an absolute-form target from its server."""
    target = "http://127.0.0.1:%d/page?x=1" % server.info["backend"]
    response = server.get(target, host="127.0.0.1:%d" % server.info["backend"])
    equal(response.status, 200, "status")
    equal(response.body, ("backend saw GET /page?x=1 host=127.0.0.1:%d"
                          % server.info["backend"]).encode(), "body")


@behaviour("proxies", "forwardproxy", PROXY)
def forward_proxy_post(server):
    """A POST through the forward proxy reaches the server as a POST."""
    target = "http://127.0.0.1:%d/form" % server.info["backend"]
    response = server.request("POST", target, body=b"a=1", host="127.0.0.1:%d" % server.info["backend"])
    check(response.body.startswith(b"backend saw POST /form"), "body %r" % response.body[:60])
