# Run it from docs/examples/ (it listens on 127.0.0.1, port $PORT or 8080):
#   python -m refweb -n web --resource-script render_later.py --listen tcp:${PORT:-8080}:interface=127.0.0.1
"""A resource that answers later: render returns NOT_DONE_YET."""
from refweb import server
from refweb.internet import reactor
from refweb.resource import Resource


class Slow(Resource):
    isLeaf = True

    def render_GET(self, request):
        request.setHeader("content-type", "text/plain; charset=utf-8")
        request.write("Wait for it...\n")
        reactor.callLater(0.5, self.finishLater, request)  # half a second from now
        return server.NOT_DONE_YET  # the response stays open

    def finishLater(self, request):
        request.write("...done.\n")
        request.finish()  # now the client sees the end of the body


resource = Slow()
