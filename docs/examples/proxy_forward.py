"""A forward proxy: point a browser's proxy setting at this port."""
import os

from refweb import http, proxy
from refweb.internet import reactor


class ProxyFactory(http.HTTPFactory):
    def buildProtocol(self, addr):
        return proxy.Proxy()  # an HTTPChannel whose requests are ProxyRequests


reactor.listenTCP(int(os.environ.get("PORT", "8080")), ProxyFactory())
reactor.run()
