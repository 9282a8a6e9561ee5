# refweb as the front server: example.com is fetched from an internal refweb.
# Run it from docs/examples/ (it listens on 127.0.0.1, port $PORT or 8080):
#   python -m refweb --pidfile front.pid -ny vhost_proxy.tac
import os

from refweb import proxy, server, vhost
from refweb.application import internet, service

internalPort = int(os.environ.get("INTERNAL_PORT", "8538"))
vhostName = 'example.com'
reverseProxy = proxy.ReverseProxyResource('127.0.0.1', internalPort,
                                          '/vhost.rpy/http/' + vhostName)
root = vhost.NameVirtualHost()
root.addHost(vhostName, reverseProxy)
site = server.Site(root)
application = service.Application('web-proxy')
sc = service.IServiceCollection(application)
i = internet.TCPServer(int(os.environ.get("PORT", "8080")), site,
                       interface="127.0.0.1")
i.setServiceParent(sc)
