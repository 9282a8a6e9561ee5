# The simplest resource script: it must set `resource`.
from refweb import resource


class MyGreatResource(resource.Resource):
    def render_GET(self, request):
        return "<html>foo</html>"


resource = MyGreatResource()
