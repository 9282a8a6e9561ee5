"""Resources that show what the server's HTTP/1.1 layer did with a request (framing)."""

import json

from refweb import server
from refweb.internet import reactor
from refweb.resource import Resource


def text(value):
    return value.decode("latin-1") if isinstance(value, bytes) else value


class Body(Resource):
    isLeaf = True

    def render_POST(self, request):
        body = request.content.read()
        return ("%d bytes: " % len(body)).encode() + body[:200]

    render_PUT = render_POST


class Header(Resource):
    """Echoes request header X-Probe, as the resource saw it."""
    isLeaf = True

    def render_GET(self, request):
        value = request.getHeader("x-probe")
        return json.dumps({"x-probe": text(value)}).encode()


class Slow(Resource):
    isLeaf = True

    def render_GET(self, request):
        def finish():
            request.write(b"slow")
            request.finish()
        reactor.callLater(0.3, finish)
        return server.NOT_DONE_YET


class Text(Resource):
    isLeaf = True

    def __init__(self, body):
        Resource.__init__(self)
        self.body = body

    def render_GET(self, request):
        request.setHeader(b"content-type", b"text/plain")
        return self.body


class Ignore(Resource):
    """Answers without reading the request body."""
    isLeaf = True

    def render_POST(self, request):
        return b"ignored"


def makeResource(root, info):
    top = Resource()
    top.putChild(b"body", Body())
    top.putChild(b"header", Header())
    top.putChild(b"slow", Slow())
    top.putChild(b"fast", Text(b"fast"))
    top.putChild(b"big", Text(b"x" * 200000))
    top.putChild(b"ignore", Ignore())
    return top
