"""The guide's rewriting example: RewriterResource with tildeToUsers, over a tree with
/users ("Rewriting URLs"); and a rule of our own that lower-cases the first segment."""

import os

from refweb import rewrite, static
from refweb.resource import Resource


def lowerFirst(request):
    """A rewrite rule: /SHOUT/... is served as /shout/..."""
    if request.postpath:
        request.postpath[0] = request.postpath[0].lower()


def makeResource(root, info):
    default = Resource()
    default.putChild(b"users", static.File(os.path.join(root, "users")))
    default.putChild(b"shout", static.Data(b"quiet now", "text/plain"))
    return rewrite.RewriterResource(default, rewrite.tildeToUsers, lowerFirst)
