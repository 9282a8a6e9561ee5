# -*- test-case-name: tests.test_resource -*-
"""Resources: the nodes of a site's URL tree.

Guide: "Resource objects", "Resource Trees", "Resource rendering",
"Request encoders".

Journey: server.Request.process -> getChildForRequest (here) ->
Resource.render (here) -> renderMethodFor -> render_GET / render_POST / ...
-> server.Request.render sends what it returns (http_request's pipeline).

Start reading at ``getChildForRequest``: it is the whole traversal algorithm.  Each
URL segment is moved from ``request.postpath`` to ``request.prepath`` and
handed to ``getChildWithDefault``; the walk stops when no segment is left or
a resource says ``isLeaf = True``.  The resource where it stops renders.
"""

from refweb import error, pages
from refweb.python import log


def getChildForRequest(resource, request, onStep=None):
    """Walk from ``resource`` down the tree along ``request.postpath``.

    ``onStep(parent, segment, child)``, if given, is told of every step
    (``Site(trace=True)`` uses it to show the traversal to a learner).
    """
    while request.postpath and not resource.isLeaf:
        segment = request.postpath.pop(0)
        request.prepath.append(segment)
        child = resource.getChildWithDefault(segment, request)
        if onStep is not None:
            onStep(resource, segment, child)
        resource = child
    return resource


def _segment(name):
    return name.decode("utf-8") if isinstance(name, bytes) else name


class Resource:
    """A node of the URL tree.  Subclass it and define render_GET (etc.).

    Hooks a subclass may override:

    * ``isLeaf``: True stops traversal here; the rest stays in postpath.
    * ``getChild(name, request)``: a child made on demand (404 by default).
    * ``render_METHOD(request)``: return str, bytes or server.NOT_DONE_YET.
    * ``describeLabel()`` and ``describeInner()``: what ``describe`` shows
      for this resource -- the words on its line, and the resources reached
      *through* it rather than below it (what a wrapper wraps, a virtual
      host's sites), as ``[(label, resource)]``.  ``describe`` knows no
      class by name: each one says what it is.
    """

    isLeaf = False
    allowedMethods = None  # None: work them out from the render_* methods

    def __init__(self):
        self.children = {}

    def getChildWithDefault(self, path, request):
        """Children put with putChild win; otherwise ask getChild."""
        children = self.__dict__.get("children")
        if children and path in children:
            return children[path]
        return self.getChild(path, request)

    def getChild(self, path, request):
        return NoResource("No such child resource.")

    def putChild(self, path, child):
        """Make ``child`` answer for the segment ``path`` below this resource."""
        path = _segment(path)
        if "/" in path:
            raise ValueError("a child's name is one URL segment, without '/': %r" % (path,))
        self.__dict__.setdefault("children", {})[path] = child

    def listStaticNames(self):
        return list(self.__dict__.get("children", {}))

    def listStaticEntities(self):
        return list(self.__dict__.get("children", {}).items())

    def render(self, request):
        """Call render_<METHOD> (see ``renderMethodFor``); none: 405 with Allow."""
        renderer = renderMethodFor(self, request.method)
        if renderer is None:
            raise error.UnsupportedMethod(self.allowedMethods or allowedMethodsOf(self))
        return renderer(request)

    def describeLabel(self):
        """The words after this resource's URL path in ``describe``: its class
        name, then "leaf", or "+getChild" when the class makes children on
        demand.  A subclass may add its settings (``static.File`` does)."""
        parts = [type(self).__name__]
        if self.isLeaf:
            parts.append("leaf")
        elif type(self).getChild is not Resource.getChild:
            parts.append("+getChild")
        return " ".join(parts)

    def describeInner(self):
        """Resources reached through this one rather than below it, for
        ``describe``: ``[(label, resource)]``, shown indented.  None here."""
        return []


def renderMethodFor(resource, method):
    """The method of ``resource`` that renders ``method`` requests, or None.

    The guide's rule: a GET is rendered by ``render_GET``, a POST by
    ``render_POST`` -- the method's name after ``render_``; a HEAD with no
    ``render_HEAD`` is rendered by ``render_GET`` (the body is then left
    out).  Only upper-case names count, since methods are (RFC 9110 §9.1).
    """
    if not method.isupper():
        return None
    renderer = getattr(resource, "render_" + method, None)
    if renderer is None and method == "HEAD":
        renderer = getattr(resource, "render_GET", None)
    return renderer


