"""Tests for refweb.urlpath.URLPath: walking a URL like a path.

Each navigation method is checked on a folder URL (ending in '/') and on a
page URL; the last test asks a real Site for ``request.URLPath()``.
"""

import pytest

from refweb import resource
from refweb.urlpath import URLPath
from support import get, served

PAGE = URLPath.fromString("http://example.com:8080/a/b/c?x=1&y=2#frag")
FOLDER = URLPath.fromString("http://example.com/a/b/")


def test_fromString_splitsTheURL():
    """fromString keeps scheme, netloc, path, query and fragment, and str() joins them back."""
    assert (PAGE.scheme, PAGE.netloc, PAGE.path, PAGE.query, PAGE.fragment) == (
        "http", "example.com:8080", "/a/b/c", "x=1&y=2", "frag")
    assert str(PAGE) == "http://example.com:8080/a/b/c?x=1&y=2#frag"
    assert repr(PAGE) == str(PAGE)


def test_fromString_emptyPathIsRoot():
    """A URL with no path at all has the path '/'."""
    root = URLPath.fromString("https://example.com")
    assert root.path == "/"
    assert str(root) == "https://example.com/"


def test_pathList_splitsOnSlashes():
    """pathList is the path split on '/', leading '' included."""
    assert PAGE.pathList() == ["", "a", "b", "c"]
    assert FOLDER.pathList() == ["", "a", "b", ""]


@pytest.mark.parametrize("url, expected", [
    (PAGE, "http://example.com:8080/a/b/c/d"),
    (FOLDER, "http://example.com/a/b/d"),
    (URLPath.fromString("http://h/"), "http://h/d"),
])
def test_child_addsOneSegment(url, expected):
    """child(d) is one segment deeper; a trailing slash's empty segment is replaced."""
    assert str(url.child("d")) == expected


def test_child_quotesTheSegmentAndDropsTheQuery():
    """A child segment is percent-encoded (even '/'), and the query is dropped unless kept."""
    assert str(PAGE.child("x y/z")) == "http://example.com:8080/a/b/c/x%20y%2Fz"
    assert str(PAGE.child("d", keepQuery=True)) == "http://example.com:8080/a/b/c/d?x=1&y=2"


@pytest.mark.parametrize("url, expected", [
    (PAGE, "http://example.com:8080/a/b/s"),
    (FOLDER, "http://example.com/a/b/s"),
])
def test_sibling_replacesTheLastSegment(url, expected):
    """sibling(s) replaces the last segment (the empty one, for a folder)."""
    assert str(url.sibling("s")) == expected


@pytest.mark.parametrize("url, expected", [
    (PAGE, "http://example.com:8080/a/b/"),
    (FOLDER, "http://example.com/a/b/"),
])
def test_here_isTheCurrentFolder(url, expected):
    """here() is the folder the URL is in, ending in '/'."""
    assert str(url.here()) == expected


@pytest.mark.parametrize("url, expected", [
    (PAGE, "http://example.com:8080/a/"),
    (FOLDER, "http://example.com/a/"),
    (URLPath.fromString("http://h/a"), "http://h/"),
    (URLPath.fromString("http://h/"), "http://h/"),
])
def test_parent_isTheFolderAboveHere(url, expected):
    """parent() is the folder above here(); the root's parent is the root."""
    assert str(url.parent()) == expected


def test_navigation_keepQueryOnRequest():
    """sibling, here and parent keep the query only when asked."""
    assert str(PAGE.sibling("s", keepQuery=True)) == "http://example.com:8080/a/b/s?x=1&y=2"
    assert str(PAGE.here(keepQuery=True)) == "http://example.com:8080/a/b/?x=1&y=2"
    assert str(PAGE.parent(keepQuery=True)) == "http://example.com:8080/a/?x=1&y=2"


@pytest.mark.parametrize("href, expected", [
    ("d", "http://example.com:8080/a/b/d"),
    ("../d", "http://example.com:8080/a/d"),
    ("/root", "http://example.com:8080/root"),
    ("?q=2", "http://example.com:8080/a/b/c?q=2"),
    ("#top", "http://example.com:8080/a/b/c?x=1&y=2#top"),
    ("https://other.org/p", "https://other.org/p"),
])
def test_click_resolvesLinksLikeABrowser(href, expected):
    """click(href) resolves a link relative to this URL (RFC 3986 §5)."""
    assert str(PAGE.click(href)) == expected


def test_urlpath_equality():
    """Two URLPaths are equal when their URLs are; never equal to a plain string."""
    assert URLPath.fromString("http://h/a") == URLPath("http", "h", "/a")
    assert URLPath.fromString("http://h/a") != URLPath.fromString("http://h/b")
    assert URLPath.fromString("http://h/a") != "http://h/a"


def test_urlpath_defaults():
    """URLPath() with no arguments is http://localhost/."""
    assert str(URLPath()) == "http://localhost/"


def test_request_URLPathIsTheRenderedResourcesURL():
    """request.URLPath() is the URL of the resource being rendered, ready to walk."""
    class Here(resource.Resource):
        isLeaf = True

        def render_GET(self, request):
            url = request.URLPath()
            return "%s %s %s" % (url, url.child("c"), url.sibling("s"))

    root = resource.Resource()
    root.putChild("a", Here())
    with served(root) as port:
        status, _, body = get(port, "/a/x/y?q=1")
    base = "http://127.0.0.1:%d" % port
    assert status == 200
    assert body.decode() == "%s/a %s/a/c %s/s" % (base, base, base)
