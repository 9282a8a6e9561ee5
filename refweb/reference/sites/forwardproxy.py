"""The guide's forward proxy: an HTTPFactory whose protocol is proxy.Proxy ("Proxies"),
with a backend in the same process that echoes the request line it got."""

from refweb import http, proxy, server
from refweb.internet import reactor
from refweb.resource import Resource


def text(value):
    return value.decode("latin-1") if isinstance(value, bytes) else value


class Echo(Resource):
    isLeaf = True

    def render(self, request):
        return ("backend saw %s %s host=%s" % (text(request.method), text(request.uri),
                                               text(request.getHeader("host")))).encode()


class ProxyFactory(http.HTTPFactory):
    def buildProtocol(self, addr):
        return proxy.Proxy()


def makeFactory(root, info):
    backend = reactor.listenTCP(0, server.Site(Echo()), interface="127.0.0.1")
    info["backend"] = backend.getHost().port
    return ProxyFactory()
