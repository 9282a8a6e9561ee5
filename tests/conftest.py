"""pytest fixtures shared by every test module (helpers live in tests/support.py)."""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)  # the checkout, even when refweb is not installed


@pytest.fixture
def docroot(tmp_path):
    """A small folder to serve: index.html, a.txt, sub/b.txt."""
    root = tmp_path / "docroot"
    (root / "sub").mkdir(parents=True)
    (root / "index.html").write_text("<html>index</html>\n")
    (root / "a.txt").write_text("alpha\n")
    (root / "sub" / "b.txt").write_text("beta\n")
    return root
