"""WSGI applications as resources: WSGIResource(reactor, threadpool, app) ("Serving WSGI
Applications"), at the root and mounted at /app."""

import json

from refweb.internet import reactor
from refweb.resource import Resource
from refweb.wsgi import WSGIResource

KEYS = ["REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE",
        "CONTENT_LENGTH", "SERVER_PROTOCOL", "SERVER_NAME", "SERVER_PORT", "HTTP_HOST",
        "HTTP_X_PROBE", "wsgi.url_scheme", "wsgi.multithread", "wsgi.run_once"]


def hello(environ, start_response):
    """The guide's application, with a bytes body (PEP 3333)."""
    start_response("200 OK", [("Content-type", "text/plain")])
    return [b"Hello World!"]


def environment(environ, start_response):
    fields = {key: environ.get(key) for key in KEYS}
    fields["wsgi.version"] = list(environ["wsgi.version"])
    fields["body"] = environ["wsgi.input"].read().decode("latin-1")
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(fields, sort_keys=True).encode("utf-8")]


class Closing:
    """An iterable whose close() the server must call (PEP 3333)."""
    closed = []

    def __init__(self):
        self.items = [b"part one, ", b"part two"]

    def __iter__(self):
        return iter(self.items)

    def close(self):
        Closing.closed.append(True)


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/env" or path.startswith("/env/"):
        return environment(environ, start_response)
    if path == "/status":
        start_response("404 Not Here", [("Content-Type", "text/plain"), ("X-App", "yes")])
        return [b"not here"]
    if path == "/write":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written, ")
        return [b"then returned"]
    if path == "/generator":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return (piece for piece in [b"a", b"b", b"c"])
    if path == "/length":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
        return [b"12345"]
    if path == "/closing":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Closing()
    if path == "/closed":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [("closed %d times" % len(Closing.closed)).encode()]
    if path == "/raise":
        raise RuntimeError("application failed before start_response")
    if path == "/excinfo":
        try:
            raise ValueError("caught")
        except ValueError:
            import sys
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")],
                           sys.exc_info())
        return [b"error page from the app"]
    if path == "/headers":
        start_response("200 OK", [("Content-Type", "text/plain"), ("X-One", "1"),
                                  ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
        return [b"headers"]
    return hello(environ, start_response)


def makeResource(root, info):
    resource = WSGIResource(reactor, reactor.getThreadPool(), application)
    top = Resource()
    top.putChild(b"app", resource)
    return top
