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
reactor.listenTCP(int(os.environ.get("PORT", "8080")), site)
reactor.run()
