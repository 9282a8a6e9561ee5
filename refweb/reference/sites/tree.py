"""Resource trees beyond Hello: isLeaf, getChild made on the fly, args, Data ("Resource Trees")."""

import json

from refweb import static
from refweb.resource import Resource


def text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else value


def answer(request, **fields):
    request.setHeader(b"content-type", b"application/json")
    return json.dumps(fields, sort_keys=True).encode("utf-8")


class Leaf(Resource):
    """isLeaf: the walk stops here, and what is left stays in postpath."""
    isLeaf = True

    def render_GET(self, request):
        return answer(request, prepath=[text(s) for s in request.prepath],
                      postpath=[text(s) for s in request.postpath])


class Named(Resource):
    """A child made by getChild, which knows the segment it was made for."""
    isLeaf = True

    def __init__(self, name):
        Resource.__init__(self)
        self.name = text(name)

    def render_GET(self, request):
        return answer(request, name=self.name, prepath=[text(s) for s in request.prepath])


class Dynamic(Resource):
    def getChild(self, name, request):
        return Named(name)


class Args(Resource):
    isLeaf = True

    def render_GET(self, request):
        args = {text(k): [text(v) for v in vs] for k, vs in request.args.items()}
        return answer(request, args=args)


class Where(Resource):
    isLeaf = True

    def render_GET(self, request):
        return answer(request, uri=text(request.uri), path=text(request.path),
                      method=text(request.method))


class Root(Resource):
    def render_GET(self, request):
        return b"root"


class Explicit(Resource):
    """getChild would answer anything, but a putChild child comes first."""
    def getChild(self, name, request):
        return Named("from getChild")


def makeResource(root, info):
    top = Root()
    top.putChild(b"leaf", Leaf())
    top.putChild(b"dyn", Dynamic())
    top.putChild(b"args", Args())
    top.putChild(b"where", Where())
    top.putChild(b"data", static.Data(b"just data", "text/plain"))
    explicit = Explicit()
    explicit.putChild(b"known", Named("from putChild"))
    top.putChild(b"explicit", explicit)
    inner = Resource()
    inner.putChild(b"leaf", Leaf())
    top.putChild(b"inner", inner)
    return top
