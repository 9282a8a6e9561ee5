"""Tests for refweb.script: .rpy resource scripts, run on every request.

Each test serves a real Site on a free port and fetches with http.client.
"""

import os
import sys

import pytest

from refweb import resource, script, static
from support import get, served


def write(path, text):
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    stamp = os.stat(path).st_mtime + 2  # an edit must be seen even within one mtime tick
    os.utime(path, (stamp, stamp))
    return str(path)


def rpy(text):
    """A one-resource script whose page is ``text``."""
    return ("from refweb import resource\n"
            "class R(resource.Resource):\n"
            "    isLeaf = True\n"
            "    def render_GET(self, request):\n"
            "        return %r\n"
            "resource = R()\n" % (text,))


@pytest.fixture
def site(tmp_path):
    """A File root with .rpy processing, as `refweb web --path` sets it up."""
    root = static.File(str(tmp_path))
    root.processors = {".rpy": script.ResourceScript}
    return root


def test_rpy_serves_its_resource_and_edits_show(site, tmp_path):
    """A .rpy's resource answers, and an edit shows on the next request."""
    path = write(tmp_path / "page.rpy", rpy("first"))
    with served(site) as port:
        status, headers, body = get(port, "/page.rpy")
        assert (status, body) == (200, b"first")
        assert headers["Content-Type"].startswith("text/html")
        write(path, rpy("second"))
        assert get(port, "/page.rpy")[2] == b"second"


def test_special_variables_and_one_run_per_request(site, tmp_path):
    """__file__ is the full path, registry is the tree's, and the body runs once per request."""
    write(tmp_path / "vars.rpy",
          "from refweb import resource\n"
          "runs = registry.getComponent('runs') or 0\n"
          "registry.setComponent('runs', runs + 1)\n"
          "class R(resource.Resource):\n"
          "    isLeaf = True\n"
          "    def render_GET(self, request):\n"
          "        return '%s %s %d' % (__file__, __name__, registry.getComponent('runs'))\n"
          "resource = R()\n")
    with served(site) as port:
        assert get(port, "/vars.rpy")[2].decode() == "%s __rpy__ 1" % (tmp_path / "vars.rpy")
        assert get(port, "/vars.rpy")[2].decode().endswith(" 2")
    assert site.registry.getComponent("runs") == 2


def test_prepath_stops_at_a_leaf_script(site, tmp_path):
    """A leaf script resource renders deeper URLs with prepath ['x.rpy']."""
    write(tmp_path / "hello.rpy",
          "from refweb.resource import Resource\n"
          "class Hello(Resource):\n"
          "    isLeaf = True\n"
          "    def render_GET(self, request):\n"
          "        return 'at %r' % (request.prepath,)\n"
          "resource = Hello()\n")
    with served(site) as port:
        for path in ("/hello.rpy", "/hello.rpy/", "/hello.rpy/fred"):
            assert get(port, path)[2] == b"at ['hello.rpy']", path


def test_traversal_continues_into_the_script_resource(site, tmp_path):
    """/tree.rpy/sub/b.txt walks into the File that the script defines."""
    files = tmp_path / "files"
    (files / "sub").mkdir(parents=True)
    (files / "sub" / "b.txt").write_text("beta\n")
    (files / "index.html").write_text("files index\n")
    write(tmp_path / "tree.rpy", "from refweb import static\n"
                                 "resource = static.File(%r)\n" % str(files))
    with served(site) as port:
        assert get(port, "/tree.rpy/sub/b.txt")[2] == b"beta\n"
        assert get(port, "/tree.rpy/")[2] == b"files index\n"
        assert get(port, "/tree.rpy/nothere")[0] == 404


