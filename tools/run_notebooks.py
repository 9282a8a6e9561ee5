"""Check the tutorial notebooks (tutorial/NN-*.ipynb) and write them as Jupyter does.

    python tools/run_notebooks.py          rewrite every notebook in Jupyter's layout

The ``.ipynb`` files are the source: a teacher edits them in Jupyter and
commits what Jupyter saved.  This module holds the few rules the tests and
this command share: what a valid nbformat 4.5 notebook looks like
(``problems``), and the exact bytes Jupyter writes for one (``dumps``:
one-space indent, sorted keys, non-ASCII kept, multi-line strings split into
lists of lines, a newline at the end), so a save from Jupyter and a run of
this command give the same file.
"""

import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(HERE)
TUTORIAL = os.path.join(CHECKOUT, "tutorial")

CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # nbformat 4.5's rule for cell ids


def notebookPaths():
    """Every tutorial notebook, 00-Index first."""
    names = sorted(name for name in os.listdir(TUTORIAL)
                   if re.match(r"^\d\d-.*\.ipynb$", name))
    return [os.path.join(TUTORIAL, name) for name in names]


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def joined(value):
    """A multi-line string field, stored either as one string or a list of lines."""
    return value if isinstance(value, str) else "".join(value)


def splitLines(text):
    """Jupyter's on-disk form of a multi-line string: a list of lines, ends kept."""
    return text.splitlines(keepends=True)


def _splitStrings(notebook):
    """Put every multi-line field in list-of-lines form, as nbformat writes it."""
    for cell in notebook["cells"]:
        cell["source"] = splitLines(joined(cell["source"]))
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = splitLines(joined(output["text"]))
            for kind, value in output.get("data", {}).items():
                if kind.startswith("text/") and not isinstance(value, dict):
                    output["data"][kind] = splitLines(joined(value))
    return notebook


def dumps(notebook):
    """The bytes (as text) Jupyter writes for ``notebook``."""
    text = json.dumps(_splitStrings(notebook), indent=1, sort_keys=True,
                      ensure_ascii=False, separators=(",", ": "))
    return text + "\n"


def save(path, notebook):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(dumps(notebook))


OUTPUT_KEYS = {
    "stream": {"output_type", "name", "text"},
    "execute_result": {"output_type", "execution_count", "data", "metadata"},
    "display_data": {"output_type", "data", "metadata"},
    "error": {"output_type", "ename", "evalue", "traceback"},
}


def problems(notebook):
    """What makes ``notebook`` invalid nbformat 4.5 (the parts we use); [] if nothing."""
    found = []
    if set(notebook) != {"cells", "metadata", "nbformat", "nbformat_minor"}:
        found.append("top-level keys %s" % sorted(notebook))
    if notebook.get("nbformat") != 4 or notebook.get("nbformat_minor", 0) < 5:
        found.append("not nbformat 4.5 or later")
    if not isinstance(notebook.get("metadata"), dict):
        found.append("metadata is not an object")
    seen = set()
    for number, cell in enumerate(notebook.get("cells", []), 1):
        where = "cell %d" % number
        kind = cell.get("cell_type")
        wanted = {"cell_type", "id", "metadata", "source"}
        if kind == "code":
            wanted |= {"execution_count", "outputs"}
        elif kind == "markdown":
            wanted |= set(cell) & {"attachments"}
        else:
            found.append("%s: cell_type %r" % (where, kind))
            continue
        if set(cell) != wanted:
            found.append("%s: keys %s, want %s" % (where, sorted(cell), sorted(wanted)))
        cellId = cell.get("id", "")
        if not (isinstance(cellId, str) and CELL_ID.match(cellId)) or cellId in seen:
            found.append("%s: id %r is missing, malformed or repeated" % (where, cellId))
        seen.add(cellId)
        if kind == "code":
            count = cell.get("execution_count")
            if count is not None and not isinstance(count, int):
                found.append("%s: execution_count %r" % (where, count))
            for output in cell.get("outputs", []):
                keys = OUTPUT_KEYS.get(output.get("output_type"))
                if keys is None or set(output) != keys:
                    found.append("%s: output %s" % (where, sorted(output)))
                elif output["output_type"] == "stream" and output["name"] not in ("stdout", "stderr"):
                    found.append("%s: stream %r" % (where, output["name"]))
    return found


def main(argv):
    status = 0
    for path in notebookPaths():
        notebook = load(path)
        for problem in problems(notebook):
            print("%s: %s" % (os.path.relpath(path), problem))
            status = 1
        save(path, notebook)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