def allowedMethodsOf(resource):
    """The methods a resource answers: its render_* names, plus HEAD with GET."""
    methods = sorted(name[len("render_"):] for name in dir(resource)
                     if name.startswith("render_") and name[len("render_"):].isupper())
    if "GET" in methods and "HEAD" not in methods:
        methods.append("HEAD")
    return methods


class ErrorPage(Resource):
    """A page for an error status, whatever the method and path below it."""

    isLeaf = True

    def __init__(self, status, brief, detail):
        Resource.__init__(self)
        self.code = status
        self.brief = brief
        self.detail = detail

    def render(self, request):
        request.setResponseCode(self.code)
        request.setHeader("content-type", "text/html; charset=utf-8")
        return pages.page(self.code, self.brief, self.detail).encode("utf-8")

    def getChild(self, path, request):
        return self


class NoResource(ErrorPage):
    """404: nothing lives at this URL."""

    def __init__(self, message="Sorry. No luck finding that resource."):
        ErrorPage.__init__(self, 404, "No Such Resource", message)


class ForbiddenResource(ErrorPage):
    """403: something lives here, but it is not for you."""

    def __init__(self, message="Sorry, resource is forbidden."):
        ErrorPage.__init__(self, 403, "Forbidden Resource", message)


class EncodingResourceWrapper(Resource):
    """Wrap a resource so its responses may be encoded (e.g. gzipped).

    Guide: "Request encoders".  For each request the encoder factories are
    asked in order; the first that returns an encoder wins, and the
    response body goes through it.  Children found below the wrapped
    resource are wrapped too, so a whole subtree is encoded.
    """

    def __init__(self, original, encoders):
        Resource.__init__(self)
        self.original = original
        self.encoders = list(encoders)

    @property
    def isLeaf(self):
        return self.original.isLeaf

    def getChildWithDefault(self, path, request):
        child = self.original.getChildWithDefault(path, request)
        return EncodingResourceWrapper(child, self.encoders)

    def render(self, request):
        for factory in self.encoders:
            encoder = factory.encoderForRequest(request)
            if encoder is not None:
                request.useEncoder(encoder)
                break
        return self.original.render(request)

    def describeInner(self):
        return describeWrapped(self.original)


def describeWrapped(inner):
    """``describeInner`` for a wrapper: ``[("(wraps)", inner)]``, or nothing
    when ``inner`` is not a Resource."""
    return [("(wraps)", inner)] if isinstance(inner, Resource) else []


def describe(root, write=None):
    """Print the static shape of a resource tree (the learner's map).

    One line per resource, with its URL path: putChild children, leaves,
    ``+getChild`` where a class makes children on demand, static.File
    folders with their processors and index names, and what wrappers,
    virtual hosts and rewriters lead to.  Each resource's line and what it
    leads to come from its ``describeLabel`` and ``describeInner``.  Returns
    the text as well.
    """
    lines = []
    _describe(root, "/", "/", "", lines, set())
    text = "\n".join(lines)
    if write is None:
        log.msg(text) if log.isObserved() else print(text)
    else:
        write(text + "\n")
    return text


def _describe(resource, label, urlPath, indent, lines, seen):
    """One line for ``resource`` shown as ``label``; then what lies below and inside it."""
    line = "%s%-*s  %s" % (indent, max(1, 24 - len(indent)), label, _label(resource))
    if id(resource) in seen:
        lines.append(line + "  (shown above)")
        return
    seen.add(id(resource))
    lines.append(line)
    base = urlPath.rstrip("/")
    for name, child in sorted(resource.__dict__.get("children", {}).items()):
        _describe(child, base + "/" + name, base + "/" + name, indent, lines, seen)
    for innerLabel, inner in _innerResources(resource):
        _describe(inner, innerLabel, urlPath, indent + "  ", lines, seen)


def _innerResources(resource):
    """Resources reached through a resource rather than below it: [(label, resource)]."""
    describeInner = getattr(resource, "describeInner", None)
    return describeInner() if describeInner is not None else []


def _label(resource):
    describeLabel = getattr(resource, "describeLabel", None)
    if describeLabel is None:  # not a Resource, but put in the tree all the same
        return Resource.describeLabel(resource)
    return describeLabel()
