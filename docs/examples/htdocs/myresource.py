"""A Resource kept in a module, so that it can be imported and tested."""
from refweb.resource import Resource


class MyResource(Resource):
    def render_GET(self, request):
        return "<html>Hello, world!</html>"
