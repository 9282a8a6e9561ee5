"""Tests for refweb.resource: traversal, putChild, render dispatch, error pages, describe.

Traversal is checked step by step on a stand-in request (only prepath and
postpath matter to getChildForRequest), then end to end through one Site
served for the whole module, with exact statuses, headers and bodies.
"""

import io

import pytest

from refweb import pages, resource, static
from refweb.python import log
from refweb.resource import (EncodingResourceWrapper, ErrorPage, ForbiddenResource,
                             NoResource, Resource, describe, getChildForRequest)
from support import Hello, helloTree, parseResponse, rawHTTP, served

WAIT = 5.0


class Walk:
    """Just enough of a request for getChildForRequest."""

    def __init__(self, *segments):
        self.prepath = []
        self.postpath = list(segments)


class Recorder(Resource):
    """Records prepath/postpath as getChild sees them, and goes one level deeper."""

    def __init__(self, steps, leafAt=None):
        Resource.__init__(self)
        self.steps = steps
        self.leafAt = leafAt

    def getChild(self, name, request):
        self.steps.append((name, list(request.prepath), list(request.postpath)))
        child = Recorder(self.steps, self.leafAt)
        if name == self.leafAt:
            child.isLeaf = True
        return child


# -- getChildForRequest --------------------------------------------------------

def test_getChildForRequest_movesOneSegmentPerStep():
    """Each step moves one segment from postpath to prepath before getChild sees it."""
    steps = []
    request = Walk("a", "b", "c")
    found = getChildForRequest(Recorder(steps), request)
    assert steps == [("a", ["a"], ["b", "c"]),
                     ("b", ["a", "b"], ["c"]),
                     ("c", ["a", "b", "c"], [])]
    assert (request.prepath, request.postpath) == (["a", "b", "c"], [])
    assert isinstance(found, Recorder)


def test_getChildForRequest_trailingSlashIsAnEmptySegment():
    """A trailing '' segment is looked up like any other (the guide's final slash)."""
    steps = []
    request = Walk("foo", "")
    getChildForRequest(Recorder(steps), request)
    assert steps == [("foo", ["foo"], [""]), ("", ["foo", ""], [])]


def test_getChildForRequest_isLeafStopsTheWalk():
    """A resource with isLeaf true ends traversal; the rest stays in postpath."""
    steps = []
    request = Walk("a", "b", "c")
    found = getChildForRequest(Recorder(steps, leafAt="a"), request)
    assert steps == [("a", ["a"], ["b", "c"])]
    assert found.isLeaf is True
    assert (request.prepath, request.postpath) == (["a"], ["b", "c"])


def test_getChildForRequest_leafRootIsNeverAsked():
    """A root with isLeaf true renders itself without any getChild call."""
    steps = []
    root = Recorder(steps)
    root.isLeaf = True
    request = Walk("x")
    assert getChildForRequest(root, request) is root
    assert steps == [] and request.postpath == ["x"]


def test_getChildForRequest_reportsEachStep():
    """onStep is told (parent, segment, child) for every step taken."""
    root = Resource()
    child = Resource()
    grandchild = ErrorPage(410, "Gone", "")
    root.putChild("c", child)
    child.putChild("g", grandchild)
    seen = []
    found = getChildForRequest(root, Walk("c", "g", "deeper"),
                               lambda *step: seen.append(step))
    assert found is grandchild
    assert seen == [(root, "c", child), (child, "g", grandchild)]


# -- putChild and getChild -----------------------------------------------------

def test_putChild_bytesNameIsTheSameAsStr():
    """putChild(b"fred", r) makes r the child for the segment "fred"."""
    root, fred = Resource(), Resource()
    root.putChild(b"fred", fred)
    assert root.getChildWithDefault("fred", None) is fred
    assert root.listStaticNames() == ["fred"]
    assert root.listStaticEntities() == [("fred", fred)]


