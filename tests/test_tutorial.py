"""The tutorial notebooks run top to bottom, with the standard library alone.

Each notebook is executed the way a fresh kernel would run it: its code cells
in order, in one namespace, in a new Python process whose working folder is
tutorial/, with a 60-second limit.  No Jupyter is needed.  The ``.ipynb``
files are the source (tutorial/README says why); the other tests check that
each is valid nbformat 4.5, laid out byte for byte as Jupyter saves it (the
layout tools/run_notebooks.py writes), with one sentence of prose before
every code cell, the closing "Questions" and "Where this lives in the code",
and an index that links every notebook.
"""

import glob
import importlib.util
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TUTORIAL = os.path.join(ROOT, "tutorial")
NOTEBOOKS = sorted(glob.glob(os.path.join(TUTORIAL, "[0-9][0-9]-*.ipynb")))
NAMES = [os.path.basename(path) for path in NOTEBOOKS]

_spec = importlib.util.spec_from_file_location(
    "run_notebooks", os.path.join(ROOT, "tools", "run_notebooks.py"))
TOOL = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(TOOL)

# Run in the child process: exec each code cell; on failure, say which cell.
RUNNER = r"""
import json, sys, traceback
path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    notebook = json.load(f)
namespace = {"__name__": "__main__"}
number = 0
for cell in notebook["cells"]:
    if cell["cell_type"] != "code":
        continue
    number += 1
    source = "".join(cell["source"])
    try:
        exec(compile(source, "%s [code cell %d]" % (path, number), "exec"), namespace)
    except BaseException:
        sys.stdout.flush()
        sys.stderr.write("\n--- code cell %d failed ---\n%s\n" % (number, source))
        traceback.print_exc()
        sys.exit(1)
print("\nran %d code cells" % number)
"""


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def text(cell):
    return "".join(cell["source"])


def test_there_are_at_least_fourteen_notebooks():
    """The tutorial has the index and at least thirteen numbered notebooks."""
    assert len(NOTEBOOKS) >= 14
    assert NAMES[0] == "00-Index.ipynb"
    assert [name[:2] for name in NAMES] == ["%02d" % i for i in range(len(NAMES))]


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_valid_nbformat(name):
    """A notebook is nbformat 4.5 JSON: known cell and output kinds, unique cell ids."""
    notebook = load(os.path.join(TUTORIAL, name))
    assert notebook["cells"]
    assert TOOL.problems(notebook) == []


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_laid_out_as_jupyter_saves_it(name):
    """The file's bytes are what Jupyter (and tools/run_notebooks.py) write for its content."""
    path = os.path.join(TUTORIAL, name)
    with open(path, encoding="utf-8", newline="") as f:
        committed = f.read()
    assert committed == TOOL.dumps(json.loads(committed)), \
        "%s: run python tools/run_notebooks.py" % name


def test_layout_matches_nbformat_writer_rules():
    """dumps() sorts keys, indents by one, keeps non-ASCII and splits strings into lines."""
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"source": "x = 'é'\nx", "metadata": {}, "id": "a1", "cell_type": "code",
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "one\ntwo\n"}],
         "execution_count": 1}]}
    assert TOOL.dumps(notebook) == (
        '{\n "cells": [\n  {\n   "cell_type": "code",\n   "execution_count": 1,\n'
        '   "id": "a1",\n   "metadata": {},\n   "outputs": [\n    {\n'
        '     "name": "stdout",\n     "output_type": "stream",\n     "text": [\n'
        '      "one\\n",\n      "two\\n"\n     ]\n    }\n   ],\n'
        '   "source": [\n    "x = \'é\'\\n",\n    "x"\n   ]\n  }\n ],\n'
        ' "metadata": {},\n "nbformat": 4,\n "nbformat_minor": 5\n}\n')


@pytest.mark.parametrize("name", NAMES)
def test_notebook_shape(name):
    """Prose before every code cell; the end is "Questions" and "Where this lives in the code"."""
    cells = load(os.path.join(TUTORIAL, name))["cells"]
    assert cells[0]["cell_type"] == "markdown" and text(cells[0]).startswith("# ")
    for before, cell in zip(cells, cells[1:]):
        if cell["cell_type"] == "code":
            assert before["cell_type"] == "markdown", text(cell)
    closing = "\n".join(text(c) for c in cells[-2:] if c["cell_type"] == "markdown")
    assert "## Questions" in closing and "## Where this lives in the code" in closing


def test_index_links_every_notebook():
    """00-Index links every other notebook, in order."""
    index = "\n".join(text(cell) for cell in load(os.path.join(TUTORIAL, "00-Index.ipynb"))["cells"])
    positions = [index.find("(%s)" % name) for name in NAMES[1:]]
    assert all(position >= 0 for position in positions), NAMES
    assert positions == sorted(positions)


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs(name):
    """Every code cell runs, in order, in a fresh process started in tutorial/."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONPATH", None)  # the notebook must find refweb through nbhelpers
    done = subprocess.run([sys.executable, "-c", RUNNER, name], cwd=TUTORIAL, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stdout[-6000:]
