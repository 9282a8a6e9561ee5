# Run it from docs/examples/ (it listens on 127.0.0.1, port $PORT or 8080):
#   python -m refweb -n web --resource-script render_methods.py --listen tcp:${PORT:-8080}:interface=127.0.0.1
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
