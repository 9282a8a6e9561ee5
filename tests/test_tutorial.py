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
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TUTORIAL = os.path.join(ROOT, "tutorial")
NOTEBOOKS = sorted(glob.glob(os.path.join(TUTORIAL, "[0-9][0-9]-*.ipynb")))
NAMES = [os.path.basename(path) for path in NOTEBOOKS]

_spec = importlib.util.spec_from_file_location(
    "run_notebooks", os.path.join(ROOT, "tools", "run_notebooks.py"))
TOOL = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(TOOL)

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


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_what_nbformat_itself_reads_and_writes(name):
    """Where nbformat is installed: its schema accepts the notebook and it writes the same bytes."""
    nbformat = pytest.importorskip("nbformat")
    with open(os.path.join(TUTORIAL, name), encoding="utf-8", newline="") as f:
        committed = f.read()
    notebook = nbformat.reads(committed, as_version=4)
    nbformat.validate(notebook)
    assert nbformat.writes(notebook) + "\n" == committed  # nbformat.write adds the newline


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
def test_notebook_is_committed_with_its_outputs(name):
    """Every code cell is committed as run: execution counts 1, 2, ... in order."""
    code = [cell for cell in load(os.path.join(TUTORIAL, name))["cells"]
            if cell["cell_type"] == "code"]
    assert [cell["execution_count"] for cell in code] == list(range(1, len(code) + 1)), \
        "%s: run python tools/run_notebooks.py" % name
    assert any(cell["outputs"] for cell in code)


@pytest.mark.parametrize("name", NAMES)
def test_notebook_outputs_are_current(name):
    """A fresh run of every cell, in order, in a new process in tutorial/, gives the committed outputs."""
    fresh, difference = TOOL.freshDifference(os.path.join(TUTORIAL, name))
    errors = [output for cell in fresh["cells"] for output in cell.get("outputs", [])
              if output["output_type"] == "error"]
    assert not errors and not difference, \
        "%s: the committed outputs are not what a fresh run prints; run python " \
        "tools/run_notebooks.py and commit the result\n%s" % (name, difference)


# --- the runner, on small notebooks made here ------------------------------

def notebookOf(*sources):
    """An nbformat 4.5 notebook with one code cell per source."""
    cells = [{"cell_type": "code", "execution_count": None, "id": "c%d" % number,
              "metadata": {}, "outputs": [], "source": source}
             for number, source in enumerate(sources)]
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def runSmall(tmp_path, *sources):
    path = tmp_path / "small.ipynb"
    TOOL.save(str(path), notebookOf(*sources))
    outputs, failed, log = TOOL.runNotebook(str(path))
    return outputs, failed


def test_runner_shows_streams_and_last_value_like_a_kernel(tmp_path):
    """Printed text is a stream output; a cell's last expression is an execute_result; ";" hides it."""
    outputs, failed = runSmall(
        tmp_path, "import sys\nprint('out')\nprint('err', file=sys.stderr)\n6 * 7",
        "x = [1, 2]\nx", "x;", "None")
    assert failed is None
    assert outputs == [
        [{"output_type": "stream", "name": "stdout", "text": "out\n"},
         {"output_type": "stream", "name": "stderr", "text": "err\n"},
         {"output_type": "execute_result", "execution_count": 1,
          "data": {"text/plain": "42"}, "metadata": {}}],
        [{"output_type": "execute_result", "execution_count": 2,
          "data": {"text/plain": "[1, 2]"}, "metadata": {}}],
        [], []]


def test_runner_stops_at_the_first_error(tmp_path):
    """A cell that raises gets an error output naming the cell, and later cells do not run."""
    outputs, failed = runSmall(tmp_path, "a = 1", "print('before')\n1 / 0", "print('never')")
    assert failed == 2 and len(outputs) == 2
    stream, error = outputs[1]
    assert stream["text"] == "before\n"
    assert (error["ename"], error["evalue"]) == ("ZeroDivisionError", "division by zero")
    assert error["traceback"][-1] == "ZeroDivisionError: division by zero"
    assert '  File "<code cell 2>", line 2, in <module>' in error["traceback"]


def test_runner_reports_a_process_that_gives_no_result(tmp_path):
    """A notebook that kills its process, or outlasts the timeout, is failed -1 with the reason."""
    path = tmp_path / "crash.ipynb"
    TOOL.save(str(path), notebookOf("print('going')", "import os\nos._exit(3)"))
    outputs, failed, log = TOOL.runNotebook(str(path))
    assert (outputs, failed) == ([], -1) and log.startswith("no result; exit status 3")
    TOOL.save(str(path), notebookOf("import time\ntime.sleep(60)"))
    outputs, failed, log = TOOL.runNotebook(str(path), timeout=2)
    assert (outputs, failed) == ([], -1) and log.startswith("no result after 2 s")


