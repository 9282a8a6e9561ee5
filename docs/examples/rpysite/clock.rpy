# A resource script that says what time the server thinks it is.
import time

from refweb.resource import Resource


class Clock(Resource):
    isLeaf = True

    def render_GET(self, request):
        request.setHeader("content-type", "text/plain; charset=utf-8")
        return "The server's clock says %s.\n" % time.strftime("%H:%M:%S")


resource = Clock()
