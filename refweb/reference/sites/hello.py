"""The guide's Hello tree ("Resource Trees"): a root with /fred and /bob.

The guide prints ``Hello`` with ``isLeaf = True``; then the root renders
every URL and /fred never reaches the child.  Here ``isLeaf`` is False, so
that the walk really goes down the tree and ``prepath`` shows it.  Bodies
are ``bytes`` and names are decoded, so the file runs on refweb and Twisted
alike; a learner's server (the command adapter) answers the same paths.
"""

from refweb.resource import Resource


def text(value):
    """A URL segment as text: refweb gives str, Twisted gives bytes."""
    return value.decode("utf-8") if isinstance(value, bytes) else value


class Hello(Resource):
    isLeaf = False

    def getChild(self, name, request):
        if text(name) == "":
            return self
        return Resource.getChild(self, name, request)

    def render_GET(self, request):
        prepath = [text(segment) for segment in request.prepath]
        return ("Hello, world! I am located at %r." % (prepath,)).encode("utf-8")


def makeResource(root, info):
    top = Hello()
    top.putChild(b"fred", Hello())
    top.putChild(b"bob", Hello())
    return top
