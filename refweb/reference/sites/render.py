"""Resource rendering: render_METHOD, HEAD, 405 with Allow, NOT_DONE_YET ("Resource rendering")."""

import json

from refweb import server
from refweb.internet import reactor
from refweb.resource import Resource


def text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else value


class Methods(Resource):
    isLeaf = True

    def render_GET(self, request):
        request.setHeader(b"content-type", b"text/plain")
        return b"got GET"

    def render_POST(self, request):
        request.setHeader(b"content-type", b"text/plain")
        return b"got POST: " + request.content.read()


class Later(Resource):
    """Answers from a timed call, after render returned NOT_DONE_YET."""
    isLeaf = True

    def render_GET(self, request):
        def finish():
            request.write(b"later ")
            request.write(b"and done")
            request.finish()
        reactor.callLater(0.05, finish)
        return server.NOT_DONE_YET


class Stream(Resource):
    """Writes three pieces with no length known in advance."""
    isLeaf = True

    def render_GET(self, request):
        request.setHeader(b"content-type", b"text/plain")
        for piece in (b"one ", b"two ", b"three"):
            request.write(piece)
        reactor.callLater(0.02, request.finish)
        return server.NOT_DONE_YET


class Created(Resource):
    isLeaf = True

    def render_GET(self, request):
        request.setResponseCode(201)
        request.setHeader(b"x-reference", b"yes")
        request.setHeader(b"content-type", b"text/plain")
        return b"made"


class Redirect(Resource):
    isLeaf = True

    def render_GET(self, request):
        request.redirect(b"http://example.com/elsewhere")
        return b""


class Form(Resource):
    isLeaf = True

    def render_POST(self, request):
        args = {text(k): [text(v) for v in vs] for k, vs in request.args.items()}
        return json.dumps(args, sort_keys=True).encode("utf-8")


class Header(Resource):
    isLeaf = True

    def render_GET(self, request):
        return (request.getHeader("x-probe") or "(none)").encode("utf-8")


class Broken(Resource):
    isLeaf = True

    def render_GET(self, request):
        raise RuntimeError("this resource is broken on purpose")


class GuideSimple(Resource):
    """The guide's Simple exactly as printed: render_GET returns a str."""
    isLeaf = True

    def render_GET(self, request):
        return "<html>Hello, world!</html>"


class Empty(Resource):
    """No render_ methods at all."""
    isLeaf = True


def makeResource(root, info):
    top = Resource()
    for name, child in [(b"methods", Methods()), (b"later", Later()), (b"stream", Stream()),
                        (b"created", Created()), (b"redirect", Redirect()), (b"form", Form()),
                        (b"header", Header()), (b"broken", Broken()),
                        (b"simple", GuideSimple()), (b"empty", Empty())]:
        top.putChild(name, child)
    return top