def test_registry_shared_between_scripts(site, tmp_path):
    """Two scripts of one File tree see the same registry, even in subfolders."""
    write(tmp_path / "set.rpy", "registry.setComponent(int, 42)\n" + rpy("set"))
    write(tmp_path / "sub" / "get.rpy",
          "from refweb import resource\n"
          "class R(resource.Resource):\n"
          "    isLeaf = True\n"
          "    def render_GET(self, request):\n"
          "        return 'value=%s' % (registry.getComponent(int),)\n"
          "resource = R()\n")
    with served(site) as port:
        assert get(port, "/sub/get.rpy")[2] == b"value=None"
        assert get(port, "/set.rpy")[2] == b"set"
        assert get(port, "/sub/get.rpy")[2] == b"value=42"


@pytest.mark.parametrize("name, source, problem", [
    ("syntax.rpy", "resource = (\n", "SyntaxError"),
    ("raises.rpy", "raise ValueError('secret-in-message')\n", "secret-in-message"),
    ("noresource.rpy", "x = 1\n", "does not set 'resource'"),
    ("notresource.rpy", "resource = 'a string'\n", "not a Resource"),
])
def test_broken_scripts_give_the_render_failure_page(site, tmp_path, logged, name, source,
                                                    problem):
    """A failing script is answered with the very 500 page a failing render method
    gets, with no word of the problem; the log has the traceback."""

    class Failing(resource.Resource):
        def render_GET(self, request):
            raise ValueError("secret-in-message")

    write(tmp_path / name, source)
    site.putChild("failing", Failing())
    with served(site) as port:
        status, headers, body = get(port, "/" + name)
        assert status == 500
        assert get(port, "/" + name + "/deeper")[:3:2] == (500, body)
        assert get(port, "/" + name, method="HEAD")[:3:2] == (500, b"")
        assert get(port, "/failing")[:3:2] == (500, body)
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    text = body.decode()
    assert "An error occurred while processing this request." in text
    assert problem not in text and name not in text and "Traceback" not in text
    assert any("Traceback" in line and name in line and problem in line for line in logged)


def test_broken_script_traceback_shown_when_asked(site, tmp_path, logged):
    """With displayTracebacks the 500 page includes the traceback, as for render failures."""
    write(tmp_path / "raises.rpy", "raise ValueError('boom')\n")
    with served(site, displayTracebacks=True) as port:
        status, _, body = get(port, "/raises.rpy")
    assert status == 500 and b"Traceback" in body and b"ValueError: boom" in body


