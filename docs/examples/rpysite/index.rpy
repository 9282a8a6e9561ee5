# The index page of rpysite/, run afresh on every request.
from refweb.resource import Resource


class Index(Resource):
    def render_GET(self, request):
        return "<h1>rpysite</h1><p>See also <a href='clock.rpy'>the clock</a>.</p>"


resource = Index()
