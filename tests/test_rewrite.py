"""Tests for refweb.rewrite: RewriterResource and tildeToUsers.

Behaviour tests serve a real Site on a free port and ask it with http.client.
"""

import pytest

from refweb import resource, rewrite, static, vhost
from support import get, served


class Where(resource.Resource):
    """A leaf showing the segments and path it was reached with."""

    isLeaf = True

    def render_GET(self, request):
        return "prepath=%s postpath=%s path=%s uri=%s" % (
            "/".join(request.prepath), "/".join(request.postpath), request.path, request.uri)


class FakeRequest:
    """The attributes a rewrite rule touches."""

    def __init__(self, prepath, postpath, uri):
        self.prepath, self.postpath, self.uri = prepath, postpath, uri
        self.method = "GET"
        self.path = uri.partition("?")[0]


# -- tildeToUsers as a function ---------------------------------------------------------

def test_tildeToUsers_rewrites_first_segment():
    """['~foo', 'bar.html'] becomes ['users', 'foo', 'bar.html'] and the path follows."""
    request = FakeRequest([], ["~foo", "bar.html"], "/~foo/bar.html?x=1")
    rewrite.tildeToUsers(request)
    assert request.postpath == ["users", "foo", "bar.html"]
    assert request.path == "/users/foo/bar.html"
    assert request.uri == "/users/foo/bar.html?x=1"


@pytest.mark.parametrize("postpath", [[], ["foo", "~bar"], ["", "~x"]])
def test_tildeToUsers_leaves_other_paths_alone(postpath):
    """Only a first segment starting with '~' is rewritten."""
    request = FakeRequest([], list(postpath), "/whatever")
    rewrite.tildeToUsers(request)
    assert (request.postpath, request.path) == (postpath, "/whatever")


def test_setPath_quotes_segments():
    """setPath percent-encodes each segment, keeping the query string."""
    request = FakeRequest([], [], "/old?q=%20")
    rewrite.setPath(request, ["a b", "c/d", "é"])
    assert request.path == "/a%20b/c%2Fd/%C3%A9"
    assert request.uri == "/a%20b/c%2Fd/%C3%A9?q=%20"


# -- served ------------------------------------------------------------------------------

@pytest.fixture
def tildeSite(tmp_path):
    htdocs, users = tmp_path / "htdocs", tmp_path / "users"
    (users / "foo").mkdir(parents=True)
    htdocs.mkdir()
    (htdocs / "hello.txt").write_text("hello from htdocs\n")
    (users / "foo" / "bar.html").write_text("<html>foo's bar page</html>\n")
    default = static.File(str(htdocs))
    default.putChild("users", static.File(str(users)))
    with served(rewrite.RewriterResource(default, rewrite.tildeToUsers)) as port:
        yield port


def test_tilde_url_served_from_users(tildeSite):
    """/~foo/bar.html is served as /users/foo/bar.html (the guide's example)."""
    assert get(tildeSite, "/~foo/bar.html")[::2] == (200, b"<html>foo's bar page</html>\n")
    assert get(tildeSite, "/users/foo/bar.html")[::2] == (200, b"<html>foo's bar page</html>\n")
    assert get(tildeSite, "/hello.txt")[::2] == (200, b"hello from htdocs\n")


def test_tilde_unknown_user_is_404(tildeSite):
    """A user with no folder is a 404, like any missing file."""
    assert get(tildeSite, "/~nobody/bar.html")[0] == 404
    assert get(tildeSite, "/~nobody")[0] == 404


def test_tilde_folder_redirect_names_rewritten_path(tildeSite):
    """/~foo (a folder) redirects to the rewritten URL with a slash."""
    status, headers, _ = get(tildeSite, "/~foo")
    assert status == 301
    assert headers["location"] == "http://127.0.0.1:%d/users/foo/" % (tildeSite,)


def test_rewriter_renders_orig_when_nothing_is_left():
    """With no segment left, rendering the RewriterResource renders the wrapped resource."""
    seen = []
    root = rewrite.RewriterResource(Where(), seen.append)
    request = FakeRequest([], [], "/")
    assert root.render(request).startswith("prepath= postpath=")
    assert seen == [request]


def test_custom_rule_rewrites_and_runs_once():
    """A custom rule sees the whole rest of the URL once per request, however deep it goes."""
    calls = []

    def oldToNew(request):
        calls.append(list(request.postpath))
        if request.postpath[:1] == ["old"]:
            request.postpath[0] = "new"
            rewrite.setPath(request, request.prepath + request.postpath)

    orig = resource.Resource()
    new = resource.Resource()
    new.putChild("deep", Where())
    orig.putChild("new", new)
    with served(rewrite.RewriterResource(orig, oldToNew)) as port:
        status, _, body = get(port, "/old/deep/x/y?q=1")
        assert status == 200
        assert body == b"prepath=new/deep postpath=x/y path=/new/deep/x/y uri=/new/deep/x/y?q=1"
        assert calls == [["old", "deep", "x", "y"]]
        assert get(port, "/new/deep")[0] == 200
        assert get(port, "/nothing")[0] == 404


def test_rule_that_empties_postpath_renders_orig():
    """A rule may consume every segment; the wrapped resource then renders."""
    def swallow(request):
        del request.postpath[:]

    with served(rewrite.RewriterResource(Where(), swallow)) as port:
        status, _, body = get(port, "/a/b")
        assert status == 200
        assert body.startswith(b"prepath= postpath= ")


def test_second_visit_does_not_rerun_rules():
    """If traversal comes back to the same RewriterResource, its rules do not run again."""
    calls = []
    orig = resource.Resource()
    rewriter = rewrite.RewriterResource(orig, lambda request: calls.append(1))
    orig.putChild("again", rewriter)
    orig.putChild("end", Where())
    with served(rewriter) as port:
        assert get(port, "/again/again/end")[0] == 200
    assert calls == [1]


def test_rules_run_again_after_vhost_monster(tmp_path):
    """VHostMonster starts traversal over, so a root RewriterResource rewrites the public path."""
    users = tmp_path / "users" / "foo"
    users.mkdir(parents=True)
    (users / "bar.html").write_text("bar\n")
    base = resource.Resource()
    base.putChild("users", static.File(str(tmp_path / "users")))
    base.putChild("vhost.rpy", vhost.VHostMonsterResource())
    with served(rewrite.RewriterResource(base, rewrite.tildeToUsers)) as port:
        assert get(port, "/vhost.rpy/http/example.com/~foo/bar.html")[::2] == (200, b"bar\n")


def test_describe_shows_what_a_rewriter_wraps():
    """resource.describe shows a RewriterResource's wrapped resource, indented, as "(wraps)"."""
    root = rewrite.RewriterResource(static.Data(b"x", "text/plain"), rewrite.tildeToUsers)
    assert resource.describe(root, write=lambda text: None) == (
        "/                         RewriterResource\n"
        "  (wraps)                 Data leaf")
