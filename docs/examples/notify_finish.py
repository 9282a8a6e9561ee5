# Run it from docs/examples/ (it listens on 127.0.0.1, port $PORT or 8080):
#   python -m refweb -n web --resource-script notify_finish.py --listen tcp:${PORT:-8080}:interface=127.0.0.1
"""Find out whether the client stayed until the end of the response."""
from refweb import server
from refweb.internet import reactor
from refweb.python.util import println
from refweb.resource import Resource

delay = 10  # seconds before the response is finished


class ExampleResource(Resource):
    isLeaf = True  # it answers every path, / included

    def render_GET(self, request):
        request.write("hello world")
        d = request.notifyFinish()
        d.addCallback(lambda _: println("finished normally"))
        d.addErrback(println, "error")
        reactor.callLater(delay, request.finish)
        return server.NOT_DONE_YET


resource = ExampleResource()
