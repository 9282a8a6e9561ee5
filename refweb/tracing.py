# -*- test-case-name: tests.test_tracing -*-
"""Watching the walk: ``Site(root, trace=True)``, or ``refweb web --trace``.

Guide: "Resource Trees" and "Resource rendering" -- not a section of its
own: this shows, as it happens, the walk from the root resource to the one
that renders and what its render method did.

One log line (``trace: ...``) per event: the request and its postpath, each
step of the walk (numbered, with where the child came from: ``putChild``,
``getChild`` or a class's own ``getChildWithDefault``), a leaf that stops
the walk with segments left, and the render's outcome (its status, an
error raised, or ``NOT_DONE_YET``).

Where it hooks in: ``server.Site.getResourceFor`` hands
``resource.getChildForRequest`` the step callback ``walkTracer`` returns,
and ``server.Request.render`` calls ``renderRaised``, ``renderLater`` or
``renderReturned`` after the render method; each only when the Site's
``trace`` is on.  Nothing here changes what is served.  Start reading at ``walkTracer``.
"""

from refweb import error, resource as resource_module
from refweb.python import log


def traceLine(text):
    """Log one trace line."""
    log.msg("trace: " + text)


def walkTracer(root, request):
    """Log the request about to be walked from ``root``; return the
    ``getChildForRequest`` onStep callback that logs each step."""
    traceLine("%s %s  prepath=%r postpath=%r" % (
        request.method, request.uri, request.prepath, request.postpath))
    _traceLeaf(root, request)
    steps = iter(range(1, 1 << 30))

    def step(parent, segment, child):
        origin = childOrigin(parent, segment, child)
        traceLine("  %d. %s --%r--> %s (%s)  prepath=%r postpath=%r" % (
            next(steps), type(parent).__name__, segment, type(child).__name__, origin,
            request.prepath, request.postpath))
        _traceLeaf(child, request)
    return step


def _traceLeaf(resource, request):
    if resource.isLeaf and request.postpath:
        traceLine("  %s is a leaf: the walk stops, postpath=%r"
                  % (type(resource).__name__, request.postpath))


def renderRaised(request, resource, exc):
    """The render method raised ``exc``: an ``error.Error`` gives its
    status, anything else a 500."""
    code = exc.code if isinstance(exc, error.Error) else 500
    _traceRender(request, resource, "raised %s -> %d" % (type(exc).__name__, code))


def renderLater(request, resource):
    """The render method returned NOT_DONE_YET (and may already have finished)."""
    done = " (finished: %d)" % request.code if request.finished else ""
    _traceRender(request, resource, "-> NOT_DONE_YET" + done)


def renderReturned(request, resource):
    """The render method returned a body, to be sent with ``request.code``."""
    _traceRender(request, resource, "-> %d" % request.code)


def _traceRender(request, resource, outcome):
    traceLine("  render %s.%s %s" % (
        type(resource).__name__, rendererName(resource, request.method), outcome))


def childOrigin(parent, segment, child):
    """Where a child came from: "putChild", or the method that made it on demand."""
    if parent.__dict__.get("children", {}).get(segment) is child:
        return "putChild"
    if type(parent).getChildWithDefault is not resource_module.Resource.getChildWithDefault:
        return "getChildWithDefault"  # a class that looks children up its own way
    return "getChild"


def rendererName(resource, method):
    """Which method renders: "render_GET", "render_GET" for a HEAD, or plain "render"."""
    if type(resource).render is not resource_module.Resource.render:
        return "render"  # the class renders every method itself (ErrorPage, CGIScript...)
    if resource_module.renderMethodFor(resource, method) is None:
        return "render"
    return "render_" + method if hasattr(resource, "render_" + method) else "render_GET"