@pytest.mark.parametrize("name", ["a/b", "/", b"x/"])
def test_putChild_slashInNameRaises(name):
    """A child's name is one segment: a name with '/' raises ValueError."""
    with pytest.raises(ValueError):
        Resource().putChild(name, Resource())


def test_putChild_winsOverGetChild():
    """A child put with putChild answers before getChild is asked."""
    class Dynamic(Resource):
        def getChild(self, name, request):
            return "dynamic " + name

    root, put = Dynamic(), Resource()
    root.putChild("x", put)
    assert root.getChildWithDefault("x", None) is put
    assert root.getChildWithDefault("y", None) == "dynamic y"


def test_getChild_defaultIsNoResource():
    """Without putChild or a getChild override, a child is a 404 NoResource."""
    child = Resource().getChildWithDefault("nothing", None)
    assert isinstance(child, NoResource)
    assert (child.code, child.brief, child.detail) == (404, "No Such Resource",
                                                      "No such child resource.")


def test_putChild_worksWithoutResourceInit():
    """A subclass that forgot Resource.__init__ can still putChild and traverse."""
    class NoInit(Resource):
        def __init__(self):
            pass

    root, child = NoInit(), Resource()
    assert root.listStaticNames() == []
    assert isinstance(root.getChildWithDefault("c", None), NoResource)
    root.putChild("c", child)
    assert root.getChildWithDefault("c", None) is child


def test_allowedMethodsOf_listsRenderMethodsPlusHead():
    """The allowed methods are the upper-case render_* names, plus HEAD when GET exists."""
    class M(Resource):
        def render_POST(self, request):
            pass

        def render_GET(self, request):
            pass

        def render_helper(self, request):  # not a method name: lower case
            pass

    class H(Resource):
        def render_GET(self, request):
            pass

        def render_HEAD(self, request):
            pass

    assert resource.allowedMethodsOf(M()) == ["GET", "POST", "HEAD"]
    assert resource.allowedMethodsOf(H()) == ["GET", "HEAD"]
    assert resource.allowedMethodsOf(Resource()) == []


# -- through a real Site -------------------------------------------------------

class Where(Resource):
    """Not a leaf; '' is itself (the guide's Hello.getChild); says where it was found."""

    def getChild(self, name, request):
        if name == "":
            return self
        return Resource.getChild(self, name, request)

    def render_GET(self, request):
        return "prepath=%r postpath=%r" % (request.prepath, request.postpath)


class LeafWhere(Where):
    isLeaf = True


class Methods(Resource):
    isLeaf = True

    def render_GET(self, request):
        request.setHeader("x-rendered-by", "GET")
        return b"the GET body"

    def render_POST(self, request):
        return b"posted"


class OwnHead(Resource):
    isLeaf = True

    def render_GET(self, request):
        return b"get body"

    def render_HEAD(self, request):
        request.setHeader("x-rendered-by", "HEAD")
        return b"head body, never sent"


class Declared(Methods):
    allowedMethods = ("GET", "PATCH")


@pytest.fixture(scope="module")
def port():
    root = Resource()
    root.putChild(b"where", Where())
    root.putChild("leaf", LeafWhere())
    root.putChild("a b", Where())
    root.putChild("methods", Methods())
    root.putChild("ownhead", OwnHead())
    root.putChild("declared", Declared())
    root.putChild("err", ErrorPage(418, "<Teapot>", "a & b <i>"))
    root.putChild("nores", NoResource("<gone> & 'away'"))
    root.putChild("nores-default", NoResource())
    root.putChild("forbidden", ForbiddenResource())
    with served(root) as number:
        yield number


def ask(port, path, method="GET", body=b""):
    """(status line, {lower name: value}, body) of an HTTP/1.0 request sent raw."""
    head = "%s %s HTTP/1.0\r\n" % (method, path)
    if body:
        head += "Content-Length: %d\r\n" % len(body)
    data = rawHTTP(port, head.encode() + b"\r\n" + body, timeout=WAIT)
    _, headers, payload = parseResponse(data)
    statusLine = data.partition(b"\r\n")[0].decode("latin-1")
    return statusLine, {name: values[-1] for name, values in headers.items()}, payload


