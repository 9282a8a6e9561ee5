# Run it from docs/examples/ (it listens on 127.0.0.1, port $PORT or 8080):
#   python proxy_forward.py
"""A forward proxy: point a browser's proxy setting at this port."""
import os

from refweb import http, proxy
from refweb.internet import reactor


class ProxyFactory(http.HTTPFactory):
    def buildProtocol(self, addr):
        return proxy.Proxy()  # an HTTPChannel whose requests are ProxyRequests


port = int(os.environ.get("PORT", "8080"))  # 8080 unless PORT says otherwise
reactor.listenTCP(port, ProxyFactory(), interface="127.0.0.1")  # this machine only
reactor.run()
