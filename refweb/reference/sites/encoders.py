"""The guide's request-encoder example: Simple wrapped with GzipEncoderFactory ("Request encoders")."""

from refweb.resource import EncodingResourceWrapper, Resource
from refweb.server import GzipEncoderFactory

BODY = b"<html>Hello, world!</html>" + b" (and some more text to compress)" * 20


class Simple(Resource):
    isLeaf = True

    def render_GET(self, request):
        return BODY


def makeResource(root, info):
    return EncodingResourceWrapper(Simple(), [GzipEncoderFactory()])