@pytest.mark.parametrize("path, body", [
    ("/where", "prepath=['where'] postpath=[]"),
    ("/where/", "prepath=['where', ''] postpath=[]"),
    ("/where/?q=1", "prepath=['where', ''] postpath=[]"),
    ("/where//", "prepath=['where', '', ''] postpath=[]"),
    ("/leaf/x/y/", "prepath=['leaf'] postpath=['x', 'y', '']"),
    ("/a%20b/", "prepath=['a b', ''] postpath=[]"),
])
def test_site_prepathAndPostpathAsRendered(port, path, body):
    """The rendered resource sees the segments walked in prepath and the rest in postpath."""
    status, _, payload = ask(port, path)
    assert status == "HTTP/1.0 200 OK"
    assert payload.decode() == body


def test_site_guideHelloTreeRootIsALeaf(hello):
    """The guide's Hello tree: the root is a leaf, so /fred renders the root, prepath []."""
    assert ask(hello, "/fred")[2] == b"Hello, world! I am located at []."
    assert ask(hello, "/")[2] == b"Hello, world! I am located at []."


def test_site_missingChildIs404Page(port):
    """A segment with no child gets the NoResource 404 page."""
    status, headers, body = ask(port, "/where/nothing")
    assert status == "HTTP/1.0 404 Not Found"
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert body == pages.page(404, "No Such Resource", "No such child resource.").encode()


def test_site_unsupportedMethodIs405WithAllow(port):
    """A method with no render_* gets 405 and an Allow header listing render_* names plus HEAD."""
    status, headers, body = ask(port, "/methods", method="PUT", body=b"x")
    assert status == "HTTP/1.0 405 Method Not Allowed"
    assert headers["allow"] == "GET, POST, HEAD"
    assert headers["content-length"] == str(len(body))
    assert body == pages.page(405, "Method Not Allowed", "allowed: GET, POST, HEAD").encode()


def test_site_declaredAllowedMethodsAreUsed(port):
    """A resource's own allowedMethods attribute is what the Allow header says."""
    status, headers, _ = ask(port, "/declared", method="DELETE")
    assert status == "HTTP/1.0 405 Method Not Allowed"
    assert headers["allow"] == "GET, PATCH"


def test_site_postReachesRenderPost(port):
    """POST is dispatched to render_POST."""
    status, _, body = ask(port, "/methods", method="POST", body=b"a=1")
    assert (status, body) == ("HTTP/1.0 200 OK", b"posted")


def test_site_headFallsBackToGetWithoutBody(port):
    """HEAD without render_HEAD runs render_GET: its headers and length, but no body."""
    status, headers, body = ask(port, "/methods", method="HEAD")
    assert status == "HTTP/1.0 200 OK"
    assert headers["x-rendered-by"] == "GET"
    assert headers["content-length"] == str(len(b"the GET body"))
    assert body == b""


def test_site_ownRenderHeadIsUsed(port):
    """A resource with render_HEAD answers HEAD with it, still without a body."""
    status, headers, body = ask(port, "/ownhead", method="HEAD")
    assert status == "HTTP/1.0 200 OK"
    assert headers["x-rendered-by"] == "HEAD"
    assert body == b""


def test_errorPage_statusAndEscapedText(port):
    """ErrorPage answers its status with an HTML page whose text is escaped."""
    status, headers, body = ask(port, "/err")
    assert status == "HTTP/1.0 418 Client Error"
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert body == pages.page(418, "<Teapot>", "a & b <i>").encode()
    assert b"<title>418 &lt;Teapot&gt;</title>" in body
    assert b"<h1>418 &lt;Teapot&gt;</h1>\n<p>a &amp; b &lt;i&gt;</p>\n" in body


def test_errorPage_answersForEveryPathAndMethodBelowIt(port):
    """Everything below an ErrorPage, whatever the method, gets the same page."""
    first = ask(port, "/err/below/it")
    second = ask(port, "/err", method="DELETE")
    assert first[0] == second[0] == "HTTP/1.0 418 Client Error"
    assert first[2] == second[2] == ask(port, "/err")[2]
    page = ErrorPage(410, "Gone", "")
    assert page.getChild("x", None) is page


