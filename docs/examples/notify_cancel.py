# Run it from docs/examples/ (it listens on 127.0.0.1, port $PORT or 8080):
#   python -m refweb -n web --resource-script notify_cancel.py --listen tcp:${PORT:-8080}:interface=127.0.0.1
"""The same page, tidied up: when the client leaves, cancel the finish."""
from refweb import server
from refweb.internet import reactor
from refweb.python.util import println
from refweb.resource import Resource

delay = 10  # seconds before the response is finished


class PoliteResource(Resource):
    isLeaf = True  # it answers every path, / included

    def render_GET(self, request):
        request.write("hello world")
        call = reactor.callLater(delay, request.finish)
        d = request.notifyFinish()
        d.addCallback(lambda _: println("finished normally"))
        d.addErrback(self.clientLeft, call)
        return server.NOT_DONE_YET

    def clientLeft(self, failure, call):
        call.cancel()  # finish() on a closed connection would raise
        println("client left:", failure.getErrorMessage())


resource = PoliteResource()