def test_runner_runs_cells_in_one_namespace_named_main(tmp_path):
    """Cells share names, __name__ is "__main__", and modules beside the notebook import."""
    (tmp_path / "beside.py").write_text("VALUE = 'found'\n")
    outputs, failed = runSmall(tmp_path, "class A: pass\nimport beside", "A.__module__, __name__, beside.VALUE")
    assert failed is None
    assert outputs[1][0]["data"] == {"text/plain": "('__main__', '__main__', 'found')"}


def test_runner_numbers_bound_ports_by_first_appearance(tmp_path):
    """Ports the notebook bound become PORT1, PORT2 in the order they are first shown."""
    outputs, failed = runSmall(tmp_path, (
        "import socket\n"
        "a, b = socket.socket(), socket.socket()\n"
        "a.bind(('127.0.0.1', 0)); b.bind(('127.0.0.1', 0))\n"
        "pa, pb = a.getsockname()[1], b.getsockname()[1]\n"
        "print('b at 127.0.0.1:%d, a at %d, b again %d; not a port: 1%d' % (pb, pa, pb, pa))"))
    assert failed is None
    text = outputs[0][0]["text"]
    assert re.fullmatch(r"b at 127.0.0.1:PORT1, a at PORT2, b again PORT1; not a port: 1\d{4,5}\n", text), text


def test_changed_output_is_a_difference(tmp_path):
    """freshDifference reports a committed output that a fresh run no longer prints, as a diff."""
    path = str(tmp_path / "small.ipynb")
    notebook = TOOL.withOutputs(notebookOf("print('fresh')"), [[
        {"output_type": "stream", "name": "stdout", "text": "stale\n"}]])
    TOOL.save(path, notebook)
    fresh, difference = TOOL.freshDifference(path)
    assert "-stdout        | stale" in difference and "+stdout        | fresh" in difference
    TOOL.save(path, fresh)
    assert TOOL.freshDifference(path)[1] == ""


@pytest.mark.parametrize("raw, wanted", [
    ("Date: Wed, 02 Dec 2026 10:25:59 GMT", "Date: DATE"),
    ('127.0.0.1 - - [02/Dec/2026:10:26:05 +0000] "GET /"', '127.0.0.1 - - [DATE] "GET /"'),
    ("2026-12-02T10:26:05+0000 refweb: stopped.", "DATE refweb: stopped."),
    ("notes.txt  2026-12-02 10:26  11 B", "notes.txt  DATE  11 B"),
    ('ETag: "e-18ed68e57e707de4"', 'ETag: "ETAG"'),
    ("TWISTED_SESSION=0123456789abcdef0123456789abcdef", "TWISTED_SESSION=SESSION"),
    ("started, pid 4411", "started, pid PID"),
    ("['refweb-worker-12', 'refweb-pool-1', 'wsgi-3', 'Thread-7 (run)', 'ThreadPoolExecutor-0_1']",
     "['refweb-worker-N', 'refweb-pool-N', 'wsgi-N', 'Thread-N (run)', 'ThreadPoolExecutor-0_N']"),
    ("<Thing object at 0x7f3a2b1c9d>", "<Thing object at 0xADDR>"),
    ("took 0.0123 s, then 12.34 ms", "took TIME s, then TIME ms"),
    ("after 0.3 s", "after 0.3 s"),
])
def test_normalise_replaces_what_changes_between_runs(raw, wanted):
    """Dates, entity tags, session ids, pids, thread numbers, addresses and timings become placeholders."""
    assert TOOL.normaliseText(raw) == wanted


def test_normalise_replaces_temporary_folders_and_the_checkout():
    """Temporary folders become TMP (TMP1, TMP2 when several); the checkout's path, CHECKOUT."""
    assert TOOL.normaliseText("/var/x/refweb-a1/b.txt and /var/x/refweb-a1", tmp="/var/x") == \
        "TMP/b.txt and TMP"
    assert TOOL.normaliseText("/var/x/q2 /var/x/p1 /var/x/q2/c", tmp="/var/x") == \
        "TMP1 TMP2 TMP1/c"
    assert TOOL.normaliseText(TOOL.CHECKOUT + "/refweb/static.py") == "CHECKOUT/refweb/static.py"