def test_noResource_is404WithItsMessageEscaped(port):
    """NoResource(message) is a 404 page showing the message escaped."""
    status, _, body = ask(port, "/nores")
    assert status == "HTTP/1.0 404 Not Found"
    assert body == pages.page(404, "No Such Resource", "<gone> & 'away'").encode()
    assert b"&lt;gone&gt; &amp; &#x27;away&#x27;" in body
    assert ask(port, "/nores-default")[2] == pages.page(
        404, "No Such Resource", "Sorry. No luck finding that resource.").encode()


def test_forbiddenResource_is403(port):
    """ForbiddenResource is a 403 page with its default message."""
    status, _, body = ask(port, "/forbidden")
    assert status == "HTTP/1.0 403 Forbidden"
    assert body == pages.page(403, "Forbidden Resource", "Sorry, resource is forbidden.").encode()


# -- describe ------------------------------------------------------------------

GUIDE_TREE_TEXT = ("/                         Hello leaf\n"
                   "/bob                      Hello leaf\n"
                   "/fred                     Hello leaf")


def test_describe_guideHelloTree(capsys):
    """describe() prints the guide's Hello tree: root then children in name order."""
    saved = list(log._observers)
    for observer in saved:
        log.removeObserver(observer)
    try:
        text = describe(helloTree())
    finally:
        for observer in saved:
            log.addObserver(observer)
    assert text == GUIDE_TREE_TEXT
    assert capsys.readouterr().out == GUIDE_TREE_TEXT + "\n"


def test_describe_toAWriterOrTheLog():
    """describe(write=f) writes the text with a newline; without f it goes to the log if observed."""
    out = io.StringIO()
    assert describe(helloTree(), write=out.write) == GUIDE_TREE_TEXT
    assert out.getvalue() == GUIDE_TREE_TEXT + "\n"
    lines = []
    log.addObserver(lines.append)
    try:
        describe(helloTree())
    finally:
        log.removeObserver(lines.append)
    assert lines == [GUIDE_TREE_TEXT]


def test_describe_filesWrappersAndSharedChildren(tmp_path):
    """describe shows File folders, processors and indexNames, wrapped resources, and repeats once."""
    folder = static.File(str(tmp_path))
    folder.processors = {".rpy": object, ".cgi": object}
    folder.indexNames = ["index.rpy"]
    root = Resource()
    root.putChild("doc", folder)
    root.putChild("again", folder)
    root.putChild("gz", EncodingResourceWrapper(Hello(), []))
    text = describe(root, write=lambda t: None)
    assert text == (
        "/                         Resource\n"
        "/again                    File +getChild folder=%s processors=.cgi,.rpy"
        " indexNames=index.rpy\n"
        "/doc                      File +getChild folder=%s processors=.cgi,.rpy"
        " indexNames=index.rpy  (shown above)\n"
        "/gz                       EncodingResourceWrapper leaf\n"
        "  (wraps)                 Hello leaf" % (tmp_path, tmp_path))


class Mirror(Resource):
    """A class that says for itself what describe shows of it."""

    def __init__(self, front, back):
        Resource.__init__(self)
        self.front, self.back = front, back

    def describeLabel(self):
        return "Mirror of %d sides" % 2

    def describeInner(self):
        return [("[front]", self.front), ("[back]", self.back)]


def test_describe_asksEachClassForItsLineAndWhatItLeadsTo():
    """describe shows what a class's describeLabel and describeInner return, indented below it."""
    root = Resource()
    root.putChild("m", Mirror(static.Data(b"x", "text/plain"), Hello()))
    assert describe(root, write=lambda t: None) == (
        "/                         Resource\n"
        "/m                        Mirror of 2 sides\n"
        "  [front]                 Data leaf\n"
        "  [back]                  Hello leaf")
