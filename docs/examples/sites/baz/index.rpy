# baz's front page, a resource script (baz runs .rpy files).
from refweb.resource import Resource


class Front(Resource):
    def render_GET(self, request):
        return "<h1>baz</h1><p>Host: %s</p>" % request.getRequestHostname()


resource = Front()
