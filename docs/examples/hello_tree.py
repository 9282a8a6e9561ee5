# Run it from docs/examples/ (it listens on 127.0.0.1, port $PORT or 8080):
#   python -m refweb -n web --resource-script hello_tree.py --listen tcp:${PORT:-8080}:interface=127.0.0.1
"""The guide's Hello resource, arranged in a tree with putChild.

isLeaf is False here, so traversal goes on below each Hello and
getChild is really asked for the next segment.
"""
from refweb.resource import Resource


class Hello(Resource):
    isLeaf = False

    def getChild(self, name, request):
        if name == '':
            return self  # "/fred/" ends in an empty segment: answer it myself
        return Resource.getChild(self, name, request)  # anything else: 404

    def render_GET(self, request):
        return "Hello, world! I am located at %r." % (request.prepath,)


root = Hello()
root.putChild('fred', Hello())
root.putChild('bob', Hello())
resource = root  # the name --resource-script (and a .rpy) serves
