# -*- test-case-name: tests.test_rewrite -*-
"""Rewriting URLs before they are looked up, in the spirit of mod_rewrite.

Guide: "Rewriting URLs" -- ``RewriterResource(default, rewrite.tildeToUsers)``
serves ``/~foo/bar.html`` as ``/users/foo/bar.html``.

Journey: server.Request.process -> resource.getChildForRequest -> a
``RewriterResource`` (usually the Site's root).  When traversal asks it for
its first child, it lets each rule edit the request -- ``request.postpath``
(the segments still to look up), and to keep logs and redirects honest
``request.path`` and ``request.uri`` -- and then goes on exactly as if the
wrapped resource had been asked instead.

A rule is any callable ``rule(request)``; its return value is ignored.
Rules run at most once per request per RewriterResource (a later visit of
the same RewriterResource in the same traversal leaves the path alone), so a
rule need not be idempotent.  Start reading at ``RewriterResource.getChildWithDefault``.
"""

import urllib.parse

from refweb import resource

# Characters a path segment may show unescaped (RFC 3986 §3.3 pchar, minus "/").
_SEGMENT_SAFE = "!$&'()*+,;=:@-._~"


class RewriterResource(resource.Resource):
    """Wraps ``orig``; runs ``rewriteRules`` on each request, then lets
    ``orig`` carry on.  ``rewriteRules`` is a list and may be changed later."""

    def __init__(self, orig, *rewriteRules):
        super().__init__()
        self.resource = orig
        self.rewriteRules = list(rewriteRules)

    def _rewrite(self, request):
        """Run every rule once for this request."""
        done = request.__dict__.setdefault("_rewritesApplied", set())
        if id(self) in done:
            return
        done.add(id(self))
        for rule in self.rewriteRules:
            rule(request)

    def getChildWithDefault(self, path, request):
        # Traversal already moved ``path`` to prepath; put it back so the
        # rules see the whole rest of the URL, then take the (possibly new)
        # first segment and ask the wrapped resource for it.
        request.postpath.insert(0, request.prepath.pop())
        self._rewrite(request)
        if not request.postpath:  # a rule consumed everything: orig itself
            return self.resource
        path = request.postpath.pop(0)
        request.prepath.append(path)
        return self.resource.getChildWithDefault(path, request)

    def render(self, request):
        self._rewrite(request)
        return self.resource.render(request)

    def describeInner(self):
        return resource.describeWrapped(self.resource)


def tildeToUsers(request):
    """``/~foo/bar.html`` -> ``/users/foo/bar.html`` (the guide's one rule).

    Only the first segment still to look up is checked, so a RewriterResource
    at the root rewrites ``/~foo/...`` and nothing deeper.
    """
    if request.postpath and request.postpath[0].startswith("~"):
        user = request.postpath[0][1:]
        request.postpath[:1] = ["users", user]
        setPath(request, request.prepath + request.postpath)


def setPath(request, segments):
    """Make ``request.path`` and ``request.uri`` say ``segments`` (a list of
    decoded segments), keeping the query string; for rules that rewrite
    postpath and want logs and redirects to show the new path."""
    path = "/" + "/".join(urllib.parse.quote(s, safe=_SEGMENT_SAFE) for s in segments)
    query = request.uri.partition("?")[2]
    request.path = path
    request.uri = path + ("?" + query if query else "")
