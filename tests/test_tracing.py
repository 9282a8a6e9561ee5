"""Tests for refweb.tracing: the ``trace:`` lines of ``Site(root, trace=True)``.

The walk's lines through the Hello tree are checked in ``tests/test_learner.py``
and ``tests/test_server.py``; here, the render outcomes they do not show,
where a child comes from, which method renders, and that a Site without
trace never calls this module.
"""

import pytest

from refweb import error, resource, server, tracing
from refweb.internet import reactor
from refweb.python import log
from support import Hello, get, helloTree, served


def traced(root, path):
    """GET ``path`` from ``root`` served with trace on: its trace lines."""
    lines = []
    log.addObserver(lines.append)
    try:
        with served(root, trace=True) as port:
            get(port, path)
    finally:
        log.removeObserver(lines.append)
    return [line for line in lines if line.startswith("trace: ")]


class Broken(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        raise ValueError("a bug")


class Later(resource.Resource):
    """Finishes before returning NOT_DONE_YET (``now``), or a moment after."""

    isLeaf = True

    def __init__(self, now):
        super().__init__()
        self.now = now

    def render_GET(self, request):
        if self.now:
            request.write(b"done")
            request.finish()
        else:
            reactor.callLater(0.01, request.finish)
        return server.NOT_DONE_YET


class Own(resource.Resource):
    """Looks its children up itself (getChildWithDefault, not getChild)."""

    def getChildWithDefault(self, path, request):
        return Hello()


def test_trace_names_any_other_exception_as_500():
    """A render method raising something that is not an error.Error is traced as a 500."""
    root = resource.Resource()
    root.putChild("broken", Broken())
    assert traced(root, "/broken")[-1] == \
        "trace:   render Broken.render_GET raised ValueError -> 500"


def test_trace_says_not_done_yet_and_whether_it_finished():
    """NOT_DONE_YET is traced as such, with the status when render had already finished."""
    root = resource.Resource()
    root.putChild("now", Later(now=True))
    root.putChild("later", Later(now=False))
    assert traced(root, "/now")[-1] == \
        "trace:   render Later.render_GET -> NOT_DONE_YET (finished: 200)"
    assert traced(root, "/later")[-1] == "trace:   render Later.render_GET -> NOT_DONE_YET"


def test_trace_names_a_class_that_finds_its_own_children():
    """A child from an overridden getChildWithDefault is traced as coming from it."""
    root = resource.Resource()
    root.putChild("own", Own())
    assert traced(root, "/own/x")[2] == (
        "trace:   2. Own --'x'--> Hello (getChildWithDefault)  prepath=['own', 'x'] postpath=[]")


@pytest.mark.parametrize("origin, expected", [("putChild", "putChild"), ("getChild", "getChild")])
def test_childOrigin(origin, expected):
    """A putChild child is told from one getChild made on demand."""
    root = helloTree(isLeaf=False)
    segment = "fred" if origin == "putChild" else "nobody"
    child = root.getChildWithDefault(segment, None)
    assert tracing.childOrigin(root, segment, child) == expected


@pytest.mark.parametrize("method, expected", [("GET", "render_GET"), ("HEAD", "render_GET"),
                                              ("POST", "render")])
def test_rendererName(method, expected):
    """The method that renders: render_GET answers HEAD too; none at all is plain render."""
    assert tracing.rendererName(Hello(), method) == expected
    assert tracing.rendererName(resource.ErrorPage(404, "x", "y"), method) == "render"


def test_trace_off_calls_no_tracing(monkeypatch):
    """A Site without trace serves without calling refweb.tracing at all."""
    def refuse(*args):
        raise AssertionError("tracing called with trace off")
    for name in ("walkTracer", "renderRaised", "renderLater", "renderReturned"):
        monkeypatch.setattr(tracing, name, refuse)
    root = helloTree(isLeaf=False)
    root.putChild("forbidden", resource.ErrorPage(403, "Forbidden", "no"))
    with served(root) as port:
        assert get(port, "/fred/")[0] == 200
        assert get(port, "/forbidden")[0] == 403


def test_trace_names_an_error_by_its_status():
    """A render method raising an error.Error is traced with that error's status."""
    class Gone(resource.Resource):
        isLeaf = True

        def render_GET(self, request):
            raise error.NotFound("gone")

    root = resource.Resource()
    root.putChild("gone", Gone())
    assert traced(root, "/gone")[-1] == "trace:   render Gone.render_GET raised NotFound -> 404"
