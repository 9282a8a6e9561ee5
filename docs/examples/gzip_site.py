# Run it from docs/examples/ (it listens on 127.0.0.1, port $PORT or 8080):
#   python gzip_site.py
"""The guide's Simple resource, gzipped for clients that accept gzip."""
import os

from refweb.internet import reactor
from refweb.resource import EncodingResourceWrapper, Resource
from refweb.server import GzipEncoderFactory, Site


class Simple(Resource):
    isLeaf = True

    def render_GET(self, request):
        return "<html>Hello, world!</html>"


resource = Simple()
wrapped = EncodingResourceWrapper(resource, [GzipEncoderFactory()])
site = Site(wrapped)
port = int(os.environ.get("PORT", "8080"))  # 8080 unless PORT says otherwise
reactor.listenTCP(port, site, interface="127.0.0.1")  # this machine only
reactor.run()
