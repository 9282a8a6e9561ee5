"""/~foo/bar.html is served as /users/foo/bar.html."""
from refweb import rewrite, static

default = static.File("htdocs")
default.putChild("users", static.File("userpages"))  # /users/foo/ is userpages/foo/
root = rewrite.RewriterResource(default, rewrite.tildeToUsers)
