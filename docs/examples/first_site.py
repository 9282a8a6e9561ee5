# Run it from docs/examples/ (it listens on 127.0.0.1, port $PORT or 8080):
#   python first_site.py
"""The smallest refweb site: one resource, answering every URL."""
import os

from refweb import resource, server
from refweb.internet import reactor


class Simple(resource.Resource):
    isLeaf = True  # stop here: this resource answers for every path below it

    def render_GET(self, request):
        return "<html>Hello, world!</html>"


site = server.Site(Simple())
port = int(os.environ.get("PORT", "8080"))  # 8080 unless PORT says otherwise
reactor.listenTCP(port, site, interface="127.0.0.1")  # this machine only
reactor.run()
