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

from refweb import error
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
        return error.page(self.code, self.brief, self.detail).encode("utf-8")

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


def describe(root, write=None):
    """Print the static shape of a resource tree (the learner's map).

    One line per resource, with its URL path: putChild children, leaves,
    ``+getChild`` where a class makes children on demand, static.File
    folders with their processors and index names, and what wrappers,
    virtual hosts and rewriters lead to.  Returns the text as well.
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
    inner = []
    for attribute in ("original", "resource"):  # EncodingResourceWrapper, RewriterResource
        wrapped = resource.__dict__.get(attribute)
        if isinstance(wrapped, Resource):
            inner.append(("(wraps)", wrapped))
    hosts = resource.__dict__.get("hosts")
    if isinstance(hosts, dict):  # vhost.NameVirtualHost
        for host, site in sorted(hosts.items()):
            inner.append(("[host %s]" % host, site))
        default = getattr(resource, "default", None)
        if isinstance(default, Resource):
            inner.append(("[default]", default))
    return inner


def _label(resource):
    parts = [type(resource).__name__]
    if resource.isLeaf:
        parts.append("leaf")
    elif type(resource).getChild is not Resource.getChild:
        parts.append("+getChild")
    folder = getattr(resource, "path", None)
    if isinstance(folder, str) and hasattr(resource, "indexNames"):
        parts.append("folder=%s" % folder)
        processors = getattr(resource, "processors", {}) or {}
        if processors:
            parts.append("processors=%s" % ",".join(sorted(processors)))
        parts.append("indexNames=%s" % ",".join(resource.indexNames))
    return " ".join(parts)