def test_script_imports_a_module_beside_it(site, tmp_path, monkeypatch):
    """A script imports a module from its own folder whatever the current folder
    is; the folder is appended to sys.path, never put before the stdlib."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "beside_module_7", raising=False)
    monkeypatch.chdir("/")
    write(tmp_path / "sub" / "beside_module_7.py", "GREETING = 'from beside'\n")
    write(tmp_path / "sub" / "uses.rpy", "from beside_module_7 import GREETING\n"
                                         + rpy("x").replace("'x'", "GREETING"))
    with served(site) as port:
        assert get(port, "/sub/uses.rpy")[2] == b"from beside"
    assert sys.path[-1] == str(tmp_path / "sub")


def test_cache_keeps_the_first_resource(site, tmp_path):
    """A script that calls cache() runs once; recache() runs it again."""
    write(tmp_path / "cached.rpy",
          "cache()\n"
          "n = (registry.getComponent('n') or 0) + 1\n"
          "registry.setComponent('n', n)\n" + rpy("cached"))
    with served(site) as port:
        for _ in range(3):
            assert get(port, "/cached.rpy")[2] == b"cached"
    assert site.registry.getComponent("n") == 1
    write(tmp_path / "recache.rpy", "recache()\n" + rpy("re"))
    assert script.runScript(str(tmp_path / "recache.rpy"), site.registry) is not None


def test_script_too_large_is_refused(site, tmp_path, monkeypatch, logged):
    """A script larger than MAX_SCRIPT_SIZE is not executed."""
    monkeypatch.setattr(script, "MAX_SCRIPT_SIZE", 10)
    write(tmp_path / "big.rpy", rpy("big"))
    with served(site) as port:
        assert get(port, "/big.rpy")[0] == 500


def test_resource_script_wrapper_as_site_root(tmp_path):
    """ResourceScriptWrapper serves a script as the whole site, re-run per request."""
    path = write(tmp_path / "root.rpy",
                 "from refweb import resource\n"
                 "class R(resource.Resource):\n"
                 "    isLeaf = True\n"
                 "    def render_GET(self, request):\n"
                 "        return 'one %r %r' % (request.prepath, request.postpath)\n"
                 "resource = R()\n")
    with served(script.ResourceScriptWrapper(path)) as port:
        assert get(port, "/")[2] == b"one [] ['']"
        assert get(port, "/a/b")[2] == b"one [] ['a', 'b']"
        write(path, "from refweb import static\n"
                    "resource = static.Data(b'two', 'text/plain')\n")
        assert get(port, "/x")[2] == b"two"


def test_resource_script_wrapper_with_branch_resource(tmp_path):
    """A wrapped script whose resource has children is walked into."""
    path = write(tmp_path / "root.rpy",
                 "from refweb import resource, static\n"
                 "resource = resource.Resource()\n"
                 "resource.putChild('kid', static.Data(b'kid', 'text/plain'))\n")
    wrapper = script.ResourceScriptWrapper(path)
    with served(wrapper) as port:
        assert get(port, "/kid")[2] == b"kid"
        assert get(port, "/other")[0] == 404
    assert isinstance(wrapper.registry, static.Registry)


def test_resource_script_directory(tmp_path):
    """Every file of a ResourceScriptDirectory is run as a script."""
    write(tmp_path / "scripts" / "a", rpy("script a"))
    write(tmp_path / "scripts" / "deep" / "b", rpy("script b"))
    write(tmp_path / "outside", rpy("outside"))
    os.symlink(str(tmp_path / "outside"), tmp_path / "scripts" / "link")
    root = script.ResourceScriptDirectory(str(tmp_path / "scripts"))
    with served(root) as port:
        assert get(port, "/a")[2] == b"script a"
        assert get(port, "/deep/b")[2] == b"script b"
        for path in ("/", "/missing", "/link", "/..%2foutside", "/.hidden", "/deep/"):
            assert get(port, path)[0] == 404, path


def test_guide_counter_pattern(site, tmp_path):
    """The guide's counter: getComponent(Counter) is None at first, then persists."""
    write(tmp_path / "counter.rpy",
          "from refweb import resource\n"
          "class Counter:\n"
          "    value = 0\n"
          "key = registry.getComponent('CounterClass') or Counter\n"
          "registry.setComponent('CounterClass', key)\n"
          "counter = registry.getComponent(key)\n"
          "if not counter:\n"
          "    registry.setComponent(key, key())\n"
          "    counter = registry.getComponent(key)\n"
          "class R(resource.Resource):\n"
          "    def render_GET(self, request):\n"
          "        counter.value += 1\n"
          "        return 'you are visitor %d' % counter.value\n"
          "resource = R()\n")
    with served(site) as port:
        assert get(port, "/counter.rpy")[2] == b"you are visitor 1"
        assert get(port, "/counter.rpy")[2] == b"you are visitor 2"


def test_index_rpy_and_ignore_ext(site, tmp_path):
    """index.rpy serves a folder; ignoreExt('.rpy') gives /foo from foo.rpy."""
    write(tmp_path / "index.rpy", rpy("index from rpy"))
    write(tmp_path / "foo.rpy", rpy("foo from rpy"))
    site.ignoreExt(".rpy")
    with served(site) as port:
        assert get(port, "/")[2] == b"index from rpy"
        assert get(port, "/foo")[2] == b"foo from rpy"


def test_script_error_page_is_a_resource():
    """ScriptErrorPage is a leaf resource, so nothing below it is walked."""
    assert script.ScriptErrorPage("/x.rpy", None).isLeaf
    assert isinstance(script.ScriptErrorPage("/x.rpy", None), resource.Resource)
