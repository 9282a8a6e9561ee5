"""The guide's reverse proxy, pointed at a backend served by the same process
("Proxies and reverse proxies").  The backend echoes what it received as JSON."""

import json

from refweb import proxy, server
from refweb.internet import reactor
from refweb.resource import Resource


def text(value):
    return value.decode("latin-1") if isinstance(value, bytes) else value


class Echo(Resource):
    isLeaf = True

    def render(self, request):
        if request.postpath and text(request.postpath[-1]) == "missing":
            request.setResponseCode(404)
            request.setHeader(b"x-backend", b"said 404")
            return b"backend has no such page"
        headers = {}
        for name, values in request.requestHeaders.getAllRawHeaders():
            headers[text(name).lower()] = [text(v) for v in values]
        fields = {"method": text(request.method), "uri": text(request.uri),
                  "headers": headers, "body": text(request.content.read())}
        request.setHeader(b"content-type", b"application/json")
        request.setHeader(b"x-backend", b"yes")
        return json.dumps(fields, sort_keys=True).encode("utf-8")


def closedPort():
    """A port nothing listens on (bound, then closed)."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def makeResource(root, info):
    backend = reactor.listenTCP(0, server.Site(Echo()), interface="127.0.0.1")
    info["backend"] = backend.getHost().port
    top = Resource()
    top.putChild(b"proxy", proxy.ReverseProxyResource("127.0.0.1", info["backend"], b"/back"))
    top.putChild(b"down", proxy.ReverseProxyResource("127.0.0.1", closedPort(), b"/"))
    return top
