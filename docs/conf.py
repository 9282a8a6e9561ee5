"""Sphinx configuration: docs/ and the tutorial notebooks as one site.

Build it (Sphinx is never a dependency of refweb: use a scratch virtual
environment, as .ci/run does)::

    python3 -m venv /tmp/docs-venv && /tmp/docs-venv/bin/pip install -r docs/requirements.txt
    /tmp/docs-venv/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

and read it served by refweb itself::

    python3 -m refweb -n web --path docs/_build/html

The notebooks are shown with the outputs committed in them (execution is
off: the committed outputs are the book).  They stay in the checkout's
``tutorial/`` folder; each build copies them into ``docs/tutorial/`` (not
committed: edit the ones in ``tutorial/``), so that each notebook is a page.
"""

import glob
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # autodoc and viewcode import this checkout's refweb

import refweb  # noqa: E402


def copyNotebooks():
    """Mirror tutorial/*.ipynb into docs/tutorial/, keeping modification times
    (so an unchanged notebook is not read again) and dropping stale copies."""
    source = os.path.join(ROOT, "tutorial")
    target = os.path.join(ROOT, "docs", "tutorial")
    os.makedirs(target, exist_ok=True)
    wanted = {os.path.basename(p) for p in glob.glob(os.path.join(source, "*.ipynb"))}
    for name in os.listdir(target):
        if name not in wanted:
            os.remove(os.path.join(target, name))
    for name in wanted:
        shutil.copy2(os.path.join(source, name), os.path.join(target, name))


copyNotebooks()

project = "refweb"
author = "the refweb authors"
copyright = "refweb authors"
release = version = refweb.__version__

extensions = [
    "sphinx.ext.autodoc",      # API pages from the docstrings
    "sphinx.ext.autosummary",  # one generated page per public module (api.rst)
    "sphinx.ext.viewcode",     # the source of every documented module, as pages
    "myst_nb",                 # the tutorial notebooks, outputs as committed
]

root_doc = "index"
exclude_patterns = ["_build", "examples", "Thumbs.db", ".DS_Store"]

# The notebooks: never run while building; their committed outputs are shown.
nb_execution_mode = "off"
source_suffix = {".rst": "restructuredtext", ".ipynb": "myst-nb"}

# API pages: each module in api.rst gets a generated page (docs/api/, not
# committed) with every public member documented from its docstring.
autosummary_generate = True
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"

html_theme = "alabaster"
# Wide enough for the examples' first lines (a whole command each) to show unscrolled.
html_theme_options = {"page_width": "1240px", "sidebar_width": "230px", "code_font_size": "0.78em"}
html_title = "refweb: the Twisted Web server, rebuilt to be read"
html_static_path = []
