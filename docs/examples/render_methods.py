"""One resource, several methods: GET and POST share a renderer."""
import html

from refweb.resource import Resource


class Greeter(Resource):
    isLeaf = True

    def render_GET(self, request):
        names = request.args.get("name", ["stranger"])
        return "<p>Hello, %s (by %s)</p>" % (html.escape(names[0]), request.method)

    render_POST = render_GET  # a form posted here is answered the same way


resource = Greeter()
