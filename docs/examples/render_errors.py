# Run it from docs/examples/ (it listens on 127.0.0.1, port $PORT or 8080):
#   python -m refweb -n web --resource-script render_errors.py --listen tcp:${PORT:-8080}:interface=127.0.0.1
"""Errors as statuses: raise one, and refweb turns it into a page."""
from refweb import error
from refweb.resource import Resource


class Vault(Resource):
    isLeaf = True

    def render_GET(self, request):
        if request.postpath == ["secret"]:
            raise error.Forbidden(detail="Nobody reads the secret.")
        if request.postpath != [""]:
            raise error.NotFound(detail="Only / and /secret live here.")
        request.setHeader("content-type", "text/plain")
        return b"Ask for /secret if you dare.\n"  # bytes go out as they are


resource = Vault()
