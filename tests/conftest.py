"""pytest fixtures shared by every test module (helpers live in tests/support.py)."""

import contextlib
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)  # the checkout, even when refweb is not installed
# ... and for every `python -m refweb` a test starts: this checkout, not
# whichever copy is installed (a second worktree, an older release).
_inherited = os.environ.get("PYTHONPATH")
os.environ["PYTHONPATH"] = ROOT + (os.pathsep + _inherited if _inherited else "")

from refweb.python import log  # noqa: E402 (needs the checkout on sys.path)
from support import helloTree, makeCertificate, served  # noqa: E402


@pytest.fixture
def serve():
    """serve(resource or site, **siteArgs) -> a port number on 127.0.0.1 where
    it is served; every one is stopped when the test ends."""
    with contextlib.ExitStack() as started:
        yield lambda what, **siteArgs: started.enter_context(served(what, **siteArgs))


@pytest.fixture
def hello(serve):
    """The port of a Site serving the guide's Hello tree (helloTree())."""
    return serve(helloTree())


@pytest.fixture
def docroot(tmp_path):
    """A small folder to serve: index.html, a.txt, sub/b.txt."""
    root = tmp_path / "docroot"
    (root / "sub").mkdir(parents=True)
    (root / "index.html").write_text("<html>index</html>\n")
    (root / "a.txt").write_text("alpha\n")
    (root / "sub" / "b.txt").write_text("beta\n")
    return root


@pytest.fixture
def logged():
    """Every line sent to refweb.python.log while the test runs."""
    lines = []
    log.addObserver(lines.append)
    yield lines
    log.removeObserver(lines.append)


@pytest.fixture(scope="session")
def certfiles(tmp_path_factory):
    """(cert path, key path) of a throwaway self-signed certificate (skipped without openssl)."""
    key, cert = makeCertificate(str(tmp_path_factory.mktemp("cert")))
    return cert, key
