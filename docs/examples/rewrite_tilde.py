# Run it from docs/examples/ (it listens on 127.0.0.1, port $PORT or 8080):
#   python -m refweb -n web --resource-script rewrite_tilde.py --listen tcp:${PORT:-8080}:interface=127.0.0.1
"""/~foo/bar.html is served as /users/foo/bar.html."""
from refweb import rewrite, static

default = static.File("htdocs")
default.putChild("users", static.File("userpages"))  # /users/foo/ is userpages/foo/
root = rewrite.RewriterResource(default, rewrite.tildeToUsers)
resource = root  # the name --resource-script (and a .rpy) serves
