# Run it from docs/examples/ (it listens on 127.0.0.1, port $PORT or 8080):
#   python proxy_reverse.py
"""A reverse proxy: everything asked here is fetched from ORIGIN."""
import os

from refweb import proxy, server
from refweb.internet import reactor

origin_host = os.environ.get("ORIGIN_HOST", "127.0.0.1")
origin_port = int(os.environ.get("ORIGIN_PORT", "8000"))

site = server.Site(proxy.ReverseProxyResource(origin_host, origin_port, ''))
port = int(os.environ.get("PORT", "8080"))  # 8080 unless PORT says otherwise
reactor.listenTCP(port, site, interface="127.0.0.1")  # this machine only
reactor.run()
